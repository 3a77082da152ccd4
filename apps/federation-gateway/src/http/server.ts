// The HTTP(S) server of the federation API: route, read and parse the JSON
// body, authenticate X-Matrix where the route asks for it, run the handler,
// answer JSON. Every failure is a Matrix error body; unexpected exceptions
// are logged and answered 500 without details.
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER, currentRequestId, requestIdFrom, runWithRequestId } from '@membrane/observability';
import { JsonParseError, isJsonObject, parseJson } from '@membrane/canonical-json';
import type { JsonObject } from '@membrane/canonical-json';
import { MatrixError } from '@membrane/matrix-errors';
import { authenticateRequest } from '../auth/x-matrix-auth.js';
import type { RequestKeyLookup } from '../auth/x-matrix-auth.js';
import type { Router } from './router.js';

export interface FederationServerOptions {
  readonly router: Router;
  readonly serverName: string;
  readonly keys: RequestKeyLookup;
  readonly maxBodyBytes: number;
  /** PEM certificate chain and key; absent: plain HTTP (behind a TLS-terminating proxy). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  readonly logger: Logger;
  /** Told of every answered request, with the route template (never the raw path) for metrics. */
  readonly onAnswered?: (answer: { readonly method: string; readonly route: string; readonly status: number; readonly seconds: number }) => void;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface ReadBody {
  readonly body: JsonObject;
  readonly text: string;
}

/** Reads a JSON object body of at most `maxBytes`. */
async function readJsonObjectBody(req: IncomingMessage, maxBytes: number): Promise<ReadBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw MatrixError.tooLarge(`The request body is larger than ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw MatrixError.tooLarge(`The request body is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  let text: string;
  try {
    text = utf8.decode(Buffer.concat(chunks));
  } catch {
    throw MatrixError.notJson('Content not JSON: the body is not UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = parseJson(text);
  } catch (err) {
    if (err instanceof JsonParseError) throw MatrixError.notJson(`Content not JSON: ${err.message}`);
    throw err;
  }
  if (!isJsonObject(parsed)) throw MatrixError.badJson('Content must be a JSON object');
  return { body: parsed, text };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function createFederationServer(options: FederationServerOptions): Server {
  const { router, logger } = options;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const uri = req.url ?? '/';
    const method = req.method ?? 'GET';
    let origin: string | undefined;
    let status = 500;
    let routeTemplate = 'unmatched';
    try {
      const queryAt = uri.indexOf('?');
      const rawPath = queryAt < 0 ? uri : uri.slice(0, queryAt);
      const query = new URLSearchParams(queryAt < 0 ? '' : uri.slice(queryAt + 1));
      const { route, params } = router.match(method, rawPath);
      routeTemplate = route.path;
      const read = route.method === 'GET' ? undefined : await readJsonObjectBody(req, options.maxBodyBytes);
      const request = { method, uri, query, params, headers: req.headers, body: read?.body, bodyText: read?.text };
      let reply;
      if (route.auth === 'x-matrix') {
        origin = await authenticateRequest(
          { method, uri, authorization: req.headersDistinct['authorization'] ?? [], content: read?.body },
          options.serverName,
          options.keys,
        );
        reply = await route.handle({ ...request, origin });
      } else {
        reply = await route.handle(request);
      }
      status = reply.status;
      send(res, reply.status, reply.body);
    } catch (err) {
      if (err instanceof MatrixError) {
        status = err.status;
        // A body we stopped reading part way cannot be drained cheaply: close the connection after answering.
        if (err.errcode === 'M_TOO_LARGE' && !req.complete) res.setHeader('connection', 'close');
        send(res, err.status, err.toJSON());
      } else {
        logger.error({ err, method, uri, origin, requestId: currentRequestId() }, 'request failed');
        status = 500;
        if (!res.headersSent) send(res, 500, { errcode: 'M_UNKNOWN', error: 'Internal server error' });
      }
    } finally {
      const seconds = (performance.now() - started) / 1000;
      options.onAnswered?.({ method, route: routeTemplate, status, seconds });
      logger.debug({ method, uri, origin, status, requestId: currentRequestId(), ms: Math.round(seconds * 10_000) / 10 }, 'request');
    }
  };
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    // Every request has an ID (the peer's X-Request-Id when sane), echoed in the
    // answer and carried to the membership service's gRPC calls.
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    void runWithRequestId(requestId, () => handle(req, res));
  };
  return options.tls === undefined
    ? createHttpServer(listener)
    : createHttpsServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, listener);
}
