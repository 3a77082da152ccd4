// Shapes of events as they travel between servers (PDUs). Field presence
// depends on the room version; see room-versions.ts.
import type { JsonObject, JsonValue } from '@membrane/canonical-json';

/** `{ sha256: <unpadded base64> }` as carried in `hashes` and v1/v2 event references. */
export interface EventHashes {
  sha256: string;
  [other: string]: JsonValue;
}

/** v1/v2 cite events as `[event_id, {sha256}]`; v3+ as plain event IDs. */
export type EventReference = string | [string, EventHashes];

/**
 * A PDU in any room version. Extra top-level keys are allowed on the wire
 * (they are kept for hashing and dropped by redaction), hence the index signature.
 */
export interface Pdu {
  type: string;
  room_id?: string; // absent only on a v12 create event
  sender: string;
  content: JsonObject;
  state_key?: string;
  origin_server_ts: number;
  depth: number;
  prev_events: EventReference[];
  auth_events: EventReference[];
  hashes: EventHashes;
  signatures: Record<string, Record<string, string>>;
  unsigned?: JsonObject;
  event_id?: string; // v1/v2 only
  origin?: string;
  redacts?: string;
  [other: string]: JsonValue | undefined;
}

/** Membership values of `m.room.member` content. */
export type Membership = 'invite' | 'join' | 'knock' | 'leave' | 'ban';

export const MEMBERSHIPS: readonly Membership[] = ['invite', 'join', 'knock', 'leave', 'ban'];

/** Key of the current room state: `${type}\u0000${state_key}` is avoided in favour of a pair. */
export interface StateKeyTuple {
  readonly type: string;
  readonly stateKey: string;
}
