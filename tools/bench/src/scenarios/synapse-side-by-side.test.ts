// The latency summary of the side-by-side scenario: nearest-rank percentiles.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { percentile } from './synapse-side-by-side.js';

describe('percentile', () => {
  const samples = Array.from({ length: 100 }, (_, i) => i + 1);

  it('takes the nearest rank of sorted samples', () => {
    assert.equal(percentile(samples, 0.5), 50);
    assert.equal(percentile(samples, 0.99), 99);
    assert.equal(percentile(samples, 1), 100);
    assert.equal(percentile([7], 0.99), 7);
  });

  it('has no value for no samples', () => {
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });
});
