// One room of a sync answer: the timeline a user may see in a window of the
// stream, the state before it, and for invites and knocks the stripped state.
// Which windows to use (initial, incremental, up to a leave) is decided by
// sync.ts; this file only builds a room for a window.
import { STRIPPED_STATE_TYPES } from '@membrane/events';
import type { ViewedEvent, SyncRoom } from '@membrane/proto';
import type { Filter, RoomEventFilter } from '@membrane/views';
import { eventMatches } from '@membrane/views';
import type { MembershipRecord, ReadTx, StateFilter, StoredEvent } from '../storage/index.js';
import { membershipToProto } from '../membership-mapping.js';
import { filterVisibleEvents, toViewedEvents } from './event-visibility.js';
import type { VisibilityCache } from './event-visibility.js';

/** The most timeline events one room carries, whatever the filter asks. */
export const MAX_TIMELINE_LIMIT = 500;
/** The most events read to fill one room's timeline (visibility and filters may drop many). */
export const MAX_SCANNED_EVENTS = 2000;


/** What every room of one answer shares. */
export interface SyncRoomContext {
  readonly tx: ReadTx;
  readonly userId: string;
  readonly filter: Filter | undefined;
  /** Timeline length per room (the filter's, capped). */
  readonly timelineLimit: number;
  readonly cache: VisibilityCache;
}

/** A window of the stream to show: events with `after` < position <= `upTo`. */
export interface TimelineWindow {
  readonly after: number;
  readonly upTo: number;
  /**
   * `full`: the whole state before the timeline. `delta`: only state that
   * changed between `after` and the timeline's start (an incremental sync of
   * a room the client already has); the whole state when the timeline is
   * limited, since the client has a gap.
   */
  readonly state: 'full' | 'delta';
  /**
   * The user reads as a member (default true): false for a room they left
   * without ever joining (a rejected or withdrawn invite or knock), who see
   * no `shared` history, as in /messages.
   */
  readonly viewerIsMember?: boolean;
}

interface TimelineScan {
  /** Ascending. */
  readonly events: StoredEvent[];
  readonly limited: boolean;
  /** Visible state events of the window that the timeline filter left out, descending. */
  readonly filteredState: StoredEvent[];
  /** Lowest position read; undefined when the window held nothing. */
  readonly lowestRead: number | undefined;
}

function emptyRoom(row: MembershipRecord, roomVersion: string): SyncRoom {
  return {
    roomId: row.roomId,
    roomVersion,
    membership: membershipToProto(row.membership),
    state: [],
    timeline: [],
    limited: false,
    prevBatchPosition: 0,
    strippedStateJson: [],
    joinedMemberCount: 0,
    invitedMemberCount: 0,
  };
}

function matches(filter: RoomEventFilter | undefined, event: StoredEvent): boolean {
  if (filter === undefined) return true;
  const content = filter.contains_url === undefined ? undefined : (JSON.parse(event.json) as { content?: unknown }).content;
  return eventMatches(filter, { type: event.type, sender: event.sender, roomId: event.roomId, ...(content === undefined ? {} : { content }) });
}

/**
 * Reads the window backwards, newest first, keeping the events the user may
 * see and the timeline filter lets through, until `limit` are found and one
 * more shows the timeline is limited. Bounded by MAX_SCANNED_EVENTS: a
 * window not read to its start counts as limited.
 */
async function scanTimeline(ctx: SyncRoomContext, row: MembershipRecord, window: TimelineWindow): Promise<TimelineScan> {
  const filter = ctx.filter?.room?.timeline;
  const batchSize = Math.min(1000, Math.max(ctx.timelineLimit + 1, 50));
  const picked: StoredEvent[] = [];
  const filteredState: StoredEvent[] = [];
  let limited = false;
  let exhausted = false;
  let lowestRead: number | undefined;
  let cursor = window.upTo;
  for (let read = 0; read < MAX_SCANNED_EVENTS && !limited; ) {
    if (cursor <= window.after) {
      exhausted = true;
      break;
    }
    const batch = await ctx.tx.getRoomEventsBackwards(row.roomId, cursor, batchSize, window.after);
    const last = batch[batch.length - 1];
    if (last === undefined) {
      exhausted = true;
      break;
    }
    read += batch.length;
    lowestRead = last.position;
    cursor = last.position - 1;
    const visible = new Set((await filterVisibleEvents(ctx.tx, ctx.userId, batch, { viewerIsMember: window.viewerIsMember ?? true, cache: ctx.cache })).map((e) => e.eventId));
    for (const event of batch) {
      // An out-of-band membership (a rejected remote invite) has no place in
      // the room's DAG, but it is the user's own news: show it to them.
      const shown = visible.has(event.eventId) || (event.outlier && event.eventId === row.eventId && event.rejectedReason === null);
      if (!shown) continue;
      if (!matches(filter, event)) {
        if (event.stateKey !== null) filteredState.push(event);
        continue;
      }
      if (picked.length === ctx.timelineLimit) {
        limited = true;
        break;
      }
      picked.push(event);
    }
    if (batch.length < batchSize) {
      exhausted = true;
      break;
    }
  }
  return { events: picked.reverse(), limited: limited || !exhausted, filteredState, lowestRead };
}

