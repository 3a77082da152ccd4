// The express app: CORS on every answer, the route table mounted under
// /_matrix/client/{v3,r0}, and the steps every endpoint goes through
// (authenticate → read body → parse → rate-limit → call). Unknown paths are
// 404 M_UNRECOGNIZED, known paths with another method 405 M_UNRECOGNIZED.
import express from 'express';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER, httpMetricsMiddleware, metricsHandler, requestIdFrom } from '@membrane/observability';
import type { Registry } from '@membrane/observability';
import { MatrixError } from '@membrane/matrix-errors';
import { extractAccessToken } from './access-token.js';
import { errorResponse } from './error-response.js';
import type { RateLimiter } from './rate-limiter.js';
import type { ShutdownGate } from './shutdown-gate.js';
import { parseJsonObjectBody } from './request-input.js';
import type { GatewayServices, RateLimitKind, Route, RouteBase } from './routes/route.js';
import type { AuthenticatedUser, TokenVerifier } from './token-verifier.js';

export interface HttpAppOptions {
  readonly services: GatewayServices;
  readonly routes: readonly Route[];
  readonly verifier: TokenVerifier;
  readonly limiters: Readonly<Record<RateLimitKind, RateLimiter>>;
  readonly maxBodyBytes: number;
  readonly membershipDeadlineMs: number;
  readonly trustProxy: boolean | number | string;
  readonly logger: Logger;
  /** Requests are counted here (by route template and status). */
  readonly metrics: Registry;
  /** Also answer GET /metrics on this app (when no separate metrics port is configured). */
  readonly serveMetrics: boolean;
  /** Refuses new requests with 503 once shutdown began. */
  readonly shutdownGate: ShutdownGate;
}

const PREFIXES: Readonly<Record<RouteBase, readonly string[]>> = {
  client: ['/_matrix/client/v3', '/_matrix/client/r0'],
  'client-unversioned': ['/_matrix/client'],
  root: [''],
};

// Spec, "Web Browser Clients"; Retry-After is exposed so that browsers can read 429 answers.
const CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'X-Requested-With, Content-Type, Authorization',
  'Access-Control-Expose-Headers': 'Retry-After',
};

interface Locals {
  requestId: string;
  user?: AuthenticatedUser;
}

function localsOf(res: Response): Locals {
  return res.locals as Locals;
}

export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', options.trustProxy);

  app.use(httpMetricsMiddleware(options.metrics));
  app.use(accessLog(options.logger));
  if (options.serveMetrics) app.get('/metrics', metricsHandler(options.metrics));
  app.use(cors);
  app.use(options.shutdownGate.middleware);

  const router = express.Router({ caseSensitive: true, strict: true });
  for (const [path, routes] of groupByPath(options.routes)) {
    const route = router.route(path);
    for (const r of routes) {
      const steps: RequestHandler[] = [];
      if (r.auth) steps.push(authenticate(options.verifier));
      if (r.method !== 'GET') steps.push(express.raw({ type: () => true, limit: options.maxBodyBytes }));
      steps.push(runRoute(r, options));
      if (r.method === 'GET') route.get(...steps);
      else if (r.method === 'PUT') route.put(...steps);
      else route.post(...steps);
    }
    const allowed = [...new Set(routes.flatMap((r) => (r.method === 'GET' ? ['GET', 'HEAD'] : [r.method])))].join(', ');
    route.all((_req, res, next) => {
      res.setHeader('Allow', `${allowed}, OPTIONS`);
      next(MatrixError.unrecognized('Unrecognized request: method not allowed', 405));
    });
  }
  app.use(router);
  app.use((_req, _res, next) => next(MatrixError.unrecognized('Unrecognized request', 404)));
  app.use(errorHandler(options.logger));
  return app;
}

function groupByPath(routes: readonly Route[]): Map<string, Route[]> {
  const byPath = new Map<string, Route[]>();
  for (const route of routes) {
    for (const prefix of PREFIXES[route.base]) {
      const path = prefix + route.path;
      byPath.set(path, [...(byPath.get(path) ?? []), route]);
    }
  }
  return byPath;
}

/** CORS headers on every answer; OPTIONS is answered here and runs no endpoint logic. */
function cors(req: Request, res: Response, next: NextFunction): void {
  // setHeader directly: express's res.set runs its content-type logic per header.
  for (const name in CORS_HEADERS) res.setHeader(name, CORS_HEADERS[name] as string);
  if (req.method === 'OPTIONS') {
    res.status(204).end();
    return;
  }
  next();
}

function authenticate(verifier: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const token = extractAccessToken(req.get('authorization'), (req.query as Record<string, unknown>)['access_token']);
    localsOf(res).user = await verifier.verify(token);
    next();
  };
}

function runRoute(route: Route, options: HttpAppOptions): RequestHandler {
  const limit = (kind: RateLimitKind, key: string): void => {
    const decision = options.limiters[kind].take(key);
    if (!decision.allowed) throw MatrixError.limitExceeded(decision.retryAfterMs);
  };
  return async (req, res) => {
    const locals = localsOf(res);
    const user = locals.user;
    const reply = await route.handle(
      {
        req,
        params: req.params as Record<string, string>,
        query: req.query as Record<string, unknown>,
        body: route.method !== 'GET' ? parseJsonObjectBody(Buffer.isBuffer(req.body) ? req.body : undefined) : {},
        clientAddress: req.ip ?? req.socket.remoteAddress ?? 'unknown',
        services: options.services,
        rpc: { requestId: locals.requestId, deadlineMs: options.membershipDeadlineMs },
        ...(user === undefined ? {} : { user }),
      },
      limit,
    );
    res.status(reply.status ?? 200).json(reply.body);
  };
}

/** One line per request; the path without its query, which may hold an access token. */
function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const requestId = requestIdFrom(req.get('x-request-id'));
    localsOf(res).requestId = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const fields = { requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10, user: localsOf(res).user?.userId };
      if (res.statusCode >= 500) logger.warn(fields, 'request failed');
      else logger.info(fields, 'request');
    });
    next();
  };
}

function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const answer = errorResponse(err);
    if (answer.unexpected) logger.error({ err, requestId: localsOf(res).requestId, method: req.method, path: req.path }, 'request handler failed');
    res.set(answer.headers).status(answer.status).json(answer.body);
  };
}
