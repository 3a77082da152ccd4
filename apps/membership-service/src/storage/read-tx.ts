// The queries of `ReadTx`, written once for both engines.

import { StorageError } from './errors.js';
import {
  EVENT_COLUMNS,
  INVITE_COLUMNS,
  MEMBERSHIP_COLUMNS,
  checkLimit,
  compareStateKeys,
  compareText,
  eventFromRow,
  idempotencyFromRow,
  inviteFromRow,
  membershipFromRow,
  roomFromRow,
  stateEntryFromRow,
} from './rows.js';
import type { Dialect, SqlExecutor, SqlRow, SqlValue } from './sql.js';
import { chunks, placeholders, toInt, toStr } from './sql.js';
import { getSentKnock } from './sent-knocks.js';
import { lookupStateGroupKeys, resolveStateGroup } from './state-groups.js';
import type {
  EventStateGroups,
  IdempotencyRecord,
  MembershipRecord,
  ReadTx,
  ReceivedInvite,
  RoomRecord,
  RoomsForUserQuery,
  SentKnock,
  ServerMemberCount,
  StateEntry,
  StateFilter,
  StateKeyPair,
  StoredEvent,
  StoredMembership,
} from './types.js';

export const MAX_EVENTS_PER_PAGE = 1000;

/** Guards a handle against use after its transaction ended. */
export class TxState {
  private active = true;
  end(): void {
    this.active = false;
  }
  check(): void {
    if (!this.active) throw new StorageError('TRANSACTION_ENDED', 'transaction handle used after the transaction ended');
  }
}

export class SqlReadTx implements ReadTx {
  constructor(
    private readonly executor: SqlExecutor,
    protected readonly dialect: Dialect,
    protected readonly state: TxState,
  ) {}

  /** The executor, once the handle is known to be live. */
  protected get db(): SqlExecutor {
    this.state.check();
    return this.executor;
  }

  async getRoom(roomId: string): Promise<RoomRecord | null> {
    const rows = await this.db.query(
      'SELECT room_id, room_version, created_ts, current_state_group FROM rooms WHERE room_id = $1',
      [roomId],
    );
    return rows[0] ? roomFromRow(rows[0]) : null;
  }

  async getEvent(eventId: string): Promise<StoredEvent | null> {
    const rows = await this.db.query(`SELECT ${EVENT_COLUMNS} FROM events WHERE event_id = $1`, [eventId]);
    return rows[0] ? eventFromRow(rows[0]) : null;
  }

