// SQLite engine (better-sqlite3): one file in WAL mode, a write connection
// and a read-only connection. Reads never wait for writers.
//
// SQLite allows one writer at a time, so write transactions run one at a
// time, in call order, and share commits (group commit): a batch opens one
// `BEGIN IMMEDIATE`, runs the waiting transactions one after another, each
// inside its own SAVEPOINT (a throw rolls back that transaction only), then
// commits once. Batches of every Storage opened on the same file in this
// process take turns (one connection may not write while another holds the
// lock); other processes wait on SQLite's busy timeout.
//
// Durability (`synchronous: 'full'`, the default): the commit itself does
// not wait for the disk (SQLite's `synchronous=NORMAL` in WAL mode writes
// the commit to the WAL file without fsync), and the engine then flushes
// the WAL file with fdatasync on libuv's thread pool. A caller hears of its
// transaction only once a flush that started after its COMMIT has finished,
// and a read returns only once every commit it could have seen is on disk,
// so nothing reported, written or read is lost by a power cut, as with
// `synchronous=FULL`, while the event loop keeps working during the flush
// and the next batch runs. When COMMIT fails, every transaction of the batch fails.

import Database from 'better-sqlite3';
import { closeSync, fdatasync, fsyncSync, mkdirSync, openSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { StorageError } from './errors.js';
import { DurableCommits } from './durable-commits.js';
import { KeyedQueue } from './keyed-queue.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL, pendingMigrations } from './migrations.js';
import type { Dialect, SqlExecutor, SqlValue } from './sql.js';
import { toAnonymousPlaceholders, toInt } from './sql.js';
import type { Engine } from './storage-core.js';
import type { SqliteStorageConfig } from './types.js';

type SqliteDb = Database.Database;
type SqliteStatement = Database.Statement<unknown[], unknown>;

/** Write queues per database file, shared by all Storage instances of this process. */
const writeQueues = new KeyedQueue();

/**
 * Commit counters and WAL flushes per database file, shared like the write
 * queues: a read through one Storage may see what another one committed.
 */
const diskStates = new Map<string, { commits: DurableCommits; flusher: WalFlusher; users: number }>();

function acquireDiskState(file: string, flusherFor: (databaseFile: string) => WalFlusher): DurableCommits {
  let state = diskStates.get(file);
  if (state === undefined) {
    const flusher = flusherFor(file);
    state = { commits: new DurableCommits(() => flusher.flush()), flusher, users: 0 };
    diskStates.set(file, state);
  }
  state.users += 1;
  return state.commits;
}

function releaseDiskState(file: string): void {
  const state = diskStates.get(file);
  if (state === undefined) return;
  state.users -= 1;
  if (state.users === 0) {
    diskStates.delete(file);
    state.flusher.close();
  }
}

const STATEMENT_CACHE_LIMIT = 500;

/**
 * A batch stops taking waiting transactions after this many, or once it has
 * run for MAX_BATCH_MS, so that the first caller of a batch is not held up
 * for long by later arrivals.
 */
const MAX_BATCH_TRANSACTIONS = 64;
const MAX_BATCH_MS = 10;

interface WriteJob {
  readonly fn: (exec: SqlExecutor) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

const sqliteDialect: Dialect = {
  engine: 'sqlite',
  skipLocked: '',
  // Writers are already serialized by BEGIN IMMEDIATE.
  lockStreamOrder: () => Promise.resolve(),
  tryLockDestination: () => Promise.resolve(true),
};

class SqliteExecutor implements SqlExecutor {
  private readonly statements = new Map<string, { stmt: SqliteStatement; order: number[] }>();

  constructor(private readonly db: SqliteDb) {}

  async query(sql: string, params: readonly SqlValue[] = []): Promise<Record<string, unknown>[]> {
    const { stmt, values } = this.prepare(sql, params);
    if (!stmt.reader) {
      stmt.run(...values);
      return [];
    }
    return stmt.all(...values) as Record<string, unknown>[];
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const { stmt, values } = this.prepare(sql, params);
    return stmt.run(...values).changes;
  }

  private prepare(sql: string, params: readonly SqlValue[]): { stmt: SqliteStatement; values: unknown[] } {
    let cached = this.statements.get(sql);
    if (!cached) {
      const converted = toAnonymousPlaceholders(sql);
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.clear();
      cached = { stmt: this.db.prepare(converted.sql), order: converted.order };
      this.statements.set(sql, cached);
    }
    const values = cached.order.map((i) => {
      if (i >= params.length) throw new RangeError(`missing SQL parameter $${i + 1}`);
      const v = params[i];
      return typeof v === 'boolean' ? (v ? 1 : 0) : v;
    });
    return { stmt: cached.stmt, values };
  }
}

/** How the engine gets committed transactions onto the disk (tests replace it). */
export interface WalFlusher {
  flush(): Promise<void>;
  close(): void;
}

export function openSqliteEngine(
  config: SqliteStorageConfig,
  flusherFor: (databaseFile: string) => WalFlusher = walFlusher,
): Engine {
  // Two connections must reach the same data, so it has to be a real file.
  if (config.path === '' || config.path === ':memory:' || config.path.startsWith('file:')) {
    throw new StorageError('INVALID_ARGUMENT', `SQLite storage needs a file path, got "${config.path}"`);
  }
  mkdirSync(dirname(config.path), { recursive: true });
  const timeout = config.busyTimeoutMs ?? 5000;
  const writer = new Database(config.path, { timeout });
  let reader: SqliteDb | null = null;
  try {
    const wal = writer.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    writer.pragma('synchronous = FULL');
    writer.pragma('foreign_keys = ON');
    runSqliteMigrations(writer);
    // From now on commits do not wait for the disk; with `full` the engine
    // flushes the WAL itself before anyone hears of them (see the top). A
    // file system without WAL support keeps SQLite's own FULL sync.
    if (wal || config.synchronous === 'normal') writer.pragma('synchronous = NORMAL');
    reader = new Database(config.path, { readonly: true, timeout });
    const file = realpathSync(config.path);
    const commits = wal ? acquireDiskState(file, flusherFor) : undefined;
    return new SqliteEngine(writer, reader, file, commits, config.synchronous !== 'normal');
  } catch (err) {
    reader?.close();
    writer.close();
    throw err;
  }
}

/**
 * fdatasync of the WAL file on the thread pool. The file is opened at the
 * first flush (it exists once something was committed) and its directory
 * synced once, so the file itself cannot go missing after a power cut.
 * SQLite keeps the WAL file while our connections are open.
 */
function walFlusher(databaseFile: string): WalFlusher {
  let fd: number | undefined;
  return {
    async flush() {
      if (fd === undefined) {
        fd = openSync(`${databaseFile}-wal`, 'r');
        // Windows cannot open a directory; its file system keeps the entry.
        if (process.platform !== 'win32') {
          const dir = openSync(dirname(databaseFile), 'r');
          try {
            fsyncSync(dir);
          } finally {
            closeSync(dir);
          }
        }
      }
      const target = fd;
      await new Promise<void>((resolve, reject) => fdatasync(target, (err) => (err ? reject(err) : resolve())));
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

class SqliteEngine implements Engine {
  readonly engine = 'sqlite' as const;
  readonly dialect = sqliteDialect;
  private readonly writeExec: SqliteExecutor;
  private readonly readExec: SqliteExecutor;
  /** Read snapshots of one connection cannot overlap, so reads take turns. */
  private readonly readQueue = new KeyedQueue();
  /** Write transactions not yet started, in call order. */
  private readonly waiting: WriteJob[] = [];
  /** A batch is queued or running; it takes every transaction that waits. */
  private batchQueued = false;


  constructor(
    private readonly writer: SqliteDb,
    private readonly reader: SqliteDb,
    private readonly fileKey: string,
    /** Absent without WAL (SQLite then syncs each commit itself). */
    private readonly commits: DurableCommits | undefined,
    /** False with `synchronous: 'normal'`: commits are reported at once. */
    private readonly waitForDisk: boolean,
  ) {
    this.writeExec = new SqliteExecutor(writer);
    this.readExec = new SqliteExecutor(reader);
  }

  /** Writes are serialized and ordered here, so a room's transactions need no other queue. */
  readonly serializesWrites = true;

  write<T>(_roomId: string | null, fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.batchQueued) this.queueBatch();
    });
  }

  /**
   * The batch starts once the event loop has taken in what already arrived
   * (setImmediate runs after pending I/O callbacks), so requests that came
   * in together share a commit instead of each paying for its own.
   */
  private queueBatch(): void {
    this.batchQueued = true;
    void writeQueues.run(this.fileKey, () => new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.runBatch()));
  }

  /**
   * Runs waiting transactions in one database transaction and commits them
   * together. Every outcome is delivered only after COMMIT (or its failure).
   */
  private async runBatch(): Promise<void> {
    const done: { job: WriteJob; value: unknown }[] = [];
    const failed: { job: WriteJob; err: unknown }[] = [];
    const started = performance.now();
    let current: WriteJob | undefined;
    let commit: number | undefined;
    try {
      while (this.waiting.length > 0 && done.length + failed.length < MAX_BATCH_TRANSACTIONS) {
        if (done.length + failed.length > 0 && performance.now() - started >= MAX_BATCH_MS) break;
        current = this.waiting.shift() as WriteJob;
        if (!this.writer.inTransaction) this.writer.exec('BEGIN IMMEDIATE');
        this.writer.exec('SAVEPOINT tx');
        try {
          const value = await current.fn(this.writeExec);
          this.writer.exec('RELEASE tx');
          done.push({ job: current, value });
        } catch (err) {
          failed.push({ job: current, err });
          current = undefined;
          if (this.writer.inTransaction) {
            this.writer.exec('ROLLBACK TO tx');
            this.writer.exec('RELEASE tx');
          } else {
            // Some errors (I/O, disk full) make SQLite roll back the whole
            // transaction: the work of the batch so far is gone.
            for (const d of done.splice(0)) failed.push({ job: d.job, err: batchLost(err) });
          }
        }
        current = undefined;
      }
      if (this.writer.inTransaction) {
        this.writer.exec('COMMIT');
        commit = this.commits?.committed();
      }
    } catch (err) {
      // BEGIN, a savepoint statement or COMMIT failed: nothing of the batch is stored.
      if (this.writer.inTransaction) {
        try {
          this.writer.exec('ROLLBACK');
        } catch {
          // the connection rolled back already
        }
      }
      if (current !== undefined) failed.push({ job: current, err });
      for (const d of done.splice(0)) failed.push({ job: d.job, err });
    } finally {
      this.batchQueued = false;
      if (this.waiting.length > 0) this.queueBatch();
    }
    for (const f of failed) f.job.reject(f.err);
    if (done.length === 0) return;
    if (commit === undefined || this.commits === undefined || !this.waitForDisk) {
      for (const d of done) d.job.resolve(d.value);
      return;
    }
    // The next batch may run meanwhile; these callers wait for the disk.
    this.commits.whenDurable(commit).then(
      () => {
        for (const d of done) d.job.resolve(d.value);
      },
      (err: unknown) => {
        for (const d of done) d.job.reject(err);
      },
    );
  }

  async read<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    const { value, seen } = await this.readQueue.run('read', async () => {
      this.reader.exec('BEGIN');
      try {
        const result = await fn(this.readExec);
        // The snapshot holds at most the commits made so far.
        return { value: result, seen: this.commits?.latest ?? 0 };
      } finally {
        if (this.reader.inTransaction) this.reader.exec('COMMIT');
      }
    });
    // Nothing read is handed out before it is on disk.
    if (this.waitForDisk) await this.commits?.whenDurable(seen);
    return value;
  }

  async close(): Promise<void> {
    this.reader.close();
    this.writer.close();
    if (this.commits !== undefined) releaseDiskState(this.fileKey);
  }
}

function batchLost(cause: unknown): Error {
  return new Error('the transaction was rolled back with its batch after a later transaction of the batch failed', { cause });
}

/** Applies pending migrations, each in its own `BEGIN IMMEDIATE` transaction. */
function runSqliteMigrations(db: SqliteDb): void {
  db.exec(SCHEMA_MIGRATIONS_DDL);
  // One migration per round; the last round finds nothing left to apply.
  for (let round = 0; round <= MIGRATIONS.length; round++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      // Read under the write lock: another process may have just migrated.
      const applied = db
        .prepare('SELECT version FROM schema_migrations')
        .all()
        .map((r) => toInt((r as Record<string, unknown>)['version']));
      const next = pendingMigrations(applied, MIGRATIONS)[0];
      if (!next) {
        db.exec('COMMIT');
        return;
      }
      db.exec(next.sql('sqlite'));
      db.prepare('INSERT INTO schema_migrations (version, name, applied_ts) VALUES (?, ?, ?)').run(
        next.version,
        next.name,
        Date.now(),
      );
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }
  throw new Error('migrations did not settle');
}
