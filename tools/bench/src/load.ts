// Load generation for the end-to-end scenarios, bounded in count and time:
// a closed loop (a fixed number in flight, as fast as the server answers: the
// saturation figure) and an open loop (requests started on a fixed schedule,
// whatever the server does: the latency figure at a chosen rate). Latencies of
// the open loop count from the scheduled start, so a server that stalls is
// charged for the requests queued behind the stall.

export interface LoadOptions {
  /** Tasks to run at most; task `i` is called with i = 0, 1, ... */
  readonly count: number;
  readonly task: (index: number) => Promise<unknown>;
  /** No task starts after this long (ms); the run ends when those started have ended. */
  readonly maxMs: number;
  /** Called about every `progressEveryMs` (default 2000) with the tasks ended so far. */
  readonly onProgress?: (ended: number, elapsedMs: number) => void;
  readonly progressEveryMs?: number;
}

export interface ClosedLoopOptions extends LoadOptions {
  readonly concurrency: number;
}

export interface OpenLoopOptions extends LoadOptions {
  /** Starts per second. */
  readonly ratePerSecond: number;
  /** Started but unfinished tasks at most; a later start waits (its latency still counts from its slot). */
  readonly maxInFlight: number;
}

export interface LoadRun {
  /** Tasks that resolved. */
  readonly completed: number;
  /** Tasks that threw; their latencies are not in `latenciesMs`. */
  readonly failed: number;
  /** The first few failures, for the report. */
  readonly errors: readonly string[];
  /** From the first start to the last end. */
  readonly elapsedMs: number;
  /** Of completed tasks, ascending. */
  readonly latenciesMs: readonly number[];
  /** `count` when every task ran, `time` when `maxMs` stopped the run first. */
  readonly stoppedBy: 'count' | 'time';
}

const MAX_ERRORS_KEPT = 5;

class Recorder {
  readonly latencies: number[] = [];
  readonly errors: string[] = [];
  failed = 0;
  private lastProgress: number;

  constructor(
    private readonly started: number,
    private readonly options: LoadOptions,
  ) {
    this.lastProgress = started;
  }

  async run(index: number, since: number): Promise<void> {
    try {
      await this.options.task(index);
      this.latencies.push(performance.now() - since);
    } catch (err) {
      this.failed += 1;
      if (this.errors.length < MAX_ERRORS_KEPT) this.errors.push(err instanceof Error ? err.message : String(err));
    }
    const now = performance.now();
    if (this.options.onProgress !== undefined && now - this.lastProgress >= (this.options.progressEveryMs ?? 2_000)) {
      this.lastProgress = now;
      this.options.onProgress(this.latencies.length + this.failed, now - this.started);
    }
  }

  result(started: number, startedTasks: number): LoadRun {
    return {
      completed: this.latencies.length,
      failed: this.failed,
      errors: this.errors,
      elapsedMs: performance.now() - started,
      latenciesMs: this.latencies.sort((a, b) => a - b),
      stoppedBy: startedTasks >= this.options.count ? 'count' : 'time',
    };
  }
}

/** Runs up to `count` tasks with `concurrency` in flight. */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<LoadRun> {
  const started = performance.now();
  const recorder = new Recorder(started, options);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.count && performance.now() - started < options.maxMs) {
      const index = next;
      next += 1;
      await recorder.run(index, performance.now());
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, options.count)) }, worker));
  return recorder.result(started, next);
}

/** Starts task i at `i / ratePerSecond` seconds, up to `count` tasks or `maxMs`. */
export async function runOpenLoop(options: OpenLoopOptions): Promise<LoadRun> {
  if (!(options.ratePerSecond > 0)) throw new RangeError(`rate must be positive, got ${options.ratePerSecond}`);
  const started = performance.now();
  const recorder = new Recorder(started, options);
  const intervalMs = 1000 / options.ratePerSecond;
  const running = new Set<Promise<void>>();
  let index = 0;
  for (; index < options.count; index++) {
    const slot = started + index * intervalMs;
    if (slot - started >= options.maxMs) break;
    const wait = slot - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    // Bounded in flight: wait for a task to end, without moving the slot.
    while (running.size >= options.maxInFlight) await Promise.race(running);
    const task: Promise<void> = recorder.run(index, slot).finally(() => running.delete(task));
    running.add(task);
  }
  await Promise.all(running);
  return recorder.result(started, index);
}

/** Completed tasks per second of the run. */
export function rateOf(run: LoadRun): number {
  return run.elapsedMs > 0 ? (run.completed * 1000) / run.elapsedMs : 0;
}
