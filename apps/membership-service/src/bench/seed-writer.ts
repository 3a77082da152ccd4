// Persists seeded events through the storage contract, in large
// transactions, with everything the service itself records for an event:
// the event row, its state snapshots before and after, the current state,
// the room's current snapshot, the memberships and the forward extremity.
//
// Snapshot layout. The service stores each state event's "after" snapshot as
// a one-row change to the previous one and leaves it to the storage to keep
// chains within MAX_CHAIN_LENGTH, which rewrites state as a room grows. The
// seeder keeps every event's snapshots exact but lays them out in levels and
// never lets a chain reach the limit: an event's snapshot is a change against
// a level-1 base that advances every B1 events, which is a change against a
// level-2 base that advances every B2 events, and so on; the top level is a
// chain of changes, rebased on a complete snapshot before it gets too long.
// `snapshotLayoutFor` picks the levels that store the fewest rows (about
// 1.5 million for 100,000 members); small rooms get [1], a chain of one-row
// changes like the service's own.
import { MAX_CHAIN_LENGTH } from '../storage/index.js';
import type { RoomTx, StateEntry, Storage, StoredMembership } from '../storage/index.js';
import type { SeedRow } from './seed-builder.js';

function stateKeyOf(type: string, stateKey: string): string {
  return `${type.length}:${type}${stateKey}`;
}

/** Rows a layout stores for n state events, roughly (see the file comment). */
export function snapshotRowsOf(n: number, levels: readonly number[]): number {
  const k = levels.length;
  const top = levels[k - 1] as number;
  let rows = (n * ((levels[0] as number) - 1)) / 2;
  for (let i = 0; i + 1 < k; i++) rows += (n / (levels[i] as number)) * ((levels[i + 1] as number) / 2);
  rows += n; // the top level's changes
  rows += (n / (top * (MAX_CHAIN_LENGTH - k))) * (n / 2); // complete snapshots
  return rows;
}

const CANDIDATE_BATCHES = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048];

/** Batch sizes per level (ascending) that store the fewest snapshot rows for a room of `stateEvents` state events. */
export function snapshotLayoutFor(stateEvents: number): number[] {
  let best: { rows: number; levels: number[] } = { rows: snapshotRowsOf(stateEvents, [1]), levels: [1] };
  const consider = (levels: number[]): void => {
    const rows = snapshotRowsOf(stateEvents, levels);
    if (rows < best.rows) best = { rows, levels };
  };
  for (const [i, a] of CANDIDATE_BATCHES.entries()) {
    consider([a]);
    for (const [j, b] of CANDIDATE_BATCHES.entries()) {
      if (j <= i) continue;
      consider([a, b]);
      for (const c of CANDIDATE_BATCHES.slice(j + 1)) consider([a, b, c]);
    }
  }
  return best.levels;
}

interface Snapshot {
  readonly id: number;
  /** Changes between this snapshot and the nearest complete one. */
  readonly chain: number;
}

/** Writes one room's events, a transaction per call, keeping its snapshot layout between calls. */
export class SeedRoomWriter {
  private created = false;
  /** Base snapshot per level, lowest first; the last is the top of the chain. */
  private bases: Snapshot[] = [];
  /** Entries changed since each level's base. */
  private readonly pending: Map<string, StateEntry>[];
  private current: number | undefined;
  private readonly fullState = new Map<string, StateEntry>();
  private lastEventId: string | undefined;

  constructor(
    readonly roomId: string,
    private readonly roomVersion: string,
    private readonly createdTs: number,
    /** Batch size per level, ascending (see `snapshotLayoutFor`). */
    private readonly levels: readonly number[],
  ) {
    if (levels.length === 0 || levels.length >= MAX_CHAIN_LENGTH || levels.some((b, i) => !(b >= 1) || (i > 0 && b <= (levels[i - 1] as number)))) {
      throw new RangeError(`snapshot levels must be ascending batch sizes, got ${JSON.stringify(levels)}`);
    }
    this.pending = levels.map(() => new Map());
  }

