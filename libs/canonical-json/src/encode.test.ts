import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CanonicalJsonError, encodeCanonicalJson, encodeCanonicalJsonBytes, MAX_NESTING_DEPTH } from './index.js';
import type { CanonicalJsonErrorCode } from './index.js';

function assertRejected(value: unknown, code: CanonicalJsonErrorCode, path: string): void {
  assert.throws(
    () => encodeCanonicalJson(value),
    (error: unknown) => {
      assert.ok(error instanceof CanonicalJsonError, `expected CanonicalJsonError, got ${String(error)}`);
      assert.equal(error.code, code);
      assert.equal(error.path, path);
      assert.ok(error.message.includes(error.reason));
      return true;
    },
  );
}

function nest(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
}

describe('encodeCanonicalJson: layout', () => {
  it('writes no insignificant whitespace and lower-case literals', () => {
    assert.equal(encodeCanonicalJson({ a: [true, false, null, { b: [] }], c: {} }), '{"a":[true,false,null,{"b":[]}],"c":{}}');
  });

  it('encodes scalars at the top level', () => {
    assert.equal(encodeCanonicalJson(null), 'null');
    assert.equal(encodeCanonicalJson(42), '42');
    assert.equal(encodeCanonicalJson('x'), '"x"');
  });

  it('keeps array order', () => {
    assert.equal(encodeCanonicalJson([3, 1, 2, 'b', 'a']), '[3,1,2,"b","a"]');
  });
});

describe('encodeCanonicalJson: key order', () => {
  it('sorts keys at every depth', () => {
    assert.equal(encodeCanonicalJson({ b: { d: 1, c: 2 }, a: [{ z: 1, y: 2 }] }), '{"a":[{"y":2,"z":1}],"b":{"c":2,"d":1}}');
  });

  it('sorts by code point, not UTF-16 unit: U+FB01 before U+1F600', () => {
    assert.equal(encodeCanonicalJson({ '😀': 1, 'ﬁ': 2 }), '{"ﬁ":2,"😀":1}');
  });

  it('puts every astral key after every high-BMP key, and prefixes first', () => {
    const keys = ['\u{10ffff}', '\u{10000}', '\uffff', '\ue000', '\ud7ff', 'a\u{10000}', 'a\uffff', 'a', '', 'é'];
    const object = Object.fromEntries(keys.map((key, i) => [key, i]));
    const expected = ['', 'a', 'a\uffff', 'a\u{10000}', 'é', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{10ffff}'];
    assert.equal(encodeCanonicalJson(object), `{${expected.map((key) => `${JSON.stringify(key)}:${keys.indexOf(key)}`).join(',')}}`);
  });

  it('sorts integer-like keys as strings, unlike JavaScript property order', () => {
    assert.equal(encodeCanonicalJson({ 9: 'a', 10: 'b', 1: 'c', x: 'd' }), '{"1":"c","10":"b","9":"a","x":"d"}');
  });

  it('treats __proto__ as an ordinary own key', () => {
    const parsed = JSON.parse('{"b":1,"__proto__":{"x":2}}') as unknown;
    assert.equal(encodeCanonicalJson(parsed), '{"__proto__":{"x":2},"b":1}');
  });
});

describe('encodeCanonicalJson: strings', () => {
  it('uses the short escapes and lower-case \\u00xx for other C0 controls', () => {
    assert.equal(encodeCanonicalJson('\b\t\n\f\r\u0000\u000b\u001f"\\'), '"\\b\\t\\n\\f\\r\\u0000\\u000b\\u001f\\"\\\\"');
  });

  it('writes DEL, U+2028, U+2029, "/" and non-ASCII raw', () => {
    assert.equal(encodeCanonicalJson('\u007f\u2028\u2029/é日😀'), '"\u007f\u2028\u2029/é日😀"');
  });

  it('escapes keys the same way as values', () => {
    assert.equal(encodeCanonicalJson({ 'a\nb': 1, '"': 2 }), '{"\\"":2,"a\\nb":1}');
  });

  it('produces the UTF-8 bytes of the text', () => {
    const bytes = encodeCanonicalJsonBytes({ a: 'é😀' });
    assert.deepEqual([...bytes], [...Buffer.from('{"a":"é😀"}', 'utf8')]);
  });
});

describe('encodeCanonicalJson: numbers', () => {
  it('writes -0 as 0', () => {
    assert.equal(encodeCanonicalJson({ a: -0 }), '{"a":0}');
  });

  it('accepts the edges of [-(2^53)+1, 2^53-1] without exponent', () => {
    assert.equal(encodeCanonicalJson([9007199254740991, -9007199254740991, 1e15]), '[9007199254740991,-9007199254740991,1000000000000000]');
  });

  it('rejects integers just outside the range', () => {
    assertRejected({ a: 2 ** 53 }, 'integer-out-of-range', '$.a');
    assertRejected({ a: [-(2 ** 53)] }, 'integer-out-of-range', '$.a[0]');
    assertRejected(1e21, 'integer-out-of-range', '$');
  });

  it('rejects fractions', () => {
    assertRejected({ content: { a: [0, 1, 2.5] } }, 'float', '$.content.a[2]');
    assertRejected(0.1, 'float', '$');
  });

  it('rejects NaN and the infinities', () => {
    assertRejected([NaN], 'non-finite-number', '$[0]');
    assertRejected({ x: Infinity }, 'non-finite-number', '$.x');
    assertRejected({ x: -Infinity }, 'non-finite-number', '$.x');
  });
});

describe('encodeCanonicalJson: values JSON has no form for', () => {
  it('rejects undefined, also as a member or element', () => {
    assertRejected(undefined, 'undefined', '$');
    assertRejected({ a: 1, b: undefined }, 'undefined', '$.b');
    assertRejected([1, undefined], 'undefined', '$[1]');
  });

  it('rejects holes in sparse arrays', () => {
    assertRejected([1, , 3], 'undefined', '$[1]');
  });

  it('rejects functions, symbols and bigints', () => {
    assertRejected({ f: () => 1 }, 'unsupported-type', '$.f');
    assertRejected({ s: Symbol('s') }, 'unsupported-type', '$.s');
    assertRejected({ n: 10n }, 'unsupported-type', '$.n');
  });

  it('rejects class instances: Date, Map, Set, Buffer, Uint8Array, RegExp, boxed primitives, user classes', () => {
    class Point {
      x = 1;
    }
    for (const instance of [new Date(0), new Map(), new Set(), Buffer.from('a'), new Uint8Array(1), /x/, new String('s'), new Number(1), new Point()]) {
      assertRejected({ v: instance }, 'class-instance', '$.v');
    }
  });

  it('rejects an object whose prototype is another plain object', () => {
    assertRejected({ v: Object.create({ inherited: 1 }) }, 'class-instance', '$.v');
  });

  it('rejects Array subclasses', () => {
    class List extends Array<number> {}
    assertRejected({ v: List.from([1]) }, 'class-instance', '$.v');
  });

  it('does not call toJSON', () => {
    assertRejected({ toJSON: () => 'x' }, 'unsupported-type', '$.toJSON');
  });

  it('accepts objects with a null prototype', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare['b'] = 1;
    bare['a'] = { c: null };
    assert.equal(encodeCanonicalJson(bare), '{"a":{"c":null},"b":1}');
  });

  it('ignores symbol keys and non-enumerable properties, as JSON does', () => {
    const object: Record<string | symbol, unknown> = { a: 1, [Symbol('s')]: 2 };
    Object.defineProperty(object, 'hidden', { value: 3, enumerable: false });
    assert.equal(encodeCanonicalJson(object), '{"a":1}');
  });

  it('rejects lone surrogates in values and in keys', () => {
    assertRejected({ a: ['ok', 'x\ud800'] }, 'lone-surrogate', '$.a[1]');
    assertRejected({ a: '\udc00x' }, 'lone-surrogate', '$.a');
    assertRejected({ a: '\ud83d' }, 'lone-surrogate', '$.a');
    assertRejected({ '\ude00': 1 }, 'lone-surrogate', '$["\\ude00"]');
  });

  it('quotes keys that are not identifiers in paths', () => {
    assertRejected({ content: { 'm.relates_to': { 'a b': 1.5 } } }, 'float', '$.content["m.relates_to"]["a b"]');
  });
});

