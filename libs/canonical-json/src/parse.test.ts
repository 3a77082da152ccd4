import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JsonParseError, MAX_NESTING_DEPTH, isJsonObject, parseJson } from './index.js';
import type { JsonParseErrorCode } from './index.js';

interface Expected {
  readonly code: JsonParseErrorCode;
  readonly offset?: number;
  readonly path?: string;
}

function assertRefused(text: string, expected: Expected, strictNumbers = false): void {
  assert.throws(
    () => parseJson(text, { strictNumbers }),
    (error: unknown) => {
      assert.ok(error instanceof JsonParseError, `expected JsonParseError for ${JSON.stringify(text)}, got ${String(error)}`);
      const context = `${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}: ${error.message}`;
      assert.equal(error.code, expected.code, context);
      assert.equal(typeof error.offset, 'number', 'every refusal has an offset');
      if (expected.offset !== undefined) assert.equal(error.offset, expected.offset, context);
      if (expected.path !== undefined) assert.equal(error.path, expected.path, context);
      return true;
    },
  );
}

describe('parseJson: valid JSON', () => {
  const valid = [
    '{}', '[]', '0', '-1', '"x"', 'true', 'false', 'null', ' \t\r\n{ "a" : [ 1 , 2 ] } \n',
    '{"a":{"b":[{"c":null}]}}', '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\uD83D\\uDE00"', '"\u2028\u2029\u007f😀"',
    '[1.5,-0.25,1e5,1E-5,2e+3,-0]', '{"":""}', '{"a":1,"A":2,"\\u00e9":3,"e\\u0301":4}',
  ];
  for (const text of valid) {
    it(`parses ${JSON.stringify(text)} like JSON.parse`, () => {
      assert.deepEqual(parseJson(text), JSON.parse(text));
    });
  }

  it('refuses bytes: callers decode UTF-8 first', () => {
    assert.throws(() => parseJson(Buffer.from('{}') as unknown as string), TypeError);
  });

  it('builds __proto__ as an own key, leaving the prototype alone', () => {
    const value = parseJson('{"__proto__":{"polluted":true},"a":1}');
    assert.ok(isJsonObject(value));
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ['__proto__', 'a']);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});

describe('parseJson: invalid JSON is refused with an offset', () => {
  const cases: readonly (readonly [string, number])[] = [
    ['', 0], [' ', 1], ['{', 1], ['[1,]', 3], ['{"a":1,}', 7], ["{'a':1}", 1], ['01', 0], ['1.', 2], ['.5', 0],
    ['+1', 0], ['1e', 2], ['1e+', 3], ['--1', 1], ['NaN', 0], ['Infinity', 0], ['tru', 0], ['nul', 0], ['"abc', 4],
    ['"\\x"', 1], ['"\\u12"', 1], ['"\\u12G4"', 1], ['"a\u0001"', 2], ['"a\tb"', 2], ['\ufeff{}', 0], ['[1 2]', 3],
    ['{"a" 1}', 5], ['{1:2}', 1], ['/* c */ {}', 0], ['1 2', 2], ['\u00a01', 0], ['\u000b1', 0], ['[', 1], ['{"a":}', 5],
    ['[1]]', 3], ['"\\U0041"', 1], ["'a'", 0],
  ];
  for (const [text, offset] of cases) {
    it(`${JSON.stringify(text)} at offset ${offset}`, () => assertRefused(text, { code: 'syntax', offset }));
  }

  it('names the path of the container where the syntax breaks', () => {
    assertRefused('{"content":{"list":[1,2,}]}}', { code: 'syntax', offset: 24, path: '$.content.list[2]' });
  });
});

describe('parseJson: duplicate keys are refused', () => {
  it('in a small object', () => assertRefused('{"a":1,"b":2,"a":3}', { code: 'duplicate-key', offset: 13, path: '$.a' }));

  it('when the duplicate is spelled with escapes', () => assertRefused('{"a":1,"\\u0061":2}', { code: 'duplicate-key', offset: 7, path: '$.a' }));

  it('nested, with the path of the second occurrence', () => {
    assertRefused('{"content":{"membership":"join","membership":"leave"}}', { code: 'duplicate-key', path: '$.content.membership' });
  });

  it('in a large object', () => {
    const members = Array.from({ length: 100 }, (_, i) => `"k${i}":${i}`);
    members.push('"k42":0');
    assertRefused(`{${members.join(',')}}`, { code: 'duplicate-key', path: '$.k42' });
  });

  it('for __proto__ too', () => assertRefused('{"__proto__":1,"__proto__":2}', { code: 'duplicate-key' }));

  it('but not for keys that only look alike', () => {
    assert.deepEqual(parseJson('{"a":1,"A":2,"\\u00e9":3,"e\\u0301":4,"a ":5}'), { a: 1, A: 2, 'é': 3, 'e\u0301': 4, 'a ': 5 });
  });

  it('the same key in sibling objects is fine', () => {
    assert.deepEqual(parseJson('[{"a":1},{"a":2}]'), [{ a: 1 }, { a: 2 }]);
  });

  it('still works when Object.prototype carries an enumerable property', () => {
    Object.defineProperty(Object.prototype, 'injected', { value: 1, enumerable: true, configurable: true, writable: true });
    try {
      assert.deepEqual(Object.keys(parseJson('{"a":{"b":1}}') as object), ['a']);
      assertRefused('{"a":1,"a":1}', { code: 'duplicate-key' });
    } finally {
      delete (Object.prototype as Record<string, unknown>)['injected'];
    }
  });
});

describe('parseJson: lone surrogates are refused', () => {
  const cases: readonly (readonly [string, string, number])[] = [
    ['an escaped high surrogate at the end', '["\\ud800"]', 2],
    ['an escaped low surrogate', '["\\udc00"]', 2],
    ['an escaped high surrogate followed by a non-surrogate escape', '["\\ud800\\u0041"]', 2],
    ['an escaped high surrogate followed by a character', '["\\ud83dx"]', 2],
    ['two escaped high surrogates', '["\\ud83d\\ud83d"]', 2],
    ['a raw lone high surrogate', '["a\ud800"]', 3],
    ['a raw lone low surrogate', '["\udc00"]', 2],
    ['a raw high surrogate with an escaped low one', '["\ud83d\\ude00"]', 2],
    ['in a key', '{"\\udead":1}', 2],
  ];
  for (const [name, text, offset] of cases) {
    it(name, () => assertRefused(text, { code: 'lone-surrogate', offset }));
  }

  it('a raw surrogate outside a string is a syntax error', () => assertRefused('[1,\ud800]', { code: 'syntax', offset: 3 }));

  it('but accepts escaped and raw pairs', () => {
    assert.deepEqual(parseJson('["\\ud83d\\ude00","\\uD83D\\uDE00","😀",{"\\ud83d\\ude00":1}]'), ['😀', '😀', '😀', { '😀': 1 }]);
  });
});

describe('parseJson: numbers', () => {
  it('with strictNumbers accepts plain integers in ±(2^53-1)', () => {
    assert.deepEqual(parseJson('[0,-1,9007199254740991,-9007199254740991,1000000000000000]', { strictNumbers: true }), [
      0, -1, 9007199254740991, -9007199254740991, 1e15,
    ]);
  });

  const notAllowed = ['1.0', '1.5', '1e5', '1E5', '0e0', '1e-5', '2e+3', '-0', '-0.0', '-0e0'];
  for (const text of notAllowed) {
    it(`with strictNumbers refuses ${text}`, () => assertRefused(`{"a":${text}}`, { code: 'number-not-allowed', offset: 5, path: '$.a' }, true));
  }

  const outOfRange = ['9007199254740992', '-9007199254740992', '9007199254740998', '10000000000000000', '-99999999999999999999'];
  for (const text of outOfRange) {
    it(`with strictNumbers refuses ${text}`, () => assertRefused(`[0,${text}]`, { code: 'number-out-of-range', offset: 3, path: '$[1]' }, true));
  }

  it('with strictNumbers names the path of the offending number', () => {
    assertRefused('{"content":{"a":[0,1,1.5]}}', { code: 'number-not-allowed', offset: 21, path: '$.content.a[2]' }, true);
  });

  it('without strictNumbers accepts every RFC 8259 number', () => {
    assert.deepEqual(parseJson('[1.5,1e5,-0,9007199254740993,1e-400,123456789012345678901234567890]'), [
      1.5, 1e5, -0, 9007199254740992, 0, 1.2345678901234568e29,
    ]);
  });

  it('without strictNumbers refuses numbers too large for a double (they would become Infinity)', () => {
    assertRefused('[1e400]', { code: 'number-out-of-range', offset: 1 });
    assertRefused('[-1E+309]', { code: 'number-out-of-range', offset: 1 });
    assertRefused(`[${'9'.repeat(400)}]`, { code: 'number-out-of-range', offset: 1 });
  });
});

describe('parseJson: nesting depth', () => {
  const nested = (depth: number): string => '[{"k":'.repeat(depth / 2) + '0' + '}]'.repeat(depth / 2);

  it(`accepts ${MAX_NESTING_DEPTH} levels`, () => {
    assert.doesNotThrow(() => parseJson(nested(MAX_NESTING_DEPTH)));
  });

  it('refuses one level more, at the offset of the bracket that is too deep', () => {
    assertRefused(`[${nested(MAX_NESTING_DEPTH)}]`, { code: 'too-deep' });
    const brackets = '['.repeat(MAX_NESTING_DEPTH + 1) + ']'.repeat(MAX_NESTING_DEPTH + 1);
    assertRefused(brackets, { code: 'too-deep', offset: MAX_NESTING_DEPTH });
  });

  it('refuses extreme nesting with an error, not a stack overflow', () => {
    assertRefused('['.repeat(1_000_000), { code: 'too-deep' });
  });
});
