// The CS `/leave` measurements shared by our stack and Synapse: a closed
// loop at a fixed concurrency (saturation), then an open loop at half of the
// rate found (latency when the server is not overloaded). The same code
// drives both servers; only the client and the leavers differ.
import { percentile } from '@membrane/testing';
import type { BenchResult } from '../harness.js';
import type { ClientUser, CsClient } from '../client.js';
import { roomPath } from '../client.js';
import type { LoadRun } from '../load.js';
import { rateOf, runClosedLoop, runOpenLoop } from '../load.js';
import type { CpuShare } from '../proc.js';
import { describeCpu, startCpuMeter } from '../proc.js';

/** Server processes whose CPU use is reported beside a figure (the load generator is added). */
export type Watched = readonly { readonly name: string; readonly pid: number }[];

/** Runs `fn` and measures how busy the watched processes were meanwhile. */
export async function withCpu<T>(watched: Watched | undefined, fn: () => Promise<T>): Promise<{ value: T; cpu: CpuShare[] | undefined }> {
  const meter = watched === undefined ? undefined : startCpuMeter(watched);
  const value = await fn();
  return { value, cpu: meter?.stop() };
}

/** One leave to do: `user` leaves `roomId`. */
export interface LeaveTarget {
  readonly user: ClientUser;
  readonly roomId: string;
}

export interface Phase {
  /** Leaves at most. */
  readonly count: number;
  /** Time bound of the phase. */
  readonly maxMs: number;
}

export interface SaturationPlan {
  readonly warmup: number;
  readonly saturation: Phase;
  readonly half: Phase;
  /** In flight during the closed loop. */
  readonly concurrency: number;
}

export interface SaturationFigures {
  readonly saturation: LoadRun;
  readonly half: LoadRun;
  /** The open loop's target rate (half the saturation rate). */
  readonly halfRate: number;
  /** CPU use during the saturation phase, when processes were watched. */
  readonly cpu?: readonly CpuShare[] | undefined;
}

export function leaveTask(client: CsClient, targets: readonly LeaveTarget[], offset = 0): (index: number) => Promise<unknown> {
  return (index) => {
    const target = targets[offset + index];
    if (target === undefined) return Promise.reject(new Error(`no leave target ${offset + index}`));
    return client.post(target.user, roomPath(target.roomId, 'leave'), { reason: 'bench' });
  };
}

function progressOf(label: string, progress: (line: string) => void): (ended: number, elapsedMs: number) => void {
  return (ended, elapsedMs) => progress(`${label}: ${ended.toLocaleString('en-US')} leaves, ${(elapsedMs / 1000).toFixed(1)} s`);
}

/**
 * Warm-up, saturation, then half of the saturation rate, each on leavers of
 * its own. When the leavers are fewer than the plan's counts, saturation
 * gets two thirds of those left after the warm-up (the half-rate phase needs
 * half as many for the same time).
 */
export async function measureSaturation(
  client: CsClient,
  targets: readonly LeaveTarget[],
  plan: SaturationPlan,
  label: string,
  progress: (line: string) => void,
  watched?: Watched,
): Promise<SaturationFigures> {
  const warmup = Math.min(plan.warmup, Math.floor(targets.length / 4));
  const available = targets.length - warmup;
  if (available < 2) throw new Error(`${label}: ${targets.length} leavers are too few`);
  // Warm-up: JIT, connection pools, caches; not measured.
  await runClosedLoop({ count: warmup, concurrency: plan.concurrency, maxMs: 60_000, task: leaveTask(client, targets) });
  let used = warmup;
  const { value: saturation, cpu } = await withCpu(watched, () =>
    runClosedLoop({
      count: Math.min(plan.saturation.count, Math.ceil((available * 2) / 3)),
      concurrency: plan.concurrency,
      maxMs: plan.saturation.maxMs,
      task: leaveTask(client, targets, used),
      onProgress: progressOf(`${label} saturation`, progress),
    }),
  );
  used += saturation.completed + saturation.failed;
  const halfRate = Math.max(1, rateOf(saturation) / 2);
  const half = await runOpenLoop({
    count: Math.min(plan.half.count, targets.length - used),
    ratePerSecond: halfRate,
    // Enough for a stall to show in the latencies, bounded so a dead server cannot pile up sockets.
    maxInFlight: plan.concurrency * 4,
    maxMs: plan.half.maxMs,
    task: leaveTask(client, targets, used),
    onProgress: progressOf(`${label} at half saturation`, progress),
  });
  return { saturation, half, halfRate, cpu };
}

