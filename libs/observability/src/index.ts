export { createMetricsRegistry, metricOf, metricsHandler, startMetricsServer } from './registry.js';
export type { MetricsRegistryOptions, MetricsServer } from './registry.js';
export { LATENCY_BUCKETS_SECONDS, UNMATCHED_ROUTE, httpMetrics, httpMetricsMiddleware, routeTemplateOf } from './http-metrics.js';
export type { HttpMetrics, HttpMetricsMiddlewareOptions } from './http-metrics.js';
export { grpcClientMetricsInterceptor, grpcCodeName, grpcServerMetricsInterceptor } from './grpc-metrics.js';
export {
  REQUEST_ID_HEADER,
  requestIdFrom,
  requestIdLocalsOf,
  requestIdMiddleware,
  requestIdOfMetadata,
  requestLogger,
} from './request-id.js';
export type { RequestIdLocals } from './request-id.js';
export { REDACTED, REDACT_PATHS, SECRET_FIELDS, appLoggerOptions, createAppLogger, redactOptions, scrubUrl } from './logging.js';
export type { AppLoggerOptions } from './logging.js';
export type { Registry } from 'prom-client';
export { currentRequestId, requestIdClientInterceptor, runWithRequestId } from './request-context.js';
