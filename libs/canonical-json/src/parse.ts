// Strict JSON parsing for text that arrives from clients and servers.
//
// A validating scanner checks the whole text first; JSON.parse then builds
// the value (it is the fastest way to build it, and builds `__proto__` keys
// as own properties). The scanner refuses what JSON.parse would let through:
//
// - duplicate object keys. JSON.parse keeps the last one, other parsers keep
//   the first: a signed event with {"membership":"join","membership":"leave"}
//   could be verified under one reading and acted on under the other;
// - lone surrogates, escaped (`"\ud800"`) or raw: they have no UTF-8 form,
//   so the value could not be canonically encoded, hashed or signed (a raw
//   surrogate outside a string is a plain syntax error);
// - with strictNumbers (room versions 6 and later), any number that is not an
//   integer in [-(2^53)+1, 2^53-1] written plainly: no fraction, no exponent
//   (not even 1e5), no -0;
// - nesting deeper than MAX_NESTING_DEPTH, so anything parsed can be encoded.
//
// Without strictNumbers every RFC 8259 number is accepted, except one so
// large that it would become Infinity, which is no JSON value.
//
// For speed the first scan decodes no keys and keeps no path: it counts
// object members, and a duplicate shows up as the parsed value having fewer
// keys than the text had members. Only when something is wrong does a second,
// precise scan run to say what and where (offset and path). The cost is about
// twice that of JSON.parse alone (docs/adr/0002-canonical-json-encoder.md).

import { JsonParseError } from './errors.js';
import type { JsonParseErrorCode } from './errors.js';
import { MAX_NESTING_DEPTH } from './limits.js';
import { formatPath } from './path.js';
import type { PathSegment } from './path.js';
import type { JsonValue } from './types.js';

export interface ParseJsonOptions {
  /** Refuse every number that is not a plain integer in ±(2^53-1) (room versions 6+). */
  readonly strictNumbers?: boolean;
}

/**
 * Parses RFC 8259 JSON strictly (see above). Throws JsonParseError with the
 * offset of the problem and, where known, its path.
 */
export function parseJson(text: string, options: ParseJsonOptions = {}): JsonValue {
  if (typeof text !== 'string') throw new TypeError('parseJson expects a string (decode bytes as UTF-8 first)');
  const strictNumbers = options.strictNumbers === true;
  let members: number;
  try {
    members = new Scanner(text, strictNumbers, false).scanDocument();
  } catch (error) {
    if (error !== RESCAN) throw error;
    scanPrecisely(text, strictNumbers);
    throw new JsonParseError('syntax', 'invalid JSON'); // unreachable: the precise scan throws
  }
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (error) {
    // Unreachable while the scanner is right; never let a SyntaxError escape.
    throw new JsonParseError('syntax', `invalid JSON: ${(error as Error).message}`);
  }
  // A duplicate key leaves the parsed value one member short of the text.
  if (countMembers(value) !== members) scanPrecisely(text, strictNumbers);
  return value;
}

/** Scans again tracking the path and every key; throws a JsonParseError saying what is wrong and where. */
function scanPrecisely(text: string, strictNumbers: boolean): void {
  new Scanner(text, strictNumbers, true).scanDocument();
}

/** Counts the own keys of every object in a value fresh from JSON.parse. */
function countMembers(value: JsonValue): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) count += countMembers(value[i] as JsonValue);
    return count;
  }
  const keys = Object.keys(value);
  count = keys.length;
  for (let i = 0; i < keys.length; i++) count += countMembers(value[keys[i] as string] as JsonValue);
  return count;
}

/** Thrown by the fast scan on any problem; the precise scan then says what and where. */
const RESCAN: unique symbol = Symbol('rescan');

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const LOWER_U = 0x75;

/** Decimal digits of 2^53-1, for comparing integers without converting them. */
const MAX_INT_DIGITS = String(Number.MAX_SAFE_INTEGER);

/** Objects with more keys than this check duplicates with a Set instead of a scan. */
const SMALL_OBJECT = 16;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

