// The auth rules about the `auth_events` an event cites (rule 2 in v1–v11,
// rules 2–3 in v12). They depend only on the cited events, so they run once
// when an event arrives, before it is checked against any state.
import { ALLOW, deny, referencedEventId, resolveRoomVersion } from './auth-types.js';
import type { AuthCandidate, AuthDecision, AuthEvent, RoomVersionLike } from './auth-types.js';
import { CREATE_EVENT_TYPE } from './power-levels.js';
import { selectAuthEvents } from './selection.js';

/** A cited auth event, with whether it was itself rejected on receipt (if known). */
export interface CitedAuthEvent extends AuthEvent {
  readonly rejected?: boolean;
}

/** The room ID a v12 create event defines: its event ID with `!` instead of `$`. */
export function roomIdForCreateEventId(createEventId: string): string | undefined {
  return createEventId.startsWith('$') ? `!${createEventId.slice(1)}` : undefined;
}

function pairLabel(event: AuthEvent): string {
  return `(${event.type}, ${JSON.stringify(event.state_key ?? null)})`;
}

/**
 * Checks an event's `auth_events` against the rules that need only those events:
 * every cited ID is among `citedEvents`; no two share a (type, state_key); each
 * is one the auth events selection picks; none was rejected; v1–v11 cite the
 * create event; all belong to the event's room. For v12, `roomCreateEvent` is
 * the create event the room ID names: it must exist, be accepted, be a create
 * event whose ID matches the room ID, and must not be cited.
 * A create event has no auth events to check.
 */
export function checkAuthEventsSanity(
  event: AuthCandidate,
  citedEvents: readonly CitedAuthEvent[],
  versionLike: RoomVersionLike,
  roomCreateEvent?: CitedAuthEvent,
): AuthDecision {
  if (event.type === CREATE_EVENT_TYPE) return ALLOW;
  const version = resolveRoomVersion(versionLike);

  if (version.roomIdFromCreateEvent) {
    if (roomCreateEvent === undefined) return deny(`the create event of room ${event.room_id ?? '(none)'} is unknown`);
    if (roomCreateEvent.type !== CREATE_EVENT_TYPE) return deny('the event named by the room ID is not a create event');
    if (roomCreateEvent.rejected === true) return deny('the create event of the room was rejected');
    if (event.room_id === undefined || roomIdForCreateEventId(roomCreateEvent.event_id) !== event.room_id) {
      return deny(`room ID ${event.room_id ?? '(none)'} is not the ID of create event ${roomCreateEvent.event_id}`);
    }
  }

  const byId = new Map(citedEvents.map((cited) => [cited.event_id, cited]));
  const cited: CitedAuthEvent[] = [];
  for (const reference of event.auth_events ?? []) {
    const id = referencedEventId(reference);
    const found = byId.get(id);
    if (found === undefined) return deny(`auth event ${id} was not provided`);
    cited.push(found);
  }

  const seen = new Set<string>();
  for (const authEvent of cited) {
    const key = JSON.stringify([authEvent.type, authEvent.state_key ?? null]);
    if (seen.has(key)) return deny(`auth_events cite ${pairLabel(authEvent)} more than once`);
    seen.add(key);
  }

  const expected = new Set(selectAuthEvents(event, version).map((pair) => JSON.stringify(pair)));
  for (const authEvent of cited) {
    if (authEvent.state_key !== undefined && expected.has(JSON.stringify([authEvent.type, authEvent.state_key]))) continue;
    if (authEvent.type === CREATE_EVENT_TYPE && !version.createEventInAuthEvents) {
      return deny(`room version ${version.id} events must not cite the create event in auth_events`);
    }
    return deny(`auth_events cite ${pairLabel(authEvent)}, which the auth events selection does not pick`);
  }

  for (const authEvent of cited) {
    if (authEvent.rejected === true) return deny(`auth event ${authEvent.event_id} was rejected`);
  }

  if (version.createEventInAuthEvents && !cited.some((authEvent) => authEvent.type === CREATE_EVENT_TYPE)) {
    return deny('auth_events do not cite the create event');
  }

  for (const authEvent of cited) {
    if (authEvent.room_id !== event.room_id) {
      return deny(`auth event ${authEvent.event_id} belongs to room ${authEvent.room_id ?? '(none)'}, not ${event.room_id ?? '(none)'}`);
    }
  }
  return ALLOW;
}
