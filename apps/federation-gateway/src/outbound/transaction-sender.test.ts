import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FederationRequest } from './federation-client.js';
import { FederationRequestError } from './federation-client.js';
import type { OutboxEntryLike, OutboxSource } from './transaction-sender.js';
import { TransactionSender, transactionIdOf } from './transaction-sender.js';
import { scripted } from '../test-support/outbound.js';

interface Row {
  readonly id: number;
  readonly destination: string;
  readonly eventJson: string;
  readonly eventId: string;
  attempts: number;
  nextAttemptTs: number;
  claimedUntil: number;
}

/** An outbox with the storage's rules: one destination per claim, oldest first, leases, retry times. */
class MemoryOutbox implements OutboxSource {
  rows: Row[] = [];
  failures: { id: number; retryAfterMs: number }[] = [];
  #nextId = 1;
  constructor(private readonly clock: () => number) {}

  add(destination: string, count: number): void {
    for (let i = 0; i < count; i++) {
      const id = this.#nextId++;
      this.rows.push({ id, destination, eventId: `$e${id}`, eventJson: JSON.stringify({ event_id: `$e${id}`, n: id }), attempts: 0, nextAttemptTs: 0, claimedUntil: 0 });
    }
  }

  async claim(limit: number, leaseMs: number): Promise<OutboxEntryLike[]> {
    const now = this.clock();
    const leased = new Set(this.rows.filter((r) => r.claimedUntil > now).map((r) => r.destination));
    const due = this.rows.filter((r) => r.nextAttemptTs <= now && !leased.has(r.destination));
    const destination = due[0]?.destination;
    if (destination === undefined) return [];
    const batch = due.filter((r) => r.destination === destination).slice(0, limit);
    for (const row of batch) row.claimedUntil = now + leaseMs;
    return batch.map((r) => ({ ...r }));
  }

  async ack(delivered: readonly number[], failed: readonly { id: number; retryAfterMs: number; reason: string }[]): Promise<void> {
    this.rows = this.rows.filter((r) => !delivered.includes(r.id));
    for (const failure of failed) {
      this.failures.push({ id: failure.id, retryAfterMs: failure.retryAfterMs });
      const row = this.rows.find((r) => r.id === failure.id);
      if (row !== undefined) {
        row.attempts += 1;
        row.nextAttemptTs = this.clock() + failure.retryAfterMs;
        row.claimedUntil = 0;
      }
    }
  }
}

const pdusOf = (req: FederationRequest): { n: number }[] => (req.body as { pdus: { n: number }[] }).pdus;

