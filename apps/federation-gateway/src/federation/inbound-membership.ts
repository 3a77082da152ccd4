// Receiving a signed membership event from another server: send_leave and
// send_join (v1 and v2), send_knock. The checks run in the order the design fixes (see
// docs/federation-gateway.md), so that each failure gets the error peers and
// test suites expect:
//   1. body parsed (by the HTTP layer)        400 M_NOT_JSON / M_BAD_JSON
//   2. body room_id equals the path           400 M_BAD_JSON
//   3. room known and we are in it            404 M_NOT_FOUND
//      (send_knock: a version with knocking   403 M_FORBIDDEN)
//   4. format of the room version             400 M_BAD_JSON / 413 M_TOO_LARGE
//   5. member event, membership, sender = state_key   400 M_BAD_JSON
//   6. server ACL                             403 M_FORBIDDEN
//   7. sender's server is the origin          403 M_FORBIDDEN
//   8. signatures                             403 M_FORBIDDEN
//   9. path event ID matches the event        400 M_INVALID_PARAM
//  10. content hash (mismatch: use the redacted event)
//  11. auth rules, current state, persist and relay: the membership service
import { JsonParseError, encodeCanonicalJson, isJsonObject, parseJson } from '@membrane/canonical-json';
import type { JsonObject, JsonValue } from '@membrane/canonical-json';
import { applyContentHashCheck, computeEventId, redactEvent, serverNameOf, validatePdu, verifyEventSignaturesAsync } from '@membrane/events';
import type { Pdu, RoomVersion } from '@membrane/events';
import { MatrixError } from '@membrane/matrix-errors';
import type { MatrixErrorExtra } from '@membrane/matrix-errors';
import { InputKind } from '@membrane/proto';
import type { InputEventResult } from '@membrane/proto';
import { computeJsonSignature } from '@membrane/signing';
import type { SigningKey } from '@membrane/signing';
import type { MembershipClient } from './membership-client.js';
import { assertServerAllowed, requireResidentRoom } from './rooms.js';
import type { RoomSnapshot } from './rooms.js';

export interface EventKeyLookup {
  keyForEvent(serverName: string, keyId: string, validAtTs: number): Promise<Uint8Array | undefined>;
}

export interface InboundMembershipDeps {
  readonly serverName: string;
  readonly signingKey: SigningKey;
  readonly keys: EventKeyLookup;
  readonly membership: MembershipClient;
}

export interface InboundMembershipRequest {
  readonly origin: string;
  readonly roomId: string;
  readonly eventId: string;
  readonly body: JsonObject;
  /** The body text, re-parsed with strict numbers for room versions 6+. */
  readonly bodyText: string;
  readonly membership: InboundMembership;
}

/** The memberships a remote server may send us for its own user (send_leave, send_join, send_knock). */
export type InboundMembership = 'leave' | 'join' | 'knock';

const INPUT_KINDS: Readonly<Record<InboundMembership, InputKind>> = {
  leave: InputKind.SEND_LEAVE,
  join: InputKind.SEND_JOIN,
  knock: InputKind.SEND_KNOCK,
};

export interface AcceptedMembershipEvent {
  readonly room: RoomSnapshot;
  /** The event as stored (redacted when its content hash did not match; co-signed by us for restricted joins). */
  readonly event: Pdu;
  readonly eventId: string;
}

/** Parses JSON text with the canonical-JSON number rules of room versions 6+ (no 1.0, no 1e5). */
export function parseStrictly(text: string, what: string): JsonValue {
  try {
    return parseJson(text, { strictNumbers: true });
  } catch (err) {
    if (err instanceof JsonParseError) throw MatrixError.badJson(`${what} is not canonical JSON: ${err.message}`);
    throw err;
  }
}

/**
 * Step 4: the PDU format of the room version over the whole event. From v6
 * the event is taken from `strictly()`, a strict re-parse of the received
 * text, since JSON.parse already turned `1.0` into `1`.
 */
export function checkEventFormat(event: JsonValue, strictly: () => JsonValue, version: RoomVersion): Pdu {
  const validated = validatePdu(version.strictCanonicalJson ? strictly() : event, version);
  if (!validated.ok) throw new MatrixError(validated.status, validated.errcode, validated.error);
  return validated.event;
}

/**
 * Step 5: an `m.room.member` event about its own sender with the expected
 * membership. A wrong value in the body is M_BAD_JSON (the spec's "invalid
 * values for keys"), as Synapse answers.
 */
export function checkMembershipShape(event: Pdu, membership: InboundMembership): void {
  if (event.type !== 'm.room.member') throw MatrixError.badJson('Not an m.room.member event');
  if (typeof event.state_key !== 'string') throw MatrixError.badJson('The member event has no state_key');
  const content = event.content;
  if (!isJsonObject(content) || content['membership'] !== membership) throw MatrixError.badJson(`Not a ${membership} event`);
  if (event.sender !== event.state_key) throw MatrixError.badJson('The sender and state_key of the event must be the same user');
}

