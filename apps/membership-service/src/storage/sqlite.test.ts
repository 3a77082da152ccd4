// The storage contract on SQLite: a real database file per test in a
// temporary directory.

import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { defineStorageContract } from './contract.js';
import { StorageError } from './errors.js';
import { openStorage } from './open-storage.js';

const directories: string[] = [];

function removeDirectories(): void {
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true });
}

after(removeDirectories);

defineStorageContract('sqlite', {
  parallelRooms: false,
  async freshConfig() {
    const dir = mkdtempSync(join(tmpdir(), 'membrane-storage-'));
    directories.push(dir);
    return { engine: 'sqlite', path: join(dir, 'membership.sqlite') };
  },
  async recordUnknownMigration(config, version) {
    if (config.engine !== 'sqlite') throw new Error('not a SQLite config');
    const db = new Database(config.path);
    try {
      db.prepare('INSERT INTO schema_migrations (version, name, applied_ts) VALUES (?, ?, ?)').run(version, 'future', 0);
    } finally {
      db.close();
    }
  },
  async cleanup() {
    removeDirectories();
  },
});

describe('sqlite storage specifics', () => {
  it('creates the data directory and uses WAL mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'membrane-storage-'));
    directories.push(dir);
    const path = join(dir, 'nested', 'data', 'membership.sqlite');
    const storage = await openStorage({ engine: 'sqlite', path });
    await storage.close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('refuses an in-memory database, which two connections cannot share', async () => {
    await assert.rejects(
      openStorage({ engine: 'sqlite', path: ':memory:' }),
      (err: unknown) => err instanceof StorageError && err.code === 'INVALID_ARGUMENT',
    );
  });
});
