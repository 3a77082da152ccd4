// Tells when commits are on disk, for an engine that commits without
// waiting for the disk and flushes afterwards (SQLite engine, see there).
// Commits are numbered in the order they happen; a flush started after
// commit n covers every commit up to n. One flush runs at a time, and the
// next one covers every commit made while it ran, so under load one flush
// serves many commits. After a failed flush nothing can be trusted to be on
// disk (the kernel may have dropped the dirty pages), so every later wait
// fails too: the process must restart and let SQLite recover from the file.

export class DurableCommits {
  private committedCount = 0;
  private durableCount = 0;
  private flushing = false;
  private failure: Error | undefined;
  private readonly waiters: { upTo: number; resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(private readonly flush: () => Promise<void>) {}

  /** Records a commit; returns its number. */
  committed(): number {
    this.committedCount += 1;
    return this.committedCount;
  }

  /** The number of the latest commit (0 before the first). */
  get latest(): number {
    return this.committedCount;
  }

  /** Resolves once commits up to `upTo` are on disk; rejects when a flush failed. */
  whenDurable(upTo: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (upTo <= this.durableCount) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ upTo, resolve, reject });
      this.startFlush();
    });
  }

  /** Rejects every present and future wait (e.g. on close). */
  fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
  }

  private startFlush(): void {
    if (this.flushing || this.failure) return;
    this.flushing = true;
    const target = this.committedCount;
    let flushed: Promise<void>;
    try {
      flushed = this.flush();
    } catch (err) {
      flushed = Promise.reject(err); // a flush that throws instead of rejecting failed too
    }
    flushed.then(
      () => {
        this.flushing = false;
        this.durableCount = Math.max(this.durableCount, target);
        const still: typeof this.waiters = [];
        for (const w of this.waiters.splice(0)) {
          if (w.upTo <= this.durableCount) w.resolve();
          else still.push(w);
        }
        this.waiters.push(...still);
        if (this.waiters.length > 0) this.startFlush();
      },
      (err: unknown) => {
        this.flushing = false;
        this.fail(new Error('flushing committed transactions to disk failed; restart the service', { cause: err }));
      },
    );
  }
}
