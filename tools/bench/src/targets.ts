// The goals of the benchmark issue, checked against the recorded figures.
// Goals for the design, recorded as measured and never asserted by a test.
import type { BenchResult } from './harness.js';
import type { FoundResult } from './results.js';

/** `recorded`: a figure the issue asks for without a goal. */
export type Verdict = 'yes' | 'no' | 'not measured' | 'recorded';

export interface TargetRow {
  /** Scenario numbers of the issue. */
  readonly scenario: string;
  readonly target: string;
  readonly measured: string;
  readonly met: Verdict;
}

type Lookup = (id: string) => FoundResult | undefined;

/** Room sizes of scenario 5, smallest first. */
export const ROOM_SIZE_IDS = [10, 1_000, 10_000, 100_000].map((members) => ({ members, id: `room-size.${members}` }));

const MASS_LEAVE_N = 10_000;

function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function figure(lookup: Lookup, id: string, field: keyof BenchResult): number | undefined {
  const value = lookup(id)?.result[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function verdict(ok: boolean): Verdict {
  return ok ? 'yes' : 'no';
}

function notMeasured(scenario: string, target: string, why = ''): TargetRow {
  return { scenario, target, measured: why === '' ? '—' : why, met: 'not measured' };
}

/** `a / b` as "12.3×", with where each figure comes from when they are from different runs. */
function ratioRow(lookup: Lookup, scenario: string, target: string, ours: string, theirs: string, atLeast: number, what: string): TargetRow {
  const a = figure(lookup, ours, 'opsPerSecond');
  const b = figure(lookup, theirs, 'opsPerSecond');
  if (a === undefined || b === undefined || b === 0) return notMeasured(scenario, target);
  const ratio = a / b;
  const sameRun = lookup(ours)?.record.runId === lookup(theirs)?.record.runId;
  return {
    scenario,
    target,
    measured: `${fmt(ratio, 1)}× (${fmt(a)} vs ${fmt(b, b < 100 ? 1 : 0)} ${what}/s${sameRun ? '' : '; from different runs'})`,
    met: verdict(ratio >= atLeast),
  };
}

function massLeaveRow(lookup: Lookup, id: string, target: string): TargetRow {
  const found = lookup(id);
  const rate = figure(lookup, id, 'opsPerSecond');
  const count = figure(lookup, id, 'count');
  const seconds = figure(lookup, id, 'seconds');
  if (found === undefined || rate === undefined || rate === 0 || count === undefined || seconds === undefined) return notMeasured('4', target);
  // A smaller run (or one cut by its time bound) is projected at its own rate.
  const projected = MASS_LEAVE_N / rate;
  const exact = count === MASS_LEAVE_N;
  return {
    scenario: '4',
    target,
    measured: exact ? `${fmt(seconds, 1)} s (${fmt(rate)} leaves/s)` : `${fmt(projected, 1)} s projected from ${fmt(count)} leaves at ${fmt(rate)}/s`,
    met: verdict(projected <= 10),
  };
}

function roomSizeRow(lookup: Lookup): TargetRow {
  const target = 'latency at 100,000 members ≤ 1.5 × latency at 10 (p50)';
  const small = figure(lookup, 'room-size.10', 'p50Ms');
  const measured = ROOM_SIZE_IDS.filter(({ id }) => figure(lookup, id, 'p50Ms') !== undefined);
  const largest = measured[measured.length - 1];
  if (small === undefined || largest === undefined || largest.members === 10) return notMeasured('5', target);
  const big = figure(lookup, largest.id, 'p50Ms') as number;
  const ratio = big / small;
  const p99Small = figure(lookup, 'room-size.10', 'p99Ms');
  const p99Big = figure(lookup, largest.id, 'p99Ms');
  const p99 = p99Small !== undefined && p99Big !== undefined && p99Small > 0 ? `; p99 ${fmt(p99Big / p99Small, 1)}×` : '';
  const partial = largest.members === 100_000 ? '' : ` (largest room measured: ${fmt(largest.members)})`;
  return {
    scenario: '5',
    target,
    measured: `${fmt(ratio, 1)}× (${fmt(big, 1)} ms vs ${fmt(small, 1)} ms${p99})${partial}`,
    met: largest.members === 100_000 ? verdict(ratio <= 1.5) : 'not measured',
  };
}

export function evaluateTargets(lookup: Lookup): TargetRow[] {
  const rows: TargetRow[] = [];
  const csRate = figure(lookup, 'cs-leave.sqlite.saturation', 'opsPerSecond');
  rows.push(
    csRate === undefined
      ? notMeasured('2', 'CS /leave ≥ 5,000 leaves/s (SQLite, saturation)')
      : { scenario: '2', target: 'CS /leave ≥ 5,000 leaves/s (SQLite, saturation)', measured: `${fmt(csRate)} leaves/s`, met: verdict(csRate >= 5_000) },
  );
  const halfP99 = figure(lookup, 'cs-leave.sqlite.half', 'p99Ms');
  rows.push(
    halfP99 === undefined
      ? notMeasured('2', 'p99 ≤ 20 ms at half of saturation')
      : { scenario: '2', target: 'p99 ≤ 20 ms at half of saturation', measured: `${fmt(halfP99, 1)} ms (p50 ${fmt(figure(lookup, 'cs-leave.sqlite.half', 'p50Ms') ?? Number.NaN, 1)} ms)`, met: verdict(halfP99 <= 20) },
  );
  const sendRate = figure(lookup, 'send-leave.v2', 'opsPerSecond');
  rows.push(
    sendRate === undefined
      ? notMeasured('3', 'send_leave ≥ 3,000/s')
      : { scenario: '3', target: 'send_leave ≥ 3,000/s', measured: `${fmt(sendRate)}/s`, met: verdict(sendRate >= 3_000) },
  );
  const limit = figure(lookup, 'in-process.perform-leave', 'opsPerSecond');
  for (const [id, what] of [
    ['cs-leave.sqlite.saturation', 'CS /leave'],
    ['send-leave.v2', 'send_leave'],
  ] as const) {
    const e2e = figure(lookup, id, 'opsPerSecond');
    const target = `${what} end to end ≥ ½ of the in-process limit (scenario 1)`;
    rows.push(
      limit === undefined || e2e === undefined
        ? notMeasured('1, 2, 3', target)
        : { scenario: '1, 2, 3', target, measured: `${fmt(e2e / limit, 2)} (${fmt(e2e)} vs ${fmt(limit)}/s)`, met: verdict(e2e >= limit / 2) },
    );
  }
  rows.push(massLeaveRow(lookup, 'mass-leave.one-user', 'one user leaves 10,000 rooms in ≤ 10 s'));
  rows.push(massLeaveRow(lookup, 'mass-leave.one-room', '10,000 users leave one room in ≤ 10 s'));
  rows.push(roomSizeRow(lookup));
  rows.push(ratioRow(lookup, '7', '≥ 20 × Synapse: CS /leave at saturation', 'cs-leave.sqlite.saturation', 'synapse.cs-leave.saturation', 20, 'leaves'));
  rows.push(ratioRow(lookup, '7', '≥ 20 × Synapse: one user leaves many rooms', 'mass-leave.one-user', 'synapse.mass-leave.one-user', 20, 'leaves'));
  rows.push(ratioRow(lookup, '7', '≥ 20 × Synapse: many users leave one room', 'mass-leave.one-room', 'synapse.mass-leave.one-room', 20, 'leaves'));
  const memory = lookup('memory.total.seeded');
  const rss = figure(lookup, 'memory.total.seeded', 'rssMiB');
  rows.push(
    memory === undefined || rss === undefined
      ? notMeasured('6', 'resident memory of the three apps with 100,000 rooms, 1,000,000 memberships (no goal)')
      : {
          scenario: '6',
          target: 'resident memory of the three apps with 100,000 rooms, 1,000,000 memberships (no goal)',
          measured: `${fmt(rss)} MiB (${memory.result.name.replace(/^all three apps, /, '')}; empty: ${fmt(figure(lookup, 'memory.total.empty', 'rssMiB') ?? Number.NaN)} MiB)`,
          met: 'recorded',
        },
  );
  const pg = figure(lookup, 'cs-leave.postgres.saturation', 'opsPerSecond');
  const pgTarget = 'CS /leave on PostgreSQL beside SQLite (no goal)';
  rows.push(
    pg === undefined || csRate === undefined
      ? notMeasured('8', pgTarget)
      : { scenario: '8', target: pgTarget, measured: `${fmt(pg)} vs ${fmt(csRate)} leaves/s (${fmt(pg / csRate, 2)}); p99 at half saturation ${fmt(figure(lookup, 'cs-leave.postgres.half', 'p99Ms') ?? Number.NaN, 1)} ms`, met: 'recorded' },
  );
  return rows;
}
