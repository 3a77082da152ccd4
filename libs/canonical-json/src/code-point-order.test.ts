import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareByCodePoint } from './index.js';
import { sortByCodePoint } from './code-point-order.js';
import { trickyKey, trickyString } from './test-support/arbitraries.js';

/** Reference order: comparing UTF-8 bytes is comparing code points. */
function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const sign = (n: number): number => Math.sign(n);

describe('compareByCodePoint', () => {
  it('orders U+FB01 before U+1F600, where UTF-16 order says the opposite', () => {
    assert.ok(compareByCodePoint('ﬁ', '😀') < 0);
    assert.ok(compareByCodePoint('😀', 'ﬁ') > 0);
    assert.ok('😀' < 'ﬁ', 'premise: JavaScript compares UTF-16 code units');
  });

  it('orders a prefix first and equal strings as equal', () => {
    assert.ok(compareByCodePoint('a', 'ab') < 0);
    assert.ok(compareByCodePoint('', 'a') < 0);
    assert.equal(compareByCodePoint('a😀', 'a😀'), 0);
  });

  it('agrees with UTF-8 byte order on generated strings', () => {
    fc.assert(
      fc.property(fc.oneof(trickyKey, trickyString), fc.oneof(trickyKey, trickyString), (a, b) => {
        assert.equal(sign(compareByCodePoint(a, b)), sign(byUtf8(a, b)));
      }),
      { seed: 7, numRuns: 20000 },
    );
  });

  it('agrees at the boundaries of the surrogate and high-BMP ranges', () => {
    const edges = ['\ud7ff', '\ue000', '\uf8ff', '\uffff', '\u{10000}', '\u{1f600}', '\u{10ffff}', 'a', '\u0000'];
    for (const a of edges) for (const b of edges) assert.equal(sign(compareByCodePoint(a, b)), sign(byUtf8(a, b)), `${a} vs ${b}`);
  });
});

describe('sortByCodePoint', () => {
  it('sorts like UTF-8 bytes, with and without astral keys', () => {
    fc.assert(
      fc.property(fc.array(trickyKey, { maxLength: 20 }), (keys) => {
        assert.deepEqual(sortByCodePoint([...keys]), [...keys].sort(byUtf8));
      }),
      { seed: 11, numRuns: 5000 },
    );
  });
});
