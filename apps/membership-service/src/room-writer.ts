// Appends events to a room inside its serialized storage transaction: our own
// events (built, signed and authorised here) and events from other servers
// (already signature-checked by the federation gateway). Whatever is
// appended updates the DAG, the state snapshots, the current state, the
// memberships and the federation outbox in the same transaction.
import type { JsonObject } from '@membrane/canonical-json';
import { encodeCanonicalJson } from '@membrane/canonical-json';
import type { AuthEvent, AuthState, AuthVerifiers, Membership, Pdu, PduSigner, PrevEvent, RoomVersion } from '@membrane/events';
import {
  MEMBERSHIPS,
  authStateFromEvents,
  buildPdu,
  checkEventAuth,
  computeReferenceHash,
  selectAuthEvents,
  serverNameOf,
} from '@membrane/events';
import { encodeUnpaddedBase64 } from '@membrane/signing';
import { MatrixError } from '@membrane/matrix-errors';
import type { NewEvent, RoomRecord, RoomTx, StoredEvent } from './storage/index.js';

export interface EventDraft {
  readonly type: string;
  readonly sender: string;
  readonly stateKey?: string;
  readonly content: JsonObject;
}

export interface AppendedEvent {
  readonly eventId: string;
  readonly event: Pdu;
  readonly position: number;
  /** False when the event was already stored (a repeated input). */
  readonly inserted: boolean;
}

/**
 * Events reach this service already signature-checked: ours are signed here,
 * and the federation gateway verifies every signature a remote event needs
 * (including the `join_authorised_via_users_server` server's) before input.
 * So the auth rules' signature question reduces to "is that signature there".
 */
export const SIGNATURES_CHECKED_AT_THE_BORDER: AuthVerifiers = {
  verifySignature: (serverName, event) => event.signatures?.[serverName] !== undefined,
};

/**
 * Parsed auth events by event ID. The same few events (create, power levels,
 * join rules, members) are cited by every event of a room, and parsing them
 * again for each one is a visible part of a leave. An entry is used only
 * when the stored JSON is the same text, so it can never be stale.
 */
const AUTH_EVENT_CACHE_SIZE = 2048;
const authEventCache = new Map<string, { readonly json: string; readonly event: AuthEvent }>();