describe('encodeCanonicalJson: cycles and depth', () => {
  it('reports a cycle with the path where it closes, not a stack overflow', () => {
    const room: Record<string, unknown> = { name: 'r' };
    room['content'] = { self: room };
    assertRejected(room, 'cycle', '$.content.self');
  });

  it('reports an array containing itself', () => {
    const list: unknown[] = [1];
    list.push(list);
    assertRejected({ list }, 'cycle', '$.list[1]');
  });

  it('encodes a value that appears twice without being its own ancestor', () => {
    const shared = { x: 1 };
    assert.equal(encodeCanonicalJson({ a: shared, b: [shared, shared] }), '{"a":{"x":1},"b":[{"x":1},{"x":1}]}');
  });

  it(`accepts ${MAX_NESTING_DEPTH} levels of nesting and rejects one more`, () => {
    assert.ok(encodeCanonicalJson(nest(MAX_NESTING_DEPTH)).startsWith('{"k":[{"k":'));
    assert.throws(() => encodeCanonicalJson(nest(MAX_NESTING_DEPTH + 1)), (error: unknown) => error instanceof CanonicalJsonError && error.code === 'too-deep');
  });

  it('rejects extreme nesting with an error, not a RangeError', () => {
    assert.throws(() => encodeCanonicalJson(nest(100_000)), CanonicalJsonError);
  });

  it('keeps error messages short for deep paths while path stays complete', () => {
    try {
      encodeCanonicalJson(nest(MAX_NESTING_DEPTH + 1));
      assert.fail('expected a CanonicalJsonError');
    } catch (error) {
      assert.ok(error instanceof CanonicalJsonError);
      assert.ok(error.message.length < 400);
      assert.equal(error.path.split('[0]').length - 1 + error.path.split('.k').length - 1, MAX_NESTING_DEPTH);
    }
  });
});
