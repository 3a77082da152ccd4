// Row → record mapping and input checks shared by every query. Both engines
// return the same column names; they differ only in how integers and
// booleans arrive (PostgreSQL int8 is parsed to number by the pool's type
// parser, SQLite booleans are 0/1), which the to* helpers absorb.

import { StorageError } from './errors.js';
import type { SqlRow } from './sql.js';
import { toBool, toInt, toIntOrNull, toStr, toStrOrNull } from './sql.js';
import type {
  IdempotencyRecord,
  MembershipRecord,
  OutboxItem,
  ReceivedInvite,
  RoomRecord,
  StateEntry,
  StoredEvent,
  StoredMembership,
} from './types.js';

export const EVENT_COLUMNS =
  'stream_pos, event_id, room_id, type, state_key, sender, depth, origin_server_ts, json, rejected_reason, outlier, soft_failed';

export const MEMBERSHIP_COLUMNS = 'room_id, user_id, server_name, membership, event_id, forgotten, stream_pos';

export const INVITE_COLUMNS =
  'room_id, user_id, invite_event_json, room_version, stripped_state_json, servers_json, received_ts';

const MEMBERSHIPS: ReadonlySet<string> = new Set(['invite', 'join', 'knock', 'leave', 'ban']);

export function roomFromRow(row: SqlRow): RoomRecord {
  return {
    roomId: toStr(row['room_id']),
    roomVersion: toStr(row['room_version']),
    createdTs: toInt(row['created_ts']),
    currentStateGroupId: toIntOrNull(row['current_state_group']),
  };
}

export function eventFromRow(row: SqlRow): StoredEvent {
  return {
    eventId: toStr(row['event_id']),
    roomId: toStr(row['room_id']),
    position: toInt(row['stream_pos']),
    type: toStr(row['type']),
    stateKey: toStrOrNull(row['state_key']),
    sender: toStr(row['sender']),
    depth: toInt(row['depth']),
    originServerTs: toInt(row['origin_server_ts']),
    json: toStr(row['json']),
    rejectedReason: toStrOrNull(row['rejected_reason']),
    outlier: toBool(row['outlier']),
    softFailed: toBool(row['soft_failed']),
  };
}

export function stateEntryFromRow(row: SqlRow): StateEntry {
  return { type: toStr(row['type']), stateKey: toStr(row['state_key']), eventId: toStr(row['event_id']) };
}

export function membershipFromRow(row: SqlRow): MembershipRecord {
  return {
    roomId: toStr(row['room_id']),
    userId: toStr(row['user_id']),
    serverName: toStr(row['server_name']),
    membership: toMembership(row['membership']),
    eventId: toStr(row['event_id']),
    forgotten: toBool(row['forgotten']),
    position: toInt(row['stream_pos']),
  };
}

export function idempotencyFromRow(row: SqlRow): IdempotencyRecord {
  return { key: toStr(row['record_key']), resultJson: toStr(row['result_json']), createdTs: toInt(row['created_ts']) };
}

export function outboxItemFromRow(row: SqlRow): OutboxItem {
  return {
    id: toInt(row['id']),
    destination: toStr(row['destination']),
    roomId: toStr(row['room_id']),
    eventId: toStr(row['event_id']),
    eventJson: toStr(row['json']),
    createdTs: toInt(row['created_ts']),
    attempts: toInt(row['attempts']),
    nextAttemptTs: toInt(row['next_attempt_ts']),
    claimedUntil: toIntOrNull(row['claimed_until']),
  };
}

export function inviteFromRow(row: SqlRow): ReceivedInvite {
  const servers: unknown = JSON.parse(toStr(row['servers_json']));
  if (!Array.isArray(servers) || !servers.every((s): s is string => typeof s === 'string')) {
    throw new TypeError('received_invites.servers_json is not an array of strings');
  }
  return {
    roomId: toStr(row['room_id']),
    userId: toStr(row['user_id']),
    inviteEventJson: toStr(row['invite_event_json']),
    roomVersion: toStr(row['room_version']),
    strippedStateJson: toStr(row['stripped_state_json']),
    servers,
    receivedTs: toInt(row['received_ts']),
  };
}

function toMembership(value: unknown): StoredMembership {
  const s = toStr(value);
  if (!MEMBERSHIPS.has(s)) throw new TypeError(`unknown membership in database: ${s}`);
  return s as StoredMembership;
}

// ---------------------------------------------------------------- checks

/** Text that PostgreSQL cannot store (NUL); refused on both engines alike. */
export function checkText(name: string, value: string): void {
  if (typeof value !== 'string') throw new StorageError('INVALID_ARGUMENT', `${name} must be a string`);
  if (value.includes('\u0000')) throw new StorageError('INVALID_ARGUMENT', `${name} contains a NUL character`);
}

export function checkNonEmptyText(name: string, value: string): void {
  checkText(name, value);
  if (value.length === 0) throw new StorageError('INVALID_ARGUMENT', `${name} must not be empty`);
}

/** Integers that fit a BIGINT column and survive the round trip through a JS number. */
export function checkInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new StorageError('INVALID_ARGUMENT', `${name} must be a safe integer, got ${String(value)}`);
  }
}

/**
 * Integers of a BIGINT column that may exceed 2^53 (depth in room versions
 * 1-5); they round-trip as the nearest double, the exact value stays in the JSON.
 */
export function checkInt64(name: string, value: number): void {
  if (!Number.isInteger(value) || Math.abs(value) >= 2 ** 63) {
    throw new StorageError('INVALID_ARGUMENT', `${name} must be a 64-bit integer, got ${String(value)}`);
  }
}

export function checkLimit(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new StorageError('INVALID_ARGUMENT', `${name} must be an integer in 1..${max}, got ${String(value)}`);
  }
}

export function checkMembership(value: string): void {
  if (!MEMBERSHIPS.has(value)) throw new StorageError('INVALID_ARGUMENT', `unknown membership: ${value}`);
}

/** The server part of a user ID: everything after the first `:`. */
export function serverNameOfUser(userId: string): string {
  const colon = userId.indexOf(':');
  if (colon < 1 || colon === userId.length - 1) {
    throw new StorageError('INVALID_ARGUMENT', `not a user ID: ${userId}`);
  }
  return userId.slice(colon + 1);
}

/** Code-unit order: identical on both engines whatever the database collation. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareStateKeys(
  a: { readonly type: string; readonly stateKey: string },
  b: { readonly type: string; readonly stateKey: string },
): number {
  return compareText(a.type, b.type) || compareText(a.stateKey, b.stateKey);
}
