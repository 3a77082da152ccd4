// The benchmark seeder writes what the service itself would: valid signed
// events that pass the auth rules, exact state snapshots at every event, and
// rooms the service can go on writing to.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthEvent, Pdu } from '@membrane/events';
import { authStateFromEvents, checkEventAuth, computeEventId, getRoomVersion, verifyEventSignatures } from '@membrane/events';
import { generateSigningKey } from '@membrane/signing';
import { REPO_ROOT } from '@membrane/testing';
import { MembershipCore } from '../membership-core.js';
import { openStorage } from '../storage/index.js';
import type { StateEntry, Storage } from '../storage/index.js';
import { seedRooms } from './seed-rooms.js';
import type { SeedResult } from './seed-rooms.js';
import { checkSeedSpec, planSeedJobs, seedUserId } from './seed-spec.js';
import type { SeedSpec } from './seed-spec.js';
import { SeedRoomBuilder, seedRowOf } from './seed-builder.js';
import { SeedRoomWriter, snapshotLayoutFor, snapshotRowsOf } from './seed-writer.js';

const SERVER = 'seed.test';
const DB_CHECK = `${REPO_ROOT}tools/db-check/src/main.ts`;
const version = getRoomVersion('11');

// Small rooms with their own members, and one room large enough that its
// snapshots are batched (layout [3]) and rebased on complete snapshots twice.
const SPEC: SeedSpec = {
  groups: [
    { name: 'small', rooms: 3, members: 5, userPrefix: 's' },
    { name: 'large', rooms: 1, members: 200, userPrefix: 'l', sharedMembers: true },
  ],
};

function keyOf(type: string, stateKey: string): string {
  return JSON.stringify([type, stateKey]);
}

function stateMap(entries: readonly StateEntry[] | null): Map<string, string> {
  return new Map((entries ?? []).map((e) => [keyOf(e.type, e.stateKey), e.eventId]));
}

/** Replays the room's events and compares the recorded snapshot before and after each, and the current state. */
async function assertExactSnapshots(storage: Storage, roomId: string): Promise<void> {
  const events = await storage.read((tx) => tx.getRoomEventsAfter(roomId, 0, 1000));
  const replayed = new Map<string, string>();
  for (const stored of events) {
    const beforeState = await storage.read((tx) => tx.getStateAtEvent(stored.eventId, 'before'));
    assert.deepEqual(stateMap(beforeState), replayed, `state before ${stored.eventId}`);
    if (stored.stateKey !== null) replayed.set(keyOf(stored.type, stored.stateKey), stored.eventId);
    const afterState = await storage.read((tx) => tx.getStateAtEvent(stored.eventId, 'after'));
    assert.deepEqual(stateMap(afterState), replayed, `state after ${stored.eventId}`);
  }
  assert.deepEqual(stateMap(await storage.read((tx) => tx.getCurrentState(roomId))), replayed);
  const room = await storage.read((tx) => tx.getRoom(roomId));
  assert.deepEqual(stateMap(await storage.read((tx) => tx.getStateGroup(room?.currentStateGroupId ?? -1))), replayed);
}

