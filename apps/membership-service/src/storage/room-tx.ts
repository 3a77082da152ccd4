// The writes of `RoomTx`, written once for both engines. Every write is
// scoped to the transaction's room; rows it references (events, state
// groups) must belong to that room too.

import { StorageError } from './errors.js';
import { SqlReadTx, type TxState } from './read-tx.js';
import {
  MEMBERSHIP_COLUMNS,
  checkInt64,
  checkInteger,
  checkMembership,
  checkNonEmptyText,
  checkText,
  idempotencyFromRow,
  membershipFromRow,
  roomFromRow,
  serverNameOfUser,
} from './rows.js';
import type { Dialect, SqlExecutor, SqlValue } from './sql.js';
import { chunks, placeholders, toInt, toStr } from './sql.js';
import { deleteSentKnock, putSentKnock } from './sent-knocks.js';
import { getGroupHeader, storeStateGroup, type GroupHeader, type GroupHeaders } from './state-groups.js';
import type {
  EventStateGroups,
  EventStatusUpdate,
  InsertEventResult,
  MembershipRecord,
  MembershipUpdate,
  NewEvent,
  NewReceivedInvite,
  NewRoom,
  NewSentKnock,
  NewStateGroup,
  PutIdempotencyResult,
  RoomRecord,
  RoomTx,
  StateEntry,
  StateKeyPair,
} from './types.js';

/** Where an event is stored: enough to check references to it. */
interface EventPlace {
  readonly roomId: string;
  readonly position: number;
}

export class SqlRoomTx extends SqlReadTx implements RoomTx {
  private streamLocked = false;
  // Rows this transaction has seen or written; they cannot change under it
  // (events and groups are never updated in these columns), so checks that
  // reference them need no further query. Fewer queries after the first
  // insert means a shorter hold of the stream lock on PostgreSQL.
  private readonly eventPlaces = new Map<string, EventPlace>();
  private readonly groupHeaders = new Map<number, GroupHeader>();
  private readonly headers: GroupHeaders = {
    get: async (groupId) => {
      const known = this.groupHeaders.get(groupId);
      if (known) return known;
      const header = await getGroupHeader(this.db, groupId);
      if (header) this.groupHeaders.set(groupId, header);
      return header;
    },
    created: (groupId, header) => {
      this.groupHeaders.set(groupId, header);
    },
  };

  constructor(
    exec: SqlExecutor,
    dialect: Dialect,
    state: TxState,
    readonly roomId: string,
  ) {
    super(exec, dialect, state);
  }

  async createRoom(room: NewRoom): Promise<{ readonly created: boolean; readonly room: RoomRecord }> {
    checkNonEmptyText('room version', room.roomVersion);
    checkInteger('createdTs', room.createdTs);
    const inserted = await this.db.query(
      `INSERT INTO rooms (room_id, room_version, created_ts) VALUES ($1, $2, $3)
       ON CONFLICT (room_id) DO NOTHING
       RETURNING room_id, room_version, created_ts, current_state_group`,
      [this.roomId, room.roomVersion, room.createdTs],
    );
    if (inserted[0]) return { created: true, room: roomFromRow(inserted[0]) };
    const existing = await this.getRoom(this.roomId);
    if (!existing) throw new Error(`room ${this.roomId} neither inserted nor found`);
    return { created: false, room: existing };
  }

