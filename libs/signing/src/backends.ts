// Ed25519 implementations behind one interface: node:crypto (OpenSSL, the
// default and the fastest) and tweetnacl (pure JavaScript, an independent
// implementation used to cross-check the first and where OpenSSL is absent).

import { createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { BoundedCache } from './bounded-cache.js';

export const ED25519_SEED_LENGTH = 32;
export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;

export interface CryptoBackend {
  readonly name: string;
  publicKeyFromSeed(seed: Uint8Array): Uint8Array;
  sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /** False for a wrong signature and for keys or signatures of the wrong length; never throws for bad input. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

/** How many parsed private and public keys each backend keeps. */
const KEY_CACHE_CAPACITY = 1024;

function requireSeed(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SEED_LENGTH) {
    throw new RangeError(`an ed25519 seed must be ${ED25519_SEED_LENGTH} bytes`);
  }
}

function cacheKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function plainBytes(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer);
}

// DER prefixes that wrap a raw 32-byte ed25519 seed (PKCS#8) or public key
// (SPKI), RFC 8410; OpenSSL parses these faster than JWK.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function createNodeCryptoBackend(): CryptoBackend {
  const privateKeys = new BoundedCache<string, KeyObject>(KEY_CACHE_CAPACITY);
  const publicKeys = new BoundedCache<string, KeyObject>(KEY_CACHE_CAPACITY);

  const privateKeyFor = (seed: Uint8Array): KeyObject => {
    requireSeed(seed);
    return privateKeys.getOrCreate(cacheKey(seed), () =>
      createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' }),
    );
  };
  const publicKeyFor = (publicKey: Uint8Array): KeyObject =>
    publicKeys.getOrCreate(cacheKey(publicKey), () =>
      createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' }),
    );

  return {
    name: 'node:crypto',
    publicKeyFromSeed(seed) {
      const spki = createPublicKey(privateKeyFor(seed)).export({ format: 'der', type: 'spki' });
      return plainBytes(spki.subarray(SPKI_ED25519_PREFIX.length));
    },
    sign(seed, message) {
      return plainBytes(cryptoSign(null, message, privateKeyFor(seed)));
    },
    verify(publicKey, message, signature) {
      if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH || signature.length !== ED25519_SIGNATURE_LENGTH) return false;
      try {
        return cryptoVerify(null, message, publicKeyFor(publicKey), signature);
      } catch {
        // OpenSSL refuses some invalid points at parse time: not a valid signature either way.
        return false;
      }
    },
  };
}

function createTweetnaclBackend(): CryptoBackend {
  // Deriving the key pair from a seed costs a scalar multiplication; keep it.
  const secretKeys = new BoundedCache<string, Uint8Array>(KEY_CACHE_CAPACITY);
  const secretKeyFor = (seed: Uint8Array): Uint8Array => {
    requireSeed(seed);
    return secretKeys.getOrCreate(cacheKey(seed), () => nacl.sign.keyPair.fromSeed(seed).secretKey);
  };
  return {
    name: 'tweetnacl',
    publicKeyFromSeed(seed) {
      // The second half of a NaCl secret key is the public key.
      return secretKeyFor(seed).slice(ED25519_SEED_LENGTH);
    },
    sign(seed, message) {
      return nacl.sign.detached(message, secretKeyFor(seed));
    },
    verify(publicKey, message, signature) {
      if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH || signature.length !== ED25519_SIGNATURE_LENGTH) return false;
      return nacl.sign.detached.verify(message, signature, publicKey);
    },
  };
}

export const nodeCryptoBackend: CryptoBackend = createNodeCryptoBackend();
export const tweetnaclBackend: CryptoBackend = createTweetnaclBackend();
