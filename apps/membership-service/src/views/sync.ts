// QuerySync: what a user's client learns from /sync. One answer is computed
// from one storage snapshot and covers the stream up to `next_position`.
//
// - Initial sync: every joined room (last N visible events, the state before
//   them), every invite and knock (stripped state), and with
//   room.include_leave every left or banned room that was not forgotten
//   (its timeline up to and including the leave).
// - Incremental sync from P: joined rooms with visible events after P, rooms
//   joined after P (sent whole), new invites and knocks, and every room the
//   user left or was banned from after P, under leave whatever include_leave
//   says and even when already forgotten: a user's other devices must learn
//   of the leave, and forgetting only hides what came before P. A room left
//   before P and forgotten after P is not reported.
// - Long-poll: an incremental sync with nothing to report waits for commits
//   (and polls, for writes by other replicas) until there is news or the
//   timeout ends.
import { MatrixError } from '@membrane/matrix-errors';
import type { QuerySyncRequest, QuerySyncResponse, SyncRoom } from '@membrane/proto';
import type { Filter } from '@membrane/views';
import { parseFilter, roomMatches, timelineLimitOf } from '@membrane/views';
import type { CommitNotifier } from '../commit-notifier.js';
import type { MembershipRecord, ReadTx, Storage } from '../storage/index.js';
import { VisibilityCache } from './event-visibility.js';
import { wasJoinedBefore } from './reader.js';
import { roomsWithNews, wasJoinedAt } from './sync-news.js';
import { MAX_TIMELINE_LIMIT, stateAfterLeave, strippedRoom, timelineRoom } from './sync-rooms.js';
import type { SyncRoomContext } from './sync-rooms.js';

/** The longest a sync waits, whatever the client asks (clients ask for 30 s typically). */
export const MAX_SYNC_TIMEOUT_MS = 300_000;
/** Answer this long before the caller's deadline, so the empty answer still arrives. */
const DEADLINE_MARGIN_MS = 250;
/** Recomputations of one long-poll, at most (each follows a commit or a poll). */
const MAX_WAIT_ROUNDS = 100_000;

/** One sync question, validated. */
export interface SyncQuery {
  readonly userId: string;
  /** Absent: initial sync. */
  readonly since?: number;
  readonly fullState: boolean;
  readonly filter?: Filter;
}

export interface SyncWaitOptions {
  readonly notifier: CommitNotifier;
  /** Aborted when the caller goes away: the wait ends at once. */
  readonly signal: AbortSignal;
  /** The caller's deadline: an empty answer is sent shortly before it. */
  readonly deadline?: Date | undefined;
  /** Longest wait before storage is read again (other replicas' writes do not notify). Default 1000. */
  readonly pollMs?: number | undefined;
  readonly clock?: () => number;
}

/** The request as a SyncQuery; 400 for a missing user, a negative token or a malformed filter. */
export function syncQueryOf(request: QuerySyncRequest): SyncQuery {
  if (request.userId === '') throw MatrixError.missingParam('user_id is required');
  const since = request.sincePosition;
  if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) throw MatrixError.invalidParam('since_position must be a stream position');
  let filter: Filter | undefined;
  if (request.filterJson !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(request.filterJson);
    } catch {
      throw MatrixError.badJson('filter_json is not valid JSON');
    }
    filter = parseFilter(parsed);
  }
  return { userId: request.userId, fullState: request.fullState, ...(since === undefined ? {} : { since }), ...(filter === undefined ? {} : { filter }) };
}

/**
 * The sync answer over one snapshot, without waiting. `nextPosition` is the
 * newest stream position of that snapshot; the rooms are sorted by room ID.
 */
export async function computeSync(tx: ReadTx, query: SyncQuery): Promise<QuerySyncResponse> {
  const now = await tx.maxStreamPosition();
  const ctx: SyncRoomContext = {
    tx,
    userId: query.userId,
    filter: query.filter,
    timelineLimit: Math.min(timelineLimitOf(query.filter), MAX_TIMELINE_LIMIT),
    cache: new VisibilityCache(query.userId),
  };
  const roomFilter = query.filter?.room;
  // Forgotten rows are read too: a leave after the token is reported even when forgotten since.
  const rows = (await tx.listRoomsForUser(query.userId, { forgotten: 'include' })).filter((row) => roomMatches(roomFilter, row.roomId));
  // A token from a newer database (e.g. one restored from backup) starts over from now.
  const since = query.since === undefined ? undefined : Math.min(query.since, now);
  const rooms = since === undefined ? await initialRooms(ctx, rows, now) : await incrementalRooms(ctx, rows, since, now, query.fullState);
  rooms.sort((a, b) => (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0));
  return { nextPosition: now, rooms };
}