  async insertEvent(event: NewEvent): Promise<InsertEventResult> {
    this.checkNewEvent(event);
    // No look-up first: the insert itself reports a stored event (one
    // statement instead of two); only then is its position read.
    const known = this.eventPlaces.get(event.eventId);
    if (known !== undefined) return { position: known.position, inserted: false };
    if (!this.streamLocked) {
      await this.dialect.lockStreamOrder(this.db);
      this.streamLocked = true;
    }
    const rows = await this.db.query(
      `INSERT INTO events (event_id, room_id, type, state_key, sender, depth, origin_server_ts, json,
                           rejected_reason, outlier, soft_failed)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING stream_pos`,
      [
        event.eventId,
        event.roomId,
        event.type,
        event.stateKey,
        event.sender,
        event.depth,
        event.originServerTs,
        event.json,
        event.rejectedReason ?? null,
        event.outlier ?? false,
        event.softFailed ?? false,
      ],
    );
    if (rows[0]) {
      const position = toInt(rows[0]['stream_pos']);
      this.eventPlaces.set(event.eventId, { roomId: event.roomId, position });
      return { position, inserted: true };
    }
    const raced = await this.placeOf(event.eventId);
    if (raced === null) throw new Error(`event ${event.eventId} neither inserted nor found`);
    return { position: raced.position, inserted: false };
  }

  async updateEventStatus(eventId: string, update: EventStatusUpdate): Promise<boolean> {
    const sets: string[] = [];
    const params: SqlValue[] = [eventId, this.roomId];
    if (update.outlier !== undefined) {
      params.push(update.outlier);
      sets.push(`outlier = $${params.length}`);
    }
    if (update.softFailed !== undefined) {
      params.push(update.softFailed);
      sets.push(`soft_failed = $${params.length}`);
    }
    if (update.rejectedReason !== undefined) {
      if (update.rejectedReason !== null) checkText('rejectedReason', update.rejectedReason);
      params.push(update.rejectedReason);
      sets.push(`rejected_reason = $${params.length}`);
    }
    if (sets.length === 0) return (await this.placeOf(eventId))?.roomId === this.roomId;
    const changed = await this.db.execute(
      `UPDATE events SET ${sets.join(', ')} WHERE event_id = $1 AND room_id = $2`,
      params,
    );
    return changed > 0;
  }

  async setForwardExtremities(eventIds: readonly string[]): Promise<void> {
    const unique = [...new Set(eventIds)];
    unique.forEach((id) => checkNonEmptyText('forward extremity', id));
    await this.db.execute('DELETE FROM forward_extremities WHERE room_id = $1', [this.roomId]);
    for (const part of chunks(unique, 400)) {
      const values = part.map((_, i) => `($1, $${i + 2})`).join(', ');
      await this.db.execute(`INSERT INTO forward_extremities (room_id, event_id) VALUES ${values}`, [
        this.roomId,
        ...part,
      ]);
    }
  }

  async setCurrentState(entries: readonly StateEntry[]): Promise<void> {
    for (const e of entries) {
      checkText('state type', e.type);
      checkText('state key', e.stateKey);
      checkNonEmptyText('state event ID', e.eventId);
    }
    // One row per key, the last entry for a key wins (as applying them in order would).
    const byKey = new Map(entries.map((e) => [`${e.type.length}:${e.type}${e.stateKey}`, e]));
    for (const part of chunks([...byKey.values()], 200)) {
      const values = part.map((_, i) => `($1, ${placeholders(3, 1 + i * 3)})`).join(', ');
      await this.db.execute(
        `INSERT INTO current_state (room_id, type, state_key, event_id) VALUES ${values}
         ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id`,
        [this.roomId, ...part.flatMap((e) => [e.type, e.stateKey, e.eventId])],
      );
    }
  }

  async deleteCurrentState(keys: readonly StateKeyPair[]): Promise<void> {
    for (const k of keys) {
      await this.db.execute('DELETE FROM current_state WHERE room_id = $1 AND type = $2 AND state_key = $3', [
        this.roomId,
        k.type,
        k.stateKey,
      ]);
    }
  }

  async replaceCurrentState(entries: readonly StateEntry[]): Promise<void> {
    await this.db.execute('DELETE FROM current_state WHERE room_id = $1', [this.roomId]);
    await this.setCurrentState(entries);
  }