  async write(storage: Storage, events: readonly SeedRow[]): Promise<void> {
    if (events.length === 0) return;
    await storage.withRoomTransaction(this.roomId, async (tx) => {
      if (!this.created) {
        const { created } = await tx.createRoom({ roomVersion: this.roomVersion, createdTs: this.createdTs });
        if (!created) throw new Error(`room ${this.roomId} exists already`);
        // The state before the create event: empty, as the service records it.
        const empty = await tx.storeStateGroup({ prevGroupId: null, entries: [] });
        this.bases = this.levels.map(() => ({ id: empty, chain: 0 }));
        this.current = empty;
      }
      const changedState = new Map<string, StateEntry>();
      const memberships = new Map<string, { membership: StoredMembership; eventId: string }>();
      for (const { row, membership } of events) {
        if (row.roomId !== this.roomId) throw new Error(`event ${row.eventId} belongs to ${row.roomId}, not ${this.roomId}`);
        const inserted = await tx.insertEvent(row);
        if (!inserted.inserted) throw new Error(`event ${row.eventId} was stored already`);
        const before = this.current as number;
        const entry = row.stateKey === null ? undefined : { type: row.type, stateKey: row.stateKey, eventId: row.eventId };
        const after = entry === undefined ? before : await this.snapshotAfter(tx, entry);
        await tx.setEventStateGroups(row.eventId, { beforeGroupId: before, afterGroupId: after });
        this.current = after;
        if (entry !== undefined) {
          changedState.set(stateKeyOf(entry.type, entry.stateKey), entry);
          if (membership !== undefined) memberships.set(entry.stateKey, { membership, eventId: row.eventId });
        }
        this.lastEventId = row.eventId;
      }
      await tx.setCurrentState([...changedState.values()]);
      await tx.setCurrentStateGroup(this.current as number);
      for (const [userId, { membership, eventId }] of memberships) {
        await tx.upsertMembership({ userId, membership, eventId, ...(membership === 'join' ? { forgotten: false } : {}) });
      }
      // Every seeded event follows the previous one: the last is the only extremity.
      await tx.setForwardExtremities([this.lastEventId as string]);
      this.created = true;
    });
  }

  /** The snapshot after a state event, as a change against the lowest base, or a new base. */
  private async snapshotAfter(tx: RoomTx, entry: StateEntry): Promise<number> {
    const key = stateKeyOf(entry.type, entry.stateKey);
    this.fullState.set(key, entry);
    for (const changes of this.pending) changes.set(key, entry);
    const k = this.levels.length;
    const change = async (base: Snapshot, changes: Map<string, StateEntry>): Promise<Snapshot> => ({
      id: await tx.storeStateGroup({ prevGroupId: base.id, entries: [...changes.values()] }),
      chain: base.chain + 1,
    });
    const rebase = (level: number, snapshot: Snapshot): number => {
      for (let j = 0; j <= level; j++) {
        this.bases[j] = snapshot;
        this.pending[j]?.clear();
      }
      return snapshot.id;
    };
    const top = this.bases[k - 1] as Snapshot;
    if ((this.pending[k - 1] as Map<string, StateEntry>).size >= (this.levels[k - 1] as number)) {
      // Every level sits on the top, so a change at the bottom is k + chain deep: keep that within the limit.
      const next =
        top.chain + 1 > MAX_CHAIN_LENGTH - k
          ? { id: await tx.storeStateGroup({ prevGroupId: null, entries: [...this.fullState.values()] }), chain: 0 }
          : await change(top, this.pending[k - 1] as Map<string, StateEntry>);
      return rebase(k - 1, next);
    }
    for (let level = k - 2; level >= 0; level--) {
      if ((this.pending[level] as Map<string, StateEntry>).size >= (this.levels[level] as number)) {
        return rebase(level, await change(this.bases[level + 1] as Snapshot, this.pending[level + 1] as Map<string, StateEntry>));
      }
    }
    return (await change(this.bases[0] as Snapshot, this.pending[0] as Map<string, StateEntry>)).id;
  }
}
