// Per-destination backoff: after a destination failed n times in a row it is
// not tried again (by requests that respect backoff) for
// min(initial * 2^(n-1), max). Any answer resets it.

export interface DestinationBackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  readonly clock?: () => number;
  /** Bound of the remembered destinations; the oldest go first. */
  readonly maxDestinations?: number;
}

/** The delay after `failures` consecutive failures (0 for none). */
export function backoffDelayMs(failures: number, initialMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  // 2^40 already exceeds any sensible bound; avoid Infinity.
  return Math.min(initialMs * 2 ** Math.min(failures - 1, 40), maxMs);
}

export class DestinationBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #clock: () => number;
  readonly #max: number;
  readonly #state = new Map<string, { failures: number; retryAt: number }>();

  constructor(options: DestinationBackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 2_000;
    this.#maxMs = options.maxMs ?? 60 * 60 * 1000;
    this.#clock = options.clock ?? Date.now;
    this.#max = options.maxDestinations ?? 10_000;
  }

  /** When the destination may be tried again; undefined when it may be now. */
  retryAt(destination: string): number | undefined {
    const state = this.#state.get(destination);
    if (state === undefined || state.retryAt <= this.#clock()) return undefined;
    return state.retryAt;
  }

  recordFailure(destination: string): void {
    const failures = (this.#state.get(destination)?.failures ?? 0) + 1;
    this.#state.delete(destination);
    this.#state.set(destination, { failures, retryAt: this.#clock() + backoffDelayMs(failures, this.#initialMs, this.#maxMs) });
    while (this.#state.size > this.#max) {
      const oldest = this.#state.keys().next().value;
      if (oldest === undefined) break;
      this.#state.delete(oldest);
    }
  }

  recordSuccess(destination: string): void {
    this.#state.delete(destination);
  }
}
