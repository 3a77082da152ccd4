import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rateOf, runClosedLoop, runOpenLoop } from './load.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('closed-loop load', () => {
  it('runs every task once with at most `concurrency` in flight', async () => {
    const seen: number[] = [];
    let inFlight = 0;
    let most = 0;
    const run = await runClosedLoop({
      count: 20,
      concurrency: 3,
      maxMs: 60_000,
      task: async (i) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        seen.push(i);
        await sleep(1);
        inFlight -= 1;
      },
    });
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
    assert.equal(most, 3);
    assert.equal(run.completed, 20);
    assert.equal(run.stoppedBy, 'count');
    assert.equal(run.latenciesMs.length, 20);
    assert.ok(run.latenciesMs.every((v, i, a) => i === 0 || (a[i - 1] as number) <= v), 'latencies ascend');
    assert.ok(rateOf(run) > 0);
  });

  it('stops starting tasks at the time bound and says so', async () => {
    const run = await runClosedLoop({ count: 1_000_000, concurrency: 2, maxMs: 30, task: () => sleep(5) });
    assert.equal(run.stoppedBy, 'time');
    assert.ok(run.completed > 0 && run.completed < 1_000_000);
  });

  it('counts failures apart and keeps their messages', async () => {
    const run = await runClosedLoop({
      count: 10,
      concurrency: 2,
      maxMs: 60_000,
      task: async (i) => {
        if (i % 5 === 0) throw new Error(`task ${i} failed`);
      },
    });
    assert.equal(run.completed, 8);
    assert.equal(run.failed, 2);
    assert.deepEqual([...run.errors].sort(), ['task 0 failed', 'task 5 failed']);
  });
});

describe('open-loop load', () => {
  it('starts tasks on schedule and measures latency from the scheduled start', async () => {
    const starts: number[] = [];
    const t0 = performance.now();
    const run = await runOpenLoop({
      count: 5,
      ratePerSecond: 100,
      maxInFlight: 1,
      maxMs: 60_000,
      task: async () => {
        starts.push(performance.now() - t0);
        await sleep(30);
      },
    });
    assert.equal(run.completed, 5);
    // One in flight, 30 ms each: task 4 (slot 40 ms) waits for the four before
    // it, until about 120 ms, and its latency counts that wait (the timer
    // bounds leave a millisecond of slack each).
    assert.ok((starts[4] as number) >= 4 * 29, `task 4 started at ${starts[4]}`);
    assert.ok((run.latenciesMs[4] as number) >= 5 * 29 - 40, `largest latency ${run.latenciesMs[4]}`);
  });

  it('ends at the time bound', async () => {
    const run = await runOpenLoop({ count: 1_000_000, ratePerSecond: 1000, maxInFlight: 100, maxMs: 50, task: async () => undefined });
    assert.equal(run.stoppedBy, 'time');
    assert.ok(run.completed <= 51, `${run.completed} tasks`);
  });

  it('refuses a rate that is not positive', async () => {
    await assert.rejects(runOpenLoop({ count: 1, ratePerSecond: 0, maxInFlight: 1, maxMs: 10, task: async () => undefined }), RangeError);
  });
});
