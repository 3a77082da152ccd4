// The storage contract on a real PostgreSQL server, one fresh schema per
// test. Fails (does not skip) when the server is unreachable.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { defineStorageContract } from './contract.js';
import { StorageError } from './errors.js';
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
