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
import { MIGRATIONS } from './migrations.js';
import { openStorage } from './open-storage.js';
import { openSqliteEngine } from './sqlite-engine.js';

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

describe('sqlite group commit', () => {
  function freshPath(): string {
    const dir = mkdtempSync(join(tmpdir(), 'membrane-storage-'));
    directories.push(dir);
    return join(dir, 'membership.sqlite');
  }

  function gate(): { promise: Promise<void>; open(): void } {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    return { promise, open };
  }

  /** Resolves once `check` holds; polls every millisecond, at most 5 s. */
  async function until(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 5_000 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 1));
    assert.ok(check(), `${what}: not within 5 s`);
  }

  it('transactions waiting together share one commit, and none is acknowledged before it', async () => {
    const path = freshPath();
    const storage = await openStorage({ engine: 'sqlite', path });
    try {
      const slowGate = gate();
      const order: string[] = [];
      let quickBodyDone = false;
      // Both wait before the first batch starts, so they run in it one after the other.
      const quick = storage
        .withRoomTransaction('!quick:hs.test', async (tx) => {
          await tx.createRoom({ roomVersion: '11', createdTs: 1 });
          quickBodyDone = true;
        })
        .then(() => order.push('quick acknowledged'));
      const slow = storage
        .withRoomTransaction('!slow:hs.test', async (tx) => {
          await tx.createRoom({ roomVersion: '11', createdTs: 2 });
          await slowGate.promise;
        })
        .then(() => order.push('slow acknowledged'));
      await until(() => quickBodyDone, 'the quick transaction ran');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(order, [], 'the quick transaction was acknowledged while its batch was still open');
      assert.equal(await storage.read((r) => r.getRoom('!quick:hs.test')), null, 'a read saw uncommitted data');
      order.push('slow released');
      slowGate.open();
      await Promise.all([quick, slow]);
      assert.deepEqual(order, ['slow released', 'quick acknowledged', 'slow acknowledged']);
      assert.equal((await storage.read((r) => r.getRoom('!quick:hs.test')))?.createdTs, 1);
      assert.equal((await storage.read((r) => r.getRoom('!slow:hs.test')))?.createdTs, 2);
    } finally {
      await storage.close();
    }
  });

  it('a room’s next transaction may run in the same batch and sees the one before it', async () => {
    const storage = await openStorage({ engine: 'sqlite', path: freshPath() });
    try {
      const room = '!r:hs.test';
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          storage.withRoomTransaction(room, async (tx) => {
            const before = await tx.getCurrentStateEventId(room, 'org.test.counter', '');
            await tx.setCurrentState([{ type: 'org.test.counter', stateKey: '', eventId: `$${i}` }]);
            return before;
          }),
        ),
      );
      assert.deepEqual(results, [null, ...Array.from({ length: 9 }, (_, i) => `$${i}`)]);
    } finally {
      await storage.close();
    }
  });

  it('when the commit of a batch fails, every transaction of the batch fails and nothing is stored', async () => {
    const path = freshPath();
    // The engine itself, to reach a failure only COMMIT can report: a deferred
    // foreign key violation is checked when the whole batch commits.
    const engine = openSqliteEngine({ engine: 'sqlite', path });
    try {
      const outcomes = await Promise.allSettled([
        engine.write('!a:hs.test', async (exec) => {
          await exec.execute("INSERT INTO rooms (room_id, room_version, created_ts) VALUES ('!a:hs.test', '11', 1)");
          return 'a';
        }),
        engine.write('!b:hs.test', async (exec) => {
          await exec.execute('PRAGMA defer_foreign_keys = ON');
          await exec.execute("INSERT INTO state_group_entries (group_id, type, state_key, event_id) VALUES (999, 't', '', '$e')");
          return 'b';
        }),
        engine.write('!c:hs.test', async (exec) => {
          await exec.execute("INSERT INTO rooms (room_id, room_version, created_ts) VALUES ('!c:hs.test', '11', 3)");
          return 'c';
        }),
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['rejected', 'rejected', 'rejected'],
      );
      for (const o of outcomes) assert.match(String((o as PromiseRejectedResult).reason), /FOREIGN KEY/i);
      const rooms = await engine.read((exec) => exec.query('SELECT room_id FROM rooms'));
      assert.deepEqual(rooms, []);
      // The engine goes on: the next transaction commits.
      assert.equal(
        await engine.write(null, (exec) => exec.execute("INSERT INTO rooms (room_id, room_version, created_ts) VALUES ('!d:hs.test', '11', 4)")),
        1,
      );
      assert.equal((await engine.read((exec) => exec.query('SELECT room_id FROM rooms'))).length, 1);
    } finally {
      await engine.close();
    }
  });
});

describe('sqlite migration of joined member counts', () => {
  it('counts the joined members of a database written before the count table existed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'membrane-storage-'));
    directories.push(dir);
    const path = join(dir, 'membership.sqlite');
    const first = MIGRATIONS.find((m) => m.version === 1);
    assert.ok(first);
    const db = new Database(path);
    try {
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ts BIGINT NOT NULL)');
      db.exec(first.sql('sqlite'));
      db.prepare('INSERT INTO schema_migrations (version, name, applied_ts) VALUES (1, ?, 0)').run(first.name);
      const insert = db.prepare(
        'INSERT INTO memberships (room_id, user_id, server_name, membership, event_id, forgotten, stream_pos) VALUES (?, ?, ?, ?, ?, 0, 1)',
      );
      insert.run('!r:hs.test', '@a:one.test', 'one.test', 'join', '$1');
      insert.run('!r:hs.test', '@b:one.test', 'one.test', 'join', '$2');
      insert.run('!r:hs.test', '@c:two.test', 'two.test', 'leave', '$3');
      insert.run('!s:hs.test', '@c:two.test', 'two.test', 'join', '$4');
    } finally {
      db.close();
    }
    const storage = await openStorage({ engine: 'sqlite', path });
    try {
      assert.deepEqual(await storage.read((r) => r.countJoinedMembersByServer('!r:hs.test')), [{ serverName: 'one.test', joined: 2 }]);
      assert.deepEqual(await storage.read((r) => r.countJoinedMembersByServer('!s:hs.test')), [{ serverName: 'two.test', joined: 1 }]);
      assert.equal(await storage.read((r) => r.isServerInRoom('!r:hs.test', 'two.test')), false);
    } finally {
      await storage.close();
    }
  });
});
