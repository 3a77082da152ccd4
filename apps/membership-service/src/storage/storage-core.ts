// `Storage` over an engine: the per-room queues, nesting checks and
// shutdown are the same for both engines; the engine supplies transactions.

import { AsyncLocalStorage } from 'node:async_hooks';
import { StorageError } from './errors.js';
import { KeyedQueue } from './keyed-queue.js';
import { ackOutbox, claimOutboxBatch, outboxStats, pendingOutboxDestinations, retryOutboxLater } from './outbox.js';
import { SqlReadTx, TxState } from './read-tx.js';
import { SqlRoomTx } from './room-tx.js';
import { checkInteger, checkNonEmptyText, checkText } from './rows.js';
import type { Dialect, SqlExecutor } from './sql.js';
import { toInt, toStr } from './sql.js';
import type {
  AppliedMigration,
  ClaimOutboxOptions,
  OutboxBatch,
  OutboxStats,
  ReadTx,
  RoomTx,
  Storage,
  StorageEngine,
} from './types.js';

/** What an engine provides: transactions on its connections. */
export interface Engine {
  readonly engine: StorageEngine;
  readonly dialect: Dialect;
  /**
   * Runs `fn` in a write transaction and commits it, or rolls it back when
   * `fn` throws. With a room ID, the transaction first takes that room's
   * lock shared by every process using the database.
   */
  write<T>(roomId: string | null, fn: (exec: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * True when the engine runs every write transaction one at a time in call
   * order (SQLite): a room's transactions are then serialized already, and
   * may share a commit with the ones before them.
   */
  readonly serializesWrites?: boolean;
  /** Runs `fn` over one consistent read-only snapshot. */
  read<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

interface TxContext {
  inside: boolean;
}

export class SqlStorage implements Storage {
  private readonly roomQueue = new KeyedQueue();
  private readonly context = new AsyncLocalStorage<TxContext>();
  private readonly running = new Set<Promise<unknown>>();
  private closing: Promise<void> | null = null;

  constructor(private readonly engineImpl: Engine) {}

  get engine(): StorageEngine {
    return this.engineImpl.engine;
  }

  withRoomTransaction<T>(roomId: string, fn: (tx: RoomTx) => Promise<T>): Promise<T> {
    return this.track(() => {
      checkNonEmptyText('roomId', roomId);
      this.checkNotNested('withRoomTransaction');
      const write = (): Promise<T> =>
        this.engineImpl.write(roomId, (exec) => {
          const state = new TxState();
          return this.runHandle(state, new SqlRoomTx(exec, this.engineImpl.dialect, state, roomId), fn);
        });
      return this.engineImpl.serializesWrites ? write() : this.roomQueue.run(roomId, write);
    });
  }

  read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    return this.track(() => {
      this.checkNotNested('read');
      return this.engineImpl.read((exec) => {
        const state = new TxState();
        return this.runHandle(state, new SqlReadTx(exec, this.engineImpl.dialect, state), fn);
      });
    });
  }

  claimOutboxBatch(options: ClaimOutboxOptions): Promise<OutboxBatch | null> {
    return this.track(() => this.engineImpl.write(null, (exec) => claimOutboxBatch(exec, this.engineImpl.dialect, options)));
  }

  ackOutbox(ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return Promise.resolve(0);
    return this.track(() => this.engineImpl.write(null, (exec) => ackOutbox(exec, ids)));
  }

  retryOutboxLater(ids: readonly number[], nextAttemptTs: number): Promise<number> {
    if (ids.length === 0) return Promise.resolve(0);
    return this.track(() => this.engineImpl.write(null, (exec) => retryOutboxLater(exec, ids, nextAttemptTs)));
  }

  pendingOutboxDestinations(now: number): Promise<string[]> {
    return this.track(() => this.engineImpl.read((exec) => pendingOutboxDestinations(exec, now)));
  }

  outboxStats(now: number): Promise<OutboxStats> {
    return this.track(() => this.engineImpl.read((exec) => outboxStats(exec, now)));
  }

  putFilter(userId: string, filterJson: string, createdTs: number): Promise<string> {
    return this.track(() => {
      checkNonEmptyText('userId', userId);
      checkText('filterJson', filterJson);
      checkInteger('createdTs', createdTs);
      return this.engineImpl.write(null, async (exec) => {
        // Clients post the same filter at every start: hand back its ID.
        const existing = await exec.query(
          'SELECT MIN(filter_id) AS filter_id FROM user_filters WHERE user_id = $1 AND filter_json = $2',
          [userId, filterJson],
        );
        const found = existing[0]?.['filter_id'];
        if (found !== null && found !== undefined) return String(toInt(found));
        const rows = await exec.query(
          'INSERT INTO user_filters (user_id, filter_json, created_ts) VALUES ($1, $2, $3) RETURNING filter_id',
          [userId, filterJson, createdTs],
        );
        return String(toInt(rows[0]?.['filter_id']));
      });
    });
  }

  sweepIdempotencyRecords(olderThanTs: number): Promise<number> {
    return this.track(() => {
      checkInteger('olderThanTs', olderThanTs);
      return this.engineImpl.write(null, (exec) =>
        exec.execute('DELETE FROM idempotency_records WHERE created_ts < $1', [olderThanTs]),
      );
    });
  }

  appliedMigrations(): Promise<AppliedMigration[]> {
    return this.track(() =>
      this.engineImpl.read(async (exec) => {
        const rows = await exec.query('SELECT version, name, applied_ts FROM schema_migrations ORDER BY version');
        return rows.map((r) => ({ version: toInt(r['version']), name: toStr(r['name']), appliedTs: toInt(r['applied_ts']) }));
      }),
    );
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // Bounded by the operations themselves: each ends with its transaction.
      await Promise.allSettled([...this.running]);
      await this.engineImpl.close();
    })();
    return this.closing;
  }

  /** Runs `fn` with a live handle, marks the handle dead afterwards. */
  private async runHandle<H extends SqlReadTx, T>(state: TxState, handle: H, fn: (h: H) => Promise<T>): Promise<T> {
    const ctx: TxContext = { inside: true };
    try {
      return await this.context.run(ctx, () => fn(handle));
    } finally {
      ctx.inside = false;
      state.end();
    }
  }

  private checkNotNested(what: string): void {
    if (this.context.getStore()?.inside) {
      throw new StorageError(
        'NESTED_TRANSACTION',
        `${what} called inside a room transaction of the same storage; use the transaction handle`,
      );
    }
  }

  /** Refuses work after close; remembers running work so close can wait for it. */
  private track<T>(start: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new StorageError('CLOSED', 'storage is closed'));
    let promise: Promise<T>;
    try {
      promise = start();
    } catch (err) {
      return Promise.reject(err);
    }
    this.running.add(promise);
    const forget = (): void => {
      this.running.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }
}
