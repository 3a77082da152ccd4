// Joining a room through other servers: for each candidate server in order,
// make_join with the room versions we support, check the template, sign it,
// send_join v2 (v1 when the peer does not know v2), then check what the
// resident server returned: every state and auth chain event must be in the
// room version's format and correctly signed, and a changed content hash
// keeps only the redacted event. The membership service applies the auth
// rules when it persists the state.
import type { JsonObject } from '@membrane/canonical-json';
import { encodeCanonicalJson, isJsonObject } from '@membrane/canonical-json';
import type { AsyncVerifyKeyLookup, Pdu, RoomVersion } from '@membrane/events';
import { applyContentHashCheck, checkMembershipTemplate, computeEventId, findRoomVersion, signMembershipTemplate, validatePdu, verifyEventSignaturesAsync } from '@membrane/events';
import type { ServerAttempt } from '@membrane/proto';
import type { RemoteOperationDeps } from './remote-leave.js';
import { call, enc, invalid, refusal, shouldFallBackToV1, tryServers } from './remote-leave.js';

export interface RemoteJoinRequest {
  readonly roomId: string;
  readonly userId: string;
  readonly serverNames: readonly string[];
  readonly supportedRoomVersions: readonly string[];
  /** Merged into the join's content (`membership` stays `join`). */
  readonly contentExtras?: JsonObject;
}

export interface RemoteJoinResult {
  readonly roomId: string;
  readonly roomVersion: string;
  readonly joinEventJson: string;
  readonly stateJson: string[];
  readonly authChainJson: string[];
  readonly serverName: string;
  readonly attempts: ServerAttempt[];
}

export interface RemoteJoinDeps extends RemoteOperationDeps {
  /** Keys of other servers for event signatures (the gateway's key ring). */
  readonly keyForEvent: AsyncVerifyKeyLookup;
}

/** Checks the events of a send_join answer; returns them (redacted where the hash differs) or a reason. */
export async function checkReturnedEvents(events: unknown, version: RoomVersion, keyForEvent: AsyncVerifyKeyLookup, what: string): Promise<Pdu[] | string> {
  if (!Array.isArray(events)) return `${what} is not a list`;
  const checked: Pdu[] = [];
  for (const raw of events) {
    const validated = validatePdu(raw, version);
    if (!validated.ok) return `an event of ${what} is malformed: ${validated.error}`;
    const signatures = await verifyEventSignaturesAsync(validated.event, version, keyForEvent);
    if (!signatures.ok) return `an event of ${what} (${computeEventId(validated.event, version)}) is not correctly signed: ${signatures.error}`;
    checked.push(applyContentHashCheck(validated.event, version).event);
  }
  return checked;
}

/** The `[200, body]` of v1 answers, or the body itself for v2. */
function unwrapV1(body: unknown, v1: boolean): unknown {
  if (!v1) return body;
  return Array.isArray(body) && body.length === 2 ? body[1] : undefined;
}

export async function performRemoteJoin(deps: RemoteJoinDeps, request: RemoteJoinRequest): Promise<RemoteJoinResult> {
  const clock = deps.clock ?? Date.now;
  const query = request.supportedRoomVersions.map((v) => `ver=${enc(v)}`).join('&');
  const outcome = await tryServers(deps, request.serverNames, async (server) => {
    const made = await call(deps, 'make_join', server, 'GET', `/_matrix/federation/v1/make_join/${enc(request.roomId)}/${enc(request.userId)}${query === '' ? '' : `?${query}`}`);
    if (made.status !== 200) throw refusal('make_join', made);
    if (!isJsonObject(made.body)) throw invalid('make_join', made.status, 'the answer is not a JSON object');
    const versionField = made.body['room_version'];
    const versionId = typeof versionField === 'string' ? versionField : '1';
    const version = findRoomVersion(versionId);
    if (version === undefined || !request.supportedRoomVersions.includes(versionId)) throw invalid('make_join', made.status, `unsupported room version ${versionId}`);
    const template = made.body['event'];
    const problem = checkMembershipTemplate(template, { roomId: request.roomId, userId: request.userId, membership: 'join' });
    if (problem !== undefined) throw invalid('make_join', made.status, problem);
    const signed = signMembershipTemplate(template as JsonObject, { version, originServerTs: clock(), ...(request.contentExtras === undefined ? {} : { content: request.contentExtras }) }, deps.signer);
    const body = signed.event as unknown as JsonObject;
    const path = (v: 'v1' | 'v2'): string => `/_matrix/federation/${v}/send_join/${enc(request.roomId)}/${enc(signed.eventId)}`;
    let endpoint = 'send_join/v2';
    let sent = await call(deps, endpoint, server, 'PUT', path('v2'), body);
    if (shouldFallBackToV1(sent)) {
      endpoint = 'send_join/v1';
      sent = await call(deps, endpoint, server, 'PUT', path('v1'), body);
    }
    if (sent.status !== 200) throw refusal(endpoint, sent);
    const answer = unwrapV1(sent.body, endpoint === 'send_join/v1');
    if (!isJsonObject(answer)) throw invalid(endpoint, sent.status, 'the answer is not a JSON object');
    const state = await checkReturnedEvents(answer['state'], version, deps.keyForEvent, 'state');
    if (typeof state === 'string') throw invalid(endpoint, sent.status, state);
    const authChain = await checkReturnedEvents(answer['auth_chain'], version, deps.keyForEvent, 'auth_chain');
    if (typeof authChain === 'string') throw invalid(endpoint, sent.status, authChain);
    if (!state.some((e) => e.type === 'm.room.create' && e.state_key === '')) throw invalid(endpoint, sent.status, 'the state has no m.room.create event');
    // A restricted join comes back co-signed by the resident server: keep that
    // version when it is our event (same event ID), with every signature valid.
    let joinEvent: Pdu = signed.event;
    const returned = answer['event'];
    if (returned !== undefined) {
      const checked = await checkReturnedEvents([returned], version, deps.keyForEvent, 'event');
      const [event] = typeof checked === 'string' ? [] : checked;
      if (event === undefined || computeEventId(event, version) !== signed.eventId) throw invalid(endpoint, sent.status, 'the returned join event is not ours or not correctly signed');
      joinEvent = event;
    }
    return {
      value: {
        roomVersion: version.id,
        joinEventJson: encodeCanonicalJson(joinEvent as unknown as JsonObject),
        stateJson: state.map((e) => encodeCanonicalJson(e as unknown as JsonObject)),
        authChainJson: authChain.map((e) => encodeCanonicalJson(e as unknown as JsonObject)),
      },
      endpoint,
      httpStatus: sent.status,
    };
  });
  if (outcome.value === undefined) return { roomId: request.roomId, roomVersion: '', joinEventJson: '', stateJson: [], authChainJson: [], serverName: '', attempts: outcome.attempts };
  return { roomId: request.roomId, ...outcome.value, serverName: outcome.serverName, attempts: outcome.attempts };
}
