// Ordering of object keys by Unicode code point, as canonical JSON requires.
//
// JavaScript strings compare by UTF-16 code unit. That equals code-point
// order except where an astral character (stored as a surrogate pair,
// units 0xD800–0xDFFF) meets a BMP character in U+E000–U+FFFF: by unit the
// astral one sorts first, by code point it sorts last ({"😀","ﬁ"}).

/** Compares two well-formed strings by code point (negative, zero, positive). */
export function compareByCodePoint(a: string, b: string): number {
  const length = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) return surrogatesLast(x) - surrogatesLast(y);
      return x - y;
    }
  }
  return a.length - b.length;
}

/** Moves surrogate units above U+E000–U+FFFF, keeping the order within each range. */
function surrogatesLast(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

const SURROGATE_UNIT = /[\ud800-\udfff]/;

/**
 * Sorts keys in place by code point. When no key holds a surrogate unit,
 * UTF-16 order already is code-point order and the native sort is used.
 */
export function sortByCodePoint(keys: string[]): string[] {
  if (keys.length < 2) return keys;
  for (const key of keys) {
    if (SURROGATE_UNIT.test(key)) return keys.sort(compareByCodePoint);
  }
  return keys.sort();
}
