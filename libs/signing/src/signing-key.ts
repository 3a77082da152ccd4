// Server signing keys in Synapse's `signing.key` file format: one key per
// line, `ed25519 <version> <unpadded base64 32-byte seed>` (python-signedjson
// `read_signing_keys` / `write_signing_keys`).

import { randomBytes, randomInt } from 'node:crypto';
import { nodeCryptoBackend, ED25519_SEED_LENGTH } from './backends.js';
import { decodeBase64, encodeUnpaddedBase64 } from './base64.js';

export const ED25519 = 'ed25519';

export interface SigningKey {
  readonly algorithm: 'ed25519';
  readonly version: string;
  /** `ed25519:<version>`, as used in `signatures` and `verify_keys`. */
  readonly keyId: string;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** Thrown for a malformed signing key or signing-key file. */
export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

// Spec (server-server keys.yaml): a key version is [a-zA-Z0-9_].
const KEY_VERSION = /^[A-Za-z0-9_]+$/;

export function isValidKeyVersion(version: string): boolean {
  return KEY_VERSION.test(version);
}

export function signingKeyFromSeed(version: string, seed: Uint8Array): SigningKey {
  if (!isValidKeyVersion(version)) {
    throw new SigningKeyError(`key version ${JSON.stringify(version)} must be non-empty and use only [A-Za-z0-9_]`);
  }
  if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SEED_LENGTH) {
    throw new SigningKeyError(`an ed25519 seed must be ${ED25519_SEED_LENGTH} bytes, got ${seed.length}`);
  }
  const ownSeed = new Uint8Array(seed);
  return Object.freeze({
    algorithm: ED25519,
    version,
    keyId: `${ED25519}:${version}`,
    seed: ownSeed,
    publicKey: nodeCryptoBackend.publicKeyFromSeed(ownSeed),
  });
}

const VERSION_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Synapse names generated keys `a_` + four random characters. */
export function randomKeyVersion(): string {
  let suffix = '';
  for (let i = 0; i < 4; i++) suffix += VERSION_ALPHABET[randomInt(VERSION_ALPHABET.length)];
  return `a_${suffix}`;
}

export function generateSigningKey(version: string = randomKeyVersion()): SigningKey {
  return signingKeyFromSeed(version, new Uint8Array(randomBytes(ED25519_SEED_LENGTH)));
}

/** The public key in the unpadded Base64 form used in `verify_keys`. */
export function encodeVerifyKey(key: Pick<SigningKey, 'publicKey'>): string {
  return encodeUnpaddedBase64(key.publicKey);
}

/**
 * Reads every key of a `signing.key` file. Blank lines are skipped; any other
 * line that is not `ed25519 <version> <seed>` is an error naming the line.
 */
export function parseSigningKeyFile(text: string): SigningKey[] {
  const keys: SigningKey[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `signing key file line ${index + 1}`;
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 3) {
      throw new SigningKeyError(`${where}: expected "ed25519 <version> <base64 seed>", found ${fields.length} field(s)`);
    }
    const [algorithm, version, seedBase64] = fields as [string, string, string];
    if (algorithm !== ED25519) throw new SigningKeyError(`${where}: unsupported algorithm ${JSON.stringify(algorithm)}`);
    let seed: Uint8Array;
    try {
      seed = decodeBase64(seedBase64);
    } catch (error) {
      throw new SigningKeyError(`${where}: seed is not valid base64 (${(error as Error).message})`);
    }
    try {
      keys.push(signingKeyFromSeed(version, seed));
    } catch (error) {
      throw new SigningKeyError(`${where}: ${(error as Error).message}`);
    }
  });
  return keys;
}

export function formatSigningKeyFile(keys: readonly SigningKey[]): string {
  return keys.map((key) => `${key.algorithm} ${key.version} ${encodeUnpaddedBase64(key.seed)}\n`).join('');
}
