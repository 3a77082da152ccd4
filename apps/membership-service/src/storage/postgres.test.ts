// The storage contract on a real PostgreSQL server, one fresh schema per
// test. Fails (does not skip) when the server is unreachable.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { defineStorageContract } from './contract.js';
import { StorageError } from './errors.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL } from './migrations.js';
import { openStorage } from './open-storage.js';
import { PostgresTestSchemas, TEST_PG_URL } from './test-support/postgres.js';

const schemas = new PostgresTestSchemas();

describe('postgres storage', () => {
  before(() => schemas.assertReachable());

  defineStorageContract('postgres', {
    parallelRooms: true,
    freshConfig: () => schemas.freshConfig(),
    cleanup: () => schemas.dropAll(),
    recordUnknownMigration: (config, version) => schemas.recordUnknownMigration(config, version),
  });
});

describe('postgres storage specifics', () => {
  it('refuses schema names that would need quoting', async () => {
    await assert.rejects(
      openStorage({ engine: 'postgres', url: TEST_PG_URL, schema: 'Bad; DROP' }),
      (err: unknown) => err instanceof StorageError && err.code === 'INVALID_ARGUMENT',
    );
  });
});

describe('postgres migration of joined member counts', () => {
  const own = new PostgresTestSchemas();
  after(() => own.dropAll());

  it('counts the joined members of a database written before the count table existed', async () => {
    const config = await own.freshConfig();
    const first = MIGRATIONS.find((m) => m.version === 1);
    assert.ok(first && config.schema !== undefined);
    const client = new pg.Client({ connectionString: TEST_PG_URL });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${config.schema}`);
      await client.query(`SET search_path = ${config.schema}`);
      await client.query(SCHEMA_MIGRATIONS_DDL);
      await client.query(first.sql('postgres'));
      await client.query('INSERT INTO schema_migrations (version, name, applied_ts) VALUES (1, $1, 0)', [first.name]);
      for (const [room, user, server, membership] of [
        ['!r:hs.test', '@a:one.test', 'one.test', 'join'],
        ['!r:hs.test', '@b:one.test', 'one.test', 'join'],
        ['!r:hs.test', '@c:two.test', 'two.test', 'leave'],
        ['!s:hs.test', '@c:two.test', 'two.test', 'join'],
      ]) {
        await client.query(
          'INSERT INTO memberships (room_id, user_id, server_name, membership, event_id, forgotten, stream_pos) VALUES ($1, $2, $3, $4, $5, FALSE, 1)',
          [room, user, server, membership, `$${user}${room}`],
        );
      }
    } finally {
      await client.end();
    }
    const storage = await openStorage(config);
    try {
      assert.deepEqual(await storage.read((r) => r.countJoinedMembersByServer('!r:hs.test')), [{ serverName: 'one.test', joined: 2 }]);
      assert.deepEqual(await storage.read((r) => r.countJoinedMembersByServer('!s:hs.test')), [{ serverName: 'two.test', joined: 1 }]);
      assert.equal(await storage.read((r) => r.isServerInRoom('!r:hs.test', 'two.test')), false);
    } finally {
      await storage.close();
    }
  });
});
