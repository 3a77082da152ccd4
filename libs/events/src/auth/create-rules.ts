// Rule 1 of every room version: authorising an `m.room.create` event.
import { findRoomVersion } from '../room-versions.js';
import type { RoomVersion } from '../room-versions.js';
import { ALLOW, deny, hasOwn } from './auth-types.js';
import type { AuthCandidate, AuthDecision } from './auth-types.js';
import { domainOf, isValidUserId } from './ids.js';

function checkAdditionalCreators(value: unknown): AuthDecision {
  if (!Array.isArray(value)) return deny('additional_creators must be an array');
  for (const entry of value) {
    if (typeof entry !== 'string' || !isValidUserId(entry)) {
      return deny(`additional_creators holds an invalid user ID: ${JSON.stringify(entry)}`);
    }
  }
  return ALLOW;
}

/**
 * v1–v11: no prev_events, room ID domain equals the sender's domain, a known
 * `room_version`, and (v1–v10) a `creator`. v12: no prev_events, no `room_id`
 * at all (the room ID is derived from this event), a known `room_version`, and
 * `additional_creators`, if present, an array of valid user IDs.
 */
export function checkCreateEvent(event: AuthCandidate, version: RoomVersion): AuthDecision {
  if ((event.prev_events?.length ?? 0) > 0) return deny('a create event must have no prev_events');

  if (version.roomIdFromCreateEvent) {
    if (event.room_id !== undefined) return deny(`a room version ${version.id} create event must not have a room_id`);
  } else {
    const roomDomain = event.room_id === undefined ? undefined : domainOf(event.room_id);
    if (roomDomain === undefined || roomDomain !== domainOf(event.sender)) {
      return deny("the create event's room ID domain does not match its sender's domain");
    }
  }

  if (hasOwn(event.content, 'room_version')) {
    const roomVersion = event.content['room_version'];
    if (typeof roomVersion !== 'string' || findRoomVersion(roomVersion) === undefined) {
      return deny(`unrecognised room_version ${JSON.stringify(roomVersion)}`);
    }
  }

  if (!version.creatorIsCreateSender && !hasOwn(event.content, 'creator')) {
    return deny('the create event has no creator');
  }

  if (version.privilegedCreators && hasOwn(event.content, 'additional_creators')) {
    return checkAdditionalCreators(event.content['additional_creators']);
  }
  return ALLOW;
}
