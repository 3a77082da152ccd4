// Load generation for benchmarks: run tasks with a bounded number in flight,
// timing each, and summarise latencies.

export interface LoadResult {
  /** Wall-clock time from the first task's start to the last one's end. */
  readonly elapsedMs: number;
  /** Each task's duration, sorted ascending. */
  readonly latenciesMs: readonly number[];
}

/** Runs `tasks` with at most `limit` in flight. A task that throws fails the whole run. */
export async function runWithConcurrency(tasks: readonly (() => Promise<unknown>)[], limit: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const started = performance.now();
  let next = 0;
  const workers = Array.from({ length: Math.min(Math.max(limit, 1), tasks.length) }, async () => {
    while (next < tasks.length) {
      const task = tasks[next];
      next += 1;
      if (task === undefined) continue;
      const taskStarted = performance.now();
      await task();
      latencies.push(performance.now() - taskStarted);
    }
  });
  await Promise.all(workers);
  return { elapsedMs: performance.now() - started, latenciesMs: latencies.sort((a, b) => a - b) };
}

/** The value at quantile `q` (0..1) of sorted samples, nearest rank; NaN when empty. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Completed tasks per second. */
export function throughputOf(result: LoadResult): number {
  return (result.latenciesMs.length * 1000) / result.elapsedMs;
}
