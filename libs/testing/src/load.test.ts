import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, runWithConcurrency, throughputOf } from './load.js';

describe('runWithConcurrency', () => {
  it('runs every task once with no more than the limit in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const done: number[] = [];
    const tasks = Array.from({ length: 20 }, (_, i) => async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight -= 1;
      done.push(i);
    });
    const result = await runWithConcurrency(tasks, 4);
    assert.equal(peak, 4);
    assert.deepEqual([...done].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
    assert.equal(result.latenciesMs.length, 20);
    assert.deepEqual(result.latenciesMs, [...result.latenciesMs].sort((a, b) => a - b));
    assert.ok(throughputOf(result) > 0);
  });

  it('fails when a task fails', async () => {
    await assert.rejects(runWithConcurrency([async () => Promise.reject(new Error('boom'))], 2), /boom/);
  });
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(percentile(sorted, 0.5), 5);
    assert.equal(percentile(sorted, 0.99), 10);
    assert.equal(percentile(sorted, 0), 1);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });
});
