// Signing events and checking received ones (spec server-server API,
// §"Signing Events", §"Checks performed on receipt of a PDU";
// MATRIX_FACTS.md §2). Signatures cover the *redacted* event, so they stay
// valid after a redaction; the content hash covers the full event.
import type { JsonObject } from '@membrane/canonical-json';
import { computeJsonSignature, verifyJsonSignature } from '@membrane/signing';
import type { CryptoBackend, SigningKey } from '@membrane/signing';
import { checkContentHash, computeContentHash } from './hashes.js';
import { parseUserId, serverNameOf } from './identifiers.js';
import { copyWithout, isPlainObject } from './json.js';
import { redactEvent } from './redaction.js';
import type { RoomVersion } from './room-versions.js';
import type { EventHashes, EventLike, EventSignatures, Pdu } from './types.js';

export type SignedEvent<T extends EventLike> = Omit<T, 'hashes' | 'signatures'> & {
  hashes: EventHashes;
  signatures: EventSignatures;
};

/**
 * Returns a copy of `event` with `hashes.sha256` set to its content hash and
 * `serverName`'s signature (by `key`) over the redacted copy added to
 * `signatures`; signatures of other servers or keys are kept. The input is
 * not modified; nested values other than `hashes`/`signatures` are shared.
 * Throws CanonicalJsonError for values without canonical JSON form.
 */
export function hashAndSignEvent<T extends EventLike>(
  event: T,
  serverName: string,
  key: SigningKey,
  version: RoomVersion,
  backend?: CryptoBackend,
): SignedEvent<T> {
  const hashed: JsonObject = copyWithout(event, ['hashes']);
  hashed['hashes'] = { sha256: computeContentHash(event) };
  const signature = computeJsonSignature(redactEvent(hashed, version), key, backend);
  const existing = readSignatures(event['signatures']);
  hashed['signatures'] = { ...existing, [serverName]: { ...existing[serverName], [key.keyId]: signature } };
  return hashed as unknown as SignedEvent<T>;
}

function readSignatures(value: unknown): EventSignatures {
  if (!isPlainObject(value)) return {};
  const result: EventSignatures = {};
  for (const [server, byKey] of Object.entries(value)) {
    if (!isPlainObject(byKey)) continue;
    const kept: Record<string, string> = {};
    for (const [keyId, signature] of Object.entries(byKey)) if (typeof signature === 'string') kept[keyId] = signature;
    result[server] = kept;
  }
  return result;
}

/**
 * Finds the Ed25519 public key `keyId` of `serverName`, or undefined when it
 * is unknown. `validAtTs` is the time the key must have been valid at: the
 * event's `origin_server_ts` from room v5 on (spec: key validity is enforced),
 * 0 (= any time) before. A lookup that cannot know (network) must resolve keys
 * beforehand; see `verifyEventSignaturesAsync`.
 */
export type VerifyKeyLookup = (serverName: string, keyId: string, validAtTs: number) => Uint8Array | undefined;
export type AsyncVerifyKeyLookup = (
  serverName: string,
  keyId: string,
  validAtTs: number,
) => Promise<Uint8Array | undefined> | Uint8Array | undefined;

/** Why a server's signature is not accepted. */
export type SignatureFailureReason =
  /** The ID naming the server (sender, event_id, authorising user) cannot be parsed. */
  | 'invalid_id'
  /** No `ed25519:` signature from that server. */
  | 'not_signed'
  /** Signed, but none of the keys used is known (or valid at the event's time). */
  | 'unknown_key'
  /** A known key's signature does not verify. */
  | 'bad_signature';

/** Why a server's signature is required. */
export type SignatureRole = 'sender' | 'event_id' | 'authorising_server';

export type SignatureCheckResult =
  | { readonly ok: true; readonly servers: readonly string[] }
  | {
      readonly ok: false;
      /** The server whose signature failed, or the unparseable ID for `invalid_id`. */
      readonly server: string;
      readonly role: SignatureRole;
      readonly reason: SignatureFailureReason;
      readonly error: string;
    };

interface RequiredSigner {
  readonly server: string;
  readonly role: SignatureRole;
}

type SignerList =
  | { readonly ok: true; readonly signers: readonly RequiredSigner[] }
  | { readonly ok: false; readonly id: string; readonly role: SignatureRole };

/**
 * The servers that must have signed `event` (spec §"Validating hashes and
 * signatures on received events", v8 auth rules):
 * - the sender's server, except for an invite made from a third-party invite;
 * - v1/v2: also the server named in `event_id`;
 * - v8+: for a member event carrying `join_authorised_via_users_server`, that
 *   user's server (the spec's auth rule applies to every membership; Synapse
 *   checks it only on joins).
 */