/** Current state events, or the state of one snapshot, as stored events (unsorted). */
async function stateEventsOf(ctx: SyncRoomContext, roomId: string, groupId: number | 'current', keys?: readonly StateFilter[]): Promise<StoredEvent[]> {
  if (groupId === 'current') return ctx.tx.getCurrentStateEvents(roomId, keys);
  const entries =
    keys === undefined
      ? await ctx.tx.getStateGroup(groupId)
      : await ctx.tx.getStateGroupEntries(
          groupId,
          keys.map((k) => ({ type: k.type, stateKey: k.stateKey ?? '' })),
        );
  if (entries === null || entries.length === 0) return [];
  const events = await ctx.tx.getEvents(entries.map((e) => e.eventId));
  return entries.map((e) => events.get(e.eventId)).filter((e): e is StoredEvent => e !== undefined);
}

/**
 * The snapshot the `state` section describes: before the first timeline
 * event that has one; when the timeline has none, the state at the window's
 * end (`end`). Null means "nothing is known" (a room we hold no state of).
 */
async function stateGroupBefore(ctx: SyncRoomContext, timeline: readonly StoredEvent[], end: number | 'current' | null): Promise<number | 'current' | null> {
  const first = timeline.find((e) => !e.outlier);
  if (first === undefined) return end;
  const groups = await ctx.tx.getEventStateGroups(first.eventId);
  return groups === null ? end : groups.beforeGroupId;
}

/** State events shown as they are (the `state` section needs no prev_content). */
function plainViewed(events: readonly StoredEvent[]): ViewedEvent[] {
  return [...events]
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : (a.stateKey ?? '') < (b.stateKey ?? '') ? -1 : (a.stateKey ?? '') > (b.stateKey ?? '') ? 1 : 0))
    .map((e) => ({ eventJson: e.json, eventId: e.eventId, position: e.position }));
}

/**
 * A joined or left room over one window: the visible timeline (newest
 * `timelineLimit` events), `limited` and `prev_batch`, and the state before
 * the timeline per `window.state`, through the room.state filter. `end` is
 * the snapshot at the window's end, used when the timeline is empty: the
 * current state for a joined room, the state after the leave for a left one.
 */
export async function timelineRoom(ctx: SyncRoomContext, row: MembershipRecord, window: TimelineWindow, end: number | 'current' | null): Promise<SyncRoom> {
  const room = await ctx.tx.getRoom(row.roomId);
  const base = emptyRoom(row, room?.roomVersion ?? '');
  const scan = await scanTimeline(ctx, row, window);
  const first = scan.events[0];
  const prevBatchPosition = first !== undefined ? first.position - 1 : scan.lowestRead !== undefined ? scan.lowestRead - 1 : window.upTo;

  let state: StoredEvent[] = [];
  if (room !== null) {
    const stateFilter = ctx.filter?.room?.state;
    const group = await stateGroupBefore(ctx, scan.events, end);
    if (group !== null) {
      if (window.state === 'full' || scan.limited) {
        state = await stateEventsOf(ctx, row.roomId, group);
      } else {
        // Incremental, not limited: the client holds the state at `after`;
        // it lacks only state events the timeline filter kept from it that
        // took effect before the timeline starts.
        const before = scan.filteredState.filter((e) => first === undefined || e.position < first.position);
        if (before.length > 0) {
          const keys = [...new Map(before.map((e) => [`${e.type}\u0000${e.stateKey ?? ''}`, { type: e.type, stateKey: e.stateKey ?? '' }])).values()];
          state = (await stateEventsOf(ctx, row.roomId, group, keys)).filter((e) => e.position > window.after);
        }
      }
      state = state.filter((e) => matches(stateFilter, e));
    }
  }

  const counts = row.membership === 'join' ? await memberCounts(ctx, row.roomId) : { joinedMemberCount: 0, invitedMemberCount: 0 };
  return {
    ...base,
    ...counts,
    state: plainViewed(state),
    timeline: await toViewedEvents(ctx.tx, scan.events),
    limited: scan.limited,
    prevBatchPosition,
  };
}

