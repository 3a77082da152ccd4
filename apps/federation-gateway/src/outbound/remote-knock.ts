// Knocking on a room through other servers (room versions 7+): for each
// candidate server in order, make_knock with the room versions we support,
// check the template (a version with knocking, our user, membership knock),
// sign it, send_knock, and check `knock_room_state` in the answer: the
// room's state events that let our user recognise the room (see
// checkKnockRoomState).
import type { JsonObject } from '@membrane/canonical-json';
import { encodeCanonicalJson, isJsonObject } from '@membrane/canonical-json';
import type { AsyncVerifyKeyLookup, Pdu, RoomVersion } from '@membrane/events';
import {
  applyContentHashCheck,
  checkMembershipTemplate,
  computeEventId,
  findRoomVersion,
  roomIdFromCreateEventId,
  signMembershipTemplate,
  validatePdu,
  verifyEventSignaturesAsync,
} from '@membrane/events';
import type { ServerAttempt } from '@membrane/proto';
import type { RemoteJoinDeps } from './remote-join.js';
import { call, enc, invalid, refusal, tryServers } from './remote-leave.js';

export interface RemoteKnockRequest {
  readonly roomId: string;
  readonly userId: string;
  readonly serverNames: readonly string[];
  readonly supportedRoomVersions: readonly string[];
  readonly reason?: string;
}

export interface RemoteKnockResult {
  readonly roomId: string;
  readonly roomVersion: string;
  /** Canonical JSON of our knock as accepted; empty when no server accepted it. */
  readonly knockEventJson: string;
  /** Each stripped state event the server answered, as JSON text (not re-encoded canonically: it is only shown). */
  readonly knockRoomStateJson: string[];
  readonly serverName: string;
  readonly attempts: ServerAttempt[];
}

function isStrippedEvent(entry: JsonObject): boolean {
  return typeof entry['type'] === 'string' && typeof entry['state_key'] === 'string' && typeof entry['sender'] === 'string' && isJsonObject(entry['content']);
}

/** Whether a PDU belongs to the room: its `room_id`, or in v12 for the create event, the room ID its hash gives. */
function isOfRoom(event: Pdu, roomId: string, version: RoomVersion): boolean {
  if (event.type === 'm.room.create' && version.roomIdFromCreateEvent) {
    try {
      return roomIdFromCreateEventId(computeEventId(event, version)) === roomId;
    } catch {
      return false;
    }
  }
  return event.room_id === roomId;
}

/**
 * The usable entries of a send_knock answer's `knock_room_state` (older
 * Synapse versions named it `knock_state_events`), or why the answer is
 * unusable. Since spec v1.16 the entries are PDUs: one that is formatted as
 * a PDU must be of this room and correctly signed, else it is dropped (the
 * spec's "SHOULD be removed"). Entries in the stripped form of servers that
 * predate this are kept as they are, to be shown only. In v12 the create
 * event must be there as a PDU giving the room ID (MSC4311: MUST).
 */
export async function checkKnockRoomState(answer: JsonObject, roomId: string, version: RoomVersion, keyForEvent: AsyncVerifyKeyLookup): Promise<JsonObject[] | string> {
  const state = answer['knock_room_state'] ?? answer['knock_state_events'];
  if (!Array.isArray(state)) return 'knock_room_state is not a list';
  const kept: JsonObject[] = [];
  let roomCreate = false;
  for (const entry of state.slice(0, MAX_KNOCK_ROOM_STATE)) {
    if (!isJsonObject(entry)) continue;
    const validated = validatePdu(entry, version);
    if (!validated.ok) {
      if (isStrippedEvent(entry)) kept.push(entry);
      continue;
    }
    if (!isOfRoom(validated.event, roomId, version)) continue;
    if (!(await verifyEventSignaturesAsync(validated.event, version, keyForEvent)).ok) continue;
    kept.push(applyContentHashCheck(validated.event, version).event as unknown as JsonObject);
    if (validated.event.type === 'm.room.create' && validated.event.state_key === '') roomCreate = true;
  }
  if (version.roomIdFromCreateEvent && !roomCreate) return 'knock_room_state has no correctly signed m.room.create event of this room';
  return kept;
}

/** More entries than a room has recommended state types are not looked at (each may cost a key fetch). */
export const MAX_KNOCK_ROOM_STATE = 20;

export async function performRemoteKnock(deps: RemoteJoinDeps, request: RemoteKnockRequest): Promise<RemoteKnockResult> {
  const clock = deps.clock ?? Date.now;
  const query = request.supportedRoomVersions.map((v) => `ver=${enc(v)}`).join('&');
  const outcome = await tryServers(deps, request.serverNames, async (server) => {
    const made = await call(deps, 'make_knock', server, 'GET', `/_matrix/federation/v1/make_knock/${enc(request.roomId)}/${enc(request.userId)}?${query}`);
    if (made.status !== 200) throw refusal('make_knock', made);
    if (!isJsonObject(made.body)) throw invalid('make_knock', made.status, 'the answer is not a JSON object');
    const versionField = made.body['room_version'];
    if (typeof versionField !== 'string') throw invalid('make_knock', made.status, 'the answer has no room_version');
    const version = findRoomVersion(versionField);
    if (version === undefined || !request.supportedRoomVersions.includes(versionField)) throw invalid('make_knock', made.status, `unsupported room version ${versionField}`);
    if (!version.knock) throw invalid('make_knock', made.status, `room version ${versionField} has no knocking`);
    const template = made.body['event'];
    const problem = checkMembershipTemplate(template, { roomId: request.roomId, userId: request.userId, membership: 'knock' });
    if (problem !== undefined) throw invalid('make_knock', made.status, problem);
    const signed = signMembershipTemplate(template as JsonObject, { version, originServerTs: clock(), ...(request.reason === undefined ? {} : { content: { reason: request.reason } }) }, deps.signer);
    const body = signed.event as unknown as JsonObject;
    const endpoint = 'send_knock';
    const sent = await call(deps, endpoint, server, 'PUT', `/_matrix/federation/v1/send_knock/${enc(request.roomId)}/${enc(signed.eventId)}`, body);
    if (sent.status !== 200) throw refusal(endpoint, sent);
    if (!isJsonObject(sent.body)) throw invalid(endpoint, sent.status, 'the answer is not a JSON object');
    const state = await checkKnockRoomState(sent.body, request.roomId, version, deps.keyForEvent);
    if (typeof state === 'string') throw invalid(endpoint, sent.status, state);
    return {
      value: { roomVersion: version.id, knockEventJson: encodeCanonicalJson(body), knockRoomStateJson: state.map((e) => JSON.stringify(e)) },
      endpoint,
      httpStatus: sent.status,
    };
  });
  if (outcome.value === undefined) return { roomId: request.roomId, roomVersion: '', knockEventJson: '', knockRoomStateJson: [], serverName: '', attempts: outcome.attempts };
  return { roomId: request.roomId, ...outcome.value, serverName: outcome.serverName, attempts: outcome.attempts };
}