  async setCurrentStateGroup(groupId: number): Promise<void> {
    await this.checkGroupOfRoom(groupId);
    const changed = await this.db.execute('UPDATE rooms SET current_state_group = $2 WHERE room_id = $1', [
      this.roomId,
      groupId,
    ]);
    if (changed === 0) throw new StorageError('NOT_FOUND', `room ${this.roomId} is not created`);
  }

  async storeStateGroup(group: NewStateGroup): Promise<number> {
    return storeStateGroup(this.db, this.roomId, group, this.headers);
  }

  async setEventStateGroups(eventId: string, groups: EventStateGroups): Promise<void> {
    await this.checkEventOfRoom(eventId);
    await this.checkGroupOfRoom(groups.beforeGroupId);
    await this.checkGroupOfRoom(groups.afterGroupId);
    await this.db.execute(
      `INSERT INTO event_state (event_id, before_group_id, after_group_id) VALUES ($1, $2, $3)
       ON CONFLICT (event_id) DO UPDATE
         SET before_group_id = excluded.before_group_id, after_group_id = excluded.after_group_id`,
      [eventId, groups.beforeGroupId, groups.afterGroupId],
    );
  }

  async upsertMembership(update: MembershipUpdate): Promise<MembershipRecord> {
    checkNonEmptyText('userId', update.userId);
    checkMembership(update.membership);
    const serverName = serverNameOfUser(update.userId);
    const position = await this.checkEventOfRoom(update.eventId);
    const keepForgotten = update.forgotten === undefined;
    const rows = await this.db.query(
      `INSERT INTO memberships (room_id, user_id, server_name, membership, event_id, forgotten, stream_pos)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (room_id, user_id) DO UPDATE
         SET membership = excluded.membership, event_id = excluded.event_id, stream_pos = excluded.stream_pos
             ${keepForgotten ? '' : ', forgotten = excluded.forgotten'}
       RETURNING ${MEMBERSHIP_COLUMNS}`,
      [this.roomId, update.userId, serverName, update.membership, update.eventId, update.forgotten ?? false, position],
    );
    if (!rows[0]) throw new Error('membership upsert returned no row');
    return membershipFromRow(rows[0]);
  }

  async setForgotten(userId: string, forgotten: boolean): Promise<boolean> {
    const changed = await this.db.execute('UPDATE memberships SET forgotten = $3 WHERE room_id = $1 AND user_id = $2', [
      this.roomId,
      userId,
      forgotten,
    ]);
    return changed > 0;
  }

  async putIdempotencyRecord(key: string, resultJson: string, createdTs: number): Promise<PutIdempotencyResult> {
    checkNonEmptyText('idempotency key', key);
    checkText('resultJson', resultJson);
    checkInteger('createdTs', createdTs);
    const rows = await this.db.query(
      `INSERT INTO idempotency_records (record_key, result_json, created_ts) VALUES ($1, $2, $3)
       ON CONFLICT (record_key) DO NOTHING
       RETURNING record_key, result_json, created_ts`,
      [key, resultJson, createdTs],
    );
    if (rows[0]) return { stored: true, record: idempotencyFromRow(rows[0]) };
    const existing = await this.getIdempotencyRecord(key);
    if (!existing) throw new Error(`idempotency record ${key} neither inserted nor found`);
    return { stored: false, record: existing };
  }

  async enqueueOutbox(destinations: readonly string[], eventId: string, createdTs: number): Promise<number> {
    checkInteger('createdTs', createdTs);
    const unique = [...new Set(destinations)];
    unique.forEach((d) => checkNonEmptyText('destination', d));
    if (unique.length === 0) return 0;
    await this.checkEventOfRoom(eventId);
    let added = 0;
    for (const part of chunks(unique, 200)) {
      const values = part.map((_, i) => `($${i + 5}, $1, $2, $3, $4)`).join(', ');
      added += await this.db.execute(
        `INSERT INTO outbox (destination, room_id, event_id, created_ts, next_attempt_ts) VALUES ${values}
         ON CONFLICT (destination, event_id) DO NOTHING`,
        [this.roomId, eventId, createdTs, createdTs, ...part],
      );
    }
    return added;
  }

