// The room reads of a client (/state, /members, /event, /messages): what the
// viewer may read (reader.ts), filtered per event by history visibility
// (event-visibility.ts). Positions are stream tokens: token P stands for the
// point just after the event at position P.
import { MatrixError } from '@membrane/matrix-errors';
import type { ViewedEvent } from '@membrane/proto';
import type { RoomEventFilter } from '@membrane/views';
import { eventMatches, parseRoomEventFilter } from '@membrane/views';
import type { ReadTx, StateEntry, Storage, StoredEvent, StoredMembership } from '../storage/index.js';
import { filterVisibleEvents, isShowable, toViewedEvents, VisibilityCache } from './event-visibility.js';
import { findReader, requireReader } from './reader.js';
import type { RoomReader } from './reader.js';

export const DEFAULT_MESSAGES_LIMIT = 10;
export const MAX_MESSAGES_LIMIT = 1000;
/** Stored events looked at per /messages page before answering with what was found. */
const MAX_SCANNED_PER_PAGE = 10_000;
const SCAN_BATCH = 200;

export interface VisibleState {
  readonly roomVersion: string;
  readonly events: ViewedEvent[];
}

/** State events as shown in state and member lists (no `prev_content`: too costly over a whole state). */
function plainViewed(events: readonly StoredEvent[]): ViewedEvent[] {
  return events.map((e) => ({ eventJson: e.json, eventId: e.eventId, position: e.position }));
}

async function eventsOfEntries(tx: ReadTx, entries: readonly StateEntry[]): Promise<StoredEvent[]> {
  const events = await tx.getEvents(entries.map((e) => e.eventId));
  return entries.map((e) => events.get(e.eventId)).filter((e): e is StoredEvent => e !== undefined);
}

/** The stored events of the state the reader sees, optionally only some keys or one type. */
async function visibleStateEvents(tx: ReadTx, reader: RoomReader, only?: { type: string; stateKey?: string }): Promise<StoredEvent[]> {
  const roomId = reader.room.roomId;
  if (reader.frozenStateGroupId === null) return tx.getCurrentStateEvents(roomId, only === undefined ? undefined : [only]);
  if (only?.stateKey !== undefined) {
    return eventsOfEntries(tx, (await tx.getStateGroupEntries(reader.frozenStateGroupId, [{ type: only.type, stateKey: only.stateKey }])) ?? []);
  }
  const entries = (await tx.getStateGroup(reader.frozenStateGroupId)) ?? [];
  return eventsOfEntries(tx, only === undefined ? entries : entries.filter((e) => e.type === only.type));
}

/** The room state the viewer may see; one key when both `eventType` and `stateKey` are given (404 if absent). */
export async function queryVisibleState(
  storage: Storage,
  request: { roomId: string; viewerUserId: string; eventType?: string | undefined; stateKey?: string | undefined },
): Promise<VisibleState> {
  return storage.read(async (tx) => {
    const reader = await requireReader(tx, request.roomId, request.viewerUserId);
    const key = request.eventType !== undefined && request.stateKey !== undefined ? { type: request.eventType, stateKey: request.stateKey } : undefined;
    const events = await visibleStateEvents(tx, reader, key);
    if (key !== undefined && events.length === 0) throw MatrixError.notFound('Event not found.');
    return { roomVersion: reader.room.roomVersion, events: plainViewed(events) };
  });
}

function membershipOfJson(json: string): string | undefined {
  const value = (JSON.parse(json) as { content?: { membership?: unknown } }).content?.membership;
  return typeof value === 'string' ? value : undefined;
}

/** The newest showable room event at or before `position` and the state group after it; null before the room began. */
async function stateAt(tx: ReadTx, roomId: string, position: number): Promise<{ event: StoredEvent; groupId: number } | null> {
  let cursor = position;
  for (let scanned = 0; scanned < MAX_SCANNED_PER_PAGE && cursor > 0; scanned += SCAN_BATCH) {
    const batch = await tx.getRoomEventsBackwards(roomId, cursor, SCAN_BATCH);
    const showable = batch.filter(isShowable);
    if (showable.length > 0) {
      const groups = await tx.getStateGroupsOfEvents(showable.map((e) => e.eventId));
      for (const event of showable) {
        const group = groups.get(event.eventId);
        if (group !== undefined) return { event, groupId: group.afterGroupId };
      }
    }
    if (batch.length < SCAN_BATCH) return null;
    cursor = (batch[batch.length - 1] as StoredEvent).position - 1;
  }
  return null;
}