/** Step 7: a server may only send membership events of its own users. */
export function checkSenderServer(event: Pdu, origin: string, membership: string): void {
  if (serverNameOf(event.sender) !== origin) {
    throw MatrixError.forbidden(`Not allowed to send a ${membership} event on behalf of another server (${serverNameOf(event.sender) ?? event.sender})`);
  }
}

/** Adds our signature (over the redacted event) without touching hashes or other signatures. */
export function addOwnSignature(event: Pdu, version: RoomVersion, serverName: string, key: SigningKey): Pdu {
  const signature = computeJsonSignature(redactEvent(event, version), key);
  const signatures = isJsonObject(event.signatures) ? event.signatures : {};
  const ours = isJsonObject(signatures[serverName]) ? signatures[serverName] : {};
  return { ...event, signatures: { ...signatures, [serverName]: { ...ours, [key.keyId]: signature } } } as Pdu;
}

/**
 * Restricted joins (v8+): a join naming one of our users in
 * `join_authorised_via_users_server` needs our signature before anyone can
 * check it; a join naming another server's user cannot be authorised here.
 */
function coSignRestrictedJoin(event: Pdu, version: RoomVersion, deps: InboundMembershipDeps): Pdu {
  if (!version.restrictedJoin) return event;
  const authoriser = isJsonObject(event.content) ? event.content['join_authorised_via_users_server'] : undefined;
  if (authoriser === undefined) return event;
  const authoriserServer = typeof authoriser === 'string' ? serverNameOf(authoriser) : undefined;
  if (authoriserServer !== deps.serverName) {
    throw MatrixError.invalidParam(`Cannot authorise a join for ${String(authoriserServer ?? authoriser)}: only joins authorised by users of ${deps.serverName} are signed here`);
  }
  return addOwnSignature(event, version, deps.serverName, deps.signingKey);
}

/** The Matrix error a rejected input result carries. */
export function inputRejection(result: InputEventResult | undefined): MatrixError {
  const error = result?.error;
  if (error === undefined) return MatrixError.forbidden('The event was not accepted');
  let extra: MatrixErrorExtra = {};
  if (error.extraJson !== '') {
    try {
      extra = JSON.parse(error.extraJson) as MatrixErrorExtra;
    } catch {
      extra = {};
    }
  }
  return new MatrixError(error.httpStatus === 0 ? 403 : error.httpStatus, error.errcode === '' ? 'M_FORBIDDEN' : error.errcode, error.message, extra);
}

export async function receiveMembershipEvent(deps: InboundMembershipDeps, request: InboundMembershipRequest): Promise<AcceptedMembershipEvent> {
  const { origin, membership } = request;
  // 2. The room in the body is the room of the path.
  const bodyRoomId = request.body['room_id'];
  if (bodyRoomId !== request.roomId) throw MatrixError.badJson('The room ID in the event does not match the room ID in the path');
  // 3. A room we are in.
  const room = await requireResidentRoom(deps.membership, request.roomId, deps.serverName);
  const { version } = room;
  // Before the event is even parsed, as Synapse does: knocking needs room version 7+.
  if (membership === 'knock' && !version.knock) throw MatrixError.forbidden('This room version does not support knocking');
  // 4. Canonical JSON and format, over the whole event.
  let event = checkEventFormat(request.body, () => parseStrictly(request.bodyText, 'The event'), version);
  // 5. What the endpoint accepts.
  checkMembershipShape(event, membership);
  // 6. Server ACL.
  assertServerAllowed(room, origin);
  // 7. Only the origin's own users.
  checkSenderServer(event, origin, membership);
  // 8. Signatures (the sender's server, and for restricted joins us as authoriser).
  if (membership === 'join') event = coSignRestrictedJoin(event, version, deps);
  const signatures = await verifyEventSignaturesAsync(event, version, (server, keyId, validAtTs) => deps.keys.keyForEvent(server, keyId, validAtTs));
  if (!signatures.ok) throw MatrixError.forbidden(`Signature check failed: ${signatures.error}`);
  // 9. The event the path names.
  const eventId = computeEventId(event, version);
  if (eventId !== request.eventId) throw MatrixError.invalidParam(`The event ID in the path does not match the event (${eventId})`);
  // 10. Content hash: on mismatch only the redacted event is kept. Redaction
  // keeps `membership` (and the reference hash, so the event ID is unchanged).
  event = applyContentHashCheck(event, version).event;
  // 11. Auth rules against auth events and current state, then persist and relay.
  const { results } = await deps.membership.inputEvents({
    origin,
    kind: INPUT_KINDS[membership],
    events: [{ eventJson: encodeCanonicalJson(event), roomVersion: version.id, strippedStateJson: [] }],
  });
  const [result] = results;
  if (result?.accepted !== true) throw inputRejection(result);
  return { room, event, eventId };
}
