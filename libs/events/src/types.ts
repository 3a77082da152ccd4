// Shapes of events as they travel between servers (PDUs). Field presence
// depends on the room version; see room-versions.ts.
import type { JsonObject, JsonValue } from '@membrane/canonical-json';

/** `{ sha256: <unpadded base64> }` as carried in `hashes` and v1/v2 event references. */
export interface EventHashes {
  sha256: string;
  [other: string]: JsonValue;
}

/** `signatures[server][keyId]` = unpadded base64 Ed25519 signature. */
export type EventSignatures = Record<string, Record<string, string>>;

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
  /**
   * Required by the spec, but optional here: a PDU without them is well formed
   * enough to fail the signature check (403) or the hash check (redacted),
   * rather than being refused as malformed (400). Built PDUs always carry both.
   */
  hashes?: EventHashes;
  signatures?: EventSignatures;
  unsigned?: JsonObject;
  event_id?: string; // v1/v2 only
  origin?: string;
  redacts?: string;
  [other: string]: JsonValue | undefined;
}

/**
 * Any event-shaped JSON object: a `Pdu`, a `JsonObject`, a template. Functions
 * that only read an event accept this so callers need no casts.
 */
export type EventLike = { readonly [key: string]: JsonValue | undefined };

/** Membership values of `m.room.member` content. */
export type Membership = 'invite' | 'join' | 'knock' | 'leave' | 'ban';

export const MEMBERSHIPS: readonly Membership[] = ['invite', 'join', 'knock', 'leave', 'ban'];

/** Key of the current room state: `${type}\u0000${state_key}` is avoided in favour of a pair. */
export interface StateKeyTuple {
  readonly type: string;
  readonly stateKey: string;
}
