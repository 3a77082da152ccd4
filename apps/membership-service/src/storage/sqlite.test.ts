// The storage contract on SQLite: a real database file per test in a
// temporary directory.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { defineStorageContract } from './contract.js';
import { StorageError } from './errors.js';
import { MIGRATIONS } from './migrations.js';
import { openStorage } from './open-storage.js';
import { openSqliteEngine, type WalFlusher } from './sqlite-engine.js';

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
      assert.equal(order.length, 0, 'the quick transaction was acknowledged while its batch was still open');
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

describe('sqlite state snapshots of a large room', () => {
  it('a long run of one-key changes never rewrites the whole state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'membrane-storage-'));
    directories.push(dir);
    const path = join(dir, 'membership.sqlite');
    const storage = await openStorage({ engine: 'sqlite', path });
    const members = 3_000;
    const changes = 150;
    try {
      await storage.withRoomTransaction('!big:hs.test', async (tx) => {
        let prev = await tx.storeStateGroup({
          prevGroupId: null,
          entries: Array.from({ length: members }, (_, i) => ({ type: 'm.room.member', stateKey: `@u${i}:hs.test`, eventId: `$join${i}` })),
        });
        for (let i = 0; i < changes; i++) {
          prev = await tx.storeStateGroup({ prevGroupId: prev, entries: [{ type: 'm.room.member', stateKey: `@u${i}:hs.test`, eventId: `$leave${i}` }] });
        }
        const state = await tx.getStateGroup(prev);
        assert.equal(state?.length, members);
        assert.equal(state?.find((e) => e.stateKey === `@u${changes - 1}:hs.test`)?.eventId, `$leave${changes - 1}`);
      });
    } finally {
      await storage.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      const rows = (db.prepare('SELECT COUNT(*) AS n FROM state_group_entries').get() as { n: number }).n;
      // Merged chains write the changes since the complete group again (here
      // at most `changes` rows each time), never the 3,000 members.
      assert.ok(rows < members + changes * 6, `${rows} rows for ${members} members and ${changes} changes`);
    } finally {
      db.close();
    }
  });
});

describe('sqlite durability', () => {
  function freshPath(): string {
    const dir = mkdtempSync(join(tmpdir(), 'membrane-storage-'));
    directories.push(dir);
    return join(dir, 'membership.sqlite');
  }

  /** A WAL flush held until the test lets it finish (or fail). */
  function heldFlusher(): { flusher: () => WalFlusher; flushes: () => number; release(err?: Error): void } {
    const waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];
    let count = 0;
    return {
      flusher: () => ({
        flush: () =>
          new Promise<void>((resolve, reject) => {
            count += 1;
            waiting.push({ resolve, reject });
          }),
        close: () => undefined,
      }),
      flushes: () => count,
      release(err?: Error) {
        for (const w of waiting.splice(0)) {
          if (err) w.reject(err);
          else w.resolve();
        }
      },
    };
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('a commit is reported, and its data handed to readers, only after the WAL flush', async () => {
    const held = heldFlusher();
    const engine = openSqliteEngine({ engine: 'sqlite', path: freshPath() }, held.flusher);
    try {
      let written = false;
      let readDone = false;
      const write = engine
        .write('!a:hs.test', (exec) => exec.execute("INSERT INTO rooms (room_id, room_version, created_ts) VALUES ('!a:hs.test', '11', 1)"))
        .then((n) => {
          written = true;
          return n;
        });
      // Bounded wait until the commit happened and its flush started.
      for (let i = 0; i < 2_000 && held.flushes() === 0; i++) await sleep(1);
      assert.equal(held.flushes(), 1);
      const read = engine
        .read((exec) => exec.query('SELECT room_id FROM rooms'))
        .then((rows) => {
          readDone = true;
          return rows;
        });
      await sleep(50);
      assert.equal(written, false, 'reported before the flush');
      assert.equal(readDone, false, 'a read handed out data not yet on disk');
      // Other work goes on meanwhile: a second batch commits without waiting.
      const second = engine.write(null, (exec) => exec.execute("INSERT INTO rooms (room_id, room_version, created_ts) VALUES ('!b:hs.test', '11', 2)"));
      held.release();
      assert.equal(await write, 1);
      assert.deepEqual(await read, [{ room_id: '!a:hs.test' }]);
      for (let i = 0; i < 2_000 && held.flushes() < 2; i++) await sleep(1);
      held.release();
      assert.equal(await second, 1);
    } finally {
      held.release();
      await engine.close();
    }
  });

  it('when the flush fails, the transactions waiting for it fail', async () => {
    const held = heldFlusher();
    const engine = openSqliteEngine({ engine: 'sqlite', path: freshPath() }, held.flusher);
    try {
      const write = engine.write(null, (exec) => exec.execute("INSERT INTO rooms (room_id, room_version, created_ts) VALUES ('!a:hs.test', '11', 1)"));
      for (let i = 0; i < 2_000 && held.flushes() === 0; i++) await sleep(1);
      held.release(new Error('EIO'));
      await assert.rejects(write, /restart/);
      await assert.rejects(
        engine.read((exec) => exec.query('SELECT 1')),
        /restart/,
      );
    } finally {
      await engine.close();
    }
  });

  it("with synchronous 'normal' a commit is reported without a flush", async () => {
    const held = heldFlusher();
    const engine = openSqliteEngine({ engine: 'sqlite', path: freshPath(), synchronous: 'normal' }, held.flusher);
    try {
      assert.equal(await engine.write(null, (exec) => exec.execute("INSERT INTO rooms (room_id, room_version, created_ts) VALUES ('!a:hs.test', '11', 1)")), 1);
      assert.equal(held.flushes(), 0);
    } finally {
      await engine.close();
    }
  });
});

describe('sqlite after a crash', () => {
  it('every transaction reported as committed is there after the writing process is killed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'membrane-storage-'));
    directories.push(dir);
    const path = join(dir, 'membership.sqlite');
    const writer = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./test-support/crash-writer.ts', import.meta.url)), path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked: string[] = [];
    const exited = new Promise((resolve) => writer.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${acked.length} acknowledgements within 60 s`)), 60_000);
      createInterface({ input: writer.stdout }).on('line', (line) => {
        if (line.startsWith('ack ')) acked.push(line.slice(4));
        // Killed in the middle of the work, while transactions are in flight.
        if (acked.length === 400) {
          clearTimeout(timer);
          writer.kill('SIGKILL');
          resolve();
        }
      });
      writer.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await exited;
    assert.ok(acked.length >= 400, `the writer acknowledged ${acked.length} transactions before it ended`);
    const storage = await openStorage({ engine: 'sqlite', path });
    try {
      const stored = await storage.read((r) => r.getEvents(acked));
      const missing = acked.filter((id) => !stored.has(id));
      assert.deepEqual(missing, [], 'acknowledged but lost');
    } finally {
      await storage.close();
    }
  });
});
