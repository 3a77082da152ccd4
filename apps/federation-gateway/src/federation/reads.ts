// What peers fetch to accept our events and fill their gaps: one event, the
// state (or its IDs) at an event, an event's auth chain, and missing events
// between what they have and what they heard of. Only servers in the room
// may read (see requireRoomVisibleTo).
import type { JsonObject } from '@membrane/canonical-json';
import type { Pdu } from '@membrane/events';
import { MatrixError } from '@membrane/matrix-errors';
import type { MembershipClient } from './membership-client.js';
import { requireRoomVisibleTo } from './rooms.js';

export interface ReadDeps {
  readonly serverName: string;
  readonly membership: MembershipClient;
}

/** Most events get_missing_events answers, whatever the peer asks for. */
export const MAX_MISSING_EVENTS = 100;
/** Bound of an auth chain walk. */
const MAX_AUTH_CHAIN = 10_000;

interface StoredEvent {
  readonly event: Pdu;
  readonly roomId: string;
  readonly rejected: boolean;
}

async function queryEvent(deps: ReadDeps, eventId: string): Promise<StoredEvent | undefined> {
  try {
    const answer = await deps.membership.queryEvent({ eventId });
    return { event: JSON.parse(answer.eventJson) as Pdu, roomId: answer.roomId, rejected: answer.rejected };
  } catch (err) {
    if (err instanceof MatrixError && err.status === 404) return undefined;
    throw err;
  }
}

const idsOf = (references: Pdu['auth_events']): string[] => references.map((ref) => (typeof ref === 'string' ? ref : ref[0]));

/** An accepted event of the room, or 404. */
async function requireEventInRoom(deps: ReadDeps, eventId: string, roomId: string): Promise<StoredEvent> {
  const stored = await queryEvent(deps, eventId);
  if (stored === undefined || stored.rejected || stored.roomId !== roomId) throw MatrixError.notFound(`Event ${eventId} not found`);
  return stored;
}

/** `GET /event/{eventId}`: `{origin, origin_server_ts, pdus: [event]}`. */
export async function readEvent(deps: ReadDeps, origin: string, eventId: string): Promise<JsonObject> {
  const stored = await queryEvent(deps, eventId);
  if (stored === undefined || stored.rejected) throw MatrixError.notFound(`Event ${eventId} not found`);
  await requireRoomVisibleTo(deps.membership, stored.roomId, deps.serverName, origin);
  return { origin: deps.serverName, origin_server_ts: Date.now(), pdus: [stored.event as unknown as JsonObject] };
}

function requiredEventIdOf(query: URLSearchParams): string {
  const eventId = query.get('event_id');
  if (eventId === null || eventId === '') throw MatrixError.missingParam('event_id is required');
  return eventId;
}

/** `GET /state/{roomId}?event_id=` (full events) and `/state_ids` (IDs): the state before the event and its auth chain. */
export async function readState(deps: ReadDeps, origin: string, roomId: string, query: URLSearchParams, idsOnly: boolean): Promise<JsonObject> {
  const eventId = requiredEventIdOf(query);
  await requireRoomVisibleTo(deps.membership, roomId, deps.serverName, origin);
  await requireEventInRoom(deps, eventId, roomId);
  const state = await deps.membership.queryStateAndAuthChain({ roomId, eventId, idsOnly });
  if (idsOnly) return { pdu_ids: state.stateEventIds, auth_chain_ids: state.authChainIds };
  return {
    pdus: state.stateEventsJson.map((json) => JSON.parse(json) as JsonObject),
    auth_chain: state.authChainJson.map((json) => JSON.parse(json) as JsonObject),
  };
}

/** `GET /event_auth/{roomId}/{eventId}`: every event in the event's auth chain. */
export async function readEventAuth(deps: ReadDeps, origin: string, roomId: string, eventId: string): Promise<JsonObject> {
  await requireRoomVisibleTo(deps.membership, roomId, deps.serverName, origin);
  const start = await requireEventInRoom(deps, eventId, roomId);
  const seen = new Set<string>([eventId]);
  const chain: Pdu[] = [];
  let frontier = idsOf(start.event.auth_events);
  while (frontier.length > 0 && chain.length < MAX_AUTH_CHAIN) {
    const next: string[] = [];
    const fresh = frontier.filter((id) => !seen.has(id));
    for (const id of fresh) seen.add(id);
    const found = await Promise.all(fresh.map((id) => queryEvent(deps, id)));
    for (const stored of found) {
      if (stored === undefined || stored.roomId !== roomId) continue;
      chain.push(stored.event);
      next.push(...idsOf(stored.event.auth_events));
    }
    frontier = next;
  }
  chain.sort((a, b) => a.depth - b.depth);
  return { auth_chain: chain as unknown as JsonObject[] };
}

function stringList(body: JsonObject, key: string): string[] {
  const value = body[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) throw MatrixError.badJson(`${key} must be a list of event IDs`);
  return value;
}

/**
 * `POST /get_missing_events/{roomId}`: walks back from `latest_events`
 * through prev_events, deepest first, never past `earliest_events` or below
 * `min_depth`, until `limit` events; answered oldest first.
 */
export async function readMissingEvents(deps: ReadDeps, origin: string, roomId: string, body: JsonObject): Promise<JsonObject> {
  const earliest = new Set(stringList(body, 'earliest_events'));
  const latest = stringList(body, 'latest_events');
  const limitValue = body['limit'] ?? 10;
  const minDepthValue = body['min_depth'] ?? 0;
  if (typeof limitValue !== 'number' || !Number.isInteger(limitValue) || limitValue < 0) throw MatrixError.badJson('limit must be a non-negative integer');
  if (typeof minDepthValue !== 'number' || !Number.isInteger(minDepthValue)) throw MatrixError.badJson('min_depth must be an integer');
  const limit = Math.min(limitValue, MAX_MISSING_EVENTS);
  await requireRoomVisibleTo(deps.membership, roomId, deps.serverName, origin);

  const seen = new Set<string>([...earliest, ...latest]);
  const found: Pdu[] = [];
  // Deepest first, so the events right before the latest ones are found first.
  const queue: Pdu[] = [];
  for (const id of latest) {
    const stored = await queryEvent(deps, id);
    if (stored !== undefined && stored.roomId === roomId) queue.push(stored.event);
  }
  while (queue.length > 0 && found.length < limit) {
    queue.sort((a, b) => b.depth - a.depth);
    const event = queue.shift() as Pdu;
    for (const id of idsOf(event.prev_events)) {
      if (seen.has(id) || found.length >= limit) continue;
      seen.add(id);
      const stored = await queryEvent(deps, id);
      if (stored === undefined || stored.roomId !== roomId || stored.event.depth < minDepthValue) continue;
      found.push(stored.event);
      queue.push(stored.event);
    }
  }
  found.sort((a, b) => a.depth - b.depth);
  return { events: found as unknown as JsonObject[] };
}
