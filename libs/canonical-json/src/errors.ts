// Typed errors of this library. Both carry where the problem is, so that a
// caller can answer M_BAD_JSON with a message a peer can act on.

/** Keeps messages short when a path is very deep or has huge keys; the `path` property stays complete. */
function abbreviatePath(path: string): string {
  return path.length <= 200 ? path : `${path.slice(0, 100)}…${path.slice(-80)}`;
}

/** Why a value has no canonical JSON form. */
export type CanonicalJsonErrorCode =
  | 'float'
  | 'non-finite-number'
  | 'integer-out-of-range'
  | 'undefined'
  | 'unsupported-type'
  | 'class-instance'
  | 'lone-surrogate'
  | 'cycle'
  | 'too-deep';

export class CanonicalJsonError extends Error {
  /** Where the offending value is, e.g. `$.content.a[2]`. */
  readonly path: string;
  /** Human-readable reason, without the path. */
  readonly reason: string;
  /** Machine-readable reason. */
  readonly code: CanonicalJsonErrorCode;

  constructor(code: CanonicalJsonErrorCode, reason: string, path: string) {
    super(`${reason} at ${abbreviatePath(path)}`);
    this.name = 'CanonicalJsonError';
    this.code = code;
    this.reason = reason;
    this.path = path;
  }
}

/** Why a text was refused by parseJson. */
export type JsonParseErrorCode =
  | 'syntax'
  | 'duplicate-key'
  | 'lone-surrogate'
  | 'number-not-allowed'
  | 'number-out-of-range'
  | 'too-deep';

export class JsonParseError extends Error {
  // `declare`: absent (not `undefined`) when unknown.
  /** UTF-16 offset in the text where the problem was found. */
  declare readonly offset?: number;
  /** Location in the document, e.g. `$.content.a[2]`, where known. */
  declare readonly path?: string;
  /** Machine-readable reason. */
  readonly code: JsonParseErrorCode;

  constructor(code: JsonParseErrorCode, message: string, offset?: number, path?: string) {
    super(`${message}${offset === undefined ? '' : ` at offset ${offset}`}${path === undefined ? '' : ` (${abbreviatePath(path)})`}`);
    this.name = 'JsonParseError';
    this.code = code;
    if (offset !== undefined) this.offset = offset;
    if (path !== undefined) this.path = path;
  }
}
