// Server discovery as the spec's "Resolving server names" section describes
// it: IP literals and explicit ports are used as they are; otherwise
// `/.well-known/matrix/server` may delegate to another host; then SRV
// records (`_matrix-fed._tcp`, then the deprecated `_matrix._tcp`); then
// port 8448. DNS and the well-known fetch are injected so the decision is
// tested without a network. Results are cached (well-known answers for a
// day, failures for an hour, as the spec suggests).
import { parseServerName } from '@membrane/events';
import type { ServerAddress } from '../keys/server-address.js';
import { DEFAULT_FEDERATION_PORT } from '../keys/server-address.js';

export interface SrvRecord {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

export interface DiscoveryLookups {
  /** SRV records of a name; an empty list (or a throw) when there are none. */
  resolveSrv(name: string): Promise<readonly SrvRecord[]>;
  /** The parsed JSON of `https://<hostname>/.well-known/matrix/server`; throws on any failure. */
  fetchWellKnown(hostname: string): Promise<unknown>;
}

export interface ServerDiscoveryOptions {
  readonly lookups: DiscoveryLookups;
  readonly clock?: () => number;
  readonly wellKnownTtlMs?: number;
  readonly failureTtlMs?: number;
  /** Bound of the cache; the oldest entries go first. */
  readonly maxCachedServers?: number;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

interface HostAndPort {
  readonly host: string;
  readonly port: number | undefined;
  readonly literal: boolean;
}

function splitServerName(name: string): HostAndPort | undefined {
  const parsed = parseServerName(name);
  if (parsed === undefined) return undefined;
  const bracketed = parsed.host.startsWith('[');
  return { host: bracketed ? parsed.host.slice(1, -1) : parsed.host, port: parsed.port, literal: bracketed || IPV4.test(parsed.host) };
}

/** The delegated server name of a well-known document, or undefined when it names none. */
export function delegatedServerOf(document: unknown): string | undefined {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return undefined;
  const value = (document as Record<string, unknown>)['m.server'];
  if (typeof value !== 'string' || splitServerName(value) === undefined) return undefined;
  return value;
}

/** SRV records in the order to try: lowest priority first, then highest weight (no random pick: deterministic). */
export function orderSrvRecords(records: readonly SrvRecord[]): SrvRecord[] {
  return [...records].filter((r) => r.name !== '' && r.name !== '.').sort((a, b) => a.priority - b.priority || b.weight - a.weight);
}

export class ServerDiscovery {
  readonly #lookups: DiscoveryLookups;
  readonly #clock: () => number;
  readonly #wellKnownTtlMs: number;
  readonly #failureTtlMs: number;
  readonly #maxCached: number;
  readonly #cache = new Map<string, { address: ServerAddress | undefined; until: number }>();

  constructor(options: ServerDiscoveryOptions) {
    this.#lookups = options.lookups;
    this.#clock = options.clock ?? Date.now;
    this.#wellKnownTtlMs = options.wellKnownTtlMs ?? DAY_MS;
    this.#failureTtlMs = options.failureTtlMs ?? HOUR_MS;
    this.#maxCached = options.maxCachedServers ?? 10_000;
  }

  /** Where to connect for `serverName`; undefined for a name that is not a server name. */
  async resolve(serverName: string): Promise<ServerAddress | undefined> {
    const name = splitServerName(serverName);
    if (name === undefined) return undefined;
    // Steps 1 and 2: nothing to look up, nothing to cache.
    if (name.literal) return { host: name.host, port: name.port ?? DEFAULT_FEDERATION_PORT, hostHeader: serverName };
    if (name.port !== undefined) return { host: name.host, port: name.port, tlsServerName: name.host, hostHeader: serverName };
    const cached = this.#cache.get(serverName);
    if (cached !== undefined && cached.until > this.#clock()) return cached.address;
    const { address, ttlMs } = await this.#discover(name.host);
    this.#remember(serverName, address, ttlMs);
    return address;
  }

  /** Forgets what was found for a server (e.g. after its address stopped answering). */
  forget(serverName: string): void {
    this.#cache.delete(serverName);
  }

  async #discover(hostname: string): Promise<{ address: ServerAddress; ttlMs: number }> {
    let delegated: string | undefined;
    try {
      delegated = delegatedServerOf(await this.#lookups.fetchWellKnown(hostname));
    } catch {
      delegated = undefined;
    }
    if (delegated !== undefined) {
      const target = splitServerName(delegated);
      if (target !== undefined) {
        // Step 3: the delegated name, resolved like a server name without well-known.
        if (target.literal) return { address: { host: target.host, port: target.port ?? DEFAULT_FEDERATION_PORT, hostHeader: delegated }, ttlMs: this.#wellKnownTtlMs };
        if (target.port !== undefined) return { address: { host: target.host, port: target.port, tlsServerName: target.host, hostHeader: delegated }, ttlMs: this.#wellKnownTtlMs };
        return { address: await this.#bySrv(target.host), ttlMs: this.#wellKnownTtlMs };
      }
    }
    // Steps 4 to 6 on the server name itself.
    return { address: await this.#bySrv(hostname), ttlMs: this.#failureTtlMs };
  }

  /** SRV `_matrix-fed._tcp`, then `_matrix._tcp`, then port 8448; the certificate must name `hostname`. */
  async #bySrv(hostname: string): Promise<ServerAddress> {
    for (const service of ['_matrix-fed._tcp', '_matrix._tcp']) {
      let records: readonly SrvRecord[] = [];
      try {
        records = await this.#lookups.resolveSrv(`${service}.${hostname}`);
      } catch {
        records = [];
      }
      const best = orderSrvRecords(records)[0];
      if (best !== undefined) return { host: best.name.replace(/\.$/, ''), port: best.port, tlsServerName: hostname, hostHeader: hostname };
    }
    return { host: hostname, port: DEFAULT_FEDERATION_PORT, tlsServerName: hostname, hostHeader: hostname };
  }

  #remember(serverName: string, address: ServerAddress | undefined, ttlMs: number): void {
    this.#cache.delete(serverName);
    this.#cache.set(serverName, { address, until: this.#clock() + ttlMs });
    while (this.#cache.size > this.#maxCached) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
  }
}
