// The authorisation rules of room versions 1–12 (SPEC content/rooms/v1.md …
// v12.md and fragments/v1-, v3-, v8-auth-rules.md), checked against a given
// state. The rules on the cited `auth_events` themselves live in
// auth-events-sanity.ts; run both for an event received over federation.
import type { RoomVersion } from '../room-versions.js';
import { ALLOW, deny, resolveRoomVersion } from './auth-types.js';
import type { AuthCandidate, AuthDecision, AuthEvent, AuthState, AuthVerifiers, RoomVersionLike } from './auth-types.js';
import { roomIdForCreateEventId } from './auth-events-sanity.js';
import { checkCreateEvent } from './create-rules.js';
import { domainOf } from './ids.js';
import { checkMemberEvent, membershipIn } from './member-rules.js';
import { checkPowerLevelsEvent } from './power-levels-rules.js';
import {
  CREATE_EVENT_TYPE,
  POWER_LEVELS_EVENT_TYPE,
  namedLevel,
  powerLevelOf,
  powerLevelsFromState,
  requiredPowerLevel,
} from './power-levels.js';
import { MEMBER_EVENT_TYPE, THIRD_PARTY_INVITE_EVENT_TYPE } from './selection.js';

const ALIASES_EVENT_TYPE = 'm.room.aliases';
const REDACTION_EVENT_TYPE = 'm.room.redaction';

/** v12 rule 2, and for older versions the create event's room must be the event's room. */
function checkSameRoomAsCreate(event: AuthCandidate, create: AuthEvent, version: RoomVersion): AuthDecision {
  if (version.roomIdFromCreateEvent) {
    const expected = roomIdForCreateEventId(create.event_id);
    if (event.room_id === undefined || event.room_id !== expected) {
      return deny(`room ID ${event.room_id ?? '(none)'} is not the ID of create event ${create.event_id}`);
    }
  } else if (create.room_id !== event.room_id) {
    return deny(`the create event belongs to room ${create.room_id ?? '(none)'}, not ${event.room_id ?? '(none)'}`);
  }
  return ALLOW;
}

/** v1–v5: `m.room.aliases` is allowed for the sender's own server's state key, whatever the membership. */
function checkAliasesEvent(event: AuthCandidate): AuthDecision {
  if (event.state_key === undefined) return deny('m.room.aliases needs a state_key');
  return domainOf(event.sender) === event.state_key
    ? ALLOW
    : deny("m.room.aliases state_key must be the sender's server name");
}

/** v1–v2 rule 11: redacting someone else's event needs the redact level or the same origin server. */
function checkRedactionV1(event: AuthCandidate, state: AuthState, version: RoomVersion): AuthDecision {
  const powerLevels = powerLevelsFromState(state, version);
  if (powerLevelOf(event.sender, state, version) >= namedLevel(powerLevels, 'redact')) return ALLOW;
  if (event.event_id === undefined) return deny('a v1/v2 redaction cannot be authorised without its event_id');
  const redactsDomain = event.redacts === undefined ? undefined : domainOf(event.redacts);
  if (redactsDomain !== undefined && redactsDomain === domainOf(event.event_id)) return ALLOW;
  return deny(`${event.sender} does not have the power to redact events from other servers`);
}

/** Rules for every event that is not a create, aliases (v1–v5) or member event. */
function checkOrdinaryEvent(event: AuthCandidate, state: AuthState, version: RoomVersion): AuthDecision {
  if (membershipIn(state, event.sender) !== 'join') return deny(`${event.sender} is not joined to the room`);
  const powerLevels = powerLevelsFromState(state, version);
  const senderLevel = powerLevelOf(event.sender, state, version);

  if (event.type === THIRD_PARTY_INVITE_EVENT_TYPE) {
    return senderLevel >= namedLevel(powerLevels, 'invite')
      ? ALLOW
      : deny(`${event.sender} does not have the power to invite`);
  }

  const required = requiredPowerLevel(powerLevels, event.type, event.state_key !== undefined);
  if (required > senderLevel) {
    return deny(`${event.type} needs power level ${required}; ${event.sender} has ${senderLevel}`);
  }
  if (event.state_key !== undefined && event.state_key.startsWith('@') && event.state_key !== event.sender) {
    return deny(`only ${event.state_key} may set state keyed by their user ID`);
  }
  if (event.type === POWER_LEVELS_EVENT_TYPE) return checkPowerLevelsEvent(event, state, version);
  if (event.type === REDACTION_EVENT_TYPE && version.redactionAuthRule) return checkRedactionV1(event, state, version);
  return ALLOW;
}

/**
 * Decides whether `event` is allowed by the auth rules of the room version,
 * checked against `state` (the event's auth events, the state before it, or
 * the current state — the caller chooses). For v12 the state must hold the
 * room's create event even though events do not cite it.
 */
export function checkEventAuth(
  event: AuthCandidate,
  state: AuthState,
  versionLike: RoomVersionLike,
  verifiers: AuthVerifiers = {},
): AuthDecision {
  const version = resolveRoomVersion(versionLike);
  if (event.type === CREATE_EVENT_TYPE) return checkCreateEvent(event, version);

  const create = state.get(CREATE_EVENT_TYPE, '');
  if (create === undefined) return deny('the state has no m.room.create event');
  const sameRoom = checkSameRoomAsCreate(event, create, version);
  if (!sameRoom.allowed) return sameRoom;

  if (create.content['m.federate'] === false && domainOf(event.sender) !== domainOf(create.sender)) {
    return deny('the room does not federate and the sender is from another server');
  }

  if (version.specialAliasesAuthRule && event.type === ALIASES_EVENT_TYPE) return checkAliasesEvent(event);
  if (event.type === MEMBER_EVENT_TYPE) return checkMemberEvent(event, state, version, verifiers);
  return checkOrdinaryEvent(event, state, version);
}
