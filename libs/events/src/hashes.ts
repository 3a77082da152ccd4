// Content hash and reference hash (spec server-server API, §"Calculating the
// content hash" and §"Calculating the reference hash"; MATRIX_FACTS.md §3).
import { createHash } from 'node:crypto';
import { CanonicalJsonError, encodeCanonicalJsonBytes } from '@membrane/canonical-json';
import { encodeUnpaddedBase64 } from '@membrane/signing';
import { copyWithout, isPlainObject } from './json.js';
import { redactEvent } from './redaction.js';
import type { RoomVersion } from './room-versions.js';
import type { EventLike } from './types.js';

/** Keys outside the content hash: the hash itself and what is added after hashing. */
const NOT_CONTENT_HASHED = ['unsigned', 'signatures', 'hashes'] as const;

/**
 * Keys outside the reference hash, dropped after redaction. Redaction already
 * drops `unsigned` and a legacy top-level `age_ts` (Synapse strips the latter
 * too); listing them keeps the intent visible.
 */
const NOT_REFERENCE_HASHED = ['signatures', 'unsigned', 'age_ts'] as const;

export function sha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

/**
 * SHA-256 over the canonical JSON of the full (unredacted) event without
 * `unsigned`, `signatures` and `hashes`, as unpadded standard base64: the
 * value that goes in `hashes.sha256`.
 */
export function computeContentHash(event: EventLike): string {
  return encodeUnpaddedBase64(sha256(encodeCanonicalJsonBytes(copyWithout(event, NOT_CONTENT_HASHED))));
}

/**
 * SHA-256 over the canonical JSON of the redacted event without `signatures`
 * and `unsigned`. It commits to the full content through `hashes`, which
 * redaction keeps. v3+ event IDs and v1/v2 event references are built from it.
 */
export function computeReferenceHash(event: EventLike, version: RoomVersion): Uint8Array {
  return sha256(encodeCanonicalJsonBytes(copyWithout(redactEvent(event, version), NOT_REFERENCE_HASHED)));
}

/**
 * True when `hashes.sha256` is present and equals the content hash of the
 * event. False, not an exception, for an event without canonical JSON form.
 */
export function checkContentHash(event: EventLike): boolean {
  const hashes = event['hashes'];
  if (!isPlainObject(hashes)) return false;
  const claimed = hashes['sha256'];
  if (typeof claimed !== 'string') return false;
  let actual: string;
  try {
    actual = computeContentHash(event);
  } catch (error) {
    if (error instanceof CanonicalJsonError) return false;
    throw error;
  }
  // Senders may pad base64; compare without padding.
  return claimed.replace(/=+$/, '') === actual;
}