async function initialRooms(ctx: SyncRoomContext, rows: readonly MembershipRecord[], now: number): Promise<SyncRoom[]> {
  const includeLeave = ctx.filter?.room?.include_leave === true;
  const rooms: SyncRoom[] = [];
  for (const row of rows) {
    switch (row.membership) {
      case 'join':
        rooms.push(await joinedRoomWhole(ctx, row, now));
        break;
      case 'invite':
      case 'knock':
        rooms.push(await strippedRoom(ctx, row));
        break;
      case 'leave':
      case 'ban':
        if (includeLeave && !row.forgotten) rooms.push(await leftRoom(ctx, row, 0));
        break;
    }
  }
  return rooms;
}

async function incrementalRooms(ctx: SyncRoomContext, rows: readonly MembershipRecord[], since: number, now: number, fullState: boolean): Promise<SyncRoom[]> {
  const rooms: SyncRoom[] = [];
  // Joined rooms the client already holds at `since`.
  const continuing = new Map<string, MembershipRecord>();
  for (const row of rows) {
    if (row.position <= since) {
      if (row.membership === 'join') continuing.set(row.roomId, row);
      continue;
    }
    switch (row.membership) {
      case 'join':
        if (await wasJoinedAt(ctx.tx, row, since)) continuing.set(row.roomId, row);
        else rooms.push(await joinedRoomWhole(ctx, row, now));
        break;
      case 'invite':
      case 'knock':
        rooms.push(await strippedRoom(ctx, row));
        break;
      case 'leave':
      case 'ban':
        rooms.push(await leftRoom(ctx, row, since));
        break;
    }
  }
  const withNews = fullState ? new Set(continuing.keys()) : await roomsWithNews(ctx.tx, [...continuing.keys()], since, now);
  for (const [roomId, row] of continuing) {
    if (!withNews.has(roomId)) continue;
    const room = await timelineRoom(ctx, row, { after: since, upTo: now, state: fullState ? 'full' : 'delta' }, 'current');
    // News the user may not see, or that the filter leaves out, is no news.
    if (fullState || room.timeline.length > 0 || room.state.length > 0) rooms.push(room);
  }
  return rooms;
}

/** A joined room as a client that never saw it needs it: the newest events and the state before them. */
function joinedRoomWhole(ctx: SyncRoomContext, row: MembershipRecord, now: number): Promise<SyncRoom> {
  return timelineRoom(ctx, row, { after: 0, upTo: now, state: 'full' }, 'current');
}

/**
 * A left or banned room: visible events after `after` up to and including
 * the leave (nothing after it), and the state before them; the state after
 * the leave when no event is left to show. `shared` history is shown only
 * to a user who left from a join, as /messages does (reader.ts).
 */
async function leftRoom(ctx: SyncRoomContext, row: MembershipRecord, after: number): Promise<SyncRoom> {
  const groups = await ctx.tx.getEventStateGroups(row.eventId);
  const viewerIsMember = groups !== null && (await wasJoinedBefore(ctx.tx, groups.beforeGroupId, row.userId));
  return timelineRoom(ctx, row, { after, upTo: row.position, state: 'full', viewerIsMember }, await stateAfterLeave(ctx, row));
}

/**
 * QuerySync with its long-poll: an incremental sync with nothing to report
 * and a timeout waits for commits of this service (and reads storage again
 * every `pollMs` for other replicas' writes), answering as soon as anything
 * for this user appears, or with no rooms and the newest position when the
 * timeout ends or the caller goes away. Initial and full-state syncs never wait.
 */
export async function querySync(storage: Storage, request: QuerySyncRequest, options: SyncWaitOptions): Promise<QuerySyncResponse> {
  const query = syncQueryOf(request);
  const clock = options.clock ?? Date.now;
  const started = clock();
  let wake = options.notifier.next();
  let answer = await storage.read((tx) => computeSync(tx, query));
  if (query.since === undefined || query.fullState || request.timeoutMs <= 0 || answer.rooms.length > 0) return answer;

  let end = started + Math.min(request.timeoutMs, MAX_SYNC_TIMEOUT_MS);
  if (options.deadline !== undefined) end = Math.min(end, options.deadline.getTime() - DEADLINE_MARGIN_MS);
  const pollMs = Math.max(options.pollMs ?? 1000, 1);
  for (let round = 0; round < MAX_WAIT_ROUNDS; round += 1) {
    const remaining = end - clock();
    if (remaining <= 0 || options.signal.aborted) break;
    await options.notifier.wait(wake, Math.min(remaining, pollMs), options.signal);
    if (options.signal.aborted) break;
    wake = options.notifier.next();
    // Nothing up to the last answer's position was for this user, so the
    // next look starts there: each round reads only what is new.
    const from = answer.nextPosition;
    answer = await storage.read((tx) => computeSync(tx, { ...query, since: from }));
    if (answer.rooms.length > 0) return answer;
  }
  return { nextPosition: answer.nextPosition, rooms: [] };
}
