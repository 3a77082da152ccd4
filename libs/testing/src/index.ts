export { REPO_ROOT, startApp, startMembershipService } from './app-process.js';
export type { AppName, AppProcess, StartAppOptions } from './app-process.js';
export { createTestCertificateAuthority } from './test-ca.js';
export type { IssuedCertificate, TestCertificateAuthority } from './test-ca.js';
export { startFakeRemoteServer } from './fake-remote-server.js';
export type { FakeRemoteServer, FakeRemoteServerOptions, FederationAnswer, FederationCall, FederationPeer, KeyDocumentOptions } from './fake-remote-server.js';
export { startFederationGatewayProcess } from './federation-gateway-process.js';
export type { FederationGatewayProcessOptions } from './federation-gateway-process.js';