function isHexDigit(c: number): boolean {
  return (c >= ZERO && c <= NINE) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/** The body of a string up to its next quote, backslash, control character or surrogate unit. */
const STRING_BODY = /[^"\\\u0000-\u001f\ud800-\udfff]*/y;

/**
 * Validates a JSON text. The fast mode (precise = false) counts object
 * members instead of decoding keys, keeps no path, and throws RESCAN on any
 * problem; the precise mode checks duplicate keys itself and throws
 * JsonParseError with offset and path.
 */
class Scanner {
  private pos = 0;
  private members = 0;
  /** path[d] is the key or index leading from the container at depth d to its child (precise mode). */
  private readonly path: PathSegment[] = [];

  constructor(
    private readonly text: string,
    private readonly strictNumbers: boolean,
    private readonly precise: boolean,
  ) {}

  /** Returns the number of object members in the text. */
  scanDocument(): number {
    this.skipWhitespace();
    this.scanValue(0);
    this.skipWhitespace();
    if (this.pos < this.text.length) this.fail('syntax', 'unexpected data after the JSON value', 0);
    return this.members;
  }

  private scanValue(depth: number): void {
    const c = this.text.charCodeAt(this.pos);
    if (c === QUOTE) {
      this.scanString(depth);
    } else if (c === OPEN_BRACE) {
      this.scanObject(depth);
    } else if (c === OPEN_BRACKET) {
      this.scanArray(depth);
    } else if (c === MINUS || isDigit(c)) {
      this.scanNumber(depth);
    } else if (c === 0x74 /* t */) {
      this.scanLiteral('true', depth);
    } else if (c === 0x66 /* f */) {
      this.scanLiteral('false', depth);
    } else if (c === 0x6e /* n */) {
      this.scanLiteral('null', depth);
    } else {
      this.fail('syntax', `expected a JSON value, found ${this.describeHere()}`, depth);
    }
  }

  private scanObject(depth: number): void {
    if (depth >= MAX_NESTING_DEPTH) this.fail('too-deep', `nesting deeper than ${MAX_NESTING_DEPTH} levels`, depth);
    const text = this.text;
    this.pos++;
    this.skipWhitespace();
    if (text.charCodeAt(this.pos) === CLOSE_BRACE) {
      this.pos++;
      return;
    }
    const keys = this.precise ? new KeySet() : undefined;
    for (;;) {
      if (text.charCodeAt(this.pos) !== QUOTE) {
        this.fail('syntax', `expected a string key, found ${this.describeHere()}`, depth);
      }
      this.members++;
      if (keys === undefined) {
        this.scanString(depth);
      } else {
        const keyStart = this.pos;
        const key = this.scanKey(depth);
        this.path[depth] = key;
        if (!keys.add(key)) this.failAt('duplicate-key', `duplicate key ${JSON.stringify(key)}`, keyStart, depth + 1);
      }
      this.skipWhitespace();
      if (text.charCodeAt(this.pos) !== COLON) this.fail('syntax', `expected ':', found ${this.describeHere()}`, depth + 1);
      this.pos++;
      this.skipWhitespace();
      this.scanValue(depth + 1);
      this.skipWhitespace();
      const c = text.charCodeAt(this.pos);
      if (c === COMMA) {
        this.pos++;
        this.skipWhitespace();
      } else if (c === CLOSE_BRACE) {
        this.pos++;
        return;
      } else {
        this.fail('syntax', `expected ',' or '}', found ${this.describeHere()}`, depth);
      }
    }
  }

  private scanArray(depth: number): void {
    if (depth >= MAX_NESTING_DEPTH) this.fail('too-deep', `nesting deeper than ${MAX_NESTING_DEPTH} levels`, depth);
    const text = this.text;
    this.pos++;
    this.skipWhitespace();
    if (text.charCodeAt(this.pos) === CLOSE_BRACKET) {
      this.pos++;
      return;
    }
    for (let index = 0; ; index++) {
      if (this.precise) this.path[depth] = index;
      this.scanValue(depth + 1);
      this.skipWhitespace();
      const c = text.charCodeAt(this.pos);
      if (c === COMMA) {
        this.pos++;
        this.skipWhitespace();
      } else if (c === CLOSE_BRACKET) {
        this.pos++;
        return;
      } else {
        this.fail('syntax', `expected ',' or ']', found ${this.describeHere()}`, depth);
      }
    }
  }

  /** Scans a key and returns its decoded value. */
  private scanKey(depth: number): string {
    const start = this.pos;
    const hasEscapes = this.scanString(depth);
    return hasEscapes ? (JSON.parse(this.text.slice(start, this.pos)) as string) : this.text.slice(start + 1, this.pos - 1);
  }

  /** Scans a string starting at its opening quote; returns whether it held escapes. */
  private scanString(depth: number): boolean {
    const text = this.text;
    let i = this.pos + 1;
    let hasEscapes = false;
    for (;;) {
      STRING_BODY.lastIndex = i;
      STRING_BODY.test(text);
      i = STRING_BODY.lastIndex;
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        i = this.scanEscape(i, depth);
        hasEscapes = true;
      } else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
        i += 2; // a raw astral character
      } else if (c >= 0xd800 && c <= 0xdfff) {
        this.pos = i;
        this.fail('lone-surrogate', 'string contains a lone UTF-16 surrogate', depth);
      } else {
        this.pos = i;
        if (i >= text.length) this.fail('syntax', 'unterminated string', depth);
        this.fail('syntax', 'control character in string (must be escaped)', depth);
      }
    }
    this.pos = i + 1;
    return hasEscapes;
  }

  /** Checks the escape at `i` (a backslash); returns the index after it. */
  private scanEscape(i: number, depth: number): number {
    const text = this.text;
    const c = text.charCodeAt(i + 1);
    switch (c) {
      case QUOTE:
      case BACKSLASH:
      case 0x2f /* / */:
      case 0x62 /* b */:
      case 0x66 /* f */:
      case 0x6e /* n */:
      case 0x72 /* r */:
      case 0x74 /* t */:
        return i + 2;
      case LOWER_U: {
        const unit = this.readHex4(i, depth);
        if (isLowSurrogate(unit)) this.loneSurrogate(i, depth);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          // A high surrogate escape must be followed at once by a low one.
          if (text.charCodeAt(i + 6) !== BACKSLASH || text.charCodeAt(i + 7) !== LOWER_U) this.loneSurrogate(i, depth);
          const low = this.readHex4(i + 6, depth);
          if (!isLowSurrogate(low)) this.loneSurrogate(i, depth);
          return i + 12;
        }
        return i + 6;
      }
      default:
        this.pos = i;
        return this.fail('syntax', 'invalid escape sequence in string', depth);
    }
  }

  /** Reads the four hex digits of the \u escape whose backslash is at `i`. */
  private readHex4(i: number, depth: number): number {
    const text = this.text;
    let unit = 0;
    for (let k = i + 2; k < i + 6; k++) {
      const c = text.charCodeAt(k);
      if (!isHexDigit(c)) {
        this.pos = i;
        this.fail('syntax', 'invalid \\u escape in string (needs four hex digits)', depth);
      }
      unit = unit * 16 + (c <= NINE ? c - ZERO : (c | 0x20) - 0x57);
    }
    return unit;
  }

  private loneSurrogate(i: number, depth: number): never {
    this.pos = i;
    return this.fail('lone-surrogate', 'string escapes a lone UTF-16 surrogate', depth);
  }

  private scanNumber(depth: number): void {
    const text = this.text;
    const start = this.pos;
    let i = start;
    if (text.charCodeAt(i) === MINUS) i++;
    const intStart = i;
    const first = text.charCodeAt(i);
    if (first === ZERO) {
      i++;
      if (isDigit(text.charCodeAt(i))) this.failAt('syntax', 'leading zeros are not allowed in numbers', start, depth);
    } else if (isDigit(first)) {
      do i++;
      while (isDigit(text.charCodeAt(i)));
    } else {
      this.failAt('syntax', 'expected a digit', i, depth);
    }
    const intEnd = i;
    let fraction = false;
    let exponent = false;
    if (text.charCodeAt(i) === DOT) {
      fraction = true;
      i++;
      if (!isDigit(text.charCodeAt(i))) this.failAt('syntax', 'expected a digit after the decimal point', i, depth);
      do i++;
      while (isDigit(text.charCodeAt(i)));
    }
    const e = text.charCodeAt(i);
    if (e === LOWER_E || e === UPPER_E) {
      exponent = true;
      i++;
      const sign = text.charCodeAt(i);
      if (sign === PLUS || sign === MINUS) i++;
      if (!isDigit(text.charCodeAt(i))) this.failAt('syntax', 'expected a digit in the exponent', i, depth);
      do i++;
      while (isDigit(text.charCodeAt(i)));
    }
    this.pos = i;
    if (this.strictNumbers) {
      this.checkStrictInteger(start, intStart, intEnd, fraction || exponent, depth);
    } else if (exponent || i - start > 300) {
      if (!Number.isFinite(Number(text.slice(start, i)))) {
        this.failAt('number-out-of-range', 'number is too large to represent', start, depth);
      }
    }
  }

  private checkStrictInteger(start: number, intStart: number, intEnd: number, notInteger: boolean, depth: number): void {
    const text = this.text;
    if (notInteger) {
      this.failAt('number-not-allowed', 'fractions and exponents are not allowed in canonical JSON', start, depth);
    }
    const digits = intEnd - intStart;
    if (digits === 1 && intStart > start && text.charCodeAt(intStart) === ZERO) {
      this.failAt('number-not-allowed', '-0 is not allowed in canonical JSON', start, depth);
    }
    if (digits > MAX_INT_DIGITS.length || (digits === MAX_INT_DIGITS.length && text.slice(intStart, intEnd) > MAX_INT_DIGITS)) {
      this.failAt('number-out-of-range', 'integer is outside [-(2^53)+1, 2^53-1]', start, depth);
    }
  }

  private scanLiteral(literal: string, depth: number): void {
    if (!this.text.startsWith(literal, this.pos)) this.fail('syntax', `expected a JSON value, found ${this.describeHere()}`, depth);
    this.pos += literal.length;
  }

  private skipWhitespace(): void {
    const text = this.text;
    let i = this.pos;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) break;
      i++;
    }
    this.pos = i;
  }

  private describeHere(): string {
    if (this.pos >= this.text.length) return 'end of input';
    const unit = this.text.charCodeAt(this.pos);
    if (unit >= 0xd800 && unit <= 0xdfff && !isLowSurrogate(this.text.charCodeAt(this.pos + 1))) return `lone surrogate \\u${unit.toString(16)}`;
    return JSON.stringify(String.fromCodePoint(this.text.codePointAt(this.pos) as number));
  }

  /** Fails at the current position, in the value at `depth` on the current path. */
  private fail(code: JsonParseErrorCode, message: string, depth: number): never {
    return this.failAt(code, message, this.pos, depth);
  }

  private failAt(code: JsonParseErrorCode, message: string, offset: number, depth: number): never {
    if (!this.precise) throw RESCAN;
    throw new JsonParseError(code, message, offset, formatPath(this.path.slice(0, depth)));
  }
}

/** Keys seen in one object: a list while small, a Set once large. */
class KeySet {
  private readonly list: string[] = [];
  private set: Set<string> | undefined;

  /** Adds a key; false if it was already there. */
  add(key: string): boolean {
    if (this.set !== undefined) {
      if (this.set.has(key)) return false;
      this.set.add(key);
      return true;
    }
    if (this.list.includes(key)) return false;
    this.list.push(key);
    if (this.list.length > SMALL_OBJECT) this.set = new Set(this.list);
    return true;
  }
}
