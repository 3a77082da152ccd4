import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DestinationBackoff, backoffDelayMs } from './destination-backoff.js';

describe('destination backoff', () => {
  it('doubles the delay with each consecutive failure up to the bound', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 60].map((n) => backoffDelayMs(n, 1000, 5000)), [0, 1000, 2000, 4000, 5000, 5000]);
    assert.equal(backoffDelayMs(5000, 1000, 3_600_000), 3_600_000, 'no overflow after many failures');
  });

  it('holds a failing destination back until its retry time, and forgets it after an answer', () => {
    let now = 0;
    const backoff = new DestinationBackoff({ initialMs: 100, maxMs: 1000, clock: () => now });
    assert.equal(backoff.retryAt('a'), undefined);
    backoff.recordFailure('a');
    assert.equal(backoff.retryAt('a'), 100);
    backoff.recordFailure('a');
    assert.equal(backoff.retryAt('a'), 200);
    assert.equal(backoff.retryAt('b'), undefined, 'other destinations are not affected');
    now = 200;
    assert.equal(backoff.retryAt('a'), undefined);
    backoff.recordSuccess('a');
    backoff.recordFailure('a');
    assert.equal(backoff.retryAt('a'), 300, 'the count starts again after a success');
  });
});
