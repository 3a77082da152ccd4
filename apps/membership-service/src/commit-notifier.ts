// Wakes output streams when a transaction that stored events commits, so a
// watcher sees new events at once instead of at its next poll.

export class CommitNotifier {
  private waiters: (() => void)[] = [];
  private generation = 0;

  /** A token for "changes after now"; pass it to `wait` after reading. */
  next(): number {
    return this.generation;
  }

  notify(): void {
    this.generation += 1;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Resolves when a commit happened after `token` was taken, after
   * `timeoutMs`, or when `signal` aborts, whichever is first.
   */
  async wait(token: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.generation !== token || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }
}
