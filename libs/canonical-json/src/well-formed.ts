// Lone UTF-16 surrogates have no UTF-8 encoding, so they cannot appear in
// canonical JSON (the grammar admits code points, not code units).

type IsWellFormed = (this: string) => boolean;

// String.prototype.isWellFormed (ES2024) is native in Node 20; the regular
// expression, in unicode mode, matches only surrogates that are not paired.
const nativeIsWellFormed = (String.prototype as { isWellFormed?: IsWellFormed }).isWellFormed;
const LONE_SURROGATE = /\p{Surrogate}/u;

export const isWellFormedString: (s: string) => boolean =
  nativeIsWellFormed === undefined ? (s) => !LONE_SURROGATE.test(s) : (s) => nativeIsWellFormed.call(s);
