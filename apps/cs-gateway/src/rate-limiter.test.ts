import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, retryAfterSeconds } from './rate-limiter.js';

function clockAt(start = 0): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('RateLimiter', () => {
  it('allows a burst, then refuses with the time until the next token', () => {
    const clock = clockAt();
    const limiter = new RateLimiter({ defaults: { perSecond: 0.5, burst: 3 }, clock: clock.now });
    for (let i = 0; i < 3; i += 1) assert.deepEqual(limiter.take('@a:hs'), { allowed: true });
    assert.deepEqual(limiter.take('@a:hs'), { allowed: false, retryAfterMs: 2000 });
    clock.advance(1500);
    assert.deepEqual(limiter.take('@a:hs'), { allowed: false, retryAfterMs: 500 });
    clock.advance(500);
    assert.deepEqual(limiter.take('@a:hs'), { allowed: true });
  });

  it('keeps one bucket per key', () => {
    const limiter = new RateLimiter({ defaults: { perSecond: 1, burst: 1 }, clock: () => 0 });
    assert.equal(limiter.take('@a:hs').allowed, true);
    assert.equal(limiter.take('@a:hs').allowed, false);
    assert.equal(limiter.take('@b:hs').allowed, true);
  });

  it('never refills above the burst', () => {
    const clock = clockAt();
    const limiter = new RateLimiter({ defaults: { perSecond: 10, burst: 2 }, clock: clock.now });
    limiter.take('k');
    clock.advance(60_000);
    assert.equal(limiter.take('k').allowed, true);
    assert.equal(limiter.take('k').allowed, true);
    assert.equal(limiter.take('k').allowed, false);
  });

  it('gives overridden keys their own settings and exempt keys no limit', () => {
    const limiter = new RateLimiter({
      defaults: { perSecond: 1, burst: 100 },
      overrides: { '@slow:hs': { perSecond: 0.001, burst: 1 } },
      exempt: ['@bot:hs', '@slow:hs2'],
      clock: () => 0,
    });
    assert.equal(limiter.take('@slow:hs').allowed, true);
    assert.deepEqual(limiter.take('@slow:hs'), { allowed: false, retryAfterMs: 1_000_000 });
    for (let i = 0; i < 1000; i += 1) assert.equal(limiter.take('@bot:hs').allowed, true);
    assert.equal(limiter.size, 1);
  });

  it('bounds memory, dropping full buckets before busy ones', () => {
    const clock = clockAt();
    const limiter = new RateLimiter({ defaults: { perSecond: 1, burst: 2 }, clock: clock.now, maxKeys: 3 });
    limiter.take('busy');
    limiter.take('busy'); // least recently used, and empty
    limiter.take('idle');
    clock.advance(1000); // idle is full again, busy holds one token
    limiter.take('x');
    limiter.take('y');
    assert.equal(limiter.size, 3);
    assert.equal(limiter.take('busy').allowed, true);
    assert.equal(limiter.take('busy').allowed, false, 'busy kept its state: a fresh bucket would have allowed two');
  });
});

describe('retryAfterSeconds', () => {
  it('rounds up to whole seconds, never below one', () => {
    assert.equal(retryAfterSeconds(1), 1);
    assert.equal(retryAfterSeconds(1000), 1);
    assert.equal(retryAfterSeconds(1001), 2);
    assert.equal(retryAfterSeconds(0), 1);
  });
});
