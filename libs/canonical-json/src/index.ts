// Public API of @membrane/canonical-json: Matrix canonical JSON encoding and
// strict JSON parsing. No I/O.
export type { JsonValue, JsonObject, JsonArray } from './types.js';
export { isJsonObject } from './types.js';
export { encodeCanonicalJson, encodeCanonicalJsonBytes } from './encode.js';
export { parseJson } from './parse.js';
export type { ParseJsonOptions } from './parse.js';
export { CanonicalJsonError, JsonParseError } from './errors.js';
export type { CanonicalJsonErrorCode, JsonParseErrorCode } from './errors.js';
export { compareByCodePoint } from './code-point-order.js';
export { CANONICAL_JSON_MAX_INT, CANONICAL_JSON_MIN_INT, MAX_NESTING_DEPTH } from './limits.js';
