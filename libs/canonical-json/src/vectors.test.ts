// The canonical JSON test vectors of reference/MATRIX_FACTS.md (V1–V4).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JsonParseError, encodeCanonicalJson, parseJson } from './index.js';
import { V1_SPEC_EXAMPLES, V2_VALUES, V3_NORMALISATION, V4_STRICT_ACCEPT, V4_STRICT_REJECT } from './test-support/vectors.js';

describe('V1: the spec examples', () => {
  for (const [i, vector] of V1_SPEC_EXAMPLES.entries()) {
    it(`example ${i + 1}: ${JSON.stringify(vector.canonical)}`, () => {
      assert.equal(encodeCanonicalJson(parseJson(vector.input)), vector.canonical);
    });
  }

  it('the -0 / 1e10 example parses only without strict numbers', () => {
    const example = V1_SPEC_EXAMPLES.find((vector) => vector.input.includes('1e10'));
    assert.ok(example);
    assert.throws(() => parseJson(example.input, { strictNumbers: true }), JsonParseError);
  });
});

describe('V2: values', () => {
  for (const vector of V2_VALUES) {
    it(`${vector.src}: ${vector.canonical}`, () => {
      assert.equal(encodeCanonicalJson(vector.value), vector.canonical);
    });
  }
});

describe('V3: escape normalisation and sorting of parsed text', () => {
  for (const vector of V3_NORMALISATION) {
    it(vector.input, () => {
      assert.equal(encodeCanonicalJson(parseJson(vector.input)), vector.canonical);
    });
  }
});

describe('V4: strict numbers (room versions 6+)', () => {
  for (const text of V4_STRICT_REJECT) {
    it(`rejects ${text}`, () => {
      assert.throws(
        () => parseJson(text, { strictNumbers: true }),
        (error: unknown) => error instanceof JsonParseError && (error.code === 'number-not-allowed' || error.code === 'number-out-of-range'),
      );
      // Standard JSON nonetheless, so accepted without strict numbers.
      assert.doesNotThrow(() => parseJson(text));
    });
  }
  for (const text of V4_STRICT_ACCEPT) {
    it(`accepts ${text}`, () => {
      assert.deepEqual(parseJson(text, { strictNumbers: true }), JSON.parse(text));
    });
  }
});
