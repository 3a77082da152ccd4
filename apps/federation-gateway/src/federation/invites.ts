// Receiving an invite for one of our users (`PUT /invite` v1 and v2): check
// it in the same order as the other membership endpoints, sign it as the
// invitee's server, and hand it with its stripped state to the membership
// service, which stores it and remembers the servers to try when the user
// answers. The answer is the event with our signature.
//   v2 body: {room_version, event, invite_room_state?}
//   v1 body: the event; stripped state in event.unsigned.invite_room_state;
//            room version 1 assumed (v1 and v2 rooms share their event format).
import { encodeCanonicalJson, isJsonObject } from '@membrane/canonical-json';
import type { JsonObject, JsonValue } from '@membrane/canonical-json';
import { applyContentHashCheck, computeEventId, findRoomVersion, serverNameOf, verifyEventSignaturesAsync } from '@membrane/events';
import type { Pdu, RoomVersion } from '@membrane/events';
import { MatrixError } from '@membrane/matrix-errors';
import { InputKind } from '@membrane/proto';
import { addOwnSignature, checkEventFormat, inputRejection, parseStrictly } from './inbound-membership.js';
import type { InboundMembershipDeps } from './inbound-membership.js';
import { assertServerAllowed, lookupRoom } from './rooms.js';

export interface InviteRequest {
  readonly origin: string;
  readonly roomId: string;
  readonly eventId: string;
  readonly body: JsonObject;
  readonly bodyText: string;
  readonly apiVersion: 'v1' | 'v2';
}

interface InviteEnvelope {
  readonly version: RoomVersion;
  readonly event: JsonObject;
  /** The event re-parsed strictly from the received text (see checkEventFormat). */
  readonly strictEvent: () => JsonValue;
  readonly strippedState: readonly JsonValue[];
}

function strippedStateOf(value: JsonValue | undefined): JsonValue[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isJsonObject)) throw MatrixError.badJson('invite_room_state must be a list of objects');
  return value;
}

/** Room version, event and stripped state of either API version. */
function envelopeOf(request: InviteRequest): InviteEnvelope {
  const { body } = request;
  const strictBody = (): JsonValue => parseStrictly(request.bodyText, 'The invite');
  if (request.apiVersion === 'v1') {
    const version = findRoomVersion('1') as RoomVersion;
    const unsigned = body['unsigned'];
    return { version, event: body, strictEvent: strictBody, strippedState: strippedStateOf(isJsonObject(unsigned) ? unsigned['invite_room_state'] : undefined) };
  }
  const versionId = body['room_version'];
  if (typeof versionId !== 'string') throw MatrixError.missingParam('room_version is required');
  const version = findRoomVersion(versionId);
  if (version === undefined) {
    throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${versionId} is not supported by this server`, { room_version: versionId });
  }
  const event = body['event'];
  if (!isJsonObject(event)) throw MatrixError.badJson('event must be an object');
  return {
    version,
    event,
    strictEvent: () => {
      const strict = strictBody();
      return isJsonObject(strict) ? (strict['event'] ?? null) : null;
    },
    strippedState: strippedStateOf(body['invite_room_state']),
  };
}

/** Returns the invite event signed by us as the invitee's server. */
export async function receiveInvite(deps: InboundMembershipDeps, request: InviteRequest): Promise<Pdu> {
  const { origin } = request;
  const envelope = envelopeOf(request);
  const { version } = envelope;
  if (envelope.event['room_id'] !== request.roomId) throw MatrixError.invalidParam('The room ID in the event does not match the room ID in the path');
  let event = checkEventFormat(envelope.event, envelope.strictEvent, version);
  if (event.type !== 'm.room.member') throw MatrixError.invalidParam('Not an m.room.member event');
  if (event.content['membership'] !== 'invite') throw MatrixError.invalidParam('Not an invite event');
  if (typeof event.state_key !== 'string' || serverNameOf(event.state_key) !== deps.serverName) {
    throw MatrixError.invalidParam(`The invited user is not a user of ${deps.serverName}`);
  }
  assertServerAllowed(await lookupRoom(deps.membership, request.roomId, deps.serverName), origin);
  if (serverNameOf(event.sender) !== origin) throw MatrixError.forbidden('Not allowed to send an invite on behalf of another server');
  const signatures = await verifyEventSignaturesAsync(event, version, (server, keyId, validAtTs) => deps.keys.keyForEvent(server, keyId, validAtTs));
  if (!signatures.ok) throw MatrixError.forbidden(`Signature check failed: ${signatures.error}`);
  const eventId = computeEventId(event, version);
  if (eventId !== request.eventId) throw MatrixError.invalidParam(`The event ID in the path does not match the event (${eventId})`);
  event = applyContentHashCheck(event, version).event;
  const signed = addOwnSignature(event, version, deps.serverName, deps.signingKey);
  const { results } = await deps.membership.inputEvents({
    origin,
    kind: InputKind.INVITE,
    events: [{ eventJson: encodeCanonicalJson(signed), roomVersion: version.id, strippedStateJson: envelope.strippedState.map((s) => encodeCanonicalJson(s)) }],
  });
  const [result] = results;
  if (result?.accepted !== true) throw inputRejection(result);
  return signed;
}
