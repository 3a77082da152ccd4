// Token buckets per key (a user ID, a client address). Each request takes one
// token; tokens come back at `perSecond` up to `burst`. Pure but for the clock.

export interface BucketSettings {
  readonly perSecond: number;
  readonly burst: number;
}

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

export interface RateLimiterOptions {
  readonly defaults: BucketSettings;
  /** Keys with their own bucket size and rate. */
  readonly overrides?: Readonly<Record<string, BucketSettings>>;
  /** Keys never limited. */
  readonly exempt?: Iterable<string>;
  readonly clock?: () => number;
  /** Buckets kept in memory; full buckets are dropped first when there are more. */
  readonly maxKeys?: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly exempt: ReadonlySet<string>;
  private readonly clock: () => number;
  private readonly maxKeys: number;

  constructor(private readonly options: RateLimiterOptions) {
    this.exempt = new Set(options.exempt ?? []);
    this.clock = options.clock ?? Date.now;
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  /** Takes one token for `key`, or says how long until one is available. */
  take(key: string): RateDecision {
    if (this.exempt.has(key)) return { allowed: true };
    const settings = this.settingsFor(key);
    const now = this.clock();
    const bucket = this.refilled(key, settings, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.remember(key, bucket);
      return { allowed: true };
    }
    this.remember(key, bucket);
    return { allowed: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) * 1000) / settings.perSecond) };
  }

  /** Buckets held in memory (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private settingsFor(key: string): BucketSettings {
    return this.options.overrides?.[key] ?? this.options.defaults;
  }

  private refilled(key: string, settings: BucketSettings, now: number): Bucket {
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return { tokens: settings.burst, updatedMs: now };
    const elapsedMs = Math.max(0, now - bucket.updatedMs);
    return { tokens: Math.min(settings.burst, bucket.tokens + (elapsedMs * settings.perSecond) / 1000), updatedMs: now };
  }

  private remember(key: string, bucket: Bucket): void {
    this.buckets.delete(key); // re-insert: the map's order is then least recently used first
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.evict();
  }

  /** A full bucket is the same as no bucket, so those go first; then the least recently used. */
  private evict(): void {
    const now = this.clock();
    for (const [key] of this.buckets) {
      if (this.buckets.size <= this.maxKeys) return;
      const settings = this.settingsFor(key);
      if (this.refilled(key, settings, now).tokens >= settings.burst) this.buckets.delete(key);
    }
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) return;
      this.buckets.delete(key);
    }
  }
}

/** The `Retry-After` header value: whole seconds, rounded up, at least 1. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}
