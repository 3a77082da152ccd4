// Prometheus metrics of the membership service beyond the per-call gRPC
// counters: the federation outbox, read from storage at scrape time.
import { Counter, Gauge } from 'prom-client';
import type { Registry } from '@membrane/observability';
import type { OutboxStats } from './storage/index.js';

export interface OutboxStatsSource {
  outboxStats(now: number): Promise<OutboxStats>;
}

/**
 * `membership_outbox_depth`, `_destinations`, `_in_flight` and
 * `_oldest_age_seconds` (0 when empty), one storage query per scrape.
 */
export function registerOutboxMetrics(registry: Registry, source: OutboxStatsSource, now: () => number = Date.now): void {
  let pending: Promise<OutboxStats> | undefined;
  // The four gauges are collected one after another in one scrape; they share one query.
  const stats = (): Promise<OutboxStats> => {
    pending ??= source.outboxStats(now()).finally(() => {
      setImmediate(() => {
        pending = undefined;
      });
    });
    return pending;
  };
  const gauge = (name: string, help: string, read: (s: OutboxStats) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(read(await stats()));
      },
    });
  };
  gauge('membership_outbox_depth', 'Federation outbox rows not yet delivered', (s) => s.depth);
  gauge('membership_outbox_destinations', 'Destinations with undelivered outbox rows', (s) => s.destinations);
  gauge('membership_outbox_in_flight', 'Outbox rows leased to a sender', (s) => s.inFlight);
  gauge('membership_outbox_oldest_age_seconds', 'Age of the oldest undelivered outbox row (0 when empty)', (s) => (s.oldestAgeMs ?? 0) / 1000);
}

/** `membership_out_of_band_leaves_total{reason}`: leaves recorded locally because no remote server took them. */
export function outOfBandLeaveCounter(registry: Registry): Counter<'reason'> {
  return new Counter({
    name: 'membership_out_of_band_leaves_total',
    help: 'Leaves of rooms on other servers recorded locally because no remote server took them',
    labelNames: ['reason'],
    registers: [registry],
  });
}
