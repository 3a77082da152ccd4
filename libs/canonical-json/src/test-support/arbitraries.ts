// fast-check generators of JSON values that stress canonical encoding:
// escapes and control characters, astral and high-BMP characters (where
// UTF-16 order and code-point order disagree), unusual keys, integers at
// the edges of the allowed range, and deep nesting. Integers only: floats
// are rejected by canonical JSON and tested separately.

import fc from 'fast-check';
import type { JsonObject, JsonValue } from '../types.js';

const MAX = Number.MAX_SAFE_INTEGER;

/** Single characters chosen to hit every branch of string escaping and key ordering. */
export const trickyChar: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('"', '\\', '/', '\u007f', '\u2028', '\u2029', '\b', '\t', '\n', '\f', '\r', 'ﬁ', '😀', '\uffff', '\ue000', '\u{10000}', '\u{10ffff}', 'é', '日', ' '),
  fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0xe000, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
);

/** Well-formed strings: tricky characters, any code point, or plain ASCII. */
export const trickyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: trickyChar, maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 16 }),
  fc.string({ maxLength: 16 }),
);

/**
 * Keys from a small pool, so objects often hold keys that differ only by an
 * astral versus a high-BMP character, plus empty, numeric-looking and
 * prototype-looking keys; and random tricky keys.
 */
export const trickyKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '', 'a', 'b', 'A', 'ﬁ', '😀', '\uffff', '\ue000', '\u{10000}', '\u{10ffff}', 'a\u{10000}', 'a\uffff', 'a\ue000', 'a',
    '1', '10', '9', '-1', '__proto__', 'constructor', 'toString', 'm.relates_to', 'é', 'e\u0301', '\u0000', '\u001f', '"', '\\',
  ),
  fc.string({ unit: trickyChar, maxLength: 4 }),
);

/** Integers in the canonical range, biased towards its edges and small values. */
export const canonicalInteger: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: -MAX, max: MAX }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.integer({ min: 0, max: 1000 }).map((d) => MAX - d),
  fc.integer({ min: 0, max: 1000 }).map((d) => d - MAX),
  fc.constantFrom(0, -0, 1, -1, MAX, -MAX, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53 - 2, 1e15, -1e15),
);

/** Builds an object with own properties only, so `__proto__` is a key, not the prototype; sometimes with a null prototype. */
function buildObject(entries: readonly (readonly [string, JsonValue])[], nullPrototype: boolean): JsonObject {
  const object = (nullPrototype ? Object.create(null) : {}) as JsonObject;
  for (const [key, value] of entries) {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return object;
}

function objectOf(value: fc.Arbitrary<JsonValue>, maxKeys: number): fc.Arbitrary<JsonObject> {
  return fc
    .tuple(fc.uniqueArray(fc.tuple(trickyKey, value), { maxLength: maxKeys, selector: ([key]) => key }), fc.boolean())
    .map(([entries, nullPrototype]) => buildObject(entries, nullPrototype));
}

const scalar: fc.Arbitrary<JsonValue> = fc.oneof(fc.constant(null), fc.boolean(), canonicalInteger, trickyString);

/** Any canonical-encodable JSON value (integers only, well-formed strings). */
export const canonicalJsonValue: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 5 }),
    objectOf(tie('value'), 6),
  ),
})).value;

/** A value wrapped in 20–200 levels of arrays and single-key objects. */
export const deeplyNestedValue: fc.Arbitrary<JsonValue> = fc
  .tuple(fc.array(fc.option(trickyKey, { nil: undefined }), { minLength: 20, maxLength: 200, size: 'max' }), canonicalJsonValue)
  .map(([levels, leaf]) => levels.reduce<JsonValue>((inner, key) => (key === undefined ? [inner] : buildObject([[key, inner]], false)), leaf));

/** The mix used by the differential and property tests. */
export const generatedJsonValue: fc.Arbitrary<JsonValue> = fc.oneof(
  { weight: 8, arbitrary: canonicalJsonValue },
  { weight: 1, arbitrary: deeplyNestedValue },
  { weight: 1, arbitrary: objectOf(canonicalJsonValue, 24) },
);