describe('TransactionSender', () => {
  it('sends each destination its entries in order, at most 50 PDUs per transaction, and acknowledges them', async () => {
    const outbox = new MemoryOutbox(() => 0);
    outbox.add('a.test', 120);
    outbox.add('b.test', 3);
    const client = scripted(() => ({ status: 200, body: { pdus: {} } }));
    const sender = new TransactionSender({ serverName: 'us.test', outbox, client, clock: () => 0 });
    let rounds = 0;
    while ((await sender.sendOnce()) && rounds < 20) rounds++;
    assert.equal(outbox.rows.length, 0);
    const toA = client.calls.filter((c) => c.destination === 'a.test');
    assert.deepEqual(toA.map((c) => pdusOf(c).length), [50, 50, 20]);
    assert.deepEqual(toA.flatMap((c) => pdusOf(c).map((p) => p.n)), Array.from({ length: 120 }, (_, i) => i + 1));
    const first = client.calls[0];
    assert.equal(first?.method, 'PUT');
    assert.match(first?.path ?? '', /^\/_matrix\/federation\/v1\/send\/[^/]+$/);
    assert.deepEqual(Object.keys(first?.body as object).sort(), ['edus', 'origin', 'origin_server_ts', 'pdus']);
    assert.equal((first?.body as { origin: string }).origin, 'us.test');
    assert.equal(new Set(client.calls.map((c) => c.path)).size, client.calls.length, 'every transaction has its own ID');
  });

  it('releases a failed batch with exponential backoff per attempt, bounded, and delivers it once the destination answers', async () => {
    let now = 0;
    const outbox = new MemoryOutbox(() => now);
    outbox.add('down.test', 2);
    let up = false;
    const client = scripted((req) => (up ? { status: 200, body: {} } : new FederationRequestError(req.destination, 'unreachable', 'ECONNREFUSED')));
    const sender = new TransactionSender({ serverName: 'us.test', outbox, client, clock: () => now, retryInitialMs: 1000, retryMaxMs: 5000 });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      assert.equal(await sender.sendOnce(), true);
      const delay = outbox.failures[outbox.failures.length - 1]?.retryAfterMs ?? -1;
      delays.push(delay);
      assert.equal(await sender.sendOnce(), false, 'nothing is due while backing off');
      now += delay;
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 5000, 5000]);
    up = true;
    assert.equal(await sender.sendOnce(), true);
    assert.equal(outbox.rows.length, 0);
    const paths = client.calls.map((c) => c.path);
    assert.equal(new Set(paths).size, 1, 'a retried batch keeps its transaction ID');
  });

  it('treats an HTTP error as a failed delivery and a 200 with refused PDUs as delivered', async () => {
    const outbox = new MemoryOutbox(() => 0);
    outbox.add('a.test', 1);
    outbox.add('b.test', 1);
    const client = scripted((req) => (req.destination === 'a.test' ? { status: 500, body: { errcode: 'M_UNKNOWN' } } : { status: 200, body: { pdus: { $e2: { error: 'forbidden' } } } }));
    const attempts: { destination: string; pdus: number; delivered: boolean }[] = [];
    const sender = new TransactionSender({ serverName: 'us.test', outbox, client, clock: () => 0, onTransaction: (a) => attempts.push(a) });
    await sender.sendOnce();
    await sender.sendOnce();
    assert.deepEqual(outbox.rows.map((r) => [r.destination, r.attempts]), [['a.test', 1]]);
    assert.deepEqual(
      attempts.sort((x, y) => x.destination.localeCompare(y.destination)),
      [
        { destination: 'a.test', pdus: 1, delivered: false },
        { destination: 'b.test', pdus: 1, delivered: true },
      ],
      'each attempt is reported for metrics',
    );
  });

  it('waits for the backoff the client announces for a destination', async () => {
    const outbox = new MemoryOutbox(() => 0);
    outbox.add('a.test', 1);
    const client = scripted((req) => new FederationRequestError(req.destination, 'backing-off', 'later', 60_000));
    const sender = new TransactionSender({ serverName: 'us.test', outbox, client, clock: () => 0, retryInitialMs: 10 });
    await sender.sendOnce();
    assert.equal(outbox.failures[0]?.retryAfterMs, 60_000);
  });

  it('runs in the background, woken by notify, and stops', async () => {
    const outbox = new MemoryOutbox(Date.now);
    const client = scripted(() => ({ status: 200, body: {} }));
    const sender = new TransactionSender({ serverName: 'us.test', outbox, client, pollIntervalMs: 60_000, concurrency: 2 });
    sender.start();
    await new Promise((r) => setTimeout(r, 20));
    outbox.add('a.test', 3);
    sender.notify();
    const deadline = Date.now() + 2000;
    while (outbox.rows.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(outbox.rows.length, 0, 'delivered long before the poll interval');
    await sender.stop();
    assert.equal(sender.transactionsSent, 1);
  });

  it('names transactions after the process and the batch', () => {
    const entries = [{ id: 7, destination: 'a', eventJson: '{}', eventId: '$a', attempts: 0 }, { id: 9, destination: 'a', eventJson: '{}', eventId: '$b', attempts: 0 }];
    assert.equal(transactionIdOf('boot', entries), 'boot.7.9.2');
  });
});
