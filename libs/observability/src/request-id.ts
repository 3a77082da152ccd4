// Request IDs: taken from the client's `X-Request-Id` when it is sane,
// generated otherwise, echoed in the answer, put on a pino child logger, and
// passed on to gRPC calls as `x-request-id` metadata.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { REQUEST_ID_METADATA_KEY } from '@membrane/rpc';

export const REQUEST_ID_HEADER = 'X-Request-Id';

// Short and plain, so a client cannot put log-breaking or huge values into every line.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's ID when it is acceptable, else a fresh UUID. */
export function requestIdFrom(header: string | readonly string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return typeof value === 'string' && SANE_REQUEST_ID.test(value) ? value : randomUUID();
}

/** The request ID a gRPC caller sent, if any. */
export function requestIdOfMetadata(metadata: grpc.Metadata): string | undefined {
  const value = metadata.get(REQUEST_ID_METADATA_KEY)[0];
  return typeof value === 'string' ? value : undefined;
}

/** A child logger whose every line carries the request ID. */
export function requestLogger(logger: Logger, requestId: string | undefined): Logger {
  return requestId === undefined ? logger : logger.child({ requestId });
}

/** What the middleware leaves in `res.locals`. */
export interface RequestIdLocals {
  requestId: string;
  log: Logger;
}

interface WithLocals {
  locals?: Record<string, unknown>;
}

/** `res.locals.requestId` and `res.locals.log` as set by `requestIdMiddleware`, if it ran. */
export function requestIdLocalsOf(res: ServerResponse): RequestIdLocals | undefined {
  const locals = (res as ServerResponse & WithLocals).locals;
  const requestId = locals?.['requestId'];
  const log = locals?.['log'];
  return typeof requestId === 'string' && log !== undefined ? { requestId, log: log as Logger } : undefined;
}

/**
 * Express middleware: sets `res.locals.requestId` and `res.locals.log` (a
 * child logger) and the `X-Request-Id` answer header. Pass the ID on with
 * `createRpcClient` calls' `requestId` option.
 */
export function requestIdMiddleware(logger: Logger): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    const withLocals = res as ServerResponse & WithLocals;
    withLocals.locals ??= {};
    withLocals.locals['requestId'] = requestId;
    withLocals.locals['log'] = logger.child({ requestId });
    res.setHeader(REQUEST_ID_HEADER, requestId);
    next();
  };
}