  async getEvents(eventIds: readonly string[]): Promise<ReadonlyMap<string, StoredEvent>> {
    const found = new Map<string, StoredEvent>();
    for (const part of chunks([...new Set(eventIds)])) {
      const rows = await this.db.query(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE event_id IN (${placeholders(part.length, 0)})`,
        part,
      );
      for (const row of rows) {
        const event = eventFromRow(row);
        found.set(event.eventId, event);
      }
    }
    return found;
  }

  async getRoomEventsAfter(roomId: string, afterPosition: number, limit: number): Promise<StoredEvent[]> {
    checkLimit('limit', limit, MAX_EVENTS_PER_PAGE);
    const rows = await this.db.query(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE room_id = $1 AND stream_pos > $2 ORDER BY stream_pos LIMIT $3`,
      [roomId, afterPosition, limit],
    );
    return rows.map(eventFromRow);
  }

  async getRoomEventsBackwards(roomId: string, atOrBeforePosition: number, limit: number, afterPosition?: number): Promise<StoredEvent[]> {
    checkLimit('limit', limit, MAX_EVENTS_PER_PAGE);
    const rows = await this.db.query(
      `SELECT ${EVENT_COLUMNS} FROM events
        WHERE room_id = $1 AND stream_pos <= $2 AND stream_pos > $3
        ORDER BY stream_pos DESC LIMIT $4`,
      [roomId, atOrBeforePosition, afterPosition ?? 0, limit],
    );
    return rows.map(eventFromRow);
  }

  async eventsSince(afterPosition: number, limit: number, roomIds?: readonly string[]): Promise<StoredEvent[]> {
    checkLimit('limit', limit, MAX_EVENTS_PER_PAGE);
    if (roomIds === undefined) {
      const rows = await this.db.query(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_pos > $1 ORDER BY stream_pos LIMIT $2`,
        [afterPosition, limit],
      );
      return rows.map(eventFromRow);
    }
    // Each chunk of rooms yields its first `limit` events; the merged first
    // `limit` of those are the first `limit` overall.
    const merged: StoredEvent[] = [];
    for (const part of chunks([...new Set(roomIds)])) {
      const rows = await this.db.query(
        `SELECT ${EVENT_COLUMNS} FROM events
          WHERE stream_pos > $1 AND room_id IN (${placeholders(part.length, 2)})
          ORDER BY stream_pos LIMIT $2`,
        [afterPosition, limit, ...part],
      );
      merged.push(...rows.map(eventFromRow));
    }
    return merged.sort((a, b) => a.position - b.position).slice(0, limit);
  }

  async maxStreamPosition(): Promise<number> {
    const rows = await this.db.query('SELECT MAX(stream_pos) AS max_pos FROM events');
    const max = rows[0]?.['max_pos'];
    return max === null || max === undefined ? 0 : toInt(max);
  }

  async getForwardExtremities(roomId: string): Promise<string[]> {
    const rows = await this.db.query('SELECT event_id FROM forward_extremities WHERE room_id = $1', [roomId]);
    return rows.map((r) => toStr(r['event_id'])).sort(compareText);
  }

  async getCurrentStateEventId(roomId: string, type: string, stateKey: string): Promise<string | null> {
    const rows = await this.db.query(
      'SELECT event_id FROM current_state WHERE room_id = $1 AND type = $2 AND state_key = $3',
      [roomId, type, stateKey],
    );
    return rows[0] ? toStr(rows[0]['event_id']) : null;
  }

  async getCurrentState(roomId: string): Promise<StateEntry[]> {
    const rows = await this.db.query('SELECT type, state_key, event_id FROM current_state WHERE room_id = $1', [
      roomId,
    ]);
    return rows.map(stateEntryFromRow).sort(compareStateKeys);
  }

  async getCurrentStateEvents(roomId: string, filters?: readonly StateFilter[]): Promise<StoredEvent[]> {
    const found: Array<{ type: string; stateKey: string; event: StoredEvent }> = [];
    const collect = (rows: SqlRow[]): void => {
      for (const row of rows) {
        found.push({ type: toStr(row['cs_type']), stateKey: toStr(row['cs_state_key']), event: eventFromRow(row) });
      }
    };
    const select = CURRENT_STATE_EVENTS_SELECT;
    if (filters === undefined) {
      collect(await this.db.query(select, [roomId]));
    } else {
      // Primary-key lookups: a single query ORing the keys makes the planners
      // scan the room's whole state (every member event), so exact keys are
      // one lookup each, joined with UNION ALL into one statement.
      const exact = filters.filter((f): f is StateFilter & { stateKey: string } => f.stateKey !== undefined);
      for (const part of chunks(exact, 50)) {
        const lookups = part.map((_, i) => `${select} AND cs.type = $${2 * i + 2} AND cs.state_key = $${2 * i + 3}`);
        collect(await this.db.query(lookups.join(' UNION ALL '), [roomId, ...part.flatMap((f) => [f.type, f.stateKey])]));
      }
      for (const filter of filters) {
        if (filter.stateKey === undefined) collect(await this.db.query(`${select} AND cs.type = $2`, [roomId, filter.type]));
      }
    }
    const unique = new Map(found.map((f) => [f.event.eventId + '\u0000' + f.type + '\u0000' + f.stateKey, f]));
    return [...unique.values()].sort(compareStateKeys).map((f) => f.event);
  }

  async getStateGroup(groupId: number): Promise<StateEntry[] | null> {
    return resolveStateGroup(this.db, groupId);
  }

  async getEventStateGroups(eventId: string): Promise<EventStateGroups | null> {
    const rows = await this.db.query('SELECT before_group_id, after_group_id FROM event_state WHERE event_id = $1', [
      eventId,
    ]);
    const row = rows[0];
    return row ? { beforeGroupId: toInt(row['before_group_id']), afterGroupId: toInt(row['after_group_id']) } : null;
  }

  async getStateAtEvent(eventId: string, at: 'before' | 'after'): Promise<StateEntry[] | null> {
    const groups = await this.getEventStateGroups(eventId);
    if (!groups) return null;
    return resolveStateGroup(this.db, at === 'before' ? groups.beforeGroupId : groups.afterGroupId);
  }

  async getStateGroupEntries(groupId: number, keys: readonly StateKeyPair[]): Promise<StateEntry[] | null> {
    return lookupStateGroupKeys(this.db, groupId, keys);
  }

  async getStateGroupsOfEvents(eventIds: readonly string[]): Promise<ReadonlyMap<string, EventStateGroups>> {
    const found = new Map<string, EventStateGroups>();
    for (const part of chunks([...new Set(eventIds)])) {
      const rows = await this.db.query(
        `SELECT event_id, before_group_id, after_group_id FROM event_state WHERE event_id IN (${placeholders(part.length, 0)})`,
        part,
      );
      for (const row of rows) {
        found.set(toStr(row['event_id']), { beforeGroupId: toInt(row['before_group_id']), afterGroupId: toInt(row['after_group_id']) });
      }
    }
    return found;
  }

  async getMembership(roomId: string, userId: string): Promise<MembershipRecord | null> {
    const rows = await this.db.query(
      `SELECT ${MEMBERSHIP_COLUMNS} FROM memberships WHERE room_id = $1 AND user_id = $2`,
      [roomId, userId],
    );
    return rows[0] ? membershipFromRow(rows[0]) : null;
  }

  async listRoomsForUser(userId: string, query: RoomsForUserQuery = {}): Promise<MembershipRecord[]> {
    const params: SqlValue[] = [userId];
    let sql = `SELECT ${MEMBERSHIP_COLUMNS} FROM memberships WHERE user_id = $1`;
    if (query.memberships !== undefined) {
      if (query.memberships.length === 0) return [];
      sql += ` AND membership IN (${placeholders(query.memberships.length, 1)})`;
      params.push(...query.memberships);
    }
    const forgotten = query.forgotten ?? 'exclude';
    if (forgotten === 'exclude') sql += ' AND forgotten = FALSE';
    if (forgotten === 'only') sql += ' AND forgotten = TRUE';
    const rows = await this.db.query(sql, params);
    return rows.map(membershipFromRow).sort((a, b) => compareText(a.roomId, b.roomId));
  }

  async listRoomMembers(roomId: string, memberships?: readonly StoredMembership[]): Promise<MembershipRecord[]> {
    const params: SqlValue[] = [roomId];
    let sql = `SELECT ${MEMBERSHIP_COLUMNS} FROM memberships WHERE room_id = $1`;
    if (memberships !== undefined) {
      if (memberships.length === 0) return [];
      sql += ` AND membership IN (${placeholders(memberships.length, 1)})`;
      params.push(...memberships);
    }
    const rows = await this.db.query(sql, params);
    return rows.map(membershipFromRow).sort((a, b) => compareText(a.userId, b.userId));
  }

  async countJoinedMembersByServer(roomId: string): Promise<ServerMemberCount[]> {
    // Kept by triggers on memberships (migration 2): one row per server, not per member.
    const rows = await this.db.query('SELECT server_name, joined FROM room_joined_servers WHERE room_id = $1 AND joined > 0', [
      roomId,
    ]);
    return rows
      .map((r) => ({ serverName: toStr(r['server_name']), joined: toInt(r['joined']) }))
      .sort((a, b) => compareText(a.serverName, b.serverName));
  }

  async isServerInRoom(roomId: string, serverName: string): Promise<boolean> {
    const rows = await this.db.query(
      'SELECT 1 AS present FROM room_joined_servers WHERE room_id = $1 AND server_name = $2 AND joined > 0',
      [roomId, serverName],
    );
    return rows.length > 0;
  }

  async getIdempotencyRecord(key: string): Promise<IdempotencyRecord | null> {
    const rows = await this.db.query('SELECT record_key, result_json, created_ts FROM idempotency_records WHERE record_key = $1', [
      key,
    ]);
    return rows[0] ? idempotencyFromRow(rows[0]) : null;
  }

  async getReceivedInvite(roomId: string, userId: string): Promise<ReceivedInvite | null> {
    const rows = await this.db.query(
      `SELECT ${INVITE_COLUMNS} FROM received_invites WHERE room_id = $1 AND user_id = $2`,
      [roomId, userId],
    );
    return rows[0] ? inviteFromRow(rows[0]) : null;
  }

  async listReceivedInvitesForUser(userId: string): Promise<ReceivedInvite[]> {
    const rows = await this.db.query(`SELECT ${INVITE_COLUMNS} FROM received_invites WHERE user_id = $1`, [userId]);
    return rows
      .map(inviteFromRow)
      .sort((a, b) => a.receivedTs - b.receivedTs || compareText(a.roomId, b.roomId));
  }

  getSentKnock(roomId: string, userId: string): Promise<SentKnock | null> {
    return getSentKnock(this.db, roomId, userId);
  }

  async getFilter(userId: string, filterId: string): Promise<string | null> {
    // IDs are decimal row numbers; anything else names no filter.
    if (!/^[1-9][0-9]{0,14}$/.test(filterId)) return null;
    const rows = await this.db.query('SELECT filter_json FROM user_filters WHERE filter_id = $1 AND user_id = $2', [
      Number(filterId),
      userId,
    ]);
    return rows[0] ? toStr(rows[0]['filter_json']) : null;
  }
}

const CURRENT_STATE_EVENTS_SELECT = `SELECT cs.type AS cs_type, cs.state_key AS cs_state_key, ${prefixed('e', EVENT_COLUMNS)}
  FROM current_state cs JOIN events e ON e.event_id = cs.event_id
 WHERE cs.room_id = $1`;

/** `a, b` → `e.a AS a, e.b AS b` */
function prefixed(alias: string, columns: string): string {
  return columns
    .split(',')
    .map((c) => c.trim())
    .map((c) => `${alias}.${c} AS ${c}`)
    .join(', ');
}
