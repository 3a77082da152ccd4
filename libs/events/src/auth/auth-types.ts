// The shapes the authorisation rules work on. They are deliberately smaller
// than a full PDU so that stored events, freshly built events and test
// fixtures can all be checked without conversion.
import { getRoomVersion } from '../room-versions.js';
import type { RoomVersion } from '../room-versions.js';

/** v1/v2 cite events as `[event_id, {sha256}]`; v3+ as plain event IDs. */
export type AuthEventReference = string | readonly [string, unknown];

/** The fields of an event that the auth rules read. A `Pdu` with its `event_id` fits. */
export interface AuthEvent {
  readonly event_id: string;
  readonly type: string;
  readonly state_key?: string;
  readonly sender: string;
  readonly content: Readonly<Record<string, unknown>>;
  /** Absent only on a v12 `m.room.create` event. */
  readonly room_id?: string;
  readonly origin_server_ts?: number;
  readonly prev_events?: readonly AuthEventReference[];
  readonly auth_events?: readonly AuthEventReference[];
  /** v1/v2 redactions name their target here (v11+ moved it into content). */
  readonly redacts?: string;
  readonly signatures?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/**
 * The event being authorised. Its `event_id` may be unknown while it is
 * still being built; only the v1/v2 redaction rule needs it.
 */
export type AuthCandidate = Omit<AuthEvent, 'event_id'> & { readonly event_id?: string };

export type AuthDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/**
 * The state an event is checked against, looked up by (type, state_key):
 * the event's auth events, the state before it, or the current state.
 */
export interface AuthState {
  get(type: string, stateKey: string): AuthEvent | undefined;
}

/** Checks the auth rules cannot do without cryptography; the caller supplies them. */
export interface AuthVerifiers {
  /**
   * Is `event` validly signed by `serverName`? Used for
   * `join_authorised_via_users_server` (v8+). Without it such events are rejected.
   */
  readonly verifySignature?: (serverName: string, event: AuthCandidate) => boolean;
  /**
   * Does any signature in the `signed` block of a third-party invite verify
   * with one of `publicKeys` (unpadded base64 ed25519 keys from the
   * `m.room.third_party_invite` event)? Without it such invites are rejected.
   */
  readonly verifyThirdPartyInviteSigned?: (signed: Readonly<Record<string, unknown>>, publicKeys: readonly string[]) => boolean;
}

export type RoomVersionLike = RoomVersion | string;

export const ALLOW: AuthDecision = Object.freeze({ allowed: true });

export function deny(reason: string): AuthDecision {
  return { allowed: false, reason };
}

export function resolveRoomVersion(version: RoomVersionLike): RoomVersion {
  return typeof version === 'string' ? getRoomVersion(version) : version;
}

function stateKeyId(type: string, stateKey: string): string {
  // JSON of the pair cannot collide, whatever characters the two strings hold.
  return JSON.stringify([type, stateKey]);
}

/**
 * Builds an `AuthState` from state events. Non-state events are ignored; when
 * two events share a (type, state_key), the later one wins (duplicates among
 * cited auth events are caught by `checkAuthEventsSanity`, not here).
 */
export function authStateFromEvents(events: Iterable<AuthEvent>): AuthState {
  const byKey = new Map<string, AuthEvent>();
  for (const event of events) {
    if (event.state_key === undefined) continue;
    byKey.set(stateKeyId(event.type, event.state_key), event);
  }
  return { get: (type, stateKey) => byKey.get(stateKeyId(type, stateKey)) };
}

export function referencedEventId(reference: AuthEventReference): string {
  return typeof reference === 'string' ? reference : reference[0];
}

export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function hasOwn(object: Readonly<Record<string, unknown>>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}
