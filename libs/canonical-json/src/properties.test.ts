// Properties of the encoder and the parser over generated values.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JsonParseError, encodeCanonicalJson, encodeCanonicalJsonBytes, parseJson } from './index.js';
import type { JsonValue } from './index.js';
import { generatedJsonValue } from './test-support/arbitraries.js';
import { readShape } from './test-support/json-tokens.js';

const RUNS = { seed: 1_717_171, numRuns: 2000 };

/** What a value looks like after a trip through JSON text: plain prototypes, -0 as 0. */
function viaJsonText(value: JsonValue): unknown {
  return JSON.parse(JSON.stringify(value));
}

function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** A copy with every object's keys inserted in reverse order. */
function withKeysReversed(value: JsonValue): JsonValue {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(withKeysReversed);
  const copy: Record<string, JsonValue> = {};
  for (const key of Object.keys(value).reverse()) {
    Object.defineProperty(copy, key, { value: withKeysReversed(value[key] as JsonValue), enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

/** Re-spells a JSON text with random whitespace between tokens (never inside strings). */
function withWhitespace(text: string, spaces: readonly string[]): string {
  let out = '';
  let k = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else {
      out += c;
    }
    if (',:[]{}'.includes(c) || c === '"') out += spaces[k++ % spaces.length] ?? '';
  }
  return out;
}

describe('encodeCanonicalJson properties', () => {
  it('output parses back (strict) to the same value: encode ∘ parse is the identity on canonical text', () => {
    fc.assert(
      fc.property(generatedJsonValue, (value) => {
        const text = encodeCanonicalJson(value);
        const parsed = parseJson(text, { strictNumbers: true });
        assert.deepEqual(parsed, viaJsonText(value));
        assert.equal(encodeCanonicalJson(parsed), text);
      }),
      RUNS,
    );
  });

  it('output parses with JSON.parse to a deep-equal value', () => {
    fc.assert(
      fc.property(generatedJsonValue, (value) => {
        assert.deepEqual(JSON.parse(encodeCanonicalJson(value)), viaJsonText(value));
      }),
      RUNS,
    );
  });

  it('output has no whitespace outside strings and every object has its keys in code-point order', () => {
    fc.assert(
      fc.property(generatedJsonValue, (value) => {
        const shape = readShape(encodeCanonicalJson(value));
        assert.equal(shape.whitespaceOutsideStrings, 0);
        for (const keys of shape.objectKeys) assert.deepEqual(keys, [...keys].sort(byUtf8));
      }),
      RUNS,
    );
  });

  it('does not depend on insertion order or formatting: any spelling of the value encodes the same', () => {
    fc.assert(
      fc.property(generatedJsonValue, fc.array(fc.constantFrom('', ' ', '\n', '\t  ', '\r\n'), { minLength: 1 }), (value, spaces) => {
        const shuffled = withWhitespace(JSON.stringify(withKeysReversed(value)), spaces);
        assert.equal(encodeCanonicalJson(parseJson(shuffled)), encodeCanonicalJson(value));
      }),
      RUNS,
    );
  });

  it('bytes are the well-formed UTF-8 of the text', () => {
    fc.assert(
      fc.property(generatedJsonValue, (value) => {
        const bytes = encodeCanonicalJsonBytes(value);
        assert.equal(new TextDecoder('utf-8', { fatal: true }).decode(bytes), encodeCanonicalJson(value));
      }),
      RUNS,
    );
  });
});

describe('parseJson properties', () => {
  it('agrees with JSON.parse on valid text with arbitrary whitespace', () => {
    fc.assert(
      fc.property(generatedJsonValue, fc.array(fc.constantFrom('', ' ', '\n', '\t', '\r'), { minLength: 1 }), (value, spaces) => {
        const text = withWhitespace(JSON.stringify(value), spaces);
        assert.deepEqual(parseJson(text), JSON.parse(text));
      }),
      RUNS,
    );
  });

  it('on mutated text, refuses whatever JSON.parse refuses, and otherwise returns the same value or a typed refusal', () => {
    const mutation = fc.record({ at: fc.nat(), remove: fc.nat({ max: 2 }), insert: fc.constantFrom('', ',', ':', '"', '\\', '{', '}', '[', ']', '-', '0', '1', 'e', '.', ' ', 'u', 'd800', '\u0001') });
    fc.assert(
      fc.property(generatedJsonValue, mutation, (value, { at, remove, insert }) => {
        const text = JSON.stringify(value);
        const position = at % (text.length + 1);
        const mutated = text.slice(0, position) + insert + text.slice(position + remove);
        let expected: unknown;
        let valid = true;
        try {
          expected = JSON.parse(mutated);
        } catch {
          valid = false;
        }
        try {
          const parsed = parseJson(mutated);
          assert.ok(valid, `accepted invalid JSON ${JSON.stringify(mutated)}`);
          assert.deepEqual(parsed, expected);
        } catch (error) {
          if (!(error instanceof JsonParseError)) throw error;
          assert.equal(typeof error.offset, 'number');
          if (valid) assert.ok(['duplicate-key', 'lone-surrogate', 'number-out-of-range', 'too-deep'].includes(error.code), error.message);
        }
      }),
      { seed: 99, numRuns: 20000 },
    );
  });
});
