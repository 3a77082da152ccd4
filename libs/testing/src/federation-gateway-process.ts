// The federation gateway as a real process beside a membership service.
import { startApp } from './app-process.js';
import type { AppProcess } from './app-process.js';

export interface FederationGatewayProcessOptions {
  /** The membership service's data directory: the gateway publishes its signing key. */
  readonly dataDir: string;
  readonly membershipAddress: string;
  /** Must equal the membership service's server name (`hs.test` for startMembershipService). */
  readonly serverName?: string;
  /** Serving certificate; absent: a self-signed one in <dataDir>/tls. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** CA trusted when fetching other servers' keys. */
  readonly caFile?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts the gateway on a free loopback port; `url` is where it listens. */
export async function startFederationGatewayProcess(options: FederationGatewayProcessOptions): Promise<AppProcess & { readonly url: string }> {
  const env: Record<string, string> = {
    MEMBRANE_FED_SERVER_NAME: options.serverName ?? 'hs.test',
    MEMBRANE_FED_LISTEN: '127.0.0.1:0',
    MEMBRANE_FED_GRPC__LISTEN: '127.0.0.1:0',
    MEMBRANE_FED_DATA_DIR: options.dataDir,
    MEMBRANE_FED_MEMBERSHIP__ADDRESS: options.membershipAddress,
    ...(options.certFile === undefined ? {} : { MEMBRANE_FED_TLS__CERT_FILE: options.certFile }),
    ...(options.keyFile === undefined ? {} : { MEMBRANE_FED_TLS__KEY_FILE: options.keyFile }),
    ...(options.caFile === undefined ? {} : { MEMBRANE_FED_TLS__CA_FILE: options.caFile }),
    ...options.env,
  };
  const app = await startApp('federation-gateway', { readyMessage: 'federation gateway listening', env });
  return { ...app, url: String(app.ready['url']) };
}
