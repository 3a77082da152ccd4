// Event IDs and v12 room IDs (spec rooms/fragments/v1-event-ids.md, v3.md,
// v4-event-ids.md, appendices §"Event IDs", MSC4291; MATRIX_FACTS.md §3).
import { encodeUnpaddedBase64, encodeUnpaddedBase64Url } from '@membrane/signing';
import { computeReferenceHash } from './hashes.js';
import type { RoomVersion } from './room-versions.js';
import type { EventLike } from './types.js';

export class EventIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventIdError';
  }
}

/**
 * The ID of an event in `version`:
 * - v1/v2: the `event_id` carried in the PDU (an error if absent);
 * - v3: `$` + reference hash in unpadded standard base64;
 * - v4+: `$` + reference hash in unpadded URL-safe base64.
 */
export function computeEventId(event: EventLike, version: RoomVersion): string {
  switch (version.eventFormat) {
    case 'v1': {
      const eventId = event['event_id'];
      if (typeof eventId !== 'string') throw new EventIdError(`room version ${version.id} events must carry an event_id`);
      return eventId;
    }
    case 'v3':
      return `$${encodeUnpaddedBase64(computeReferenceHash(event, version))}`;
    case 'v4':
      return `$${encodeUnpaddedBase64Url(computeReferenceHash(event, version))}`;
  }
}

/** Room v12: the room ID is the create event's ID with `!` in place of `$`. */
export function roomIdFromCreateEventId(createEventId: string): string {
  if (!createEventId.startsWith('$') || createEventId.length < 2) {
    throw new EventIdError(`not an event ID: ${JSON.stringify(createEventId)}`);
  }
  return `!${createEventId.slice(1)}`;
}

/** Room v12: the create event's ID for a room ID (the inverse of `roomIdFromCreateEventId`). */
export function createEventIdFromRoomId(roomId: string): string {
  if (!roomId.startsWith('!') || roomId.length < 2) throw new EventIdError(`not a room ID: ${JSON.stringify(roomId)}`);
  return `$${roomId.slice(1)}`;
}
