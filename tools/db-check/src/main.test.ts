// db-check over a real database written by the real membership service,
// then over corrupted copies of it: each invariant is shown to hold on the
// real data and to fail when it is broken.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { MembershipServiceClient, RoomPreset, RoomVisibility } from '@membrane/proto';
import { createRpcClient } from '@membrane/rpc';
import { startMembershipService } from '@membrane/testing';
import { CHECKS } from './checks.js';
import type { Finding } from './checks.js';
import { openSqliteReadOnly, sqlitePathInDataDir } from './database.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

let scratch = '';
let dataDir = '';
let roomId = '';

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'db-check-'));
  dataDir = join(scratch, 'membership');
  const service = await startMembershipService(dataDir);
  const client = createRpcClient(MembershipServiceClient, service.address, { defaultDeadlineMs: 10_000 });
  try {
    const created = await client.performCreateRoom({ creatorUserId: '@alice:hs.test', preset: RoomPreset.PUBLIC_CHAT, visibility: RoomVisibility.PRIVATE, invitees: [] });
    roomId = created.roomId;
    await client.performJoin({ roomIdOrAlias: roomId, userId: '@bob:hs.test', serverNames: [] });
    await client.performLeave({ roomId, userId: '@bob:hs.test' });
    await client.performInvite({ roomId, sender: '@alice:hs.test', invitee: '@carol:hs.test' });
  } finally {
    client.close();
    assert.equal(await service.stop(), 0);
  }
});

after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A copy of the service's database with `sql` applied to it. */
function corruptedCopy(name: string, sql: string): string {
  const source = sqlitePathInDataDir(dataDir);
  const target = join(scratch, `${name}.sqlite`);
  copyFileSync(source, target);
  for (const suffix of ['-wal', '-shm']) if (existsSync(source + suffix)) copyFileSync(source + suffix, target + suffix);
  const db = new Database(target);
  db.exec(sql);
  db.close();
  return target;
}

async function findingsOf(path: string): Promise<Finding[]> {
  const db = openSqliteReadOnly(path);
  try {
    const findings: Finding[] = [];
    for (const check of CHECKS) findings.push(...(await check.run(db, () => undefined)));
    return findings;
  } finally {
    await db.close();
  }
}

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('db-check on a database written by the membership service', () => {
  it('finds every invariant holding, exits 0 and reports progress', () => {
    const result = runCli(['check', '--data-dir', dataDir]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /all 6 invariants hold/);
    for (const check of CHECKS) assert.match(result.stderr, new RegExp(`ok +${check.name}`));
  });

  it('really read rows: the data has members, state and extremities', () => {
    const db = new Database(sqlitePathInDataDir(dataDir), { readonly: true });
    const count = (table: string): number => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    try {
      assert.ok(count('memberships') >= 3, 'alice joined, bob left, carol invited');
      assert.ok(count('current_state') >= 5);
      assert.ok(count('forward_extremities') >= 1);
    } finally {
      db.close();
    }
  });

  it('leaves the database untouched (read-only)', () => {
    const path = sqlitePathInDataDir(dataDir);
    const db = openSqliteReadOnly(path);
    return assert.rejects(db.query("DELETE FROM memberships RETURNING room_id").finally(() => db.close()), /readonly/i);
  });
});

describe('db-check on corrupted copies', () => {
  const cases: { name: string; sql: () => string; check: string; mentions: RegExp }[] = [
    {
      name: 'membership-events',
      sql: () => `UPDATE memberships SET membership = 'join' WHERE user_id = '@bob:hs.test'`,
      check: 'membership-events',
      mentions: /@bob:hs\.test.*content\.membership is leave/,
    },
    {
      name: 'membership-missing-event',
      sql: () => `UPDATE memberships SET event_id = '$gone' WHERE user_id = '@alice:hs.test'`,
      check: 'membership-events',
      mentions: /\$gone\): the event is not stored/,
    },
    {
      name: 'current-state',
      sql: () => `UPDATE current_state SET type = 'm.room.topic' WHERE room_id = '${roomId}' AND type = 'm.room.join_rules'`,
      check: 'current-state-events',
      mentions: /m\.room\.topic.*stored event is \(m\.room\.join_rules/,
    },
    {
      name: 'create-event',
      sql: () => `DELETE FROM events WHERE room_id = '${roomId}' AND type = 'm.room.create'`,
      check: 'create-events',
      mentions: /no m\.room\.create event is stored/,
    },
    {
      name: 'forward-extremity',
      sql: () => `INSERT INTO forward_extremities (room_id, event_id) VALUES ('${roomId}', '$nowhere')`,
      check: 'forward-extremities',
      mentions: /forward extremity \$nowhere is not stored/,
    },
    {
      name: 'joined-count-drift',
      sql: () => `UPDATE room_joined_servers SET joined = joined + 2 WHERE room_id = '${roomId}'`,
      check: 'joined-server-counts',
      mentions: /server hs\.test: 1 joined members, but the count says 3/,
    },
    {
      name: 'joined-count-missing',
      sql: () => `DELETE FROM room_joined_servers WHERE room_id = '${roomId}'`,
      check: 'joined-server-counts',
      mentions: /server hs\.test: 1 joined members, but the count says nothing/,
    },
    {
      name: 'outbox',
      sql: () => `INSERT INTO outbox (destination, room_id, event_id, created_ts, next_attempt_ts) VALUES ('remote.test', '${roomId}', '$lost', 0, 0)`,
      check: 'outbox-events',
      mentions: /event \$lost is not stored/,
    },
  ];

  for (const c of cases) {
    it(`detects a broken ${c.check} invariant (${c.name})`, async () => {
      const findings = await findingsOf(corruptedCopy(c.name, c.sql()));
      const relevant = findings.filter((f) => f.check === c.check);
      assert.ok(relevant.some((f) => c.mentions.test(f.message)), JSON.stringify(findings));
    });
  }

  it('exits 1 and prints the findings when any invariant fails', () => {
    const path = corruptedCopy('cli', `DELETE FROM events WHERE room_id = '${roomId}' AND type = 'm.room.create'`);
    const result = runCli(['check', '--sqlite', path, '--quiet']);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /^create-events: room .*no m\.room\.create event is stored$/m);
    assert.match(result.stdout, /findings in 2 of 6 checks/, 'the create event was also current state');
    assert.equal(result.stderr, '', '--quiet');
  });

  it('exits 2 with a clear message for a missing database or bad usage, and documents itself', () => {
    const missing = runCli(['check', '--data-dir', join(scratch, 'nothing-here')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no database at/);
    const usage = runCli(['check']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /exactly one of/);
    const help = runCli(['--help']);
    assert.equal(help.status, 0);
    for (const check of CHECKS) assert.ok(help.stdout.includes(check.name));
  });
});
