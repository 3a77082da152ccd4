// The encoder relies on JSON.stringify for string escaping. This checks the
// claim that, for well-formed strings, JSON.stringify writes exactly the
// canonical form, against an independent reading of the spec's grammar:
//   char = unescaped / escape ( %x22 / %x5C / %x62 / %x66 / %x6E / %x72 / %x74 / %x75 4HEXDIG )
//   unescaped = %x20-21 / %x23-5B / %x5D-10FFFF
// with the canonical choice of the shortest escape and lower-case hex.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeCanonicalJson } from './index.js';
import { trickyString } from './test-support/arbitraries.js';

const SHORT_ESCAPES: Readonly<Record<number, string>> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };

/** The canonical spelling of one code point inside a JSON string, written from the spec rules. */
function canonicalCodePoint(codePoint: number): string {
  const short = SHORT_ESCAPES[codePoint];
  if (short !== undefined) return short;
  if (codePoint < 0x20) return `\\u00${codePoint.toString(16).padStart(2, '0')}`;
  return String.fromCodePoint(codePoint);
}

function canonicalString(value: string): string {
  let out = '"';
  for (const char of value) out += canonicalCodePoint(char.codePointAt(0) as number);
  return out + '"';
}

describe('JSON.stringify string escaping is canonical for well-formed strings', () => {
  it('for every Unicode scalar value, U+0000 to U+10FFFF except surrogates', () => {
    const mismatches: string[] = [];
    for (let codePoint = 0; codePoint <= 0x10ffff; codePoint++) {
      if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
      const char = String.fromCodePoint(codePoint);
      const expected = `"${canonicalCodePoint(codePoint)}"`;
      if (JSON.stringify(char) !== expected || encodeCanonicalJson(`a${char}`) !== `"a${expected.slice(1)}`) {
        mismatches.push(codePoint.toString(16));
      }
    }
    assert.deepEqual(mismatches, []);
  });

  it('for generated strings mixing escapes, controls, astral and high-BMP characters', () => {
    fc.assert(
      fc.property(trickyString, (value) => {
        assert.equal(JSON.stringify(value), canonicalString(value));
        assert.equal(encodeCanonicalJson(value), canonicalString(value));
      }),
      { seed: 20261123, numRuns: 5000 },
    );
  });

  it('but not for lone surrogates, which JSON.stringify escapes and the encoder must refuse', () => {
    assert.equal(JSON.stringify('\ud800'), '"\\ud800"');
    assert.throws(() => encodeCanonicalJson('\ud800'));
  });
});
