// What every benchmark scenario shares: the figures it returns, the size it
// runs at, and the micro-benchmark loop of the library scenarios (a function
// run repeatedly for a fixed wall-clock budget after a warm-up). Figures go
// to BENCHMARKS.md through main.ts; nothing here asserts on speed.

/** smoke: seconds, tiny numbers (CI); medium: a minute or two; full: the figures of BENCHMARKS.md. */
export type BenchSize = 'smoke' | 'medium' | 'full';

export const BENCH_SIZES: readonly BenchSize[] = ['smoke', 'medium', 'full'];

export interface BenchResult {
  /** Stable key that targets and charts look figures up by, e.g. `cs-leave.sqlite.saturation`. */
  readonly id?: string;
  /** Group the figure belongs to, e.g. "canonical-json". */
  readonly group: string;
  /** What was measured, e.g. "encode small event (ours)". */
  readonly name: string;
  readonly opsPerSecond?: number;
  /** Operations measured (leaves, requests). */
  readonly count?: number;
  /** Wall-clock seconds of the measured run. */
  readonly seconds?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  /** Resident memory (VmRSS) and its peak (VmHWM). */
  readonly rssMiB?: number;
  readonly peakRssMiB?: number;
  /** Joined members of the room(s) measured. */
  readonly members?: number;
  /** Operations that failed (an error answer or no answer). */
  readonly failures?: number;
  /** Free-form detail shown beside the figure (sizes, backend, notes). */
  readonly detail?: string;
}

export interface ScenarioContext {
  readonly size: BenchSize;
  /** A progress line for long runs (stderr; not part of the report). */
  progress(line: string): void;
}

export interface Scenario {
  /** The name `--only` / `--skip` take. */
  readonly id: string;
  /** The scenario numbers of the benchmark issue it measures ([] for library figures). */
  readonly issueScenarios: readonly number[];
  readonly title: string;
  run(context: ScenarioContext): BenchResult[] | Promise<BenchResult[]>;
}

export interface MeasureOptions {
  /** Time spent measuring, after warm-up. */
  readonly durationMs?: number;
  /** Time spent warming up (JIT, caches). */
  readonly warmupMs?: number;
}

let currentSize: BenchSize = process.env['BENCH_SMOKE'] === '1' ? 'smoke' : 'full';

/** Set once by main.ts before any scenario runs. */
export function setBenchSize(size: BenchSize): void {
  currentSize = size;
}

export function benchSize(): BenchSize {
  return currentSize;
}

/** Picks the value for the current size. */
export function bySize<T>(values: Readonly<Record<BenchSize, T>>, size: BenchSize = currentSize): T {
  return values[size];
}

export function measure(group: string, name: string, fn: () => unknown, options: MeasureOptions = {}, detail?: string): BenchResult {
  const durationMs = bySize({ smoke: 20, medium: 500, full: options.durationMs ?? 1000 });
  const warmupMs = bySize({ smoke: 5, medium: 100, full: options.warmupMs ?? 200 });
  runFor(fn, warmupMs);
  const { ops, elapsedMs } = runFor(fn, durationMs);
  const result: BenchResult = { group, name, opsPerSecond: (ops * 1000) / elapsedMs, ...(detail === undefined ? {} : { detail }) };
  return result;
}

function runFor(fn: () => unknown, budgetMs: number): { ops: number; elapsedMs: number } {
  const start = performance.now();
  let ops = 0;
  let now = start;
  // Check the clock every batch so timing overhead stays small.
  let batch = 1;
  while (now - start < budgetMs) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    now = performance.now();
    if (now - start < budgetMs / 20) batch *= 2;
  }
  return { ops, elapsedMs: now - start };
}