function stopNote(run: LoadRun): string {
  return run.stoppedBy === 'time' ? 'stopped by the time bound' : 'all leaves done';
}

function failureNote(run: LoadRun): string {
  return run.failed === 0 ? '' : `; ${run.failed} failed (${run.errors[0] ?? ''})`;
}

/** Result rows of one saturation measurement. */
export function saturationResults(figures: SaturationFigures, ids: { readonly saturation: string; readonly half: string }, group: string, what: string, setup: string, concurrency: number): BenchResult[] {
  const { saturation, half } = figures;
  return [
    {
      id: ids.saturation,
      group,
      name: `${what} at saturation`,
      opsPerSecond: rateOf(saturation),
      count: saturation.completed,
      seconds: saturation.elapsedMs / 1000,
      p50Ms: percentile(saturation.latenciesMs, 0.5),
      p99Ms: percentile(saturation.latenciesMs, 0.99),
      failures: saturation.failed,
      detail: `${setup}; ${concurrency} in flight; ${stopNote(saturation)}${failureNote(saturation)}${figures.cpu === undefined ? '' : `; ${describeCpu(figures.cpu)}`}`,
    },
    {
      id: ids.half,
      group,
      name: `${what} at half saturation`,
      opsPerSecond: rateOf(half),
      count: half.completed,
      seconds: half.elapsedMs / 1000,
      p50Ms: percentile(half.latenciesMs, 0.5),
      p99Ms: percentile(half.latenciesMs, 0.99),
      failures: half.failed,
      detail: `open loop at ${figures.halfRate.toFixed(0)}/s, latency from each request's scheduled start; ${stopNote(half)}${failureNote(half)}`,
    },
  ];
}

/** Interleaves the leavers of several rooms (room 0 member 1, room 1 member 1, ...), as independent clients would. */
export function interleave<T>(perRoom: readonly (readonly T[])[]): T[] {
  const out: T[] = [];
  const longest = Math.max(0, ...perRoom.map((r) => r.length));
  for (let i = 0; i < longest; i++) for (const room of perRoom) if (i < room.length) out.push(room[i] as T);
  return out;
}

/** Every target leaves, `concurrency` in flight, bounded by `maxMs`. */
export function leaveAll(client: CsClient, targets: readonly LeaveTarget[], concurrency: number, maxMs: number, label: string, progress: (line: string) => void): Promise<LoadRun> {
  return runClosedLoop({
    count: targets.length,
    concurrency,
    maxMs,
    task: leaveTask(client, targets),
    onProgress: (ended, elapsedMs) => progress(`${label}: ${ended.toLocaleString('en-US')}/${targets.length.toLocaleString('en-US')} leaves, ${(elapsedMs / 1000).toFixed(1)} s`),
  });
}

/** The result row of one run of leaves: total seconds, rate, latencies. */
export function leaveRunResult(
  run: LoadRun,
  fields: { readonly id: string; readonly group: string; readonly name: string; readonly setup: string; readonly concurrency: number; readonly members?: number; readonly cpu?: readonly CpuShare[] | undefined },
): BenchResult {
  return {
    id: fields.id,
    group: fields.group,
    name: fields.name,
    ...(fields.members === undefined ? {} : { members: fields.members }),
    opsPerSecond: rateOf(run),
    count: run.completed,
    seconds: run.elapsedMs / 1000,
    p50Ms: percentile(run.latenciesMs, 0.5),
    p99Ms: percentile(run.latenciesMs, 0.99),
    failures: run.failed,
    detail: `${fields.setup}; ${fields.concurrency} in flight; ${stopNote(run)}${failureNote(run)}${fields.cpu === undefined ? '' : `; ${describeCpu(fields.cpu)}`}`,
  };
}
