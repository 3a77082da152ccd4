import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedCache } from './bounded-cache.js';

describe('BoundedCache', () => {
  it('never holds more entries than its capacity', () => {
    const cache = new BoundedCache<number, number>(3);
    for (let i = 0; i < 10; i++) cache.set(i, i);
    assert.equal(cache.size, 3);
    assert.equal(cache.get(9), 9);
    assert.equal(cache.get(0), undefined);
  });

  it('evicts the least recently used entry, counting reads as use', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    assert.equal(cache.get('a'), 1);
    cache.set('c', 3);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 1);
    assert.equal(cache.get('c'), 3);
  });

  it('creates a missing value once and then reuses it', () => {
    const cache = new BoundedCache<string, object>(2);
    let created = 0;
    const make = (): object => ({ n: ++created });
    const first = cache.getOrCreate('k', make);
    assert.equal(cache.getOrCreate('k', make), first);
    assert.equal(created, 1);
  });

  it('refuses a capacity below one', () => {
    assert.throws(() => new BoundedCache(0), RangeError);
  });
});
