import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nodeCryptoBackend, tweetnaclBackend } from './backends.js';
import { decodeBase64, encodeUnpaddedBase64 } from './base64.js';
import { SPEC_JSON_SIGNING, SPEC_KEY } from './test-support/vectors.js';

const backends = [nodeCryptoBackend, tweetnaclBackend];
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const specSeed = Uint8Array.from(Buffer.from(SPEC_KEY.seedHex, 'hex'));
const specPublicKey = decodeBase64(SPEC_KEY.publicKeyBase64);

describe('ed25519 backends', () => {
  for (const backend of backends) {
    describe(backend.name, () => {
      it('derives the public key of the spec test key', () => {
        assert.equal(encodeUnpaddedBase64(backend.publicKeyFromSeed(specSeed)), SPEC_KEY.publicKeyBase64);
      });

      it('produces the spec signatures over the spec signed bytes', () => {
        for (const vector of SPEC_JSON_SIGNING) {
          assert.equal(encodeUnpaddedBase64(backend.sign(specSeed, utf8(vector.signedBytes))), vector.signature);
        }
      });

      it('accepts the spec signatures', () => {
        for (const vector of SPEC_JSON_SIGNING) {
          assert.equal(backend.verify(specPublicKey, utf8(vector.signedBytes), decodeBase64(vector.signature)), true);
        }
      });

      it('rejects the signature once any single byte of message, signature or key changes', () => {
        const vector = SPEC_JSON_SIGNING[1];
        const message = utf8(vector.signedBytes);
        const signature = decodeBase64(vector.signature);
        const flip = (bytes: Uint8Array, index: number): Uint8Array => {
          const copy = new Uint8Array(bytes);
          copy[index] = (copy[index] as number) ^ 0x01;
          return copy;
        };
        for (let i = 0; i < message.length; i++) assert.equal(backend.verify(specPublicKey, flip(message, i), signature), false, `message byte ${i}`);
        for (let i = 0; i < signature.length; i++) assert.equal(backend.verify(specPublicKey, message, flip(signature, i)), false, `signature byte ${i}`);
        for (let i = 0; i < specPublicKey.length; i++) assert.equal(backend.verify(flip(specPublicKey, i), message, signature), false, `key byte ${i}`);
      });

      it('answers false, without throwing, for keys and signatures of the wrong length', () => {
        const message = utf8('{}');
        const signature = decodeBase64(SPEC_JSON_SIGNING[0].signature);
        assert.equal(backend.verify(specPublicKey.subarray(0, 31), message, signature), false);
        assert.equal(backend.verify(specPublicKey, message, signature.subarray(0, 63)), false);
        assert.equal(backend.verify(new Uint8Array(0), message, new Uint8Array(0)), false);
      });

      it('refuses to sign with a seed that is not 32 bytes', () => {
        assert.throws(() => backend.sign(new Uint8Array(31), utf8('x')), RangeError);
        assert.throws(() => backend.publicKeyFromSeed(new Uint8Array(64)), RangeError);
      });

      it('returns plain Uint8Arrays', () => {
        assert.equal(Object.getPrototypeOf(backend.sign(specSeed, utf8('x'))), Uint8Array.prototype);
        assert.equal(Object.getPrototypeOf(backend.publicKeyFromSeed(specSeed)), Uint8Array.prototype);
      });
    });
  }

  it('agree with each other on random keys and messages', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 512 }), (seed, message) => {
        const publicKey = nodeCryptoBackend.publicKeyFromSeed(seed);
        assert.deepEqual(tweetnaclBackend.publicKeyFromSeed(seed), publicKey);
        const signature = nodeCryptoBackend.sign(seed, message);
        // Ed25519 signatures are deterministic, so both must produce the same bytes.
        assert.deepEqual(tweetnaclBackend.sign(seed, message), signature);
        assert.equal(tweetnaclBackend.verify(publicKey, message, signature), true);
        assert.equal(nodeCryptoBackend.verify(publicKey, message, signature), true);
        const tampered = new Uint8Array(signature);
        tampered[message.length % 64] = (tampered[message.length % 64] as number) ^ 0x80;
        assert.equal(nodeCryptoBackend.verify(publicKey, message, tampered), false);
        // tweetnacl is slow; the per-byte tampering test above covers it on every byte.
        if (message.length % 5 === 0) assert.equal(tweetnaclBackend.verify(publicKey, message, tampered), false);
      }),
      { seed: 424242, numRuns: 300 },
    );
  });

  it('agree on random signatures that were never made by the key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 64, maxLength: 64 }), (seed, signature) => {
        const publicKey = nodeCryptoBackend.publicKeyFromSeed(seed);
        const message = utf8('message');
        assert.equal(nodeCryptoBackend.verify(publicKey, message, signature), false);
        assert.equal(tweetnaclBackend.verify(publicKey, message, signature), false);
      }),
      { seed: 7, numRuns: 100 },
    );
  });

  it('keep working past their key caches (more distinct keys than the cache holds)', () => {
    const message = utf8('cache');
    for (let i = 0; i < 1100; i++) {
      const seed = new Uint8Array(32);
      new DataView(seed.buffer).setUint32(0, i);
      const signature = nodeCryptoBackend.sign(seed, message);
      assert.equal(nodeCryptoBackend.verify(nodeCryptoBackend.publicKeyFromSeed(seed), message, signature), true);
    }
    const firstSeed = new Uint8Array(32);
    assert.equal(nodeCryptoBackend.verify(tweetnaclBackend.publicKeyFromSeed(firstSeed), message, nodeCryptoBackend.sign(firstSeed, message)), true);
  });
});
