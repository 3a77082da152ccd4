// PostgreSQL engine (pg): a connection pool whose sessions use the
// configured schema. Room transactions take `pg_advisory_xact_lock` on the
// room, so replicas sharing the database serialize per room while different
// rooms run in parallel; the lock ends with the transaction, also when a
// process dies. Migrations run under a session advisory lock, so replicas
// starting together apply each migration once.

import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import { LOCK_NAMESPACE, lockKey } from './lock-keys.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL, pendingMigrations } from './migrations.js';
import { StorageError } from './errors.js';
import type { Dialect, SqlExecutor, SqlRow, SqlValue } from './sql.js';
import { toInt } from './sql.js';
import type { Engine } from './storage-core.js';
import type { PostgresStorageConfig } from './types.js';

const INT8_OID = 20;

/** Lower-case identifiers only, so the name needs no quoting anywhere. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** int8 (positions, ids, counts) as JS numbers; every value we store is a safe integer. */
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

class PgExecutor implements SqlExecutor {
  constructor(private readonly client: PoolClient | pg.Client) {}

  async query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    const result = await this.client.query<QueryResultRow>(sql, [...params]);
    return result.rows;
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const result = await this.client.query(sql, [...params]);
    return result.rowCount ?? 0;
  }
}

function postgresDialect(schemaKey: string): Dialect {
  const streamKey = lockKey(schemaKey, 'stream');
  return {
    engine: 'postgres',
    skipLocked: ' FOR UPDATE SKIP LOCKED',
    async lockStreamOrder(exec) {
      await exec.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE.stream, streamKey]);
    },
    async tryLockDestination(exec, destination) {
      const rows = await exec.query('SELECT pg_try_advisory_xact_lock($1, $2) AS ok', [
        LOCK_NAMESPACE.destination,
        lockKey(schemaKey, destination),
      ]);
      return rows[0]?.['ok'] === true;
    },
  };
}

export async function openPostgresEngine(config: PostgresStorageConfig): Promise<Engine> {
  if (config.schema !== undefined && !SCHEMA_NAME.test(config.schema)) {
    throw new StorageError('INVALID_ARGUMENT', `schema must match ${SCHEMA_NAME.source}: ${config.schema}`);
  }
  const lockTimeoutMs = config.lockTimeoutMs ?? 30_000;
  const connectTimeoutMs = config.connectTimeoutMs ?? 30_000;
  const clientConfig: pg.ClientConfig = {
    connectionString: config.url,
    connectionTimeoutMillis: connectTimeoutMs,
    types: typeParsers,
    ...(config.schema !== undefined ? { options: `-c search_path=${config.schema}` } : {}),
  };
  await runPostgresMigrations(clientConfig, config.schema ?? '', lockTimeoutMs);
  const pool = new pg.Pool({ ...clientConfig, max: config.poolSize ?? 10 });
  // An idle connection that breaks (server restart) is dropped by the pool;
  // the next query reports the failure to its caller.
  pool.on('error', () => undefined);
  return new PostgresEngine(pool, config.schema ?? '', lockTimeoutMs);
}

class PostgresEngine implements Engine {
  readonly engine = 'postgres' as const;

  readonly dialect: Dialect;

  constructor(
    private readonly pool: pg.Pool,
    /** The schema name, or '' for the default: part of every lock key. */
    private readonly schemaKey: string,
    private readonly lockTimeoutMs: number,
  ) {
    this.dialect = postgresDialect(schemaKey);
  }

  async write<T>(roomId: string | null, fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    // One round trip: the statements are fixed and the lock key is an integer we computed.
    const statements = [`BEGIN`, `SET LOCAL lock_timeout = ${Math.trunc(this.lockTimeoutMs)}`];
    if (roomId !== null) {
      statements.push(`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE.room}, ${lockKey(this.schemaKey, roomId)})`);
    }
    return this.inTransaction(statements.join('; '), fn);
  }

  read<T>(fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async inTransaction<T>(begin: string, fn: (exec: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query(begin);
      const result = await fn(new PgExecutor(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is unusable: do not return it to the pool
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

/** Creates the schema if needed and applies pending migrations, one process at a time. */
async function runPostgresMigrations(clientConfig: pg.ClientConfig, schema: string, lockTimeoutMs: number): Promise<void> {
  const client = new pg.Client(clientConfig);
  await client.connect();
  try {
    await client.query(`SET lock_timeout = ${lockTimeoutMs}`);
    const key = [LOCK_NAMESPACE.migrations, lockKey(schema)];
    await client.query('SELECT pg_advisory_lock($1, $2)', key);
    try {
      if (schema !== '') await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(SCHEMA_MIGRATIONS_DDL);
      // Read under the lock: another process may have just migrated.
      const applied = await client.query('SELECT version FROM schema_migrations');
      for (const migration of pendingMigrations(applied.rows.map((r: QueryResultRow) => toInt(r['version'])), MIGRATIONS)) {
        await client.query('BEGIN');
        try {
          await client.query(migration.sql('postgres'));
          await client.query('INSERT INTO schema_migrations (version, name, applied_ts) VALUES ($1, $2, $3)', [
            migration.version,
            migration.name,
            Date.now(),
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', key);
    }
  } finally {
    await client.end();
  }
}
