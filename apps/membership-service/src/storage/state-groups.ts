// State snapshots as groups: a group is either complete or a change to an
// earlier group of the same room (entries set, entries with a NULL event ID
// removed). A membership event changes one key, so most groups hold one row.
// Chains stay at most MAX_CHAIN_LENGTH changes long, so reading a snapshot
// walks at most that many groups: a change that would make a chain longer is
// stored instead as the chain's changes merged, against the chain's complete
// group (one change, however long the chain was); only when that merged
// change grows past MAX_MERGED_CHANGE rows is a complete group written. So a
// room of 100,000 members writes its whole state once every ~1,000 changes
// rather than every MAX_CHAIN_LENGTH.

import { StorageError } from './errors.js';
import { compareStateKeys, checkText } from './rows.js';
import type { SqlExecutor, SqlValue } from './sql.js';
import { chunks, placeholders, toInt, toIntOrNull, toStr, toStrOrNull } from './sql.js';
import type { NewStateGroup, StateEntry, StateKeyPair } from './types.js';

export const MAX_CHAIN_LENGTH = 32;

/** Rows of a merged change above which a complete group is written instead. */
export const MAX_MERGED_CHANGE = 1024;

export interface GroupHeader {
  readonly roomId: string;
  readonly chainLength: number;
}

export async function getGroupHeader(exec: SqlExecutor, groupId: number): Promise<GroupHeader | null> {
  const rows = await exec.query('SELECT room_id, chain_length FROM state_groups WHERE group_id = $1', [groupId]);
  const row = rows[0];
  return row ? { roomId: toStr(row['room_id']), chainLength: toInt(row['chain_length']) } : null;
}

/** The complete state of a group, sorted by (type, stateKey); null if the group does not exist. */
export async function resolveStateGroup(exec: SqlExecutor, groupId: number): Promise<StateEntry[] | null> {
  // Entries of the group and its ancestors, nearest first; the first entry
  // seen for a key wins. The depth bound stops a corrupt cycle.
  const rows = await exec.query(
    `WITH RECURSIVE chain (group_id, prev_group_id, n) AS (
       SELECT group_id, prev_group_id, 0 FROM state_groups WHERE group_id = $1
       UNION ALL
       SELECT g.group_id, g.prev_group_id, c.n + 1
         FROM state_groups g JOIN chain c ON g.group_id = c.prev_group_id
        WHERE c.n < $2
     )
     SELECT c.n AS n, c.prev_group_id AS prev_group_id, e.type AS type, e.state_key AS state_key, e.event_id AS event_id
       FROM chain c LEFT JOIN state_group_entries e ON e.group_id = c.group_id
      ORDER BY c.n`,
    [groupId, MAX_CHAIN_LENGTH + 1],
  );
  if (rows.length === 0) return null;
  const last = rows[rows.length - 1];
  if (last && toIntOrNull(last['prev_group_id']) !== null) {
    throw new Error(`state group ${groupId} has a chain longer than ${MAX_CHAIN_LENGTH + 1}`);
  }
  const seen = new Map<string, StateEntry | null>();
  for (const row of rows) {
    const type = toStrOrNull(row['type']);
    if (type === null) continue; // a group without entries
    const stateKey = toStr(row['state_key']);
    const key = `${type.length}:${type}${stateKey}`;
    if (seen.has(key)) continue;
    const eventId = toStrOrNull(row['event_id']);
    seen.set(key, eventId === null ? null : { type, stateKey, eventId });
  }
  return [...seen.values()].filter((e): e is StateEntry => e !== null).sort(compareStateKeys);
}

/** How a transaction looks up group headers (it caches those it has seen or made). */
export interface GroupHeaders {
  get(groupId: number): Promise<GroupHeader | null>;
  created(groupId: number, header: GroupHeader): void;
}