  async putReceivedInvite(invite: NewReceivedInvite): Promise<void> {
    checkNonEmptyText('userId', invite.userId);
    checkText('inviteEventJson', invite.inviteEventJson);
    checkNonEmptyText('roomVersion', invite.roomVersion);
    checkText('strippedStateJson', invite.strippedStateJson);
    checkInteger('receivedTs', invite.receivedTs);
    invite.servers.forEach((s) => checkNonEmptyText('server', s));
    await this.db.execute(
      `INSERT INTO received_invites (room_id, user_id, invite_event_json, room_version, stripped_state_json,
                                     servers_json, received_ts)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (room_id, user_id) DO UPDATE
         SET invite_event_json = excluded.invite_event_json, room_version = excluded.room_version,
             stripped_state_json = excluded.stripped_state_json, servers_json = excluded.servers_json,
             received_ts = excluded.received_ts`,
      [
        this.roomId,
        invite.userId,
        invite.inviteEventJson,
        invite.roomVersion,
        invite.strippedStateJson,
        JSON.stringify(invite.servers),
        invite.receivedTs,
      ],
    );
  }

  async deleteReceivedInvite(userId: string): Promise<boolean> {
    const changed = await this.db.execute('DELETE FROM received_invites WHERE room_id = $1 AND user_id = $2', [
      this.roomId,
      userId,
    ]);
    return changed > 0;
  }

  putSentKnock(knock: NewSentKnock): Promise<void> {
    return putSentKnock(this.db, this.roomId, knock);
  }

  deleteSentKnock(userId: string): Promise<boolean> {
    return deleteSentKnock(this.db, this.roomId, userId);
  }

  // ------------------------------------------------------------ helpers

  private checkNewEvent(event: NewEvent): void {
    if (event.roomId !== this.roomId) {
      throw new StorageError('ROOM_MISMATCH', `event ${event.eventId} is in ${event.roomId}, not ${this.roomId}`);
    }
    checkNonEmptyText('eventId', event.eventId);
    checkNonEmptyText('type', event.type);
    if (event.stateKey !== null) checkText('stateKey', event.stateKey);
    checkNonEmptyText('sender', event.sender);
    checkNonEmptyText('json', event.json);
    if (event.rejectedReason !== undefined && event.rejectedReason !== null) {
      checkText('rejectedReason', event.rejectedReason);
    }
    checkInt64('depth', event.depth);
    checkInteger('originServerTs', event.originServerTs);
  }

  private async placeOf(eventId: string): Promise<EventPlace | null> {
    const known = this.eventPlaces.get(eventId);
    if (known) return known;
    const rows = await this.db.query('SELECT room_id, stream_pos FROM events WHERE event_id = $1', [eventId]);
    const row = rows[0];
    if (!row) return null;
    const place = { roomId: toStr(row['room_id']), position: toInt(row['stream_pos']) };
    this.eventPlaces.set(eventId, place);
    return place;
  }

  /** The event's position, after checking it is stored in this room. */
  private async checkEventOfRoom(eventId: string): Promise<number> {
    const place = await this.placeOf(eventId);
    if (!place) throw new StorageError('NOT_FOUND', `event ${eventId} is not stored`);
    if (place.roomId !== this.roomId) {
      throw new StorageError('ROOM_MISMATCH', `event ${eventId} is in ${place.roomId}, not ${this.roomId}`);
    }
    return place.position;
  }

  private async checkGroupOfRoom(groupId: number): Promise<void> {
    const header = await this.headers.get(groupId);
    if (!header) throw new StorageError('NOT_FOUND', `unknown state group ${groupId}`);
    if (header.roomId !== this.roomId) {
      throw new StorageError('ROOM_MISMATCH', `state group ${groupId} belongs to ${header.roomId}`);
    }
  }
}