/**
 * The member events of the state the viewer may see, or of the state as of
 * the stream position `atPosition` (never beyond their leave), filtered by
 * membership. The state as of a point is shown only if the viewer may see
 * the event that ends there (403 otherwise, as Synapse): history visibility
 * covers past member events too.
 */
export async function queryVisibleMembers(
  storage: Storage,
  request: {
    roomId: string;
    viewerUserId: string;
    atPosition?: number | undefined;
    memberships?: readonly StoredMembership[] | undefined;
    notMemberships?: readonly StoredMembership[] | undefined;
  },
): Promise<VisibleState> {
  return storage.read(async (tx) => {
    const reader = await requireReader(tx, request.roomId, request.viewerUserId);
    let members: StoredEvent[];
    if (request.atPosition === undefined) {
      members = await visibleStateEvents(tx, reader, { type: 'm.room.member' });
    } else {
      const bound = reader.upTo === null ? request.atPosition : Math.min(request.atPosition, reader.upTo);
      const at = await stateAt(tx, request.roomId, bound);
      if (at !== null && (await filterVisibleEvents(tx, request.viewerUserId, [at.event], { viewerIsMember: reader.viewerIsMember })).length === 0) {
        throw MatrixError.forbidden(`User ${request.viewerUserId} may not see room ${request.roomId} as of that point`);
      }
      const entries = at === null ? [] : ((await tx.getStateGroup(at.groupId)) ?? []);
      members = await eventsOfEntries(tx, entries.filter((e) => e.type === 'm.room.member'));
    }
    const only = request.memberships !== undefined && request.memberships.length > 0 ? new Set<string>(request.memberships) : undefined;
    const not = new Set<string>(request.notMemberships ?? []);
    const chosen = members.filter((e) => {
      const membership = membershipOfJson(e.json) ?? '';
      return (only === undefined || only.has(membership)) && !not.has(membership);
    });
    return { roomVersion: reader.room.roomVersion, events: plainViewed(chosen) };
  });
}

/**
 * One event of the room, if the viewer may see it: in the room, within their
 * leave bound and visible by history visibility; otherwise 404, also for a
 * room the viewer forgot or may not read (the spec gives /event no 403).
 */
export async function queryVisibleEvent(
  storage: Storage,
  request: { roomId: string; eventId: string; viewerUserId: string },
): Promise<{ roomVersion: string; event: ViewedEvent }> {
  return storage.read(async (tx) => {
    const reader = await findReader(tx, request.roomId, request.viewerUserId);
    const notFound = MatrixError.notFound('Event not found.');
    if (typeof reader === 'string') throw notFound;
    const event = await tx.getEvent(request.eventId);
    if (event === null || event.roomId !== request.roomId) throw notFound;
    if (reader.upTo !== null && event.position > reader.upTo) throw notFound;
    const [visible] = await filterVisibleEvents(tx, request.viewerUserId, [event], { viewerIsMember: reader.viewerIsMember });
    if (visible === undefined) throw notFound;
    const [viewed] = await toViewedEvents(tx, [visible]);
    return { roomVersion: reader.room.roomVersion, event: viewed as ViewedEvent };
  });
}

export interface MessagesRequest {
  readonly roomId: string;
  readonly viewerUserId: string;
  /** Absent: the newest point the viewer may read (backwards) or the room's start (forwards). */
  readonly fromPosition?: number | undefined;
  readonly toPosition?: number | undefined;
  readonly backwards: boolean;
  /** 0 or absent: 10; more than 1000: 1000. */
  readonly limit?: number | undefined;
  /** A RoomEventFilter as JSON text; '' or absent for none. */
  readonly filterJson?: string | undefined;
}

export interface MessagesPage {
  readonly roomVersion: string;
  readonly startPosition: number;
  /** The token to continue from; absent when nothing more can come that way. */
  readonly endPosition?: number;
  readonly events: ViewedEvent[];
}

function parseFilterJson(text: string | undefined): RoomEventFilter | undefined {
  if (text === undefined || text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw MatrixError.badJson('Invalid filter: not JSON');
  }
  return parseRoomEventFilter(value);
}

