// Server keys (server-server API "Retrieving server keys",
// `GET /_matrix/key/v2/server`): checking a peer's key document, remembering
// its keys, answering "may this key verify that request / that event", and
// building our own signed key document. Pure: fetching is the caller's job.

import { isJsonObject } from '@membrane/canonical-json';
import type { JsonObject } from '@membrane/canonical-json';
import { nodeCryptoBackend, ED25519_PUBLIC_KEY_LENGTH } from './backends.js';
import type { CryptoBackend } from './backends.js';
import { decodeBase64, encodeUnpaddedBase64 } from './base64.js';
import { ownMember } from './own-property.js';
import { signJson, verifyJsonSignature } from './sign-json.js';
import { ED25519 } from './signing-key.js';
import type { SigningKey } from './signing-key.js';

/** Spec (room version 5 signing requirements): trust valid_until_ts at most 7 days past the fetch. */
export const MAX_KEY_VALIDITY_PERIOD_MS = 7 * 24 * 60 * 60 * 1000;

/** Thrown when a server key document is malformed, for another server, or not validly self-signed. */
export class ServerKeyError extends Error {
  constructor(
    readonly serverName: string,
    message: string,
  ) {
    super(`server keys of ${serverName}: ${message}`);
    this.name = 'ServerKeyError';
  }
}

export interface OldVerifyKey {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  /** When the server stopped using the key (ms since the epoch). */
  readonly expiredTs: number;
}

/** A checked `/_matrix/key/v2/server` document. */
export interface ServerKeys {
  readonly serverName: string;
  readonly validUntilTs: number;
  /** Current keys, by key id; only ed25519 keys are kept. */
  readonly verifyKeys: ReadonlyMap<string, Uint8Array>;
  /** Keys the server used to use, by key id; a key also listed as current is left out. */
  readonly oldVerifyKeys: ReadonlyMap<string, OldVerifyKey>;
  /** The document as received, signatures included (what a notary serves on). */
  readonly document: JsonObject;
}

function isTimestamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function decodePublicKey(serverName: string, where: string, value: unknown): Uint8Array {
  if (typeof value !== 'string') throw new ServerKeyError(serverName, `${where}.key must be a string`);
  let publicKey: Uint8Array;
  try {
    publicKey = decodeBase64(value);
  } catch {
    throw new ServerKeyError(serverName, `${where}.key is not valid base64`);
  }
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new ServerKeyError(serverName, `${where}.key must be ${ED25519_PUBLIC_KEY_LENGTH} bytes, got ${publicKey.length}`);
  }
  return publicKey;
}

const isEd25519KeyId = (keyId: string): boolean => keyId.startsWith(`${ED25519}:`) && keyId.length > ED25519.length + 1;

/**
 * Checks a key document received for `expectedServerName` (directly or from a
 * notary). Keys of unknown algorithms are ignored. Like Synapse, every
 * signature by the server with one of its listed verify_keys must verify, and
 * there must be at least one.
 */
