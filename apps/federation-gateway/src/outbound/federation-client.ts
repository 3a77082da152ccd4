// The client side of federation: finds the destination (server discovery),
// connects over TLS verified against the system CAs plus the configured
// bundle, signs every request with X-Matrix, reuses connections (one
// keep-alive agent), bounds every request by a deadline and a response
// size, and backs off from destinations that keep failing.
import { resolveSrv } from 'node:dns/promises';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { JsonValue } from '@membrane/canonical-json';
import { encodeCanonicalJson } from '@membrane/canonical-json';
import { signRequest } from '@membrane/signing';
import type { SigningKey } from '@membrane/signing';
import type { ServerAddress } from '../keys/server-address.js';
import { DestinationBackoff } from './destination-backoff.js';
import { HttpsExchangeError, exchangeHttps } from './https-exchange.js';
import type { DiscoveryLookups } from './server-discovery.js';
import { ServerDiscovery } from './server-discovery.js';

export interface FederationRequest {
  readonly destination: string;
  readonly method: 'GET' | 'PUT' | 'POST';
  /** From `/_matrix/...`, path segments percent-encoded, query string included. */
  readonly path: string;
  readonly body?: JsonValue;
  /** Bound of the whole request; default the client's. */
  readonly timeoutMs?: number;
  /** User-initiated operations try a destination even while backing off from it. */
  readonly ignoreBackoff?: boolean;
}

export interface FederationResponse {
  readonly status: number;
  /** Parsed JSON; undefined when the body was not JSON. */
  readonly body: unknown;
}

export type FederationFailureKind = 'unreachable' | 'timed-out' | 'backing-off' | 'too-large';

/** The destination gave no usable HTTP answer (an HTTP error status is a response, not this). */
export class FederationRequestError extends Error {
  constructor(
    readonly destination: string,
    readonly kind: FederationFailureKind,
    message: string,
    /** For `backing-off`: when the destination may be tried again. */
    readonly retryAtMs?: number,
  ) {
    super(`${destination}: ${message}`);
    this.name = 'FederationRequestError';
  }
}

/** What remote operations need from the client; tests substitute it. */
export interface FederationRequester {
  request(request: FederationRequest): Promise<FederationResponse>;
}

export interface FederationClientOptions {
  readonly serverName: string;
  readonly signingKey: SigningKey;
  /** Extra trusted CA certificates (PEM), beside the system's. Verification is always on. */
  readonly extraCa?: string;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  readonly maxSocketsPerDestination?: number;
  readonly backoff?: DestinationBackoff;
  /** Replaces DNS SRV and the well-known fetch (tests). */
  readonly lookups?: DiscoveryLookups;
  /** Replaces discovery altogether (tests that point a name at a port). */
  readonly resolve?: (serverName: string) => Promise<ServerAddress | undefined>;
  readonly clock?: () => number;
}

interface RawAnswer {
  readonly status: number;
  readonly text: string;
}

export class FederationClient implements FederationRequester {
  readonly #options: FederationClientOptions;
  readonly #agent: Agent;
  readonly #ca: string[];
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #backoff: DestinationBackoff;
  readonly #resolve: (serverName: string) => Promise<ServerAddress | undefined>;

  constructor(options: FederationClientOptions) {
    this.#options = options;
    this.#ca = options.extraCa === undefined ? [...rootCertificates] : [...rootCertificates, options.extraCa];
    this.#agent = new Agent({ keepAlive: true, maxSockets: options.maxSocketsPerDestination ?? 16, ca: this.#ca });
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxBytes = options.maxResponseBytes ?? 32 * 1024 * 1024;
    this.#backoff = options.backoff ?? new DestinationBackoff({ ...(options.clock === undefined ? {} : { clock: options.clock }) });
    if (options.resolve !== undefined) {
      this.#resolve = options.resolve;
    } else {
      const discovery = new ServerDiscovery({ lookups: options.lookups ?? this.#defaultLookups() });
      this.#resolve = (name) => discovery.resolve(name);
    }
  }

  /** Where `serverName` is reached (server discovery, cached); also used for key fetches. */
  resolveServer(serverName: string): Promise<ServerAddress | undefined> {
    return this.#resolve(serverName);
  }

  get backoff(): DestinationBackoff {
    return this.#backoff;
  }

  async request(req: FederationRequest): Promise<FederationResponse> {
    if (req.ignoreBackoff !== true) {
      const retryAt = this.#backoff.retryAt(req.destination);
      if (retryAt !== undefined) throw new FederationRequestError(req.destination, 'backing-off', `backing off until ${new Date(retryAt).toISOString()}`, retryAt);
    }
    try {
      const address = await this.#resolve(req.destination);
      if (address === undefined) throw new FederationRequestError(req.destination, 'unreachable', 'not a valid server name');
      const authorization = signRequest(
        { method: req.method, uri: req.path, origin: this.#options.serverName, destination: req.destination, ...(req.body === undefined ? {} : { content: req.body }) },
        this.#options.signingKey,
      );
      const answer = await this.#send(address, req, authorization);
      // Any HTTP answer shows the destination is up again.
      this.#backoff.recordSuccess(req.destination);
      return { status: answer.status, body: parseJsonOrUndefined(answer.text) };
    } catch (err) {
      if (err instanceof FederationRequestError) {
        if (err.kind !== 'too-large') this.#backoff.recordFailure(req.destination);
        throw err;
      }
      this.#backoff.recordFailure(req.destination);
      throw new FederationRequestError(req.destination, 'unreachable', (err as Error).message);
    }
  }

  close(): void {
    this.#agent.destroy();
  }

  async #send(address: ServerAddress, req: FederationRequest, authorization: string | undefined): Promise<RawAnswer> {
    const bodyText = req.body === undefined ? undefined : encodeCanonicalJson(req.body);
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (authorization !== undefined) headers['authorization'] = authorization;
    if (bodyText !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(bodyText);
    }
    try {
      const answer = await exchangeHttps(address, {
        method: req.method,
        path: req.path,
        headers,
        ...(bodyText === undefined ? {} : { body: bodyText }),
        timeoutMs: req.timeoutMs ?? this.#timeoutMs,
        maxResponseBytes: this.#maxBytes,
        agent: this.#agent,
      });
      return { status: answer.status, text: answer.body.toString('utf8') };
    } catch (err) {
      if (err instanceof HttpsExchangeError && err.kind !== 'failed') throw new FederationRequestError(req.destination, err.kind, err.message);
      throw err;
    }
  }

  #defaultLookups(): DiscoveryLookups {
    return {
      resolveSrv: async (name) => resolveSrv(name),
      fetchWellKnown: async (hostname) => {
        const answer = await this.#send(
          { host: hostname, port: 443, tlsServerName: hostname, hostHeader: hostname },
          { destination: hostname, method: 'GET', path: '/.well-known/matrix/server', timeoutMs: 10_000 },
          undefined,
        );
        if (answer.status !== 200) throw new Error(`well-known answered ${answer.status}`);
        return JSON.parse(answer.text) as unknown;
      },
    };
  }
}

function parseJsonOrUndefined(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
