// The transaction sender: drains the membership service's durable outbox.
// Each claim leases the oldest due entries of one destination (at most 50,
// the PDU limit of a transaction), so a destination is served by one worker
// at a time and in order; entries are acknowledged after the destination
// answered 200, or released for a later attempt with exponential backoff
// (kept in the outbox itself, so it survives restarts). Woken by
// NotifyOutbox and, as a safety net, by polling.
import type { JsonValue } from '@membrane/canonical-json';
import { backoffDelayMs } from './destination-backoff.js';
import type { FederationRequester } from './federation-client.js';
import { FederationRequestError } from './federation-client.js';

export const MAX_PDUS_PER_TRANSACTION = 50;

export interface OutboxEntryLike {
  readonly id: number;
  readonly destination: string;
  readonly eventJson: string;
  readonly eventId: string;
  readonly attempts: number;
}

/** The membership service's outbox RPCs as the sender needs them. */
export interface OutboxSource {
  claim(limit: number, leaseMs: number): Promise<readonly OutboxEntryLike[]>;
  ack(deliveredIds: readonly number[], failed: readonly { id: number; retryAfterMs: number; reason: string }[]): Promise<void>;
}

export interface SenderLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface TransactionSenderOptions {
  readonly serverName: string;
  readonly outbox: OutboxSource;
  readonly client: FederationRequester;
  /** Destinations sent to at the same time. */
  readonly concurrency?: number;
  /** How long claimed entries stay ours; longer than a request can take. */
  readonly leaseMs?: number;
  readonly pollIntervalMs?: number;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  readonly requestTimeoutMs?: number;
  readonly clock?: () => number;
  readonly logger?: SenderLogger;
  /** Told of every transaction attempt (for metrics). */
  readonly onTransaction?: (attempt: { readonly destination: string; readonly pdus: number; readonly delivered: boolean }) => void;
}

/** The body of `PUT /_matrix/federation/v1/send/{txnId}`. */
export function buildTransaction(origin: string, now: number, entries: readonly OutboxEntryLike[]): { origin: string; origin_server_ts: number; pdus: JsonValue[]; edus: JsonValue[] } {
  return { origin, origin_server_ts: now, pdus: entries.map((e) => JSON.parse(e.eventJson) as JsonValue), edus: [] };
}

/**
 * A transaction ID unique to this batch: the process's start time and the
 * entries' ids. A retry of the same entries from this process reuses it, so
 * the peer answers from its replay cache instead of processing twice.
 */
export function transactionIdOf(bootId: string, entries: readonly OutboxEntryLike[]): string {
  const first = entries[0]?.id ?? 0;
  const last = entries[entries.length - 1]?.id ?? 0;
  return `${bootId}.${first}.${last}.${entries.length}`;
}

export class TransactionSender {
  readonly #options: TransactionSenderOptions;
  readonly #clock: () => number;
  readonly #bootId: string;
  #running = false;
  #workers: Promise<void>[] = [];
  readonly #waiters = new Set<() => void>();
  #woken = false;
  #sent = 0;

  constructor(options: TransactionSenderOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#bootId = this.#clock().toString(36);
  }

  /** Transactions answered 200 so far. */
  get transactionsSent(): number {
    return this.#sent;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const concurrency = Math.max(1, this.#options.concurrency ?? 4);
    this.#workers = Array.from({ length: concurrency }, () => this.#work());
  }

  /** New entries may be waiting: every idle worker claims again now. */
  notify(): void {
    this.#woken = true;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.notify();
    await Promise.allSettled(this.#workers);
    this.#workers = [];
  }

  /** One pass: claim one destination's batch and deliver it. False when nothing was due. */
  async sendOnce(): Promise<boolean> {
    const entries = await this.#options.outbox.claim(MAX_PDUS_PER_TRANSACTION, this.#options.leaseMs ?? 120_000);
    if (entries.length === 0) return false;
    await this.#deliver(entries);
    return true;
  }

  async #work(): Promise<void> {
    while (this.#running) {
      let busy = false;
      try {
        busy = await this.sendOnce();
      } catch (err) {
        this.#options.logger?.warn({ err: (err as Error).message }, 'the outbox could not be read');
      }
      if (!busy && this.#running) await this.#idle();
    }
  }

  /** Waits for a notification or the poll interval, whichever comes first. */
  async #idle(): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.#options.pollIntervalMs ?? 5_000);
      this.#waiters.add(done);
    });
    this.#woken = false;
  }

  async #deliver(entries: readonly OutboxEntryLike[]): Promise<void> {
    const destination = entries[0]?.destination ?? '';
    const txnId = transactionIdOf(this.#bootId, entries);
    let failure: { reason: string; notBefore?: number } | undefined;
    try {
      const answer = await this.#options.client.request({
        destination,
        method: 'PUT',
        path: `/_matrix/federation/v1/send/${encodeURIComponent(txnId)}`,
        body: buildTransaction(this.#options.serverName, this.#clock(), entries),
        timeoutMs: this.#options.requestTimeoutMs ?? 60_000,
      });
      if (answer.status === 200) {
        this.#logPduErrors(destination, answer.body);
      } else {
        failure = { reason: `HTTP ${answer.status}` };
      }
    } catch (err) {
      failure = { reason: (err as Error).message, ...(err instanceof FederationRequestError && err.retryAtMs !== undefined ? { notBefore: err.retryAtMs } : {}) };
    }
    this.#options.onTransaction?.({ destination, pdus: entries.length, delivered: failure === undefined });
    if (failure === undefined) {
      await this.#options.outbox.ack(entries.map((e) => e.id), []);
      this.#sent += 1;
      return;
    }
    // The oldest entry's failures decide the delay for the whole batch.
    const attempts = Math.max(...entries.map((e) => e.attempts)) + 1;
    let retryAfterMs = backoffDelayMs(attempts, this.#options.retryInitialMs ?? 5_000, this.#options.retryMaxMs ?? 4 * 60 * 60 * 1000);
    if (failure.notBefore !== undefined) retryAfterMs = Math.max(retryAfterMs, failure.notBefore - this.#clock());
    this.#options.logger?.warn({ destination, txnId, pdus: entries.length, attempts, retryAfterMs, reason: failure.reason }, 'transaction not delivered; will retry');
    await this.#options.outbox.ack([], entries.map((e) => ({ id: e.id, retryAfterMs, reason: failure.reason })));
  }

  #logPduErrors(destination: string, body: unknown): void {
    const pdus = (body as { pdus?: unknown } | undefined)?.pdus;
    if (typeof pdus !== 'object' || pdus === null) return;
    for (const [eventId, result] of Object.entries(pdus as Record<string, unknown>)) {
      const error = (result as { error?: unknown } | null)?.error;
      // The transaction was delivered; a refused PDU is the peer's decision, not retried.
      if (error !== undefined) this.#options.logger?.info({ destination, eventId, error }, 'the destination refused a PDU');
    }
  }
}