export function parseServerKeyResponse(
  body: unknown,
  expectedServerName: string,
  backend: CryptoBackend = nodeCryptoBackend,
): ServerKeys {
  const fail = (message: string): never => {
    throw new ServerKeyError(expectedServerName, message);
  };
  if (!isJsonObject(body)) return fail('the response is not a JSON object');
  const serverName = ownMember(body, 'server_name');
  if (typeof serverName !== 'string') return fail('server_name is missing');
  if (serverName !== expectedServerName) return fail(`server_name is ${JSON.stringify(serverName)}`);
  const validUntilTs = ownMember(body, 'valid_until_ts');
  if (!isTimestamp(validUntilTs)) return fail('valid_until_ts must be a non-negative integer');

  const verifyKeysJson = ownMember(body, 'verify_keys');
  if (!isJsonObject(verifyKeysJson)) return fail('verify_keys must be an object');
  const verifyKeys = new Map<string, Uint8Array>();
  for (const [keyId, entry] of Object.entries(verifyKeysJson)) {
    if (!isEd25519KeyId(keyId)) continue;
    if (!isJsonObject(entry)) return fail(`verify_keys.${keyId} must be an object`);
    verifyKeys.set(keyId, decodePublicKey(serverName, `verify_keys.${keyId}`, ownMember(entry, 'key')));
  }

  const oldVerifyKeys = new Map<string, OldVerifyKey>();
  const oldKeysJson = ownMember(body, 'old_verify_keys');
  if (oldKeysJson !== undefined) {
    if (!isJsonObject(oldKeysJson)) return fail('old_verify_keys must be an object');
    for (const [keyId, entry] of Object.entries(oldKeysJson)) {
      if (!isEd25519KeyId(keyId)) continue;
      if (!isJsonObject(entry)) return fail(`old_verify_keys.${keyId} must be an object`);
      const publicKey = decodePublicKey(serverName, `old_verify_keys.${keyId}`, ownMember(entry, 'key'));
      const expiredTs = ownMember(entry, 'expired_ts');
      if (!isTimestamp(expiredTs)) return fail(`old_verify_keys.${keyId}.expired_ts must be a non-negative integer`);
      if (!verifyKeys.has(keyId)) oldVerifyKeys.set(keyId, { keyId, publicKey, expiredTs });
    }
  }

  const signatures = ownMember(body, 'signatures');
  const selfSignatures = isJsonObject(signatures) ? ownMember(signatures, serverName) : undefined;
  let verifiedSignatures = 0;
  if (isJsonObject(selfSignatures)) {
    for (const keyId of Object.keys(selfSignatures)) {
      // A notary may have signed with a key of its own that is not listed here.
      const publicKey = verifyKeys.get(keyId);
      if (publicKey === undefined) continue;
      if (!verifyJsonSignature(body, serverName, keyId, publicKey, backend)) {
        return fail(`the signature by ${keyId} does not verify`);
      }
      verifiedSignatures++;
    }
  }
  if (verifiedSignatures === 0) return fail('the response is not signed by any of its verify_keys');
  return { serverName, validUntilTs, verifyKeys, oldVerifyKeys, document: body };
}

/**
 * Builds and signs our own key document: every key in `keys` is published in
 * verify_keys and signs the document; `oldKeys` go to old_verify_keys.
 */
export function buildServerKeyResponse(
  serverName: string,
  keys: readonly SigningKey[],
  oldKeys: readonly OldVerifyKey[],
  validUntilTs: number,
  backend: CryptoBackend = nodeCryptoBackend,
): JsonObject {
  if (keys.length === 0) throw new RangeError('a server key document needs at least one signing key');
  if (!isTimestamp(validUntilTs)) throw new RangeError('validUntilTs must be a non-negative integer');
  const verifyKeys: JsonObject = {};
  for (const key of keys) verifyKeys[key.keyId] = { key: encodeUnpaddedBase64(key.publicKey) };
  const oldVerifyKeys: JsonObject = {};
  for (const old of oldKeys) {
    if (!isTimestamp(old.expiredTs)) throw new RangeError(`expiredTs of ${old.keyId} must be a non-negative integer`);
    oldVerifyKeys[old.keyId] = { key: encodeUnpaddedBase64(old.publicKey), expired_ts: old.expiredTs };
  }
  let document: JsonObject = {
    server_name: serverName,
    valid_until_ts: validUntilTs,
    verify_keys: verifyKeys,
    old_verify_keys: oldVerifyKeys,
  };
  for (const key of keys) document = signJson(document, serverName, key, backend);
  return document;
}

/** One remembered key of one server. */
export interface StoredVerifyKey {
  readonly serverName: string;
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  /** valid_until_ts of the document the key came from. */
  readonly validUntilTs: number;
  readonly fetchedAtMs: number;
  /** Set for keys listed in old_verify_keys: when the server stopped using the key. */
  readonly expiredTs?: number;
}

/** The latest moment a key may be trusted: min(valid_until_ts, fetched + 7 days). */
export function effectiveValidUntilTs(entry: { readonly validUntilTs: number; readonly fetchedAtMs: number }): number {
  return Math.min(entry.validUntilTs, entry.fetchedAtMs + MAX_KEY_VALIDITY_PERIOD_MS);
}

export interface KeyForEventOptions {
  /** Room versions 5 and later: the key must be valid at the event's origin_server_ts. */
  readonly enforceKeyValidity: boolean;
}

interface StoredDocument {
  readonly keys: ServerKeys;
  readonly validUntilTs: number;
  readonly fetchedAtMs: number;
}

/** Prefer what came from the document valid the longest; on a tie, the later fetch. */
function supersedes(candidate: { validUntilTs: number; fetchedAtMs: number }, current: { validUntilTs: number; fetchedAtMs: number }): boolean {
  if (candidate.validUntilTs !== current.validUntilTs) return candidate.validUntilTs > current.validUntilTs;
  return candidate.fetchedAtMs >= current.fetchedAtMs;
}

