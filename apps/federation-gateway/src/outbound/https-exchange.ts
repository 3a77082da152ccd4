// One HTTPS request/response with the bounds every federation exchange needs:
// a deadline for the whole exchange, a ceiling on the response size, and
// certificate verification (through the agent or the CA list given). The
// signed federation client and the unsigned key fetcher both use it; each
// maps its failures to its own error type.
import { request } from 'node:https';
import type { Agent } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { ServerAddress } from '../keys/server-address.js';

export interface HttpsExchange {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly body?: string | Buffer;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** A keep-alive agent (which carries the CA list), or `false` with `ca` for a one-off connection. */
  readonly agent: Agent | false;
  readonly ca?: readonly string[];
}

export interface HttpsAnswer {
  readonly status: number;
  readonly body: Buffer;
}

/** Why an exchange gave no HTTP answer; an HTTP error status is an answer, not this. */
export class HttpsExchangeError extends Error {
  constructor(
    readonly kind: 'failed' | 'timed-out' | 'too-large',
    message: string,
  ) {
    super(message);
    this.name = 'HttpsExchangeError';
  }
}

export function exchangeHttps(address: ServerAddress, exchange: HttpsExchange): Promise<HttpsAnswer> {
  const headers = { host: address.hostHeader, ...exchange.headers };
  return new Promise<HttpsAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      fn();
    };
    const fail = (kind: HttpsExchangeError['kind'], message: string): void => finish(() => reject(new HttpsExchangeError(kind, message)));
    const outgoing = request(
      {
        host: address.host,
        port: address.port,
        ...(address.tlsServerName === undefined ? {} : { servername: address.tlsServerName }),
        method: exchange.method,
        path: exchange.path,
        headers,
        agent: exchange.agent,
        ...(exchange.ca === undefined ? {} : { ca: [...exchange.ca] }),
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > exchange.maxResponseBytes) {
            outgoing.destroy();
            fail('too-large', `the response is larger than ${exchange.maxResponseBytes} bytes`);
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) => fail('failed', err.message));
        res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) })));
      },
    );
    const deadline = setTimeout(() => {
      outgoing.destroy();
      fail('timed-out', `no answer within ${exchange.timeoutMs} ms`);
    }, exchange.timeoutMs);
    outgoing.on('error', (err) => fail('failed', err.message));
    outgoing.end(exchange.body);
  });
}