export function clampMessagesLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit) || limit <= 0) return DEFAULT_MESSAGES_LIMIT;
  return Math.min(Math.floor(limit), MAX_MESSAGES_LIMIT);
}

/**
 * A page of room events for /messages: backwards, events at or before
 * `from` down to (not including) `to`, newest first; forwards, events after
 * `from` up to and including `to`, oldest first. Only events the viewer may
 * see and the filter lets through; nothing past the viewer's leave.
 */
export async function queryMessages(storage: Storage, request: MessagesRequest): Promise<MessagesPage> {
  const filter = parseFilterJson(request.filterJson);
  const limit = clampMessagesLimit(request.limit);
  return storage.read(async (tx) => {
    const reader = await requireReader(tx, request.roomId, request.viewerUserId);
    const cache = new VisibilityCache(request.viewerUserId);
    const wanted = (events: readonly StoredEvent[]): Promise<StoredEvent[]> =>
      filterVisibleEvents(
        tx,
        request.viewerUserId,
        events.filter((e) => eventMatches(filter, { type: e.type, sender: e.sender, roomId: e.roomId, content: (JSON.parse(e.json) as { content?: unknown }).content })),
        { viewerIsMember: reader.viewerIsMember, cache },
      );
    const page = request.backwards
      ? await pageBackwards(tx, reader, request, limit, wanted)
      : await pageForwards(tx, reader, request, limit, wanted);
    return { roomVersion: reader.room.roomVersion, ...page, events: await toViewedEvents(tx, page.events) };
  });
}

type Select = (events: readonly StoredEvent[]) => Promise<StoredEvent[]>;

interface RawPage {
  readonly startPosition: number;
  readonly endPosition?: number;
  readonly events: StoredEvent[];
}

async function pageBackwards(tx: ReadTx, reader: RoomReader, request: MessagesRequest, limit: number, select: Select): Promise<RawPage> {
  const newest = reader.upTo ?? (await tx.maxStreamPosition());
  const start = Math.min(request.fromPosition ?? newest, newest);
  const floor = Math.max(request.toPosition ?? 0, 0);
  const found: StoredEvent[] = [];
  let cursor = start;
  let scanned = 0;
  while (cursor > floor) {
    const batch = await tx.getRoomEventsBackwards(reader.room.roomId, cursor, SCAN_BATCH, floor);
    scanned += batch.length;
    for (const event of await select(batch)) {
      found.push(event);
      if (found.length === limit) return { startPosition: start, endPosition: event.position - 1, events: found };
    }
    if (batch.length < SCAN_BATCH) return { startPosition: start, events: found };
    cursor = (batch[batch.length - 1] as StoredEvent).position - 1;
    // A long run of hidden events: answer with what was found, and where to go on.
    if (scanned >= MAX_SCANNED_PER_PAGE) return { startPosition: start, endPosition: cursor, events: found };
  }
  return { startPosition: start, events: found };
}

async function pageForwards(tx: ReadTx, reader: RoomReader, request: MessagesRequest, limit: number, select: Select): Promise<RawPage> {
  const start = Math.max(request.fromPosition ?? 0, 0);
  const bounds = [request.toPosition, reader.upTo].filter((b): b is number => b !== undefined && b !== null);
  const ceiling = bounds.length === 0 ? Number.MAX_SAFE_INTEGER : Math.min(...bounds);
  const found: StoredEvent[] = [];
  let cursor = start;
  let scanned = 0;
  while (cursor < ceiling) {
    const fetched = await tx.getRoomEventsAfter(reader.room.roomId, cursor, SCAN_BATCH);
    const batch = fetched.filter((e) => e.position <= ceiling);
    scanned += batch.length;
    for (const event of await select(batch)) {
      found.push(event);
      if (found.length === limit) return { startPosition: start, endPosition: event.position, events: found };
    }
    if (fetched.length < SCAN_BATCH || batch.length < fetched.length) return { startPosition: start, events: found };
    cursor = (batch[batch.length - 1] as StoredEvent).position;
    if (scanned >= MAX_SCANNED_PER_PAGE) return { startPosition: start, endPosition: cursor, events: found };
  }
  return { startPosition: start, events: found };
}
