export {
  INTERNAL_ERROR_MESSAGE,
  MATRIX_ERRCODE_METADATA_KEY,
  MATRIX_EXTRA_METADATA_KEY,
  MATRIX_STATUS_METADATA_KEY,
  fromGrpcError,
  grpcCodeForHttpStatus,
  isGrpcServiceError,
  toGrpcStatus,
} from './errors.js';
export { HEALTH_SERVICE_NAME, createRpcServer } from './server.js';
export type {
  CallContext,
  RpcServer,
  RpcServerOptions,
  ServerStreamingHandler,
  ServiceImplementation,
  ServingStatus,
  ShutdownOptions,
  ShutdownResult,
  UnaryHandler,
} from './server.js';
export { DEFAULT_DEADLINE_MS, createRpcClient } from './client.js';
export type {
  RpcCallOptions,
  RpcClient,
  RpcClientOptions,
  ServerStreamingClientMethod,
  ServiceClientConstructor,
  UnaryClientMethod,
} from './client.js';
export { REQUEST_ID_METADATA_KEY } from './metadata.js';
export type { MetadataInit } from './metadata.js';
export { stderrLogger } from './logger.js';
export type { RpcLogger } from './logger.js';
export { serviceNameOf } from './service-types.js';
export type { MethodDefinitionLike, RequestOf, ResponseOf, ServiceDefinitionLike } from './service-types.js';
export { unimplemented } from './unimplemented.js';
export { serviceHealth } from './health-client.js';
export type { ServiceHealth } from './health-client.js';