describe('benchmark seeder', () => {
  let dir: string;
  let storage: Storage;
  let seeded: SeedResult;
  const key = generateSigningKey();
  const signer = { serverName: SERVER, key };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seed-test-'));
    storage = await openStorage({ engine: 'sqlite', path: join(dir, 'membership.sqlite') });
    seeded = await seedRooms(storage, signer, SPEC, { workers: 1, deadline: Date.now() + 120_000 });
  });

  after(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the rooms of every group, in room order, with the members the naming rule gives', async () => {
    assert.deepEqual(
      seeded.groups.map((g) => [g.name, g.roomIds.length]),
      [
        ['small', 3],
        ['large', 1],
      ],
    );
    assert.equal(seeded.events, 3 * (6 + 4) + (6 + 199));
    for (const [g, group] of SPEC.groups.entries()) {
      for (const [r, roomId] of (seeded.groups[g]?.roomIds ?? []).entries()) {
        const members = await storage.read((tx) => tx.listRoomMembers(roomId, ['join']));
        const expected = Array.from({ length: group.members }, (_, m) => seedUserId(group, r, m, SERVER)).sort();
        assert.deepEqual(
          members.map((m) => m.userId),
          expected,
        );
      }
    }
  });

  it('stores events signed by the server, under their own IDs, each allowed by the auth rules over its auth events', async () => {
    for (const roomId of seeded.groups.flatMap((g) => g.roomIds)) {
      const events = await storage.read((tx) => tx.getRoomEventsAfter(roomId, 0, 1000));
      const byId = new Map(events.map((e) => [e.eventId, JSON.parse(e.json) as Pdu]));
      for (const stored of events) {
        const event = JSON.parse(stored.json) as Pdu;
        assert.equal(computeEventId(event, version), stored.eventId);
        const signatures = verifyEventSignatures(event, version, (server, keyId) => (server === SERVER && keyId === key.keyId ? key.publicKey : undefined));
        assert.ok(signatures.ok, `${stored.eventId}: ${JSON.stringify(signatures)}`);
        const authEvents = (event.auth_events as string[]).map((id) => ({ ...(byId.get(id) as Pdu), event_id: id }) as AuthEvent);
        const decision = checkEventAuth({ ...event, event_id: stored.eventId } as AuthEvent, authStateFromEvents(authEvents), version);
        assert.ok(decision.allowed, `${stored.eventId}: ${JSON.stringify(decision)}`);
      }
      // One chain: each event follows the one before it.
      for (const [i, stored] of events.entries()) {
        const event = JSON.parse(stored.json) as Pdu;
        assert.deepEqual(event.prev_events, i === 0 ? [] : [events[i - 1]?.eventId]);
      }
      assert.deepEqual(await storage.read((tx) => tx.getForwardExtremities(roomId)), [events[events.length - 1]?.eventId]);
    }
  });

  it('records the exact state before and after every event, and the current state', async () => {
    const [large] = seeded.groups[1]?.roomIds ?? [];
    assert.ok(large !== undefined);
    assert.deepEqual(snapshotLayoutFor(205), [3], 'the large room exercises batched snapshots');
    for (const roomId of [...(seeded.groups[0]?.roomIds ?? []), large]) await assertExactSnapshots(storage, roomId);
  });

  it('keeps the snapshots exact in a layout of several levels, across transactions and complete rebases', async () => {
    // Levels [2, 5, 11]: the top chain may grow to 32 - 3 = 29 changes of 11,
    // so 400 joins rebase on a complete snapshot once.
    const { builder, events } = SeedRoomBuilder.create(`@owner:${SERVER}`, { version, signer, originServerTs: Date.now(), randomBytes });
    const rows = events.map((e) => seedRowOf(e, builder.roomId));
    for (let m = 0; m < 400; m++) rows.push(seedRowOf(builder.join(`@level${m}:${SERVER}`), builder.roomId));
    const writer = new SeedRoomWriter(builder.roomId, version.id, Date.now(), [2, 5, 11]);
    for (let i = 0; i < rows.length; i += 150) await writer.write(storage, rows.slice(i, i + 150));
    await assertExactSnapshots(storage, builder.roomId);
    assert.throws(() => new SeedRoomWriter(builder.roomId, version.id, 0, [4, 4]), RangeError);
  });

  it('passes the invariant checks of tools/db-check', () => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', DB_CHECK, 'check', '--sqlite', join(dir, 'membership.sqlite'), '--quiet'], { encoding: 'utf8', timeout: 60_000 });
    assert.match(output, /all \d+ invariants hold/);
  });

  it('leaves rooms the service goes on writing to: a seeded member leaves, a new user joins', async () => {
    const core = new MembershipCore({ storage, signer, defaultRoomVersion: '11' });
    const [roomId] = seeded.groups[1]?.roomIds ?? [];
    assert.ok(roomId !== undefined);
    const lastSeeded = (await storage.read((tx) => tx.getForwardExtremities(roomId)))[0];
    const member = seedUserId(SPEC.groups[1] as SeedSpec['groups'][number], 0, 150, SERVER);
    const left = await core.leave({ roomId, userId: member });
    assert.equal(left.eventCreated, true);
    const leaveEvent = await storage.read((tx) => tx.getEvent(left.eventId));
    assert.deepEqual((JSON.parse(leaveEvent?.json ?? '{}') as Pdu).prev_events, [lastSeeded]);
    assert.equal((await core.queryMembership(roomId, member)).membership?.membership, 'leave');
    const newcomer = `@newcomer:${SERVER}`;
    await core.join({ roomIdOrAlias: roomId, userId: newcomer });
    assert.equal((await core.queryMembership(roomId, newcomer)).membership?.membership, 'join');
  });
});

