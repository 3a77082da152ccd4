// Fetching a server's key document (`GET /_matrix/key/v2/server`) over HTTPS
// with certificate verification. An interface, so tests and later a notary
// (`/_matrix/key/v2/query`) or full server discovery can stand in.
import { rootCertificates } from 'node:tls';
import { parseJson } from '@membrane/canonical-json';
import type { ServerAddress, ServerAddressResolver } from './server-address.js';
import { resolveServerAddressWithoutDiscovery } from './server-address.js';
import { exchangeHttps } from '../outbound/https-exchange.js';
import type { HttpsAnswer } from '../outbound/https-exchange.js';

export interface ServerKeyFetcher {
  /** The raw JSON document the server (or a notary on its behalf) returned; checked by the caller. */
  fetchServerKeys(serverName: string): Promise<unknown>;
}

export class KeyFetchError extends Error {
  constructor(
    readonly serverName: string,
    message: string,
  ) {
    super(`fetching the keys of ${serverName}: ${message}`);
    this.name = 'KeyFetchError';
  }
}

export interface HttpsKeyFetcherOptions {
  /** Extra trusted CA certificates (PEM), added to the system's. */
  readonly extraCa?: string;
  readonly timeoutMs: number;
  /** Where a server is reached; default: IP literal / explicit port / 8448, without discovery. */
  readonly resolve?: ServerAddressResolver | ((serverName: string) => Promise<ServerAddress | undefined>);
  /** A key document is small; anything larger is refused. */
  readonly maxResponseBytes?: number;
}

export class HttpsKeyFetcher implements ServerKeyFetcher {
  readonly #ca: string[];
  readonly #resolve: (serverName: string) => ServerAddress | undefined | Promise<ServerAddress | undefined>;
  readonly #maxBytes: number;

  constructor(private readonly options: HttpsKeyFetcherOptions) {
    this.#ca = options.extraCa === undefined ? [...rootCertificates] : [...rootCertificates, options.extraCa];
    this.#resolve = options.resolve ?? resolveServerAddressWithoutDiscovery;
    this.#maxBytes = options.maxResponseBytes ?? 256 * 1024;
  }

  async fetchServerKeys(serverName: string): Promise<unknown> {
    return this.requestJson(serverName, 'GET', '/_matrix/key/v2/server');
  }

  /** A JSON request to a server's key endpoints (no X-Matrix: key queries are unauthenticated). */
  async requestJson(serverName: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    let address: ServerAddress | undefined;
    try {
      address = await this.#resolve(serverName);
    } catch (err) {
      throw new KeyFetchError(serverName, `server discovery failed: ${(err as Error).message}`);
    }
    if (address === undefined) throw new KeyFetchError(serverName, 'not a valid server name');
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    let answer: HttpsAnswer;
    try {
      answer = await exchangeHttps(address, {
        method,
        path,
        headers: {
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length }),
        },
        ...(payload === undefined ? {} : { body: payload }),
        timeoutMs: this.options.timeoutMs,
        maxResponseBytes: this.#maxBytes,
        agent: false,
        ca: this.#ca,
      });
    } catch (err) {
      throw new KeyFetchError(serverName, (err as Error).message);
    }
    if (answer.status !== 200) throw new KeyFetchError(serverName, `HTTP ${String(answer.status)}`);
    try {
      return parseJson(answer.body.toString('utf8'));
    } catch (err) {
      throw new KeyFetchError(serverName, `the response is not JSON: ${(err as Error).message}`);
    }
  }
}
