import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StorageError } from './errors.js';
import { MIGRATIONS, pendingMigrations, type Migration } from './migrations.js';

const m = (version: number): Migration => ({ version, name: `m${version}`, sql: () => '' });

describe('migrations', () => {
  it('are numbered 1, 2, 3, ... without gaps or repeats', () => {
    assert.deepEqual(
      MIGRATIONS.map((x) => x.version),
      MIGRATIONS.map((_, i) => i + 1),
    );
  });

  it('produce SQL for both engines', () => {
    for (const migration of MIGRATIONS) {
      assert.match(migration.sql('sqlite'), /CREATE TABLE/);
      assert.match(migration.sql('postgres'), /CREATE TABLE/);
      assert.doesNotMatch(migration.sql('postgres'), /AUTOINCREMENT/);
    }
  });

  it('pending ones are those not applied, in version order', () => {
    const pending = pendingMigrations([2], [m(3), m(1), m(2)]);
    assert.deepEqual(
      pending.map((x) => x.version),
      [1, 3],
    );
    assert.deepEqual(pendingMigrations([1, 2, 3], [m(1), m(2), m(3)]), []);
  });

  it('a database with versions this code does not know is refused', () => {
    assert.throws(
      () => pendingMigrations([1, 7], [m(1)]),
      (err: unknown) => err instanceof StorageError && err.code === 'SCHEMA_TOO_NEW' && /7/.test(err.message),
    );
  });
});
