// Limits shared by the encoder and the parser, so that everything parseJson
// accepts can be encoded again.

/** Largest integer canonical JSON allows: 2^53 - 1 (spec appendices, "Canonical JSON"). */
export const CANONICAL_JSON_MAX_INT = Number.MAX_SAFE_INTEGER;
/** Smallest integer canonical JSON allows: -(2^53 - 1). */
export const CANONICAL_JSON_MIN_INT = Number.MIN_SAFE_INTEGER;

/**
 * Deepest nesting of arrays and objects accepted by the encoder and the
 * parser: `[]` has depth 1, `[[]]` depth 2, a scalar depth 0.
 *
 * The spec sets no limit. Synapse's Python JSON code fails near 1000 levels
 * (interpreter recursion limit), and a 64 KiB PDU could nest ~32000 levels,
 * so a limit well below both keeps the recursive encoder far from the stack
 * limit while leaving room no real event needs.
 */
export const MAX_NESTING_DEPTH = 512;
