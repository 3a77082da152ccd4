// The membership verbs over a real SQLite file and real ed25519 signatures.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { JsonObject } from '@membrane/canonical-json';
import { computeEventId, getRoomVersion, buildPdu, hashAndSignEvent } from '@membrane/events';
import type { Pdu } from '@membrane/events';
import { generateSigningKey } from '@membrane/signing';
import { openStorage } from './storage/index.js';
import type { Storage } from './storage/index.js';
import { MembershipCore } from './membership-core.js';
import { rejectsWith } from './test-support/matrix-errors.js';

const HS = 'hs.test';
const alice = `@alice:${HS}`;
const bob = `@bob:${HS}`;
const carol = `@carol:${HS}`;
const remoteUser = '@dave:remote.test';

describe('MembershipCore on SQLite', () => {
  let dir = '';
  let storage: Storage;
  let core: MembershipCore;
  let commits = 0;
  const outOfBand: unknown[] = [];
  const signer = { serverName: HS, key: generateSigningKey('t1') };
  const remoteSigner = { serverName: 'remote.test', key: generateSigningKey('r1') };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'membership-core-'));
    storage = await openStorage({ engine: 'sqlite', path: join(dir, 'db.sqlite') });
    core = new MembershipCore({ storage, signer, defaultRoomVersion: '11', onCommitted: () => (commits += 1), onOutOfBandLeave: (details) => outOfBand.push(details) });
  });
  after(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function membershipOf(roomId: string, userId: string): Promise<string | undefined> {
    return (await core.queryMembership(roomId, userId)).membership?.membership;
  }

  for (const roomVersion of ['1', '6', '10', '11', '12']) {
    it(`creates a real room in version ${roomVersion} with its initial state and the creator joined`, async () => {
      const { roomId } = await core.createRoom({ creator: alice, roomVersion, name: 'Room', invitees: [bob] });
      const state = await core.queryRoomState(roomId);
      assert.equal(state.roomVersion, roomVersion);
      const types = state.stateEventsJson.map((j) => (JSON.parse(j) as Pdu).type).sort();
      assert.deepEqual(types, [
        'm.room.create',
        'm.room.guest_access',
        'm.room.history_visibility',
        'm.room.join_rules',
        'm.room.member',
        'm.room.member',
        'm.room.name',
        'm.room.power_levels',
      ]);
      assert.equal(await membershipOf(roomId, alice), 'join');
      assert.equal(await membershipOf(roomId, bob), 'invite');
      if (roomVersion === '12') {
        const create = state.stateEventsJson.map((j) => JSON.parse(j) as Pdu).find((e) => e.type === 'm.room.create');
        assert.ok(create);
        assert.equal(create.room_id, undefined);
        assert.equal(roomId, `!${computeEventId(create, getRoomVersion('12')).slice(1)}`);
      }
    });
  }

  it('leaves from join once: the repeat answers 200 with the same event and creates nothing', async () => {
    const { roomId } = await core.createRoom({ creator: alice, visibility: 'public' });
    await core.join({ roomIdOrAlias: roomId, userId: bob });
    const first = await core.leave({ roomId, userId: bob, reason: 'bye' });
    assert.equal(first.eventCreated, true);
    const again = await core.leave({ roomId, userId: bob, reason: 'bye' });
    assert.deepEqual(again, { eventId: first.eventId, eventCreated: false, outOfBand: false });
    const event = JSON.parse((await core.queryEvent(first.eventId)).eventJson) as Pdu;
    assert.deepEqual(event.content, { membership: 'leave', reason: 'bye' });
    assert.equal(await membershipOf(roomId, bob), 'leave');
  });

  it('rejects a local invite by leaving', async () => {
    const { roomId } = await core.createRoom({ creator: alice, invitees: [bob] });
    const result = await core.rejectInvite({ roomId, userId: bob });
    assert.equal(result.outOfBand, false);
    assert.equal(await membershipOf(roomId, bob), 'leave');
  });

  it('answers 403 to a user who never had a membership and 404 for an unknown room', async () => {
    const { roomId } = await core.createRoom({ creator: alice });
    await rejectsWith(core.leave({ roomId, userId: carol }), 403, 'M_FORBIDDEN');
    await rejectsWith(core.leave({ roomId: '!nope:hs.test', userId: carol }), 404, 'M_NOT_FOUND');
  });

  it('refuses to act for users of other servers', async () => {
    const { roomId } = await core.createRoom({ creator: alice });
    await rejectsWith(core.leave({ roomId, userId: remoteUser }), 403, 'M_FORBIDDEN');
  });

  it('forgets only after leaving, quietly for unknown rooms, and a rejoin clears the flag', async () => {
    const { roomId } = await core.createRoom({ creator: alice, visibility: 'public' });
    await core.join({ roomIdOrAlias: roomId, userId: bob });
    await rejectsWith(core.forget({ roomId, userId: bob }), 400, 'M_UNKNOWN');
    await core.leave({ roomId, userId: bob });
    await core.forget({ roomId, userId: bob });
    assert.equal((await core.queryMembership(roomId, bob)).membership?.forgotten, true);
    await core.forget({ roomId, userId: bob });
    await core.forget({ roomId: '!unknown:hs.test', userId: bob });
    const listed = await core.queryJoinedRooms(bob, [], false);
    assert.ok(!listed.some((r) => r.roomId === roomId), 'forgotten rooms drop out of listings');
    await core.join({ roomIdOrAlias: roomId, userId: bob });
    assert.equal((await core.queryMembership(roomId, bob)).membership?.forgotten, false);
  });

  it('brings a forgotten room back with a new invite', async () => {
    const { roomId } = await core.createRoom({ creator: alice, visibility: 'public' });
    await core.join({ roomIdOrAlias: roomId, userId: bob });
    await core.leave({ roomId, userId: bob });
    await core.forget({ roomId, userId: bob });
    await core.invite({ roomId, sender: alice, invitee: bob });
    const record = (await core.queryMembership(roomId, bob)).membership;
    assert.deepEqual([record?.membership, record?.forgotten], ['invite', false]);
    assert.ok((await core.queryJoinedRooms(bob, [], false)).some((r) => r.roomId === roomId), 'the invited room is listed again');
  });

  it('kicks and bans by power level, and refuses to kick someone not in the room', async () => {
    const { roomId } = await core.createRoom({ creator: alice, visibility: 'public' });
    await core.join({ roomIdOrAlias: roomId, userId: bob });
    await core.join({ roomIdOrAlias: roomId, userId: carol });
    await rejectsWith(core.kick({ roomId, sender: bob, target: carol }), 403, 'M_FORBIDDEN');
    await core.kick({ roomId, sender: alice, target: carol, reason: 'spam' });
    assert.equal(await membershipOf(roomId, carol), 'leave');
    await rejectsWith(core.kick({ roomId, sender: alice, target: carol }), 403, 'M_FORBIDDEN');
    await core.ban({ roomId, sender: alice, target: bob });
    assert.equal(await membershipOf(roomId, bob), 'ban');
    await rejectsWith(core.leave({ roomId, userId: bob }), 403, 'M_FORBIDDEN');
    await rejectsWith(core.join({ roomIdOrAlias: roomId, userId: bob }), 403, 'M_FORBIDDEN');
    await core.unban({ roomId, sender: alice, target: bob });
    assert.equal(await membershipOf(roomId, bob), 'leave');
  });

  it('invite-only rooms refuse joins without an invite', async () => {
    const { roomId } = await core.createRoom({ creator: alice, preset: 'private_chat' });
    await rejectsWith(core.join({ roomIdOrAlias: roomId, userId: carol }), 403, 'M_FORBIDDEN');
    await core.invite({ roomId, sender: alice, invitee: carol });
    await core.join({ roomIdOrAlias: roomId, userId: carol });
    assert.equal(await membershipOf(roomId, carol), 'join');
  });

  it('returns the recorded answer for a repeated idempotency key without a second event', async () => {
    const { roomId } = await core.createRoom({ creator: alice, visibility: 'public' });
    await core.join({ roomIdOrAlias: roomId, userId: bob });
    const first = await core.leave({ roomId, userId: bob, idempotencyKey: 'txn1' });
    await core.join({ roomIdOrAlias: roomId, userId: bob });
    const repeat = await core.leave({ roomId, userId: bob, idempotencyKey: 'txn1' });
    assert.deepEqual(repeat, first);
    assert.equal(await membershipOf(roomId, bob), 'join', 'the repeated intent did nothing');
  });

  it('serializes concurrent joins and leaves on one room into a linear history', async () => {
    const { roomId } = await core.createRoom({ creator: alice, visibility: 'public' });
    const users = Array.from({ length: 12 }, (_, i) => `@u${i}:${HS}`);
    await Promise.all(users.map((userId) => core.join({ roomIdOrAlias: roomId, userId })));
    await Promise.all(users.filter((_, i) => i % 2 === 0).map((userId) => core.leave({ roomId, userId })));
    for (const [i, userId] of users.entries()) assert.equal(await membershipOf(roomId, userId), i % 2 === 0 ? 'leave' : 'join');
    const extremities = await storage.read((tx) => tx.getForwardExtremities(roomId));
    assert.equal(extremities.length, 1, 'every event built on the previous one');
  });

  it('runs changes to different rooms in parallel, each room keeping its own linear history', async () => {
    const rooms = await Promise.all(Array.from({ length: 4 }, () => core.createRoom({ creator: alice, visibility: 'public' })));
    const users = Array.from({ length: 5 }, (_, i) => `@p${i}:${HS}`);
    await Promise.all(rooms.flatMap(({ roomId }) => users.map((userId) => core.join({ roomIdOrAlias: roomId, userId }).then(() => core.leave({ roomId, userId })))));
    for (const { roomId } of rooms) {
      for (const userId of users) assert.equal(await membershipOf(roomId, userId), 'leave');
      assert.equal((await storage.read((tx) => tx.getForwardExtremities(roomId))).length, 1);
    }
  });

  it('builds a leave template for a remote member and accepts their signed leave (send_leave)', async () => {
    const { roomId } = await core.createRoom({ creator: alice, visibility: 'public' });
    // A remote user joins through a join we accept as if it came by send_join.
    const joinTemplate = await core.buildMembershipTemplate({ roomId, userId: remoteUser, membership: 'join', origin: 'remote.test' });
    const joined = signTemplate(joinTemplate.template, remoteSigner);
    const [joinOutcome] = await core.inputEvents('remote.test', 'send_join', [{ json: JSON.stringify(joined.event) }]);
    assert.equal(joinOutcome?.accepted, true, joinOutcome?.error?.message);
    assert.equal(await membershipOf(roomId, remoteUser), 'join');

    const leaveTemplate = await core.buildMembershipTemplate({ roomId, userId: remoteUser, membership: 'leave', origin: 'remote.test' });
    assert.equal(leaveTemplate.roomVersion, '11');
    assert.deepEqual(leaveTemplate.template['content'], { membership: 'leave' });
    const left = signTemplate(leaveTemplate.template, remoteSigner);
    const [leaveOutcome] = await core.inputEvents('remote.test', 'send_leave', [{ json: JSON.stringify(left.event) }]);
    assert.equal(leaveOutcome?.accepted, true, leaveOutcome?.error?.message);
    assert.equal(leaveOutcome?.eventId, left.eventId);
    assert.equal(await membershipOf(roomId, remoteUser), 'leave');
    // Re-sending the accepted leave succeeds without a second event.
    const [again] = await core.inputEvents('remote.test', 'send_leave', [{ json: JSON.stringify(left.event) }]);
    assert.equal(again?.accepted, true);
  });

  it('names one of our users as authoriser of a restricted join, and accepts the join only with our signature', async () => {
    const space = await core.createRoom({ creator: alice, visibility: 'public' });
    const spaceJoin = await core.buildMembershipTemplate({ roomId: space.roomId, userId: remoteUser, membership: 'join', origin: 'remote.test' });
    await core.inputEvents('remote.test', 'send_join', [{ json: JSON.stringify(signTemplate(spaceJoin.template, remoteSigner).event) }]);
    const { roomId } = await core.createRoom({ creator: alice, roomVersion: '10', joinRule: 'restricted', allowRooms: [space.roomId] });

    const template = await core.buildMembershipTemplate({ roomId, userId: remoteUser, membership: 'join', origin: 'remote.test' });
    assert.deepEqual(template.template['content'], { membership: 'join', join_authorised_via_users_server: alice });
    const joined = signTemplate(template.template, remoteSigner, '10');
    const [unsigned] = await core.inputEvents('remote.test', 'send_join', [{ json: JSON.stringify(joined.event) }]);
    assert.equal(unsigned?.accepted, false, 'without the authorising server signature the join is refused');
    assert.equal(unsigned?.error?.status, 403);
    const coSigned = hashAndSignEvent(joined.event, HS, signer.key, getRoomVersion('10'));
    const [accepted] = await core.inputEvents('remote.test', 'send_join', [{ json: JSON.stringify(coSigned) }]);
    assert.equal(accepted?.accepted, true, accepted?.error?.message);
    assert.equal(await membershipOf(roomId, remoteUser), 'join');
  });

  it('refuses make_join to a restricted room for a user in none of its allowed rooms', async () => {
    const space = await core.createRoom({ creator: alice, visibility: 'public' });
    const { roomId } = await core.createRoom({ creator: alice, roomVersion: '10', joinRule: 'restricted', allowRooms: [space.roomId] });
    await rejectsWith(core.buildMembershipTemplate({ roomId, userId: '@eve:remote.test', membership: 'join', origin: 'remote.test' }), 403, 'M_FORBIDDEN');
  });

  it('refuses a leave template for a user who is not in the room or not of the origin', async () => {
    const { roomId } = await core.createRoom({ creator: alice });
    await rejectsWith(core.buildMembershipTemplate({ roomId, userId: remoteUser, membership: 'leave', origin: 'remote.test' }), 403, 'M_FORBIDDEN');
    await rejectsWith(core.buildMembershipTemplate({ roomId, userId: remoteUser, membership: 'leave', origin: 'evil.test' }), 403, 'M_FORBIDDEN');
    await rejectsWith(core.buildMembershipTemplate({ roomId: '!none:hs.test', userId: remoteUser, membership: 'leave', origin: 'remote.test' }), 404, 'M_NOT_FOUND');
  });

  it('rejects a remote invite with a local out-of-band leave when no remote server can be asked', async () => {
    const remoteRoom = '!elsewhere:remote.test';
    const invite = buildPdu(
      {
        version: getRoomVersion('11'),
        proto: { type: 'm.room.member', sender: remoteUser, room_id: remoteRoom, state_key: carol, content: { membership: 'invite' } },
        prevEvents: [{ eventId: '$prev', depth: 3 }],
        authEvents: [{ eventId: '$create' }],
        originServerTs: 1,
      },
      remoteSigner,
    );
    const [outcome] = await core.inputEvents('remote.test', 'invite', [{ json: JSON.stringify(invite.event), roomVersion: '11' }]);
    assert.equal(outcome?.accepted, true, outcome?.error?.message);
    assert.equal(await membershipOf(remoteRoom, carol), 'invite');
    const result = await core.rejectInvite({ roomId: remoteRoom, userId: carol, reason: 'no thanks' });
    assert.equal(result.outOfBand, true);
    assert.deepEqual(outOfBand, [{ roomId: remoteRoom, userId: carol, reason: 'no-remote-service' }]);
    assert.equal(await membershipOf(remoteRoom, carol), 'leave');
    assert.equal(await storage.read((tx) => tx.getReceivedInvite(remoteRoom, carol)), null);
  });

  it('queues each event for the other servers in the room, in the same transaction', async () => {
    const { roomId } = await core.createRoom({ creator: alice, visibility: 'public' });
    const joinTemplate = await core.buildMembershipTemplate({ roomId, userId: remoteUser, membership: 'join', origin: 'remote.test' });
    await core.inputEvents('remote.test', 'send_join', [{ json: JSON.stringify(signTemplate(joinTemplate.template, remoteSigner).event) }]);
    const before = await storage.outboxStats(Date.now());
    const { eventId } = await core.leave({ roomId, userId: alice });
    const batch = await storage.claimOutboxBatch({ destination: 'remote.test', limit: 50, leaseMs: 1000, now: Date.now() });
    assert.ok(batch?.items.some((item) => item.eventId === eventId));
    assert.ok((await storage.outboxStats(Date.now())).depth > before.depth);
  });

  it('tells listeners after each committed change', () => {
    assert.ok(commits > 10);
  });
});

function signTemplate(template: JsonObject, signer: { serverName: string; key: ReturnType<typeof generateSigningKey> }, roomVersion = '11') {
  const version = getRoomVersion(roomVersion);
  const t = template as unknown as Pdu;
  return buildPdu(
    {
      version,
      proto: { type: t.type, sender: t.sender, room_id: t.room_id as string, state_key: t.state_key as string, content: t.content },
      prevEvents: (t.prev_events as string[]).map((eventId) => ({ eventId, depth: t.depth - 1 })),
      authEvents: (t.auth_events as string[]).map((eventId) => ({ eventId })),
      originServerTs: t.origin_server_ts,
      depth: t.depth,
    },
    signer,
  );
}
