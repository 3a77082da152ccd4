// SQLite engine (better-sqlite3): one file in WAL mode, a write connection
// and a read-only connection. SQLite allows one writer at a time, so write
// transactions (`BEGIN IMMEDIATE`) run one at a time through a queue shared
// by every Storage opened on the same file in this process; other processes
// wait on SQLite's own lock (busy timeout). Reads see committed data only,
// through the second connection, and never wait for writers.

import Database from 'better-sqlite3';
import { mkdirSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { StorageError } from './errors.js';
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

const STATEMENT_CACHE_LIMIT = 500;

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

export function openSqliteEngine(config: SqliteStorageConfig): Engine {
  // Two connections must reach the same data, so it has to be a real file.
  if (config.path === '' || config.path === ':memory:' || config.path.startsWith('file:')) {
    throw new StorageError('INVALID_ARGUMENT', `SQLite storage needs a file path, got "${config.path}"`);
  }
  mkdirSync(dirname(config.path), { recursive: true });
  const timeout = config.busyTimeoutMs ?? 5000;
  const writer = new Database(config.path, { timeout });
  let reader: SqliteDb | null = null;
  try {
    writer.pragma('journal_mode = WAL');
    writer.pragma(`synchronous = ${config.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    writer.pragma('foreign_keys = ON');
    runSqliteMigrations(writer);
    reader = new Database(config.path, { readonly: true, timeout });
  } catch (err) {
    writer.close();
    throw err;
  }
  return new SqliteEngine(writer, reader, realpathSync(config.path));
}

class SqliteEngine implements Engine {
  readonly engine = 'sqlite' as const;
  readonly dialect = sqliteDialect;
  private readonly writeExec: SqliteExecutor;
  private readonly readExec: SqliteExecutor;
  /** Read snapshots of one connection cannot overlap, so reads take turns. */
  private readonly readQueue = new KeyedQueue();

  constructor(
    private readonly writer: SqliteDb,
    private readonly reader: SqliteDb,
    private readonly fileKey: string,
  ) {
    this.writeExec = new SqliteExecutor(writer);
    this.readExec = new SqliteExecutor(reader);
  }

  write<T>(_roomId: string | null, fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    return writeQueues.run(this.fileKey, async () => {
      this.writer.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.writeExec);
        this.writer.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
        throw err;
      }
    });
  }

  read<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    return this.readQueue.run('read', async () => {
      this.reader.exec('BEGIN');
      try {
        return await fn(this.readExec);
      } finally {
        if (this.reader.inTransaction) this.reader.exec('COMMIT');
      }
    });
  }

  async close(): Promise<void> {
    this.reader.close();
    this.writer.close();
  }
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
