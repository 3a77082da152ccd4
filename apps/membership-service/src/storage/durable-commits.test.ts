import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DurableCommits } from './durable-commits.js';

/** A flush the test finishes by hand. */
function manualFlushes(): { flush: () => Promise<void>; started: number; finish(err?: Error): void } {
  const pending: { resolve: () => void; reject: (err: Error) => void }[] = [];
  const control = {
    started: 0,
    flush: () =>
      new Promise<void>((resolve, reject) => {
        control.started += 1;
        pending.push({ resolve, reject });
      }),
    finish(err?: Error) {
      const next = pending.shift();
      if (next === undefined) throw new Error('no flush is running');
      if (err) next.reject(err);
      else next.resolve();
    },
  };
  return control;
}

const settled = async (p: Promise<unknown>): Promise<string> => {
  let state = 'pending';
  p.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  // Lets the promise callbacks run.
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return state;
};

describe('DurableCommits', () => {
  it('reports a commit durable only after a flush that started after it', async () => {
    const flushes = manualFlushes();
    const commits = new DurableCommits(flushes.flush);
    const first = commits.committed();
    const waitFirst = commits.whenDurable(first);
    assert.equal(flushes.started, 1);
    const second = commits.committed(); // made while the first flush runs
    const waitSecond = commits.whenDurable(second);
    assert.equal(flushes.started, 1, 'one flush at a time');
    flushes.finish();
    assert.equal(await settled(waitFirst), 'resolved');
    assert.equal(await settled(waitSecond), 'pending', 'the running flush may have missed the second commit');
    assert.equal(flushes.started, 2, 'a new flush starts for the commits made meanwhile');
    flushes.finish();
    assert.equal(await settled(waitSecond), 'resolved');
  });

  it('one flush serves every commit made before it started', async () => {
    const flushes = manualFlushes();
    const commits = new DurableCommits(flushes.flush);
    const numbers = [commits.committed(), commits.committed(), commits.committed()];
    const waits = numbers.map((n) => commits.whenDurable(n));
    flushes.finish();
    assert.deepEqual(await Promise.all(waits.map(settled)), ['resolved', 'resolved', 'resolved']);
    assert.equal(flushes.started, 1);
    assert.equal(await settled(commits.whenDurable(2)), 'resolved', 'known durable: no new flush');
    assert.equal(await settled(commits.whenDurable(0)), 'resolved');
    assert.equal(flushes.started, 1);
  });

  it('after a failed flush every wait fails, also later ones', async () => {
    const flushes = manualFlushes();
    const commits = new DurableCommits(flushes.flush);
    const wait = commits.whenDurable(commits.committed());
    flushes.finish(new Error('EIO'));
    await assert.rejects(wait, (err: Error) => /restart/.test(err.message) && (err.cause as Error).message === 'EIO');
    await assert.rejects(commits.whenDurable(commits.committed()), /restart/);
    assert.equal(flushes.started, 1, 'no flush is tried after a failure');
  });
});
