// Room events as one user sees them (the membership service's ViewedEvent)
// turned into what a client receives: the client format with `unsigned`
// (age, and for state events the state they replaced), or, when a sync
// filter asks, the federation format and only the listed fields.
import type { ViewedEvent } from '@membrane/proto';
import { toClientEvent } from './client-event.js';
import type { JsonObject } from './request-input.js';

export interface EventFormat {
  /** `event_format` of a filter: `federation` keeps the PDU as it is. */
  readonly federation?: boolean;
  /** `event_fields` of a filter: dotted paths of the fields to keep. */
  readonly fields?: readonly string[];
}

export interface ViewOptions {
  /** The room the event is in; omitted from the event when `withRoomId` is false (sync sections). */
  readonly roomId: string;
  readonly withRoomId: boolean;
  /** Now, in ms since the epoch, for `unsigned.age`. */
  readonly now: number;
  readonly format?: EventFormat;
}

function parseObject(json: string): JsonObject {
  return JSON.parse(json) as JsonObject;
}

/** `unsigned` as the spec defines it for client events: age, and prev_content / prev_sender / replaces_state. */
function unsignedOf(viewed: ViewedEvent, pdu: JsonObject, now: number): JsonObject {
  const unsigned: JsonObject = {};
  const ts = pdu['origin_server_ts'];
  if (typeof ts === 'number') unsigned['age'] = Math.max(0, now - ts);
  if (viewed.prevContentJson !== undefined) unsigned['prev_content'] = parseObject(viewed.prevContentJson);
  if (viewed.prevSender !== undefined) unsigned['prev_sender'] = viewed.prevSender;
  if (viewed.replacesState !== undefined) unsigned['replaces_state'] = viewed.replacesState;
  return unsigned;
}

/** Splits `a.b\.c` into `['a', 'b.c']`: a backslash escapes a dot or a backslash. */
export function fieldPath(field: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < field.length; i++) {
    const ch = field[i] as string;
    const next = field[i + 1];
    if (ch === '\\' && (next === '.' || next === '\\')) {
      current += next;
      i++;
    } else if (ch === '.') {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sets an own property. Plain assignment of a key such as `__proto__` (which
 * a sender may put in content) would reach the prototype instead.
 */
function setOwn(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Keeps only the listed fields (spec `event_fields`); paths that lead nowhere are skipped. */
export function onlyFields(event: JsonObject, fields: readonly string[]): JsonObject {
  const kept: JsonObject = {};
  for (const field of fields) {
    const path = fieldPath(field);
    let from: unknown = event;
    for (const key of path) from = isObject(from) && Object.hasOwn(from, key) ? from[key] : undefined;
    if (from === undefined) continue;
    let into = kept;
    for (const key of path.slice(0, -1)) {
      const child = Object.hasOwn(into, key) ? into[key] : undefined;
      if (isObject(child)) {
        into = child;
      } else {
        const created: JsonObject = {};
        setOwn(into, key, created);
        into = created;
      }
    }
    setOwn(into, path[path.length - 1] as string, from);
  }
  return kept;
}

/** One event as the client receives it. */
export function viewedEventForClient(viewed: ViewedEvent, options: ViewOptions): JsonObject {
  const pdu = parseObject(viewed.eventJson);
  const unsigned = unsignedOf(viewed, pdu, options.now);
  let event: JsonObject;
  if (options.format?.federation === true) {
    event = { ...pdu, event_id: viewed.eventId, unsigned };
  } else {
    const client: JsonObject = { ...toClientEvent(pdu, viewed.eventId, options.roomId), unsigned };
    if (!options.withRoomId) delete client['room_id'];
    event = client;
  }
  const fields = options.format?.fields;
  return fields === undefined ? event : onlyFields(event, fields);
}