function requiredSigners(event: EventLike, version: RoomVersion): SignerList {
  const signers: RequiredSigner[] = [];
  const add = (server: string, role: SignatureRole): void => {
    if (!signers.some((s) => s.server === server)) signers.push({ server, role });
  };
  const content = isPlainObject(event['content']) ? event['content'] : {};
  const isMember = event['type'] === 'm.room.member';

  const sender = typeof event['sender'] === 'string' ? event['sender'] : '';
  const isThirdPartyInvite = isMember && content['membership'] === 'invite' && content['third_party_invite'] !== undefined;
  if (!isThirdPartyInvite) {
    const senderServer = parseUserId(sender)?.serverName;
    if (senderServer === undefined) return { ok: false, id: sender, role: 'sender' };
    add(senderServer, 'sender');
  }

  if (version.eventFormat === 'v1') {
    const eventId = typeof event['event_id'] === 'string' ? event['event_id'] : '';
    const eventIdServer = eventId.startsWith('$') ? serverNameOf(eventId) : undefined;
    if (eventIdServer === undefined) return { ok: false, id: eventId, role: 'event_id' };
    add(eventIdServer, 'event_id');
  }

  const authoriser = content['join_authorised_via_users_server'];
  if (version.restrictedJoin && isMember && authoriser !== undefined) {
    const authoriserServer = typeof authoriser === 'string' ? parseUserId(authoriser)?.serverName : undefined;
    if (authoriserServer === undefined) return { ok: false, id: String(authoriser), role: 'authorising_server' };
    add(authoriserServer, 'authorising_server');
  }
  return { ok: true, signers };
}

function keyValidityTs(event: EventLike, version: RoomVersion): number {
  const ts = event['origin_server_ts'];
  return version.enforceKeyValidity && typeof ts === 'number' ? ts : 0;
}

function ed25519KeyIds(event: EventLike, server: string): string[] {
  const signatures = event['signatures'];
  if (!isPlainObject(signatures)) return [];
  const byKey = Object.hasOwn(signatures, server) ? signatures[server] : undefined;
  if (!isPlainObject(byKey)) return [];
  return Object.keys(byKey).filter((keyId) => keyId.startsWith('ed25519:') && typeof byKey[keyId] === 'string');
}

/**
 * Checks every signature the spec requires on a received event (see
 * `requiredSigners`) against the redacted event, so a redacted copy verifies
 * as well as the full one. For each required server: signatures by unknown
 * keys are skipped, any known key whose signature fails is a failure, and at
 * least one must verify. Hashes are not checked here (`applyContentHashCheck`).
 */
export function verifyEventSignatures(
  event: EventLike,
  version: RoomVersion,
  lookupKey: VerifyKeyLookup,
  backend?: CryptoBackend,
): SignatureCheckResult {
  const required = requiredSigners(event, version);
  if (!required.ok) {
    return { ok: false, server: required.id, role: required.role, reason: 'invalid_id', error: `Cannot find the server of ${JSON.stringify(required.id)} (${required.role})` };
  }
  const validAtTs = keyValidityTs(event, version);
  const redacted = redactEvent(event, version);
  for (const { server, role } of required.signers) {
    const keyIds = ed25519KeyIds(event, server);
    if (keyIds.length === 0) {
      return { ok: false, server, role, reason: 'not_signed', error: `Event is not signed by ${server} (${role})` };
    }
    let verified = false;
    for (const keyId of keyIds) {
      const publicKey = lookupKey(server, keyId, validAtTs);
      if (publicKey === undefined) continue;
      if (!verifyJsonSignature(redacted, server, keyId, publicKey, backend)) {
        return { ok: false, server, role, reason: 'bad_signature', error: `Invalid signature by ${server} with key ${keyId}` };
      }
      verified = true;
    }
    if (!verified) {
      return { ok: false, server, role, reason: 'unknown_key', error: `No known key of ${server} for its signature (keys ${keyIds.join(', ')})` };
    }
  }
  return { ok: true, servers: required.signers.map((s) => s.server) };
}

/**
 * `verifyEventSignatures` with a lookup that may fetch keys: every key the
 * check could need is looked up first (in parallel), then the check runs.
 */
export async function verifyEventSignaturesAsync(
  event: EventLike,
  version: RoomVersion,
  lookupKey: AsyncVerifyKeyLookup,
  backend?: CryptoBackend,
): Promise<SignatureCheckResult> {
  const required = requiredSigners(event, version);
  const validAtTs = keyValidityTs(event, version);
  const wanted = required.ok ? required.signers.flatMap(({ server }) => ed25519KeyIds(event, server).map((keyId) => ({ server, keyId }))) : [];
  const found = await Promise.all(wanted.map(async ({ server, keyId }) => [`${server}\u0000${keyId}`, await lookupKey(server, keyId, validAtTs)] as const));
  const keys = new Map(found);
  return verifyEventSignatures(event, version, (server, keyId) => keys.get(`${server}\u0000${keyId}`), backend);
}

export type ContentHashOutcome =
  | { readonly hashMatches: true; readonly event: Pdu }
  | { readonly hashMatches: false; readonly event: Pdu };

/**
 * The hash step of receiving a PDU: when the content hash does not match
 * (or `hashes` is missing), the event is kept but only in its redacted form.
 */
export function applyContentHashCheck(event: Pdu, version: RoomVersion): ContentHashOutcome {
  if (checkContentHash(event)) return { hashMatches: true, event };
  // Redaction keeps every field a PDU requires, so the result is still a PDU.
  return { hashMatches: false, event: redactEvent(event, version) as unknown as Pdu };
}
