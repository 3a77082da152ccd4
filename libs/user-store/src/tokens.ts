// Access tokens and device IDs. A token is shown once, when issued; the store
// keeps only its SHA-256, so a copy of the database grants nothing.
import { createHash, randomBytes, randomInt } from 'node:crypto';

const TOKEN_PREFIX = 'mbt_';

/** `mbt_` and 32 random bytes in URL-safe base64 (no padding). */
export function generateAccessToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashAccessToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const DEVICE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Ten upper-case letters, the shape clients are used to seeing. */
export function generateDeviceId(): string {
  let id = '';
  for (let i = 0; i < 10; i += 1) id += DEVICE_ALPHABET[randomInt(DEVICE_ALPHABET.length)];
  return id;
}
