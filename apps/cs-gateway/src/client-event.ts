// Room events as clients see them: the federation envelope (hashes,
// signatures, DAG references, depth, origin) removed, `event_id` and
// `room_id` present whatever the room version.
import type { JsonObject } from './request-input.js';

/** Keys of a PDU that a client event keeps. */
const CLIENT_KEYS = ['content', 'origin_server_ts', 'sender', 'state_key', 'type', 'redacts'] as const;

export interface ClientEvent {
  readonly event_id: string;
  readonly room_id: string;
  readonly type: string;
  readonly sender: string;
  readonly origin_server_ts: number;
  readonly content: JsonObject;
  readonly state_key?: string;
  readonly redacts?: string;
}

export function toClientEvent(pdu: JsonObject, eventId: string, roomId: string): ClientEvent {
  const event: JsonObject = {};
  for (const key of CLIENT_KEYS) if (pdu[key] !== undefined) event[key] = pdu[key];
  return { ...event, event_id: eventId, room_id: roomId } as unknown as ClientEvent;
}
