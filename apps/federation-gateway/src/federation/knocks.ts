// Knocks on our rooms from users of other servers (room versions 7+):
// make_knock answers a template built by the membership service; send_knock
// takes the signed knock through the checks of send_leave and send_join
// (inbound-membership.ts), then answers `knock_room_state`, the state that
// lets the knocking user recognise the room while they wait.
import { isJsonObject } from '@membrane/canonical-json';
import type { JsonObject } from '@membrane/canonical-json';
import { STRIPPED_STATE_TYPES } from '@membrane/events';
import type { InboundMembershipDeps } from './inbound-membership.js';
import { receiveMembershipEvent } from './inbound-membership.js';

export interface KnockRequest {
  readonly origin: string;
  readonly roomId: string;
  readonly eventId: string;
  readonly body: JsonObject;
  readonly bodyText: string;
}

/**
 * `knock_room_state`: the room's events of the recommended types, whole.
 * Since spec v1.16 (MSC4311) they are PDUs in the room version's format, the
 * create event among them, so the knocking server can check their
 * signatures (and in v12 derive the room ID from the create event) before
 * showing them to its user as stripped state.
 */
export function knockRoomState(stateEvents: readonly unknown[]): JsonObject[] {
  const byType = new Map<string, JsonObject>();
  for (const event of stateEvents) {
    if (!isJsonObject(event) || event['state_key'] !== '' || typeof event['type'] !== 'string') continue;
    if (STRIPPED_STATE_TYPES.includes(event['type'])) byType.set(event['type'], event);
  }
  return STRIPPED_STATE_TYPES.map((type) => byType.get(type)).filter((e): e is JsonObject => e !== undefined);
}

/** send_knock: accept the knock, then answer the stripped state of the room as the knock left it. */
export async function receiveKnock(deps: InboundMembershipDeps, request: KnockRequest): Promise<{ knock_room_state: JsonObject[] }> {
  const accepted = await receiveMembershipEvent(deps, { ...request, membership: 'knock' });
  const state = await deps.membership.queryRoomState({ roomId: accepted.room.roomId, atEventId: accepted.eventId });
  return { knock_room_state: knockRoomState(state.stateEventsJson.map((json) => JSON.parse(json) as unknown)) };
}
