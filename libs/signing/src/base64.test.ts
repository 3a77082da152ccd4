import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Base64Error, decodeBase64, encodeUnpaddedBase64, encodeUnpaddedBase64Url } from './base64.js';

const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);

// Spec appendix "Unpadded Base64" examples (MATRIX_FACTS.md V11).
const SPEC_EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  ['', ''],
  ['f', 'Zg'],
  ['fo', 'Zm8'],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg'],
  ['fooba', 'Zm9vYmE'],
  ['foobar', 'Zm9vYmFy'],
];

describe('unpadded Base64', () => {
  it('encodes the spec examples without padding', () => {
    for (const [plain, encoded] of SPEC_EXAMPLES) assert.equal(encodeUnpaddedBase64(bytesOf(plain)), encoded);
  });

  it('decodes the spec examples', () => {
    for (const [plain, encoded] of SPEC_EXAMPLES) assert.deepEqual(decodeBase64(encoded), bytesOf(plain));
  });

  it('uses + and / in the standard alphabet and - and _ in the URL-safe one', () => {
    const bytes = new Uint8Array([0xfb, 0xff, 0xbf]);
    assert.equal(encodeUnpaddedBase64(bytes), '+/+/');
    assert.equal(encodeUnpaddedBase64Url(bytes), '-_-_');
    assert.equal(encodeUnpaddedBase64Url(new Uint8Array([0xff])), '_w');
  });

  it('encodes a view of a larger buffer by its own bytes only', () => {
    const whole = bytesOf('xxfooxx');
    assert.equal(encodeUnpaddedBase64(whole.subarray(2, 5)), 'Zm9v');
  });

  it('accepts padded input', () => {
    assert.deepEqual(decodeBase64('Zg=='), bytesOf('f'));
    assert.deepEqual(decodeBase64('Zm8='), bytesOf('fo'));
    assert.deepEqual(decodeBase64('Zm9v'), bytesOf('foo'));
  });

  it('accepts URL-safe input, padded or not', () => {
    assert.deepEqual(decodeBase64('-_-_'), new Uint8Array([0xfb, 0xff, 0xbf]));
    assert.deepEqual(decodeBase64('_w'), new Uint8Array([0xff]));
    assert.deepEqual(decodeBase64('_w=='), new Uint8Array([0xff]));
  });

  it('tolerates non-zero padding bits, which the spec test seed has (MATRIX_FACTS V5)', () => {
    const seedHex = '6090c103d5e7af6b15a970fd563ed75549e6159719ae5c3c31dee4316fb75c0d';
    assert.equal(Buffer.from(decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1')).toString('hex'), seedHex);
    assert.equal(Buffer.from(decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0')).toString('hex'), seedHex);
    assert.deepEqual(decodeBase64('Zh'), bytesOf('f'));
  });

  it('returns a plain Uint8Array the caller owns', () => {
    const decoded = decodeBase64('Zm9v');
    assert.equal(Object.getPrototypeOf(decoded), Uint8Array.prototype);
    assert.equal(decoded.byteOffset, 0);
    assert.equal(decoded.buffer.byteLength, 3);
  });

  const rejects = (text: string, why: string): void => {
    assert.throws(() => decodeBase64(text), Base64Error, `${JSON.stringify(text)} should be rejected: ${why}`);
  };

  it('rejects characters outside both alphabets', () => {
    rejects('Zm9v!', 'bang');
    rejects('Zm 9v', 'inner space');
    rejects(' Zm9v', 'leading space');
    rejects('Zm9v\n', 'trailing newline');
    rejects('Zm9vé', 'non-ASCII');
  });

  it('rejects a mix of the standard and URL-safe alphabets', () => {
    rejects('+_', 'mixed alphabets');
    rejects('-/', 'mixed alphabets');
  });

  it('rejects impossible lengths', () => {
    rejects('Z', 'one character');
    rejects('Zm9vY', 'five characters');
  });

  it('rejects malformed padding', () => {
    rejects('Zg=', 'incomplete padding');
    rejects('Zg===', 'too much padding');
    rejects('Zm9v====', 'padding after a full group');
    rejects('Zm8==', 'padding that does not fit the data');
    rejects('Z=g=', 'padding in the middle');
    rejects('=', 'padding only');
  });

  it('round-trips any bytes through both alphabets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const standard = encodeUnpaddedBase64(bytes);
        const urlSafe = encodeUnpaddedBase64Url(bytes);
        assert.ok(!standard.includes('=') && !urlSafe.includes('='));
        assert.deepEqual(decodeBase64(standard), bytes);
        assert.deepEqual(decodeBase64(urlSafe), bytes);
        assert.deepEqual(decodeBase64(Buffer.from(bytes).toString('base64')), bytes);
      }),
      { seed: 20261123, numRuns: 300 },
    );
  });
});
