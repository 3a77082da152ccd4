import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BenchResult } from './harness.js';
import type { FoundResult, ScenarioRecord } from './results.js';
import { evaluateTargets } from './targets.js';

function lookupOf(results: readonly (BenchResult & { runId?: string })[]): (id: string) => FoundResult | undefined {
  return (id) => {
    const result = results.find((r) => r.id === id);
    if (result === undefined) return undefined;
    const record = { runId: result.runId ?? 'run' } as ScenarioRecord;
    return { result, record };
  };
}

function row(rows: ReturnType<typeof evaluateTargets>, target: RegExp): ReturnType<typeof evaluateTargets>[number] {
  const found = rows.find((r) => target.test(r.target));
  assert.ok(found !== undefined, `no target matching ${target}`);
  return found;
}

describe('benchmark targets', () => {
  it('says "not measured" for every target without figures', () => {
    const rows = evaluateTargets(lookupOf([]));
    assert.ok(rows.length >= 10);
    assert.ok(rows.every((r) => r.met === 'not measured'));
  });

  it('checks throughput, latency and the in-process ratio', () => {
    const rows = evaluateTargets(
      lookupOf([
        { id: 'cs-leave.sqlite.saturation', group: 'g', name: 'n', opsPerSecond: 6_000 },
        { id: 'cs-leave.sqlite.half', group: 'g', name: 'n', p50Ms: 3, p99Ms: 25 },
        { id: 'in-process.perform-leave', group: 'g', name: 'n', opsPerSecond: 10_000 },
        { id: 'send-leave.v2', group: 'g', name: 'n', opsPerSecond: 2_000 },
      ]),
    );
    assert.equal(row(rows, /≥ 5,000 leaves\/s/).met, 'yes');
    assert.equal(row(rows, /p99 ≤ 20 ms/).met, 'no');
    assert.equal(row(rows, /CS \/leave end to end ≥ ½/).met, 'yes');
    assert.equal(row(rows, /send_leave end to end ≥ ½/).met, 'no');
    assert.equal(row(rows, /send_leave ≥ 3,000/).met, 'no');
  });

  it('projects a mass leave of fewer than 10,000 at its own rate', () => {
    const rows = evaluateTargets(
      lookupOf([
        { id: 'mass-leave.one-user', group: 'g', name: 'n', opsPerSecond: 2_000, count: 2_000, seconds: 1 },
        { id: 'mass-leave.one-room', group: 'g', name: 'n', opsPerSecond: 500, count: 10_000, seconds: 20 },
      ]),
    );
    const oneUser = row(rows, /one user leaves 10,000 rooms/);
    assert.equal(oneUser.met, 'yes');
    assert.match(oneUser.measured, /5\.0 s projected from 2,000 leaves/);
    const oneRoom = row(rows, /10,000 users leave one room/);
    assert.equal(oneRoom.met, 'no');
    assert.match(oneRoom.measured, /^20\.0 s/);
  });

  it('compares latency at 100,000 members with latency at 10, and only then gives a verdict', () => {
    const small = { id: 'room-size.10', group: 'g', name: 'n', p50Ms: 10, p99Ms: 20 };
    const partial = evaluateTargets(lookupOf([small, { id: 'room-size.10000', group: 'g', name: 'n', p50Ms: 12 }]));
    assert.equal(row(partial, /100,000 members/).met, 'not measured');
    assert.match(row(partial, /100,000 members/).measured, /largest room measured: 10,000/);
    const full = evaluateTargets(lookupOf([small, { id: 'room-size.100000', group: 'g', name: 'n', p50Ms: 14, p99Ms: 100 }]));
    assert.equal(row(full, /100,000 members/).met, 'yes');
    assert.match(row(full, /100,000 members/).measured, /^1\.4× .*p99 5\.0×/);
  });

  it('reports the ratio to Synapse and whether both figures come from one run', () => {
    const rows = evaluateTargets(
      lookupOf([
        { id: 'cs-leave.sqlite.saturation', group: 'g', name: 'n', opsPerSecond: 1_000, runId: 'a' },
        { id: 'synapse.cs-leave.saturation', group: 'g', name: 'n', opsPerSecond: 40, runId: 'a' },
        { id: 'mass-leave.one-user', group: 'g', name: 'n', opsPerSecond: 900, runId: 'a' },
        { id: 'synapse.mass-leave.one-user', group: 'g', name: 'n', opsPerSecond: 30, runId: 'b' },
      ]),
    );
    const cs = row(rows, /Synapse: CS \/leave/);
    assert.equal(cs.met, 'yes');
    assert.match(cs.measured, /^25\.0×/);
    assert.doesNotMatch(cs.measured, /different runs/);
    const mass = row(rows, /Synapse: one user/);
    assert.equal(mass.met, 'yes');
    assert.match(mass.measured, /from different runs/);
    assert.equal(row(rows, /Synapse: many users/).met, 'not measured');
  });
});

describe('benchmark figures without a goal', () => {
  it('records memory and PostgreSQL beside SQLite without a verdict', () => {
    const rows = evaluateTargets(
      lookupOf([
        { id: 'memory.total.seeded', group: 'g', name: 'all three apps, 100,000 rooms, 1,000,000 memberships', rssMiB: 900 },
        { id: 'memory.total.empty', group: 'g', name: 'n', rssMiB: 400 },
        { id: 'cs-leave.sqlite.saturation', group: 'g', name: 'n', opsPerSecond: 1_000 },
        { id: 'cs-leave.postgres.saturation', group: 'g', name: 'n', opsPerSecond: 250 },
      ]),
    );
    const memory = row(rows, /resident memory/);
    assert.equal(memory.met, 'recorded');
    assert.match(memory.measured, /^900 MiB \(100,000 rooms, 1,000,000 memberships; empty: 400 MiB\)/);
    const pg = row(rows, /PostgreSQL beside SQLite/);
    assert.equal(pg.met, 'recorded');
    assert.match(pg.measured, /^250 vs 1,000 leaves\/s \(0\.25\)/);
  });
});
