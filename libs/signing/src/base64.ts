// Unpadded Base64 (spec appendix "Unpadded Base64"): keys and signatures travel
// as standard-alphabet Base64 without '=' padding; v4+ event IDs use the
// URL-safe alphabet. Decoders should accept both, padded or not.

/** Thrown when text is not Base64 in either alphabet, or has an impossible length. */
export class Base64Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Base64Error';
  }
}

const STANDARD_BODY = /^[A-Za-z0-9+/]*$/;
const URL_SAFE_BODY = /^[A-Za-z0-9\-_]*$/;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeUnpaddedBase64(bytes: Uint8Array): string {
  const padded = asBuffer(bytes).toString('base64');
  let end = padded.length;
  while (end > 0 && padded.charCodeAt(end - 1) === 0x3d /* '=' */) end--;
  return padded.slice(0, end);
}

export function encodeUnpaddedBase64Url(bytes: Uint8Array): string {
  // Node's base64url output is already unpadded.
  return asBuffer(bytes).toString('base64url');
}

/**
 * Decodes standard or URL-safe Base64, with or without padding. Padding, when
 * present, must be complete (length a multiple of 4); the two alphabets must
 * not be mixed. Non-zero trailing bits are tolerated, as Python's decoder does.
 */
export function decodeBase64(text: string): Uint8Array {
  if (typeof text !== 'string') throw new Base64Error('Base64 input must be a string');
  let body = text;
  const firstPad = text.indexOf('=');
  if (firstPad !== -1) {
    body = text.slice(0, firstPad);
    const padding = text.slice(firstPad);
    if (!/^={1,2}$/.test(padding)) throw new Base64Error('Base64 padding is malformed');
    if (text.length % 4 !== 0) throw new Base64Error('Base64 padding does not complete a 4-character group');
    if (body.length % 4 === 0 || (4 - (body.length % 4)) !== padding.length) {
      throw new Base64Error('Base64 padding does not match the data length');
    }
  }
  if (body.length % 4 === 1) throw new Base64Error(`Base64 length ${body.length} is impossible`);
  let encoding: 'base64' | 'base64url';
  if (STANDARD_BODY.test(body)) encoding = 'base64';
  else if (URL_SAFE_BODY.test(body)) encoding = 'base64url';
  else throw new Base64Error('Base64 input contains characters outside the standard and URL-safe alphabets');
  // Copy out of Node's shared allocation pool so callers own a plain array.
  return new Uint8Array(Buffer.from(body, encoding));
}
