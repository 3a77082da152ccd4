// Signing JSON (spec appendix "Signing JSON"; python-signedjson `sign.py`):
// the signature covers the canonical JSON of the object without its
// `signatures` and `unsigned` members, and is stored at
// `signatures[<entity>][<key id>]` as unpadded Base64.

import { encodeCanonicalJsonBytes, isJsonObject } from '@membrane/canonical-json';
import type { JsonObject } from '@membrane/canonical-json';
import { nodeCryptoBackend, ED25519_SIGNATURE_LENGTH } from './backends.js';
import type { CryptoBackend } from './backends.js';
import { decodeBase64, encodeUnpaddedBase64 } from './base64.js';
import { ownMember } from './own-property.js';
import { ED25519 } from './signing-key.js';
import type { SigningKey } from './signing-key.js';

/** The bytes a JSON signature covers: canonical JSON without `signatures` and `unsigned`. */
export function signedBytesOf(value: JsonObject): Uint8Array {
  const { signatures: _signatures, unsigned: _unsigned, ...covered } = value;
  return encodeCanonicalJsonBytes(covered);
}

export function computeJsonSignature(value: JsonObject, key: SigningKey, backend: CryptoBackend = nodeCryptoBackend): string {
  return encodeUnpaddedBase64(backend.sign(key.seed, signedBytesOf(value)));
}

/**
 * Returns a new object with `signatures[signerName][key.keyId]` set. Other
 * signatures and `unsigned` are kept; the input is not mutated (nested values
 * other than `signatures` are shared with it, not copied).
 */
export function signJson<T extends JsonObject>(
  value: T,
  signerName: string,
  key: SigningKey,
  backend: CryptoBackend = nodeCryptoBackend,
): T {
  const existing = ownMember(value, 'signatures');
  if (existing !== undefined && !isJsonObject(existing)) throw new TypeError('`signatures` must be an object');
  const existingForSigner = existing === undefined ? undefined : ownMember(existing, signerName);
  if (existingForSigner !== undefined && !isJsonObject(existingForSigner)) {
    throw new TypeError(`\`signatures.${signerName}\` must be an object`);
  }
  const signature = computeJsonSignature(value, key, backend);
  return {
    ...value,
    signatures: { ...existing, [signerName]: { ...existingForSigner, [key.keyId]: signature } },
  };
}

/** Key ids under `signatures[signerName]` whose algorithm this library supports (ed25519). */
export function signatureKeyIds(value: JsonObject, signerName: string): string[] {
  const signatures = ownMember(value, 'signatures');
  if (!isJsonObject(signatures)) return [];
  const forSigner = ownMember(signatures, signerName);
  if (!isJsonObject(forSigner)) return [];
  return Object.keys(forSigner).filter((keyId) => keyId.startsWith(`${ED25519}:`));
}

/**
 * True only if `signatures[signerName][keyId]` is an ed25519 signature by
 * `publicKey` over the object. False for a missing, undecodable or wrong
 * signature, an unsupported key algorithm, or an object that has no canonical
 * JSON form (nothing can have signed it).
 */
export function verifyJsonSignature(
  value: JsonObject,
  signerName: string,
  keyId: string,
  publicKey: Uint8Array,
  backend: CryptoBackend = nodeCryptoBackend,
): boolean {
  if (!keyId.startsWith(`${ED25519}:`)) return false;
  const signatures = ownMember(value, 'signatures');
  if (!isJsonObject(signatures)) return false;
  const forSigner = ownMember(signatures, signerName);
  if (!isJsonObject(forSigner)) return false;
  const encoded = ownMember(forSigner, keyId);
  if (typeof encoded !== 'string') return false;
  let signature: Uint8Array;
  let message: Uint8Array;
  try {
    signature = decodeBase64(encoded);
    message = signedBytesOf(value);
  } catch {
    return false;
  }
  if (signature.length !== ED25519_SIGNATURE_LENGTH) return false;
  return backend.verify(publicKey, message, signature);
}