/**
 * Remote servers' verify keys, one entry per (server, key id). Keys a newer
 * document no longer mentions are kept until they expire by themselves.
 */
export class VerifyKeyStore {
  readonly #keys = new Map<string, Map<string, StoredVerifyKey>>();
  readonly #documents = new Map<string, StoredDocument>();

  /** Remembers the keys of a document checked by {@link parseServerKeyResponse}. */
  add(keys: ServerKeys, fetchedAtMs: number): void {
    const source = { validUntilTs: keys.validUntilTs, fetchedAtMs };
    const previousDocument = this.#documents.get(keys.serverName);
    if (previousDocument === undefined || supersedes(source, previousDocument)) {
      this.#documents.set(keys.serverName, { keys, ...source });
    }
    let serverKeys = this.#keys.get(keys.serverName);
    if (serverKeys === undefined) {
      serverKeys = new Map();
      this.#keys.set(keys.serverName, serverKeys);
    }
    const offer = (entry: StoredVerifyKey): void => {
      const current = serverKeys.get(entry.keyId);
      if (current === undefined || supersedes(entry, current)) serverKeys.set(entry.keyId, entry);
    };
    for (const [keyId, publicKey] of keys.verifyKeys) {
      offer({ serverName: keys.serverName, keyId, publicKey, ...source });
    }
    for (const old of keys.oldVerifyKeys.values()) {
      offer({ serverName: keys.serverName, keyId: old.keyId, publicKey: old.publicKey, ...source, expiredTs: old.expiredTs });
    }
  }

  /** Checks a raw response with {@link parseServerKeyResponse}, then remembers it. */
  addResponse(body: unknown, expectedServerName: string, fetchedAtMs: number, backend: CryptoBackend = nodeCryptoBackend): ServerKeys {
    const keys = parseServerKeyResponse(body, expectedServerName, backend);
    this.add(keys, fetchedAtMs);
    return keys;
  }

  get(serverName: string, keyId: string): StoredVerifyKey | undefined {
    return this.#keys.get(serverName)?.get(keyId);
  }

  /** The document valid the longest for the server, as received (for serving as a notary). */
  latestDocument(serverName: string): JsonObject | undefined {
    return this.#documents.get(serverName)?.keys.document;
  }

  /** A key that may verify a request signed now: a current key, within its validity. */
  keyForRequest(serverName: string, keyId: string, nowMs: number): StoredVerifyKey | undefined {
    const entry = this.get(serverName, keyId);
    if (entry === undefined || entry.expiredTs !== undefined) return undefined;
    return effectiveValidUntilTs(entry) >= nowMs ? entry : undefined;
  }

  /**
   * A key that may verify an event's signature. An old key only covers events
   * sent no later than its expired_ts (spec: keys that expired before the
   * event are skipped). With `enforceKeyValidity` (room v5+) a current key
   * must also be valid at the event's origin_server_ts.
   */
  keyForEvent(serverName: string, keyId: string, eventOriginServerTs: number, options: KeyForEventOptions): StoredVerifyKey | undefined {
    const entry = this.get(serverName, keyId);
    if (entry === undefined) return undefined;
    if (entry.expiredTs !== undefined) return eventOriginServerTs <= entry.expiredTs ? entry : undefined;
    if (options.enforceKeyValidity && effectiveValidUntilTs(entry) < eventOriginServerTs) return undefined;
    return entry;
  }

  /** True when the key cannot verify a request now (unknown, old, or past its validity): fetch again. */
  isExpired(serverName: string, keyId: string, nowMs: number): boolean {
    return this.keyForRequest(serverName, keyId, nowMs) === undefined;
  }

  /**
   * True when the server's keys should be fetched again: nothing is known, the
   * wanted key is unknown, or half of the latest document's trusted lifetime
   * has passed (refetch early, keep using the old keys until they expire).
   */
  needsRefresh(serverName: string, nowMs: number, keyId?: string): boolean {
    const document = this.#documents.get(serverName);
    if (document === undefined) return true;
    if (keyId !== undefined && this.get(serverName, keyId) === undefined) return true;
    const lifetime = effectiveValidUntilTs(document) - document.fetchedAtMs;
    return nowMs >= document.fetchedAtMs + lifetime / 2;
  }
}
