// The body of a /sync answer, built from the membership service's
// QuerySyncResponse. The service decides which rooms and events a user sees;
// this only puts them in the spec's shape. Sections this server has nothing
// for (account data, presence, to-device, device lists, ephemeral events,
// notification counts) are present and empty, so clients need no special case.
import { Membership } from '@membrane/proto';
import type { QuerySyncResponse, SyncRoom } from '@membrane/proto';
import type { JsonObject } from './request-input.js';
import { formatStreamToken } from './stream-token.js';
import { viewedEventForClient } from './viewed-event.js';
import type { EventFormat } from './viewed-event.js';

export interface SyncBodyOptions {
  readonly now: number;
  readonly format?: EventFormat;
}

const ENVELOPE_KEYS = new Set(['auth_events', 'prev_events', 'hashes', 'signatures', 'depth', 'origin', 'prev_state', 'membership']);

/** Stripped state as it came, without a federation envelope in case a full event was stored. */
function strippedEvent(json: string): JsonObject {
  const event = JSON.parse(json) as JsonObject;
  return Object.fromEntries(Object.entries(event).filter(([key]) => !ENVELOPE_KEYS.has(key)));
}

function roomEvents(room: SyncRoom, options: SyncBodyOptions) {
  const view = { roomId: room.roomId, withRoomId: false, now: options.now, ...(options.format === undefined ? {} : { format: options.format }) };
  return {
    state: { events: room.state.map((e) => viewedEventForClient(e, view)) },
    timeline: {
      events: room.timeline.map((e) => viewedEventForClient(e, view)),
      limited: room.limited,
      prev_batch: formatStreamToken(room.prevBatchPosition),
    },
  };
}

function joinedRoom(room: SyncRoom, options: SyncBodyOptions): JsonObject {
  return {
    ...roomEvents(room, options),
    summary: { 'm.joined_member_count': room.joinedMemberCount, 'm.invited_member_count': room.invitedMemberCount },
    account_data: { events: [] },
    ephemeral: { events: [] },
    unread_notifications: {},
  };
}

function leftRoom(room: SyncRoom, options: SyncBodyOptions): JsonObject {
  return { ...roomEvents(room, options), account_data: { events: [] } };
}

export function syncResponseBody(answer: QuerySyncResponse, options: SyncBodyOptions): JsonObject {
  const join: JsonObject = {};
  const invite: JsonObject = {};
  const leave: JsonObject = {};
  const knock: JsonObject = {};
  for (const room of answer.rooms) {
    switch (room.membership) {
      case Membership.JOIN:
        join[room.roomId] = joinedRoom(room, options);
        break;
      case Membership.INVITE:
        invite[room.roomId] = { invite_state: { events: room.strippedStateJson.map(strippedEvent) } };
        break;
      case Membership.KNOCK:
        knock[room.roomId] = { knock_state: { events: room.strippedStateJson.map(strippedEvent) } };
        break;
      default:
        // leave and ban (a ban is reported under leave, as the spec says).
        leave[room.roomId] = leftRoom(room, options);
    }
  }
  return {
    next_batch: formatStreamToken(answer.nextPosition),
    rooms: { join, invite, leave, knock },
    account_data: { events: [] },
    presence: { events: [] },
    to_device: { events: [] },
    device_lists: { changed: [], left: [] },
    device_one_time_keys_count: {},
  };
}
