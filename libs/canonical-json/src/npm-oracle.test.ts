// The `canonicaljson` npm package (1.0.1) as a second oracle. It implements
// a different canonical JSON (gibson042's canonicaljson-spec), so it agrees
// with Matrix only on part of the value space. Where it is wrong for Matrix
// (or simply breaks), the tests below pin the difference down; the
// differential test is limited to the part where it is right:
//   - C0 controls without a short escape: it writes upper-case hex (\u000B),
//     Matrix requires lower case (\u000b);
//   - objects with a null prototype, or with a "constructor" key holding
//     null: it throws a TypeError (it reads value.constructor.name);
//   - floats: written in exponent form (1.5E0), NaN as NAN; Matrix refuses them;
//   - undefined becomes null, lone surrogates are escaped (\uD800), toJSON
//     is called (a Date becomes a string); Matrix has no form for these.
// Key order (by code point) and integers within ±(2^53-1) agree.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { encodeCanonicalJson } from './index.js';
import { generatedJsonValue } from './test-support/arbitraries.js';
import { V2_VALUES } from './test-support/vectors.js';

const npm = createRequire(import.meta.url)('canonicaljson') as { stringify(value: unknown): string };

const CONTROLS_WITH_HEX_LETTERS = /[\u0000-\u0007\u000b\u000e-\u001f]/;

/** True where the package is right about Matrix canonical JSON (see above). */
function inAgreementDomain(value: unknown): boolean {
  if (typeof value === 'string') return !CONTROLS_WITH_HEX_LETTERS.test(value);
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every(inAgreementDomain);
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.entries(value).every(([key, member]) => key !== 'constructor' && inAgreementDomain(key) && inAgreementDomain(member));
}

describe('canonicaljson npm package as oracle', () => {
  it('agrees on generated values where it follows the Matrix rules', () => {
    const values = fc.sample(generatedJsonValue, { numRuns: 8000, seed: 424242 }).filter(inAgreementDomain);
    assert.ok(values.length > 2500, `only ${values.length} values in the agreement domain`);
    for (const value of values) assert.equal(encodeCanonicalJson(value), npm.stringify(value));
  });

  it('agrees on the V2 vectors in its domain, including code-point key order', () => {
    const inDomain = V2_VALUES.filter((vector) => inAgreementDomain(vector.value));
    assert.ok(inDomain.length >= 7);
    for (const vector of inDomain) assert.equal(npm.stringify(vector.value), vector.canonical);
    assert.equal(npm.stringify({ '😀': 1, 'ﬁ': 2 }), '{"ﬁ":2,"😀":1}');
  });

  describe('documented differences from Matrix canonical JSON', () => {
    it('writes upper-case hex escapes', () => {
      assert.equal(npm.stringify('\u000b\u001f'), '"\\u000B\\u001F"');
      assert.equal(encodeCanonicalJson('\u000b\u001f'), '"\\u000b\\u001f"');
    });

    it('throws on null-prototype objects and on a "constructor": null member', () => {
      assert.throws(() => npm.stringify(Object.create(null)), TypeError);
      assert.throws(() => npm.stringify({ constructor: null }), TypeError);
      assert.equal(encodeCanonicalJson(Object.create(null)), '{}');
      assert.equal(encodeCanonicalJson({ constructor: null }), '{"constructor":null}');
    });

    it('accepts what Matrix refuses: floats, NaN, undefined, lone surrogates, Dates', () => {
      assert.equal(npm.stringify(1.5), '1.5E0');
      assert.equal(npm.stringify(NaN), 'NAN');
      assert.equal(npm.stringify({ a: undefined }), '{"a":null}');
      assert.equal(npm.stringify('\ud800'), '"\\uD800"');
      assert.equal(npm.stringify(new Date(0)), '"1970-01-01T00:00:00.000Z"');
      for (const value of [1.5, NaN, { a: undefined }, '\ud800', new Date(0)]) assert.throws(() => encodeCanonicalJson(value));
    });
  });
});
