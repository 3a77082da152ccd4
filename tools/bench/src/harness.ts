// Micro-benchmark harness: runs a function repeatedly for a fixed wall-clock
// budget after a warm-up and reports operations per second. Results are
// written to BENCHMARKS.md by main.ts; nothing here asserts on speed.

export interface BenchResult {
  /** Group the figure belongs to, e.g. "canonical-json". */
  readonly group: string;
  /** What was measured, e.g. "encode small event (ours)". */
  readonly name: string;
  readonly opsPerSecond: number;
  /** Free-form detail shown beside the figure (sizes, backend, notes). */
  readonly detail?: string;
}

export interface MeasureOptions {
  /** Time spent measuring, after warm-up. */
  readonly durationMs?: number;
  /** Time spent warming up (JIT, caches). */
  readonly warmupMs?: number;
}

/** Smoke mode (CI) keeps every scenario but shrinks budgets to a few milliseconds. */
export const SMOKE = process.env['BENCH_SMOKE'] === '1';

export function measure(group: string, name: string, fn: () => unknown, options: MeasureOptions = {}, detail?: string): BenchResult {
  const durationMs = SMOKE ? 20 : (options.durationMs ?? 1500);
  const warmupMs = SMOKE ? 5 : (options.warmupMs ?? 300);
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