/** A stored event as the auth rules see it (shared and frozen: copy it to change it). */
export function authEventOf(stored: StoredEvent): AuthEvent {
  const cached = authEventCache.get(stored.eventId);
  if (cached !== undefined && cached.json === stored.json) return cached.event;
  const event = deepFreeze({ ...(JSON.parse(stored.json) as Pdu), event_id: stored.eventId } as AuthEvent);
  if (authEventCache.size >= AUTH_EVENT_CACHE_SIZE) authEventCache.delete(authEventCache.keys().next().value as string);
  authEventCache.set(stored.eventId, { json: stored.json, event });
  return event;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export function membershipOf(content: JsonObject): Membership | undefined {
  const value = content['membership'];
  return typeof value === 'string' && (MEMBERSHIPS as readonly string[]).includes(value) ? (value as Membership) : undefined;
}

/** The current-state events an event must cite, as the auth rules select them. */
export async function loadAuthEventsFor(
  tx: RoomTx,
  draft: { type: string; sender: string; state_key?: string; content: JsonObject },
  version: RoomVersion,
): Promise<StoredEvent[]> {
  const pairs = selectAuthEvents(draft, version);
  if (pairs.length === 0) return [];
  return tx.getCurrentStateEvents(
    tx.roomId,
    pairs.map(([type, stateKey]) => ({ type, stateKey })),
  );
}

/** The room's forward extremities as `prev_events` of a new event. */
export async function loadPrevEvents(tx: RoomTx, version: RoomVersion): Promise<PrevEvent[]> {
  const ids = await tx.getForwardExtremities(tx.roomId);
  const stored = await tx.getEvents(ids);
  return ids.map((eventId) => {
    const event = stored.get(eventId);
    if (event === undefined) throw new Error(`forward extremity ${eventId} is not stored`);
    return citeStoredEvent(event, version);
  });
}

/** Cites a stored event in `prev_events`/`auth_events` (v1/v2 need its reference hash). */
export function citeStoredEvent(event: StoredEvent, version: RoomVersion): PrevEvent {
  if (version.eventFormat !== 'v1') return { eventId: event.eventId, depth: event.depth };
  const referenceHash = encodeUnpaddedBase64(computeReferenceHash(JSON.parse(event.json) as JsonObject, version));
  return { eventId: event.eventId, depth: event.depth, referenceHash };
}

/**
 * Builds, signs and authorises one of our events against the current state,
 * then appends it. A refusal by the auth rules is a 403 and changes nothing.
 */
export async function appendLocalEvent(
  tx: RoomTx,
  room: RoomRecord,
  version: RoomVersion,
  draft: EventDraft,
  signer: PduSigner,
  now: number,
): Promise<AppendedEvent> {
  const proto = {
    type: draft.type,
    sender: draft.sender,
    content: draft.content,
    ...(draft.stateKey === undefined ? {} : { state_key: draft.stateKey }),
  };
  const authStored = await loadAuthEventsFor(tx, proto, version);
  const prevEvents = await loadPrevEvents(tx, version);
  const built = buildPdu(
    {
      version,
      proto: { ...proto, room_id: room.roomId },
      prevEvents,
      authEvents: authStored.map((e) => citeStoredEvent(e, version)),
      originServerTs: now,
    },
    signer,
  );
  const decision = checkEventAuth({ ...built.event, event_id: built.eventId } as AuthEvent, await authStateWithCreate(tx, authStored, version), version);
  if (!decision.allowed) throw MatrixError.forbidden(decision.reason);
  return persistAcceptedEvent(tx, room, built.event, built.eventId, signer.serverName, now, [built.eventId]);
}

/**
 * The auth state made of some current-state events, plus the room's create
 * event where the version does not cite it (v12 names it by the room ID, and
 * the auth rules still read it).
 */
export async function authStateWithCreate(tx: RoomTx, authStored: readonly StoredEvent[], version: RoomVersion): Promise<AuthState> {
  const events = authStored.map(authEventOf);
  if (!version.createEventInAuthEvents && !events.some((e) => e.type === 'm.room.create')) {
    const [create] = await tx.getCurrentStateEvents(tx.roomId, [{ type: 'm.room.create', stateKey: '' }]);
    if (create !== undefined) events.push(authEventOf(create));
  }
  return authStateFromEvents(events);
}

/** The state the auth rules use to check an event against the room's current state. */
export async function currentAuthState(tx: RoomTx, event: Pdu, version: RoomVersion): Promise<AuthState> {
  const stored = await loadAuthEventsFor(
    tx,
    { type: event.type, sender: event.sender, content: event.content, ...(event.state_key === undefined ? {} : { state_key: event.state_key }) },
    version,
  );
  return authStateWithCreate(tx, stored, version);
}

/**
 * Stores an accepted event and applies it: state snapshot, current state,
 * membership, forward extremities and outbox rows for every other server
 * with joined members (plus the target's server for membership changes of
 * a remote user, so a kicked or invited server hears of it).
 */
export async function persistAcceptedEvent(
  tx: RoomTx,
  room: RoomRecord,
  event: Pdu,
  eventId: string,
  ourServer: string,
  now: number,
  newExtremities: readonly string[],
): Promise<AppendedEvent> {
  const destinationsBefore = await tx.countJoinedMembersByServer(room.roomId);
  const stored = await tx.getEvent(eventId);
  if (stored !== null) return { eventId, event, position: stored.position, inserted: false };

  // What does not cite the event row is written before it: on PostgreSQL the
  // first event insert of a transaction holds the stream order until commit
  // (storage README, "Gap-free stream"), so the less after it, the better.
  const beforeGroup = room.currentStateGroupId ?? (await tx.storeStateGroup({ prevGroupId: null, entries: [] }));
  let afterGroup = beforeGroup;
  if (event.state_key !== undefined) {
    const entry = { type: event.type, stateKey: event.state_key, eventId };
    afterGroup = await tx.storeStateGroup({ prevGroupId: beforeGroup, entries: [entry] });
    await tx.setCurrentState([entry]);
  }
  await tx.setCurrentStateGroup(afterGroup);
  await tx.setForwardExtremities(newExtremities);

  const inserted = await tx.insertEvent(eventRow(event, eventId, room.roomId));
  // Under the room's lock nobody else stores this room's events; an ID taken
  // meanwhile (room versions 1 and 2 let servers choose IDs) undoes it all.
  if (!inserted.inserted) throw new Error(`event ${eventId} was stored by another transaction`);
  await tx.setEventStateGroups(eventId, { beforeGroupId: beforeGroup, afterGroupId: afterGroup });

  const destinations = new Set(destinationsBefore.filter((d) => d.joined > 0).map((d) => d.serverName));
  if (event.type === 'm.room.member' && event.state_key !== undefined) {
    const membership = membershipOf(event.content);
    if (membership !== undefined) {
      await tx.upsertMembership({
        userId: event.state_key,
        membership,
        eventId,
        // A new join, invite or knock brings a forgotten room back.
        ...(membership === 'join' || membership === 'invite' || membership === 'knock' ? { forgotten: false } : {}),
      });
    }
    const target = serverNameOf(event.state_key);
    if (target !== undefined) destinations.add(target);
  }
  destinations.delete(ourServer);
  if (destinations.size > 0) await tx.enqueueOutbox([...destinations].sort(), eventId, now);
  return { eventId, event, position: inserted.position, inserted: true };
}

/** The storage row of a PDU: its indexed fields and its canonical JSON, stored unchanged. */
export function eventRow(event: Pdu, eventId: string, roomId: string, flags: { outlier?: boolean; softFailed?: boolean } = {}): NewEvent {
  return {
    eventId,
    roomId,
    type: event.type,
    stateKey: event.state_key ?? null,
    sender: event.sender,
    depth: event.depth,
    originServerTs: event.origin_server_ts,
    json: encodeCanonicalJson(event),
    ...flags,
  };
}

/** The room ID `!<opaque>:<server>` of room versions 1–11. */
export function generateRoomId(serverName: string, random: (n: number) => Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let opaque = '';
  for (const byte of random(18)) opaque += alphabet[byte % alphabet.length];
  return `!${opaque}:${serverName}`;
}
