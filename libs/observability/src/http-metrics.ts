// Counts HTTP requests and their latency by route template, never by raw
// path: `/rooms/:roomId/leave`, not one series per room.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { metricOf } from './registry.js';

/** Seconds; from a fast in-memory answer to a slow federation round trip. */
export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The label of requests that matched no route (404s from scanners must not make new series). */
export const UNMATCHED_ROUTE = 'unmatched';

/** The parts of an express request this module reads. */
interface RoutedRequest extends IncomingMessage {
  readonly route?: { readonly path?: unknown };
  readonly baseUrl?: string;
}

/** The template of the express route that served the request, or `unmatched`. */
export function routeTemplateOf(req: IncomingMessage): string {
  const routed = req as RoutedRequest;
  const path = routed.route?.path;
  if (typeof path !== 'string') return UNMATCHED_ROUTE;
  return `${routed.baseUrl ?? ''}${path}`;
}

export interface HttpMetrics {
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route' | 'status'>;
}

export function httpMetrics(registry: Registry): HttpMetrics {
  const labelNames = ['method', 'route', 'status'] as const;
  return {
    requests: metricOf(
      registry,
      'http_requests_total',
      () => new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by route template and status', labelNames, registers: [registry] }),
    ),
    duration: metricOf(
      registry,
      'http_request_duration_seconds',
      () =>
        new Histogram({
          name: 'http_request_duration_seconds',
          help: 'Time from request to the end of the answer, by route template',
          labelNames,
          buckets: LATENCY_BUCKETS_SECONDS,
          registers: [registry],
        }),
    ),
  };
}

export interface HttpMetricsMiddlewareOptions {
  /** How to name a request's route; default: the express route template (`routeTemplateOf`). */
  readonly routeOf?: (req: IncomingMessage) => string;
}

/**
 * Express middleware; mount it first. The route is read when the answer is
 * finished, after routing, so it sees the template that matched.
 */
export function httpMetricsMiddleware(
  registry: Registry,
  options: HttpMetricsMiddlewareOptions = {},
): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  const metrics = httpMetrics(registry);
  const routeOf = options.routeOf ?? routeTemplateOf;
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const labels = { method: req.method ?? 'UNKNOWN', route: routeOf(req), status: String(res.statusCode) };
      metrics.requests.inc(labels);
      metrics.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
