// Inviting a user of another server: the invitee's server must sign the
// invite before it enters the room. `PUT /v2/invite` with the room version
// and stripped state, `PUT /v1/invite` (the bare event, `[200, {event}]`)
// when the peer has no v2. The event that comes back must be ours (same
// event ID) and carry a valid signature of the invitee's server.
import type { JsonObject } from '@membrane/canonical-json';
import { isJsonObject } from '@membrane/canonical-json';
import type { AsyncVerifyKeyLookup, Pdu } from '@membrane/events';
import { computeEventId, getRoomVersion, redactEvent, serverNameOf, verifyEventSignaturesAsync } from '@membrane/events';
import type { ServerAttempt } from '@membrane/proto';
import { signatureKeyIds, verifyJsonSignature } from '@membrane/signing';
import type { RemoteOperationDeps } from './remote-leave.js';
import { call, enc, invalid, refusal, shouldFallBackToV1, tryServers } from './remote-leave.js';

export interface RemoteInviteRequest {
  readonly roomVersion: string;
  /** Our signed invite. */
  readonly event: Pdu;
  readonly inviteRoomState: readonly JsonObject[];
}

export interface RemoteInviteResult {
  /** The invite signed by both servers; undefined when the invitee's server did not sign it. */
  readonly event: Pdu | undefined;
  readonly serverName: string;
  readonly attempts: ServerAttempt[];
}

/** Whether `server` signed the (redacted) event with a key it publishes. */
export async function hasValidSignatureOf(event: Pdu, server: string, versionId: string, keyForEvent: AsyncVerifyKeyLookup): Promise<boolean> {
  const version = getRoomVersion(versionId);
  const redacted = redactEvent(event, version) as JsonObject;
  delete redacted['unsigned'];
  for (const keyId of signatureKeyIds(redacted, server)) {
    if (!keyId.startsWith('ed25519:')) continue;
    const key = await keyForEvent(server, keyId, event.origin_server_ts);
    if (key !== undefined && verifyJsonSignature(redacted, server, keyId, key)) return true;
  }
  return false;
}

export async function performRemoteInvite(deps: RemoteOperationDeps & { readonly keyForEvent: AsyncVerifyKeyLookup }, request: RemoteInviteRequest): Promise<RemoteInviteResult> {
  const version = getRoomVersion(request.roomVersion);
  const invitee = request.event.state_key ?? '';
  const server = serverNameOf(invitee) ?? '';
  const eventId = computeEventId(request.event, version);
  const body = request.event as unknown as JsonObject;
  const outcome = await tryServers(deps, [server], async (destination) => {
    const path = (v: 'v1' | 'v2'): string => `/_matrix/federation/${v}/invite/${enc(String(request.event.room_id))}/${enc(eventId)}`;
    let endpoint = 'invite/v2';
    let sent = await call(deps, endpoint, destination, 'PUT', path('v2'), { room_version: version.id, event: body, invite_room_state: [...request.inviteRoomState] });
    if (shouldFallBackToV1(sent) && (version.id === '1' || version.id === '2')) {
      endpoint = 'invite/v1';
      sent = await call(deps, endpoint, destination, 'PUT', path('v1'), body);
    }
    if (sent.status !== 200) throw refusal(endpoint, sent);
    const answer = endpoint === 'invite/v1' && Array.isArray(sent.body) ? sent.body[1] : sent.body;
    const returned = isJsonObject(answer) ? answer['event'] : undefined;
    if (!isJsonObject(returned)) throw invalid(endpoint, sent.status, 'the answer has no event');
    const event = returned as unknown as Pdu;
    if (computeEventId(event, version) !== eventId) throw invalid(endpoint, sent.status, 'the returned event is not our invite');
    const ours = await verifyEventSignaturesAsync(event, version, deps.keyForEvent);
    if (!ours.ok || !(await hasValidSignatureOf(event, destination, version.id, deps.keyForEvent))) {
      throw invalid(endpoint, sent.status, `the returned invite lacks a valid signature of ${destination}`);
    }
    return { value: event, endpoint, httpStatus: sent.status };
  });
  if (outcome.value === undefined) return { event: undefined, serverName: server, attempts: outcome.attempts };
  return { event: outcome.value, serverName: outcome.serverName, attempts: outcome.attempts };
}