describe('snapshot layout', () => {
  it('gives small rooms the service\'s own layout and large rooms levels that store far fewer rows', () => {
    assert.deepEqual(snapshotLayoutFor(15), [1]);
    const large = snapshotLayoutFor(100_005);
    assert.ok(large.length > 1);
    assert.ok(large.every((b, i) => i === 0 || b > (large[i - 1] as number)), 'ascending');
    assert.ok(snapshotRowsOf(100_005, large) * 3 < snapshotRowsOf(100_005, [Math.round(Math.sqrt(100_005 / 32))]));
  });
});

describe('seed spec', () => {
  it('refuses groups that cannot be seeded, naming the group', () => {
    assert.throws(() => checkSeedSpec({ groups: [{ name: 'g', rooms: 1, members: 0, userPrefix: 'u' }] }), /"g": members/);
    assert.throws(() => checkSeedSpec({ groups: [{ name: 'g', rooms: -1, members: 1, userPrefix: 'u' }] }), /"g": rooms/);
    assert.throws(() => checkSeedSpec({ groups: [{ name: 'g', rooms: 1, members: 1, userPrefix: 'Bad' }] }), /"g": userPrefix/);
    assert.throws(
      () =>
        checkSeedSpec({
          groups: [
            { name: 'g', rooms: 1, members: 1, userPrefix: 'a' },
            { name: 'g', rooms: 1, members: 1, userPrefix: 'b' },
          ],
        }),
      /appears twice/,
    );
    assert.throws(() => checkSeedSpec({ roomVersion: '99', groups: [] }));
  });

  it('names shared members by index and others by room and index', () => {
    assert.equal(seedUserId({ userPrefix: 'u', sharedMembers: true }, 7, 3, 'hs'), '@u3:hs');
    assert.equal(seedUserId({ userPrefix: 'u' }, 7, 3, 'hs'), '@u7_3:hs');
  });

  it('splits groups into jobs of a few thousand events that cover every room once, in order', () => {
    const jobs = planSeedJobs({
      groups: [
        { name: 'many', rooms: 1000, members: 10, userPrefix: 'm' },
        { name: 'big', rooms: 2, members: 50_000, userPrefix: 'b' },
      ],
    });
    const covered = jobs.flatMap((j) => Array.from({ length: j.to - j.from }, (_, i) => `${j.groupIndex}:${j.from + i}`));
    assert.deepEqual(covered, [...Array.from({ length: 1000 }, (_, i) => `0:${i}`), '1:0', '1:1']);
    assert.ok(jobs.filter((j) => j.groupIndex === 0).every((j) => (j.to - j.from) * 15 <= 3_000));
  });

  it('stops with an error when the deadline has passed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seed-deadline-'));
    const storage = await openStorage({ engine: 'sqlite', path: join(dir, 'membership.sqlite') });
    try {
      await assert.rejects(
        seedRooms(storage, { serverName: SERVER, key: generateSigningKey() }, { groups: [{ name: 'g', rooms: 3, members: 2, userPrefix: 'u' }] }, { workers: 0, deadline: Date.now() - 1 }),
        /did not finish in time/,
      );
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
