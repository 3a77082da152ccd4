// Client filters (the spec's Filter, RoomFilter, RoomEventFilter and
// EventFilter): validation of what a client sends, and the matching rules
// the sync and /messages answers apply. Unknown keys are kept and ignored,
// so a filter written for a newer spec still works here.
import { MatrixError } from '@membrane/matrix-errors';

export interface EventFilter {
  readonly limit?: number;
  readonly types?: readonly string[];
  readonly not_types?: readonly string[];
  readonly senders?: readonly string[];
  readonly not_senders?: readonly string[];
}

export interface RoomEventFilter extends EventFilter {
  readonly rooms?: readonly string[];
  readonly not_rooms?: readonly string[];
  readonly contains_url?: boolean;
  readonly lazy_load_members?: boolean;
  readonly include_redundant_members?: boolean;
}

export interface RoomFilter {
  readonly rooms?: readonly string[];
  readonly not_rooms?: readonly string[];
  readonly include_leave?: boolean;
  readonly timeline?: RoomEventFilter;
  readonly state?: RoomEventFilter;
  readonly ephemeral?: RoomEventFilter;
  readonly account_data?: RoomEventFilter;
}

export interface Filter {
  readonly event_fields?: readonly string[];
  readonly event_format?: 'client' | 'federation';
  readonly presence?: EventFilter;
  readonly account_data?: EventFilter;
  readonly room?: RoomFilter;
}

/** The timeline length of a sync room when the filter sets none (Synapse uses the same). */
export const DEFAULT_TIMELINE_LIMIT = 10;

/** The fields an event filter may hold (a sub-filter of a room event filter). */
export interface FilterableEvent {
  readonly type: string;
  readonly sender: string;
  readonly roomId?: string;
  readonly content?: unknown;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bad(path: string, what: string): MatrixError {
  return MatrixError.badJson(`Invalid filter: ${path} ${what}`);
}

function checkStringList(filter: Json, key: string, path: string): void {
  const value = filter[key];
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw bad(`${path}.${key}`, 'must be a list of strings');
}

function checkBoolean(filter: Json, key: string, path: string): void {
  const value = filter[key];
  if (value !== undefined && typeof value !== 'boolean') throw bad(`${path}.${key}`, 'must be a boolean');
}

function checkEventFilter(value: unknown, path: string): void {
  if (value === undefined) return;
  if (!isObject(value)) throw bad(path, 'must be an object');
  const limit = value['limit'];
  if (limit !== undefined && !(typeof limit === 'number' && Number.isSafeInteger(limit) && limit > 0)) {
    throw bad(`${path}.limit`, 'must be an integer greater than 0');
  }
  for (const key of ['types', 'not_types', 'senders', 'not_senders']) checkStringList(value, key, path);
}

function checkRoomEventFilter(value: unknown, path: string): void {
  checkEventFilter(value, path);
  if (value === undefined) return;
  const filter = value as Json;
  for (const key of ['rooms', 'not_rooms']) checkStringList(filter, key, path);
  for (const key of ['contains_url', 'lazy_load_members', 'include_redundant_members', 'unread_thread_notifications']) checkBoolean(filter, key, path);
}

/** Validates a RoomEventFilter (the `filter` of /messages); 400 M_BAD_JSON when malformed. */
export function parseRoomEventFilter(value: unknown): RoomEventFilter {
  checkRoomEventFilter(value, 'filter');
  return value as RoomEventFilter;
}

/** Validates a Filter (POST /user/{userId}/filter, /sync's inline filter); 400 M_BAD_JSON when malformed. */
export function parseFilter(value: unknown): Filter {
  if (!isObject(value)) throw bad('filter', 'must be an object');
  checkStringList(value, 'event_fields', 'filter');
  const format = value['event_format'];
  if (format !== undefined && format !== 'client' && format !== 'federation') throw bad('filter.event_format', 'must be "client" or "federation"');
  checkEventFilter(value['presence'], 'filter.presence');
  checkEventFilter(value['account_data'], 'filter.account_data');
  const room = value['room'];
  if (room !== undefined) {
    if (!isObject(room)) throw bad('filter.room', 'must be an object');
    for (const key of ['rooms', 'not_rooms']) checkStringList(room, key, 'filter.room');
    checkBoolean(room, 'include_leave', 'filter.room');
    for (const key of ['timeline', 'state', 'ephemeral', 'account_data']) checkRoomEventFilter(room[key], `filter.room.${key}`);
  }
  return value as Filter;
}

/** Matches an event type against a pattern where `*` stands for any run of characters. */
export function typeMatches(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) return pattern === type;
  const parts = pattern.split('*');
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  if (!type.startsWith(first) || type.length < first.length + last.length || !type.endsWith(last)) return false;
  let at = first.length;
  const end = type.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = type.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

function hasUrl(content: unknown): boolean {
  return isObject(content) && typeof content['url'] === 'string';
}

/**
 * True when the event passes the filter: `not_*` lists win over their
 * positive lists, an absent positive list allows everything, and an empty
 * one allows nothing (as the spec defines them).
 */
export function eventMatches(filter: RoomEventFilter | undefined, event: FilterableEvent): boolean {
  if (filter === undefined) return true;
  if (filter.not_types?.some((p) => typeMatches(p, event.type))) return false;
  if (filter.types !== undefined && !filter.types.some((p) => typeMatches(p, event.type))) return false;
  if (filter.not_senders?.includes(event.sender)) return false;
  if (filter.senders !== undefined && !filter.senders.includes(event.sender)) return false;
  if (event.roomId !== undefined && !roomMatches(filter, event.roomId)) return false;
  if (filter.contains_url !== undefined && hasUrl(event.content) !== filter.contains_url) return false;
  return true;
}

/** True when the room passes a filter's `rooms` / `not_rooms` lists. */
export function roomMatches(filter: { readonly rooms?: readonly string[]; readonly not_rooms?: readonly string[] } | undefined, roomId: string): boolean {
  if (filter === undefined) return true;
  if (filter.not_rooms?.includes(roomId)) return false;
  return filter.rooms === undefined || filter.rooms.includes(roomId);
}

/** How many timeline events a sync room carries under this filter. */
export function timelineLimitOf(filter: Filter | undefined): number {
  return filter?.room?.timeline?.limit ?? DEFAULT_TIMELINE_LIMIT;
}
