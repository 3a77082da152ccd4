// Read-only access to the membership service's database, the same queries on
// SQLite and PostgreSQL. Queries are written with `$1`, `$2`… in order of use.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

export type Row = Readonly<Record<string, unknown>>;

export interface ReadOnlyDatabase {
  readonly description: string;
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

/** The file the membership service uses under its data directory (its `database.path` default). */
export function sqlitePathInDataDir(dataDir: string): string {
  return join(dataDir, 'membership.sqlite');
}

export function openSqliteReadOnly(path: string): ReadOnlyDatabase {
  if (!existsSync(path)) throw new Error(`no database at ${path}`);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  return {
    description: `SQLite ${path} (read-only)`,
    query: async (sql, params = []) => db.prepare(sql.replace(/\$\d+/g, '?')).all(...params) as Row[],
    close: async () => {
      db.close();
    },
  };
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Every statement runs in a read-only session, so a check can never write. */
export async function openPostgresReadOnly(url: string, schema: string): Promise<ReadOnlyDatabase> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`not a plain schema name: ${schema}`);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query('SET default_transaction_read_only = on');
    await client.query(`SET search_path TO "${schema}"`);
  } catch (err) {
    await client.end();
    throw err;
  }
  const shown = new URL(url);
  if (shown.password !== '') shown.password = '***';
  return {
    description: `PostgreSQL ${shown.toString()} schema ${schema} (read-only session)`,
    query: async (sql, params = []) => (await client.query(sql, [...params])).rows as Row[],
    close: () => client.end(),
  };
}
