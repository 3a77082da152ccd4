// Matrix canonical JSON encoder (spec appendices, "Canonical JSON").
//
// Strings go through JSON.stringify: for well-formed strings its escaping is
// exactly the canonical one (short escapes for \b \t \n \f \r " \, lower-case
// \u00xx for other C0 controls, everything else raw, no "\/"); a test checks
// that claim over every code point. What JSON.stringify gets wrong for us is
// handled here: key order (code point, not insertion or UTF-16 order),
// numbers (integers in ±(2^53-1) only), lone surrogates, and values JSON
// would silently drop or convert (undefined, functions, Dates, toJSON).
//
// The encoder is recursive; MAX_NESTING_DEPTH bounds the recursion. Cycles
// need no bookkeeping on the hot path: a cycle always nests without end, so
// it is told apart from honest depth only once the limit is hit.

import { CanonicalJsonError } from './errors.js';
import type { CanonicalJsonErrorCode } from './errors.js';
import { sortByCodePoint } from './code-point-order.js';
import { MAX_NESTING_DEPTH } from './limits.js';
import { formatPath } from './path.js';
import type { PathSegment } from './path.js';
import { isWellFormedString } from './well-formed.js';

interface EncodeState {
  /** path[d] is the key or index leading from the container at depth d to its child. */
  readonly path: PathSegment[];
  /** ancestors[d] is the container at depth d on the current path. */
  readonly ancestors: object[];
}

/**
 * Encodes a value as Matrix canonical JSON text. Throws CanonicalJsonError,
 * naming the path of the first offending value, for anything without a
 * canonical form: non-integers, integers beyond ±(2^53-1), NaN/Infinity,
 * undefined (also as an object member or array element), functions,
 * symbols, bigints, class instances (only plain objects, including
 * Object.create(null) ones, and plain arrays are accepted), strings or keys
 * with lone surrogates, cycles, and nesting deeper than MAX_NESTING_DEPTH.
 * `-0` is written as `0`.
 */
export function encodeCanonicalJson(value: unknown): string {
  return encodeValue(value, { path: [], ancestors: [] }, 0);
}

const utf8 = new TextEncoder();

/** The UTF-8 bytes of encodeCanonicalJson(value): what gets hashed and signed. */
export function encodeCanonicalJsonBytes(value: unknown): Uint8Array {
  return utf8.encode(encodeCanonicalJson(value));
}

function encodeValue(value: unknown, state: EncodeState, depth: number): string {
  switch (typeof value) {
    case 'string':
      return encodeString(value, state, depth);
    case 'number':
      return encodeNumber(value, state, depth);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      return encodeContainer(value, state, depth);
    case 'undefined':
      throw failure(state, depth, 'undefined', 'undefined is not a JSON value');
    case 'bigint':
      throw failure(state, depth, 'unsupported-type', 'a bigint is not a JSON value (use a number)');
    default:
      throw failure(state, depth, 'unsupported-type', `a ${typeof value} is not a JSON value`);
  }
}

const NEEDS_ESCAPE_OR_CHECK = /["\\\u0000-\u001f\ud800-\udfff]/;

function encodeString(value: string, state: EncodeState, depth: number): string {
  // Most strings need neither escapes nor the surrogate check.
  if (!NEEDS_ESCAPE_OR_CHECK.test(value)) return `"${value}"`;
  if (!isWellFormedString(value)) {
    throw failure(state, depth, 'lone-surrogate', 'string contains a lone UTF-16 surrogate');
  }
  return JSON.stringify(value);
}

function encodeNumber(value: number, state: EncodeState, depth: number): string {
  // String(-0) is "0", and safe integers never print with an exponent.
  if (Number.isSafeInteger(value)) return String(value);
  if (!Number.isFinite(value)) {
    throw failure(state, depth, 'non-finite-number', `${value} is not a JSON number`);
  }
  if (Number.isInteger(value)) {
    throw failure(state, depth, 'integer-out-of-range', `integer ${value} is outside [-(2^53)+1, 2^53-1]`);
  }
  throw failure(state, depth, 'float', `${value} is not an integer; canonical JSON allows integers only`);
}

function encodeContainer(value: object, state: EncodeState, depth: number): string {
  if (depth >= MAX_NESTING_DEPTH) throw cycleOrTooDeep(value, state, depth);
  state.ancestors[depth] = value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Array.prototype) return encodeArray(value as readonly unknown[], state, depth);
  if (proto === Object.prototype || proto === null) return encodeObject(value as Readonly<Record<string, unknown>>, state, depth);
  throw failure(state, depth, 'class-instance', `${describeInstance(value)} is not a plain object or array`);
}

function encodeArray(array: readonly unknown[], state: EncodeState, depth: number): string {
  const length = array.length;
  if (length === 0) return '[]';
  const path = state.path;
  path[depth] = 0;
  let out = '[' + encodeValue(array[0], state, depth + 1);
  for (let i = 1; i < length; i++) {
    path[depth] = i;
    out += ',' + encodeValue(array[i], state, depth + 1);
  }
  return out + ']';
}

function encodeObject(object: Readonly<Record<string, unknown>>, state: EncodeState, depth: number): string {
  const keys = sortByCodePoint(Object.keys(object));
  const length = keys.length;
  if (length === 0) return '{}';
  const path = state.path;
  let out = '{';
  for (let i = 0; i < length; i++) {
    const key = keys[i] as string;
    path[depth] = key;
    if (i > 0) out += ',';
    out += encodeString(key, state, depth + 1) + ':' + encodeValue(object[key], state, depth + 1);
  }
  return out + '}';
}

/**
 * Called when `value` would nest deeper than the limit. Every cycle ends up
 * here, so look for the first container on the path that repeats an
 * ancestor; if there is none the value is merely too deep.
 */
function cycleOrTooDeep(value: object, state: EncodeState, depth: number): CanonicalJsonError {
  const { ancestors } = state;
  for (let j = 1; j <= depth; j++) {
    const container = j < depth ? ancestors[j] : value;
    for (let i = 0; i < j; i++) {
      if (ancestors[i] === container) {
        const target = formatPath(state.path.slice(0, i));
        return failure(state, j, 'cycle', `cycle: the value refers back to its ancestor ${target}`);
      }
    }
  }
  return failure(state, depth, 'too-deep', `nesting deeper than ${MAX_NESTING_DEPTH} levels`);
}

function describeInstance(value: object): string {
  const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object with a custom prototype';
}

function failure(state: EncodeState, depth: number, code: CanonicalJsonErrorCode, reason: string): CanonicalJsonError {
  return new CanonicalJsonError(code, reason, formatPath(state.path.slice(0, depth)));
}
