import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMetricsRegistry } from '@membrane/observability';
import { outOfBandLeaveCounter, registerOutboxMetrics } from './metrics.js';
import type { OutboxStatsSource } from './metrics.js';
import type { OutboxStats } from './storage/index.js';

function source(answers: OutboxStats[]): OutboxStatsSource & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    async outboxStats(now) {
      calls.push(now);
      const answer = answers[Math.min(calls.length - 1, answers.length - 1)];
      if (answer === undefined) throw new Error('no answer');
      return answer;
    },
  };
}

describe('outbox metrics', () => {
  it('reports depth, destinations, leases and the oldest age at each scrape, with one query per scrape', async () => {
    const registry = createMetricsRegistry({ app: 'membership-service', defaultMetrics: false });
    const stats = source([
      { depth: 7, destinations: 2, inFlight: 3, oldestAgeMs: 12_500 },
      { depth: 0, destinations: 0, inFlight: 0, oldestAgeMs: null },
    ]);
    registerOutboxMetrics(registry, stats, () => 1_000_000);
    const first = await registry.metrics();
    assert.match(first, /^membership_outbox_depth\{app="membership-service"\} 7$/m);
    assert.match(first, /^membership_outbox_destinations\{app="membership-service"\} 2$/m);
    assert.match(first, /^membership_outbox_in_flight\{app="membership-service"\} 3$/m);
    assert.match(first, /^membership_outbox_oldest_age_seconds\{app="membership-service"\} 12.5$/m);
    assert.deepEqual(stats.calls, [1_000_000]);
    await new Promise((resolve) => setImmediate(resolve));
    const second = await registry.metrics();
    assert.match(second, /^membership_outbox_depth\{app="membership-service"\} 0$/m);
    assert.match(second, /^membership_outbox_oldest_age_seconds\{app="membership-service"\} 0$/m);
    assert.equal(stats.calls.length, 2);
  });
});

describe('out-of-band leave counter', () => {
  it('counts out-of-band leaves by why no remote server took them', async () => {
    const registry = createMetricsRegistry({ app: 'membership-service', defaultMetrics: false });
    const counter = outOfBandLeaveCounter(registry);
    counter.inc({ reason: 'all-servers-failed' });
    counter.inc({ reason: 'all-servers-failed' });
    counter.inc({ reason: 'no-remote-service' });
    const text = await registry.metrics();
    assert.match(text, /membership_out_of_band_leaves_total\{[^}]*reason="all-servers-failed"[^}]*\} 2/);
    assert.match(text, /membership_out_of_band_leaves_total\{[^}]*reason="no-remote-service"[^}]*\} 1/);
  });
});
