// Tokens of an existing homeserver (e.g. Synapse in the same stack): asks its
// `GET /_matrix/client/v3/account/whoami` and believes the answer for a short
// time. A token revoked upstream therefore keeps working here for at most
// `cacheTtlMs`.
import { createHash } from 'node:crypto';
import { parseUserId } from '@membrane/events';
import { MatrixError, matrixErrorFromBody } from '@membrane/matrix-errors';
import { unknownToken } from './access-token.js';
import { isUserId } from './request-input.js';
import type { AuthenticatedUser, TokenVerifier } from './token-verifier.js';
import { TtlCache } from './ttl-cache.js';

export interface UpstreamVerifierOptions {
  /** e.g. `http://synapse:8008` */
  readonly baseUrl: string;
  /** Users must belong to this server. */
  readonly serverName: string;
  readonly cacheTtlMs: number;
  readonly negativeCacheTtlMs: number;
  readonly cacheMaxEntries: number;
  readonly timeoutMs: number;
  readonly clock?: () => number;
  readonly onFailure?: (details: { status?: number; error: string }) => void;
}

type Verdict = { readonly user: AuthenticatedUser } | { readonly error: MatrixError };

export class UpstreamTokenVerifier implements TokenVerifier {
  private readonly cache: TtlCache<Verdict>;
  private readonly inFlight = new Map<string, Promise<Verdict>>();
  private readonly whoamiUrl: string;

  constructor(private readonly options: UpstreamVerifierOptions) {
    this.cache = new TtlCache(options.cacheMaxEntries, options.clock);
    this.whoamiUrl = new URL('/_matrix/client/v3/account/whoami', options.baseUrl).toString();
  }

  async verify(accessToken: string): Promise<AuthenticatedUser> {
    // Keyed by hash so that tokens are not kept in memory as they are.
    const key = createHash('sha256').update(accessToken).digest('base64');
    const verdict = this.cache.get(key) ?? (await this.ask(key, accessToken));
    if ('error' in verdict) throw verdict.error;
    return verdict.user;
  }

  /** One upstream request per token at a time, however many requests wait for it. */
  private ask(key: string, accessToken: string): Promise<Verdict> {
    let pending = this.inFlight.get(key);
    if (pending === undefined) {
      pending = this.fetchVerdict(accessToken).then((verdict) => {
        if ('user' in verdict) this.cache.set(key, verdict, this.options.cacheTtlMs);
        else if (verdict.error.status === 401) this.cache.set(key, verdict, this.options.negativeCacheTtlMs);
        return verdict;
      });
      pending.finally(() => this.inFlight.delete(key)).catch(() => undefined);
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async fetchVerdict(accessToken: string): Promise<Verdict> {
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(this.whoamiUrl, {
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      body = await response.json().catch(() => undefined);
    } catch (err) {
      return { error: this.unavailable({ error: (err as Error).message }) };
    }
    if (response.status === 401) {
      // Keep what the homeserver said (soft_logout, M_USER_LOCKED, ...).
      const upstream = matrixErrorFromBody(401, body);
      return { error: upstream ?? unknownToken() };
    }
    if (response.status !== 200) return { error: this.unavailable({ status: response.status, error: 'unexpected status' }) };
    const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const userId = record['user_id'];
    const deviceId = record['device_id'];
    if (typeof userId !== 'string' || !isUserId(userId)) return { error: this.unavailable({ status: 200, error: 'whoami answered without a valid user_id' }) };
    if (parseUserId(userId)?.serverName !== this.options.serverName) {
      return { error: MatrixError.forbidden(`User ${userId} does not belong to ${this.options.serverName}`) };
    }
    return { user: { userId, ...(typeof deviceId === 'string' ? { deviceId } : {}) } };
  }

  private unavailable(details: { status?: number; error: string }): MatrixError {
    this.options.onFailure?.(details);
    return new MatrixError(503, 'M_UNKNOWN', 'The homeserver could not check the access token; try again later');
  }
}
