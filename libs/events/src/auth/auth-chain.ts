// Authorising a whole auth chain and state received from another server
// (send_join answers): every event is checked against the events it cites,
// in an order where cited events come first; an event citing a rejected or
// missing event is rejected too.
import { ALLOW, authStateFromEvents, deny, referencedEventId, resolveRoomVersion } from './auth-types.js';
import type { AuthDecision, AuthEvent, AuthVerifiers, RoomVersionLike } from './auth-types.js';
import { checkAuthEventsSanity } from './auth-events-sanity.js';
import { checkEventAuth } from './check-event-auth.js';
import { CREATE_EVENT_TYPE } from './power-levels.js';

/**
 * The decision for every event of `events` (keyed by event ID). Events are
 * visited so that each comes after the events it cites; a cycle or a cited
 * event outside the set rejects the events that depend on it.
 */
export function checkAuthChain(events: readonly AuthEvent[], versionLike: RoomVersionLike, verifiers: AuthVerifiers = {}): Map<string, AuthDecision> {
  const version = resolveRoomVersion(versionLike);
  const byId = new Map(events.map((e) => [e.event_id, e]));
  const decisions = new Map<string, AuthDecision>();
  const create = events.find((e) => e.type === CREATE_EVENT_TYPE && e.state_key === '');
  const visiting = new Set<string>();

  // Iterative depth-first walk: a long chain must not exhaust the stack.
  for (const start of events) {
    const stack: { event: AuthEvent; expanded: boolean }[] = [{ event: start, expanded: false }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { event: AuthEvent; expanded: boolean };
      const id = top.event.event_id;
      if (decisions.has(id)) {
        stack.pop();
        continue;
      }
      const cited = (top.event.auth_events ?? []).map(referencedEventId);
      if (!top.expanded) {
        top.expanded = true;
        visiting.add(id);
        for (const citedId of cited) {
          const next = byId.get(citedId);
          if (next !== undefined && !decisions.has(citedId) && !visiting.has(citedId)) stack.push({ event: next, expanded: false });
        }
        continue;
      }
      stack.pop();
      visiting.delete(id);
      decisions.set(id, decide(top.event, cited));
    }
  }
  return decisions;

  function decide(event: AuthEvent, cited: readonly string[]): AuthDecision {
    for (const citedId of cited) {
      const decision = decisions.get(citedId);
      if (decision === undefined) return deny(`auth event ${citedId} is missing or part of a cycle`);
      if (!decision.allowed) return deny(`auth event ${citedId} was rejected`);
    }
    if (event.type === CREATE_EVENT_TYPE) return checkEventAuth(event, authStateFromEvents([]), version, verifiers);
    const citedEvents = cited.map((citedId) => byId.get(citedId) as AuthEvent);
    const createForRoom = version.createEventInAuthEvents ? undefined : create;
    const sane = checkAuthEventsSanity(event, citedEvents, version, createForRoom);
    if (!sane.allowed) return sane;
    const state = authStateFromEvents(createForRoom === undefined ? citedEvents : [createForRoom, ...citedEvents]);
    const decision = checkEventAuth(event, state, version, verifiers);
    return decision.allowed ? ALLOW : decision;
  }
}
