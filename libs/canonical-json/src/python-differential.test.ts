// Differential test against Debian's python3-canonicaljson 1.6.2, an
// independent implementation (simplejson with sort_keys, ensure_ascii=False,
// compact separators): byte-identical output on the spec vectors and on
// 10,000 generated values, all sent to one Python process.
//
// Integers only: python-canonicaljson accepts floats (and formats 1e10 as
// 10000000000.0, against the spec), so float rejection is tested in
// encode.test.ts, not here.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CanonicalJsonError, MAX_NESTING_DEPTH, encodeCanonicalJson, encodeCanonicalJsonBytes, parseJson } from './index.js';
import { generatedJsonValue } from './test-support/arbitraries.js';
import { runPythonCanonicalJson } from './test-support/python-oracle.js';
import type { OracleAnswer, OracleInput } from './test-support/python-oracle.js';
import { V1_FLOAT_EXAMPLE_INDEX, V1_SPEC_EXAMPLES, V2_VALUES, V3_NORMALISATION } from './test-support/vectors.js';

const GENERATED = 10_000;
const SEED = 0x6d61_7472; // fixed: the same 10,000 values on every run

const decoder = new TextDecoder('utf-8', { fatal: true });

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { [`k${i}`]: value };
  return value;
}

const generated = fc.sample(generatedJsonValue, { numRuns: GENERATED, seed: SEED });
const textVectors = [...V1_SPEC_EXAMPLES, ...V3_NORMALISATION];
const fixedValues: unknown[] = [...V2_VALUES.map((vector) => vector.value), nested(MAX_NESTING_DEPTH)];
const loneSurrogates = ['\ud800', 'a\udc00b', '\ud83d', { '\udfff': 1 }, ['ok', { k: '\udbff' }]];

// One Python process for everything, in a known order.
const inputs: OracleInput[] = [
  ...textVectors.map((vector) => ({ text: vector.input })),
  ...fixedValues.map((value) => ({ value })),
  ...loneSurrogates.map((value) => ({ value })),
  ...generated.map((value) => ({ value })),
];
let answers: OracleAnswer[] | undefined;
function answersFrom(start: number, count: number): OracleAnswer[] {
  answers ??= runPythonCanonicalJson(inputs, 120_000);
  return answers.slice(start, start + count);
}

function pythonText(answer: OracleAnswer | undefined): string {
  assert.ok(answer !== undefined && answer.ok, `python-canonicaljson failed: ${answer === undefined || answer.ok ? 'no answer' : answer.error}`);
  return decoder.decode(answer.bytes);
}

describe('python-canonicaljson differential', () => {
  it('agrees with the spec vectors V1 and V3 parsed by Python itself, except the documented 1e10 case', () => {
    const python = answersFrom(0, textVectors.length);
    for (const [i, vector] of textVectors.entries()) {
      const ours = encodeCanonicalJson(parseJson(vector.input));
      assert.equal(ours, vector.canonical, vector.input);
      if (i === V1_FLOAT_EXAMPLE_INDEX) {
        // Python parses 1e10 as a float; the spec (and we) print an integer.
        assert.equal(pythonText(python[i]), '{"a":0,"b":10000000000.0}');
      } else {
        assert.equal(pythonText(python[i]), ours, vector.input);
      }
    }
  });

  it('agrees on the V2 values and on the deepest nesting we allow', () => {
    const python = answersFrom(textVectors.length, fixedValues.length);
    for (const [i, value] of fixedValues.entries()) {
      assert.equal(pythonText(python[i]), encodeCanonicalJson(value));
    }
  });

  it('refuses lone surrogates, as Python does (it cannot encode them as UTF-8)', () => {
    const python = answersFrom(textVectors.length + fixedValues.length, loneSurrogates.length);
    for (const [i, value] of loneSurrogates.entries()) {
      assert.deepEqual(python[i], { ok: false, error: 'UnicodeEncodeError' });
      assert.throws(() => encodeCanonicalJson(value), CanonicalJsonError);
    }
  });

  it(`is byte-identical on ${GENERATED} generated values (seed ${SEED})`, () => {
    const python = answersFrom(textVectors.length + fixedValues.length + loneSurrogates.length, generated.length);
    assert.equal(python.length, GENERATED);
    let astral = 0;
    for (const [i, value] of generated.entries()) {
      const answer = python[i];
      assert.ok(answer !== undefined && answer.ok, `Python refused value #${i}`);
      const ours = encodeCanonicalJsonBytes(value);
      if (Buffer.compare(ours, answer.bytes) !== 0) {
        assert.fail(`value #${i} differs:\n ours:   ${decoder.decode(ours)}\n python: ${decoder.decode(answer.bytes)}`);
      }
      if (/[\u{10000}-\u{10ffff}]/u.test(decoder.decode(ours))) astral++;
    }
    // The generator must really exercise astral characters, not only ASCII.
    assert.ok(astral > GENERATED / 10, `only ${astral} values held astral characters`);
  });
});
