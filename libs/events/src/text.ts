// String measurements used by size limits and identifier checks.

const encoder = new TextEncoder();

/** Length in UTF-8 bytes (how the spec states identifier limits). */
export function utf8ByteLength(text: string): number {
  // Fast path: pure ASCII needs no encoding.
  if (/^[\u0000-\u007f]*$/.test(text)) return text.length;
  return encoder.encode(text).length;
}

/** Length in Unicode code points (how Synapse counted before room v11). */
export function codePointLength(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

/** False when the string holds a lone UTF-16 surrogate, which has no UTF-8 form. */
export function isWellFormedText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    if (unit >= 0xdc00) return false;
    const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
    if (next < 0xdc00 || next > 0xdfff) return false;
    i++;
  }
  return true;
}