async function memberCounts(ctx: SyncRoomContext, roomId: string): Promise<{ joinedMemberCount: number; invitedMemberCount: number }> {
  const byServer = await ctx.tx.countJoinedMembersByServer(roomId);
  const invited = await ctx.tx.listRoomMembers(roomId, ['invite']);
  return { joinedMemberCount: byServer.reduce((sum, s) => sum + s.joined, 0), invitedMemberCount: invited.length };
}

/** The snapshot after the user's leave, or null when it was recorded without the room's state (out of band). */
export async function stateAfterLeave(ctx: SyncRoomContext, row: MembershipRecord): Promise<number | null> {
  const groups = await ctx.tx.getEventStateGroups(row.eventId);
  return groups === null ? null : groups.afterGroupId;
}

// ---------------------------------------------------------------- invites and knocks

interface StrippedEvent {
  type: string;
  state_key: string;
  sender: string;
  content: Record<string, unknown>;
  event_id?: string;
  origin_server_ts?: number;
}

function stripped(value: unknown): StrippedEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Record<string, unknown>;
  const content = e['content'];
  if (typeof e['type'] !== 'string' || typeof e['state_key'] !== 'string' || typeof e['sender'] !== 'string') return undefined;
  if (typeof content !== 'object' || content === null || Array.isArray(content)) return undefined;
  return { type: e['type'], state_key: e['state_key'], sender: e['sender'], content: content as Record<string, unknown> };
}

function strippedOfStored(event: StoredEvent): StrippedEvent | undefined {
  return stripped(JSON.parse(event.json));
}

/**
 * An invited or knocking room: stripped state, the user's member event last
 * (with its event ID and timestamp, so clients can show when and by whom).
 * A remote invite carries the state its server sent with it, and a knock on
 * a room we are not in the `knock_room_state` the resident server answered;
 * otherwise the state comes from the room's current state, with the
 * inviter's member event.
 */
export async function strippedRoom(ctx: SyncRoomContext, row: MembershipRecord): Promise<SyncRoom> {
  const room = await ctx.tx.getRoom(row.roomId);
  const member = await ctx.tx.getEvent(row.eventId);
  const received = row.membership === 'invite' ? await ctx.tx.getReceivedInvite(row.roomId, row.userId) : null;
  const knock = row.membership === 'knock' ? await ctx.tx.getSentKnock(row.roomId, row.userId) : null;
  // A knock row tells of the user's knock only while it is that knock.
  const offered = received?.strippedStateJson ?? (knock !== null && knock.eventId === row.eventId ? knock.knockRoomStateJson : undefined);
  let state: StrippedEvent[] = [];
  if (offered !== undefined) {
    try {
      const parsed = JSON.parse(offered) as unknown;
      if (Array.isArray(parsed)) state = parsed.map(stripped).filter((e): e is StrippedEvent => e !== undefined);
    } catch {
      // What another server sent is only a hint; without it the invite still shows.
      state = [];
    }
  } else if (room !== null && room.currentStateGroupId !== null) {
    const keys: StateFilter[] = STRIPPED_STATE_TYPES.map((type) => ({ type, stateKey: '' }));
    if (member !== null && member.sender !== row.userId) keys.push({ type: 'm.room.member', stateKey: member.sender });
    const events = await ctx.tx.getCurrentStateEvents(row.roomId, keys);
    state = events.map(strippedOfStored).filter((e): e is StrippedEvent => e !== undefined);
  }
  state = state.filter((e) => !(e.type === 'm.room.member' && e.state_key === row.userId));
  const own = member === null ? undefined : strippedOfStored(member);
  if (member !== null && own !== undefined) state.push({ ...own, event_id: member.eventId, origin_server_ts: member.originServerTs });
  return { ...emptyRoom(row, room?.roomVersion ?? received?.roomVersion ?? ''), strippedStateJson: state.map((e) => JSON.stringify(e)) };
}
