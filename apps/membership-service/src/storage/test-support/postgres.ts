// Test databases on the PostgreSQL server named by MEMBRANE_TEST_PG_URL:
// each test gets a schema with a random name, and every schema of the run is
// dropped at the end. An unreachable server is a test failure with a clear
// message, never a silent skip.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { PostgresStorageConfig, StorageConfig } from '../types.js';

export const TEST_PG_URL =
  process.env['MEMBRANE_TEST_PG_URL'] ?? 'postgres://membrane:membrane@127.0.0.1:5432/membrane_test';

const CONNECT_TIMEOUT_MS = 5_000;

/** The URL without its password, for messages. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new Error(
      `PostgreSQL is not reachable at ${displayUrl(TEST_PG_URL)} (${err instanceof Error ? err.message : String(err)}). ` +
        'Start it with tools/ci/start-postgres.sh or point MEMBRANE_TEST_PG_URL at a server.',
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export class PostgresTestSchemas {
  private readonly runId = randomBytes(4).toString('hex');
  private readonly created: string[] = [];

  /** Fails with a clear message when the server cannot be reached. */
  async assertReachable(): Promise<void> {
    await withAdminClient((c) => c.query('SELECT 1'));
  }

  /** A config for a schema nobody has used; `openStorage` creates it. */
  async freshConfig(): Promise<PostgresStorageConfig> {
    const schema = `membrane_test_${this.runId}_${this.created.length}_${randomBytes(3).toString('hex')}`;
    this.created.push(schema);
    return { engine: 'postgres', url: TEST_PG_URL, schema, poolSize: 8, lockTimeoutMs: 20_000, connectTimeoutMs: 10_000 };
  }

  async recordUnknownMigration(config: StorageConfig, version: number): Promise<void> {
    if (config.engine !== 'postgres' || config.schema === undefined) throw new Error('not a test schema config');
    const schema = config.schema;
    await withAdminClient((c) =>
      c.query(`INSERT INTO ${schema}.schema_migrations (version, name, applied_ts) VALUES ($1, 'future', 0)`, [version]),
    );
  }

  async dropAll(): Promise<void> {
    const schemas = this.created.splice(0);
    if (schemas.length === 0) return;
    await withAdminClient(async (c) => {
      for (const schema of schemas) await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    });
  }
}
