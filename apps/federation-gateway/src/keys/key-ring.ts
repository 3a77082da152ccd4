// Other servers' verify keys as this gateway knows them: a VerifyKeyStore
// filled on demand by a ServerKeyFetcher. Fetches are shared (one in flight
// per server), refreshed in the background after half a document's lifetime,
// and never repeated for a server more often than `retryAfterFailureMs`, so
// requests naming unknown keys cannot make us hammer a server. Our own keys
// are answered locally.
import { VerifyKeyStore } from '@membrane/signing';
import type { OldVerifyKey } from '@membrane/signing';
import type { ServerKeyFetcher } from './key-fetcher.js';

export interface KeyRingLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface OwnKeys {
  readonly serverName: string;
  /** Current keys by key id. */
  readonly verifyKeys: ReadonlyMap<string, Uint8Array>;
  readonly oldVerifyKeys: readonly OldVerifyKey[];
}

export interface RemoteKeyRingOptions {
  readonly fetcher: ServerKeyFetcher;
  readonly own: OwnKeys;
  readonly retryAfterFailureMs: number;
  readonly clock?: () => number;
  readonly logger?: KeyRingLogger;
}

export class RemoteKeyRing {
  readonly #store = new VerifyKeyStore();
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #lastAttemptMs = new Map<string, number>();
  readonly #clock: () => number;

  constructor(private readonly options: RemoteKeyRingOptions) {
    this.#clock = options.clock ?? Date.now;
  }

  /** A key that may verify a request signed now (current key, not past its validity), fetching when needed. */
  async keyForRequest(serverName: string, keyId: string): Promise<Uint8Array | undefined> {
    if (serverName === this.options.own.serverName) return this.options.own.verifyKeys.get(keyId);
    const lookup = (): Uint8Array | undefined => this.#store.keyForRequest(serverName, keyId, this.#clock())?.publicKey;
    const known = lookup();
    if (known !== undefined) {
      if (this.#store.needsRefresh(serverName, this.#clock(), keyId)) void this.#refresh(serverName);
      return known;
    }
    await this.#refresh(serverName);
    return lookup();
  }

  /**
   * A key that may verify an event's signature. `validAtTs` is the event's
   * origin_server_ts in room versions that enforce key validity (v5+), 0 before.
   */
  async keyForEvent(serverName: string, keyId: string, validAtTs: number): Promise<Uint8Array | undefined> {
    if (serverName === this.options.own.serverName) return this.#ownKeyForEvent(keyId, validAtTs);
    const lookup = (): Uint8Array | undefined =>
      this.#store.keyForEvent(serverName, keyId, validAtTs, { enforceKeyValidity: validAtTs > 0 })?.publicKey;
    const known = lookup();
    if (known !== undefined) return known;
    await this.#refresh(serverName);
    return lookup();
  }

  #ownKeyForEvent(keyId: string, validAtTs: number): Uint8Array | undefined {
    const current = this.options.own.verifyKeys.get(keyId);
    if (current !== undefined) return current;
    const old = this.options.own.oldVerifyKeys.find((k) => k.keyId === keyId);
    return old !== undefined && validAtTs <= old.expiredTs ? old.publicKey : undefined;
  }

  /** Fetches the server's keys unless a fetch is running (joins it) or one was tried too recently. */
  #refresh(serverName: string): Promise<void> {
    const running = this.#inFlight.get(serverName);
    if (running !== undefined) return running;
    const now = this.#clock();
    const last = this.#lastAttemptMs.get(serverName);
    if (last !== undefined && now - last < this.options.retryAfterFailureMs) return Promise.resolve();
    this.#lastAttemptMs.set(serverName, now);
    const fetching = this.options.fetcher
      .fetchServerKeys(serverName)
      .then((document) => {
        this.#store.addResponse(document, serverName, this.#clock());
      })
      .catch((err: unknown) => {
        this.options.logger?.warn({ serverName, err: err instanceof Error ? err.message : String(err) }, 'could not get the keys of a server');
      })
      .finally(() => this.#inFlight.delete(serverName));
    this.#inFlight.set(serverName, fetching);
    return fetching;
  }
}