/** Stores a group for `roomId` and returns its ID (see `RoomTx.storeStateGroup`). */
export async function storeStateGroup(
  exec: SqlExecutor,
  roomId: string,
  group: NewStateGroup,
  headers: GroupHeaders,
): Promise<number> {
  const removed = group.removed ?? [];
  checkGroupInput(group.entries, removed);
  const insert = async (
    prevGroupId: number | null,
    chainLength: number,
    entries: readonly StateEntry[],
    removedKeys: readonly StateKeyPair[],
  ): Promise<number> => {
    const id = await insertGroup(exec, roomId, prevGroupId, chainLength, entries, removedKeys);
    headers.created(id, { roomId, chainLength });
    return id;
  };
  if (group.prevGroupId === null) {
    if (removed.length > 0) {
      throw new StorageError('INVALID_ARGUMENT', 'a complete state group cannot remove keys');
    }
    return insert(null, 0, group.entries, []);
  }
  const prev = await headers.get(group.prevGroupId);
  if (!prev) throw new StorageError('NOT_FOUND', `unknown state group ${group.prevGroupId}`);
  if (prev.roomId !== roomId) {
    throw new StorageError('ROOM_MISMATCH', `state group ${group.prevGroupId} belongs to ${prev.roomId}`);
  }
  if (group.entries.length === 0 && removed.length === 0) return group.prevGroupId;
  if (prev.chainLength + 1 <= MAX_CHAIN_LENGTH) {
    return insert(group.prevGroupId, prev.chainLength + 1, group.entries, removed);
  }
  // The chain is full: one change against its complete group, unless that change would be large.
  const { rootId, changes } = await changesSinceComplete(exec, group.prevGroupId);
  const keyOf = (k: StateKeyPair): string => `${k.type.length}:${k.type}${k.stateKey}`;
  for (const k of removed) changes.set(keyOf(k), { type: k.type, stateKey: k.stateKey, eventId: null });
  for (const e of group.entries) changes.set(keyOf(e), { type: e.type, stateKey: e.stateKey, eventId: e.eventId });
  const set = [...changes.values()].filter((c): c is StateEntry => c.eventId !== null);
  const unset = [...changes.values()].filter((c) => c.eventId === null).map((c) => ({ type: c.type, stateKey: c.stateKey }));
  if (changes.size <= MAX_MERGED_CHANGE) return insert(rootId, 1, set, unset);
  const base = (await resolveStateGroup(exec, rootId)) ?? [];
  return insert(null, 0, applyChange(base, set, unset), []);
}

/**
 * The complete group at the end of a group's chain, and every change between
 * it and the group, merged (nearest change wins; `eventId` null: removed).
 */
async function changesSinceComplete(
  exec: SqlExecutor,
  groupId: number,
): Promise<{ rootId: number; changes: Map<string, { type: string; stateKey: string; eventId: string | null }> }> {
  const rows = await exec.query(
    `WITH RECURSIVE chain (group_id, prev_group_id, n) AS (
       SELECT group_id, prev_group_id, 0 FROM state_groups WHERE group_id = $1
       UNION ALL
       SELECT g.group_id, g.prev_group_id, c.n + 1
         FROM state_groups g JOIN chain c ON g.group_id = c.prev_group_id
        WHERE c.n < $2
     )
     SELECT c.n AS n, c.group_id AS group_id, c.prev_group_id AS prev_group_id,
            e.type AS type, e.state_key AS state_key, e.event_id AS event_id
       FROM chain c LEFT JOIN state_group_entries e ON e.group_id = c.group_id AND c.prev_group_id IS NOT NULL
      ORDER BY c.n`,
    [groupId, MAX_CHAIN_LENGTH + 1],
  );
  const last = rows[rows.length - 1];
  if (!last || toIntOrNull(last['prev_group_id']) !== null) {
    throw new Error(`state group ${groupId} has no complete group within ${MAX_CHAIN_LENGTH + 1} steps`);
  }
  const changes = new Map<string, { type: string; stateKey: string; eventId: string | null }>();
  for (const row of rows) {
    const type = toStrOrNull(row['type']);
    if (type === null) continue; // the complete group, or a change without entries
    const stateKey = toStr(row['state_key']);
    const key = `${type.length}:${type}${stateKey}`;
    if (!changes.has(key)) changes.set(key, { type, stateKey, eventId: toStrOrNull(row['event_id']) });
  }
  return { rootId: toInt(last['group_id']), changes };
}

/** `base` with `entries` set and `removed` deleted, sorted. */
export function applyChange(
  base: readonly StateEntry[],
  entries: readonly StateEntry[],
  removed: readonly StateKeyPair[],
): StateEntry[] {
  const byKey = new Map<string, StateEntry>();
  const keyOf = (k: StateKeyPair): string => `${k.type.length}:${k.type}${k.stateKey}`;
  for (const e of base) byKey.set(keyOf(e), e);
  for (const k of removed) byKey.delete(keyOf(k));
  for (const e of entries) byKey.set(keyOf(e), { type: e.type, stateKey: e.stateKey, eventId: e.eventId });
  return [...byKey.values()].sort(compareStateKeys);
}

