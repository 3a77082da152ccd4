// The spec's "auth events selection" (SPEC server-server §"Auth events
// selection"): which pieces of state an event must cite in `auth_events`.
import { isRecord, resolveRoomVersion } from './auth-types.js';
import type { RoomVersionLike } from './auth-types.js';
import { CREATE_EVENT_TYPE, POWER_LEVELS_EVENT_TYPE } from './power-levels.js';

export const MEMBER_EVENT_TYPE = 'm.room.member';
export const JOIN_RULES_EVENT_TYPE = 'm.room.join_rules';
export const THIRD_PARTY_INVITE_EVENT_TYPE = 'm.room.third_party_invite';
export const AUTHORISING_USER_KEY = 'join_authorised_via_users_server';

/** What selection needs to know of an event that may still be under construction. */
export interface AuthSelectionInput {
  readonly type: string;
  readonly sender: string;
  readonly state_key?: string;
  readonly content: Readonly<Record<string, unknown>>;
}

/** A (type, state_key) pair. */
export type StatePair = readonly [type: string, stateKey: string];

function thirdPartyInviteToken(content: Readonly<Record<string, unknown>>): string | undefined {
  const invite = content['third_party_invite'];
  if (!isRecord(invite)) return undefined;
  const signed = invite['signed'];
  if (!isRecord(signed)) return undefined;
  const token = signed['token'];
  return typeof token === 'string' ? token : undefined;
}

/**
 * The (type, state_key) pairs an event's `auth_events` should cite, in a
 * stable order, without duplicates: the create event (v1–v11 only; v12 rooms
 * name it by their room ID instead), the power levels, the sender's
 * membership, and for membership events the target's membership, the join
 * rules (join, invite, knock), the third-party invite being claimed, and the
 * authorising user's membership of a restricted join. A create event cites nothing.
 */
export function selectAuthEvents(event: AuthSelectionInput, versionLike: RoomVersionLike): StatePair[] {
  if (event.type === CREATE_EVENT_TYPE) return [];
  const version = resolveRoomVersion(versionLike);
  const pairs: StatePair[] = [];
  const add = (type: string, stateKey: string): void => {
    if (!pairs.some(([t, k]) => t === type && k === stateKey)) pairs.push([type, stateKey]);
  };

  if (version.createEventInAuthEvents) add(CREATE_EVENT_TYPE, '');
  add(POWER_LEVELS_EVENT_TYPE, '');
  add(MEMBER_EVENT_TYPE, event.sender);

  if (event.type === MEMBER_EVENT_TYPE) {
    const membership = event.content['membership'];
    if (event.state_key !== undefined) add(MEMBER_EVENT_TYPE, event.state_key);
    if (membership === 'join' || membership === 'invite' || membership === 'knock') add(JOIN_RULES_EVENT_TYPE, '');
    if (membership === 'invite') {
      const token = thirdPartyInviteToken(event.content);
      if (token !== undefined) add(THIRD_PARTY_INVITE_EVENT_TYPE, token);
    }
    const authoriser = event.content[AUTHORISING_USER_KEY];
    if (membership === 'join' && version.restrictedJoin && typeof authoriser === 'string') {
      add(MEMBER_EVENT_TYPE, authoriser);
    }
  }
  return pairs;
}

/**
 * The (type, state_key) pairs `checkEventAuth` reads for this event: the
 * selection plus, in every version, the create event. Use it to load the
 * state to check against; use `selectAuthEvents` for what to cite. They
 * differ from v12 on, where the create event is needed but never cited.
 */
export function stateNeededForAuth(event: AuthSelectionInput, versionLike: RoomVersionLike): StatePair[] {
  if (event.type === CREATE_EVENT_TYPE) return [];
  const pairs = selectAuthEvents(event, versionLike);
  return pairs.some(([type]) => type === CREATE_EVENT_TYPE) ? pairs : [[CREATE_EVENT_TYPE, ''], ...pairs];
}