function checkGroupInput(entries: readonly StateEntry[], removed: readonly StateKeyPair[]): void {
  const keys = new Set<string>();
  for (const k of [...entries, ...removed]) {
    checkText('state type', k.type);
    checkText('state key', k.stateKey);
    const key = `${k.type.length}:${k.type}${k.stateKey}`;
    if (keys.has(key)) {
      throw new StorageError('INVALID_ARGUMENT', `state key (${k.type}, ${k.stateKey}) appears twice`);
    }
    keys.add(key);
  }
  for (const e of entries) checkText('state event ID', e.eventId);
}

async function insertGroup(
  exec: SqlExecutor,
  roomId: string,
  prevGroupId: number | null,
  chainLength: number,
  entries: readonly StateEntry[],
  removed: readonly StateKeyPair[],
): Promise<number> {
  const rows = await exec.query(
    'INSERT INTO state_groups (room_id, prev_group_id, chain_length) VALUES ($1, $2, $3) RETURNING group_id',
    [roomId, prevGroupId, chainLength],
  );
  const groupId = toInt(rows[0]?.['group_id']);
  const all: Array<readonly [string, string, string | null]> = [
    ...entries.map((e) => [e.type, e.stateKey, e.eventId] as const),
    ...removed.map((k) => [k.type, k.stateKey, null] as const),
  ];
  for (const part of chunks(all, 200)) {
    const values = part.map((_, i) => `($1, ${placeholders(3, 1 + i * 3)})`).join(', ');
    const params: SqlValue[] = [groupId, ...part.flat()];
    await exec.execute(`INSERT INTO state_group_entries (group_id, type, state_key, event_id) VALUES ${values}`, params);
  }
  return groupId;
}

/**
 * Some keys of a group's complete state, sorted by (type, stateKey); keys
 * absent from the state are left out; null if the group does not exist.
 * Each key is a primary-key lookup over the group's chain, so a room with a
 * huge state costs no more than a small one.
 */
export async function lookupStateGroupKeys(
  exec: SqlExecutor,
  groupId: number,
  keys: readonly StateKeyPair[],
): Promise<StateEntry[] | null> {
  const chain = await exec.query(
    `WITH RECURSIVE chain (group_id, prev_group_id, n) AS (
       SELECT group_id, prev_group_id, 0 FROM state_groups WHERE group_id = $1
       UNION ALL
       SELECT g.group_id, g.prev_group_id, c.n + 1
         FROM state_groups g JOIN chain c ON g.group_id = c.prev_group_id
        WHERE c.n < $2
     )
     SELECT group_id, prev_group_id, n FROM chain ORDER BY n`,
    [groupId, MAX_CHAIN_LENGTH + 1],
  );
  if (chain.length === 0) return null;
  const last = chain[chain.length - 1];
  if (last && toIntOrNull(last['prev_group_id']) !== null) {
    throw new Error(`state group ${groupId} has a chain longer than ${MAX_CHAIN_LENGTH + 1}`);
  }
  // Nearest group first: the first entry found for a key wins (NULL: removed).
  const rank = new Map(chain.map((row) => [toInt(row['group_id']), toInt(row['n'])]));
  const ids = [...rank.keys()];
  const found: StateEntry[] = [];
  const seen = new Set<string>();
  for (const key of keys) {
    const id = `${key.type.length}:${key.type}${key.stateKey}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const rows = await exec.query(
      `SELECT group_id, event_id FROM state_group_entries
        WHERE type = $1 AND state_key = $2 AND group_id IN (${placeholders(ids.length, 2)})`,
      [key.type, key.stateKey, ...ids],
    );
    let best: { n: number; eventId: string | null } | undefined;
    for (const row of rows) {
      const n = rank.get(toInt(row['group_id'])) ?? Number.MAX_SAFE_INTEGER;
      if (best === undefined || n < best.n) best = { n, eventId: toStrOrNull(row['event_id']) };
    }
    if (best?.eventId !== undefined && best.eventId !== null) found.push({ type: key.type, stateKey: key.stateKey, eventId: best.eventId });
  }
  return found.sort(compareStateKeys);
}
