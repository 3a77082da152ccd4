// What a client reads of a room (/state, /members, /event, /messages) while
// joined, after leaving, after forgetting, and as a stranger: a real
// membership core on a real SQLite file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildPdu, getRoomVersion } from '@membrane/events';
import { generateSigningKey } from '@membrane/signing';
import { MatrixError } from '@membrane/matrix-errors';
import type { ViewedEvent } from '@membrane/proto';
import { clampMessagesLimit, queryMessages, queryVisibleEvent, queryVisibleMembers, queryVisibleState } from './visible-reads.js';
import type { MessagesRequest } from './visible-reads.js';
import { HS, labels, ViewsWorld } from './test-support.js';
import { rejectsWith } from '../test-support/matrix-errors.js';

const alice = `@alice:${HS}`;
const bob = `@bob:${HS}`;
const carol = `@carol:${HS}`;
const dave = `@dave:${HS}`;

function contentOf(event: ViewedEvent | undefined): Record<string, unknown> {
  return (JSON.parse(event?.eventJson ?? '{}') as { content: Record<string, unknown> }).content;
}

describe('visible reads', () => {
  let world: ViewsWorld;
  before(async () => {
    world = await ViewsWorld.open();
  });
  after(() => world.close());

  const state = (roomId: string, viewerUserId: string, key?: { eventType: string; stateKey: string }) =>
    queryVisibleState(world.storage, { roomId, viewerUserId, ...key });
  const messages = (roomId: string, viewerUserId: string, options: Partial<MessagesRequest> = {}) =>
    queryMessages(world.storage, { roomId, viewerUserId, backwards: true, ...options });
  const bodies = async (roomId: string, viewerUserId: string, options: Partial<MessagesRequest> = {}): Promise<string[]> =>
    labels((await messages(roomId, viewerUserId, options)).events);

  /**
   * A public room where bob joins, chats and leaves; afterwards the room
   * moves on (a new topic, more messages, carol joins).
   */
  async function roomBobLeft(visibility: 'shared' | 'joined' = 'shared'): Promise<{ roomId: string; leaveId: string; leavePosition: number }> {
    const roomId = await world.room(alice, visibility, { public: true });
    await world.append(roomId, alice, 'm.room.topic', { topic: 'before' }, '');
    await world.send(roomId, alice, 'before bob');
    await world.join(roomId, bob);
    await world.send(roomId, bob, 'bob was here');
    const leaveId = await world.leave(roomId, bob);
    const leavePosition = (await world.storage.read((tx) => tx.getEvent(leaveId)))?.position ?? 0;
    await world.append(roomId, alice, 'm.room.topic', { topic: 'after' }, '');
    await world.send(roomId, alice, 'after bob');
    await world.join(roomId, carol);
    return { roomId, leaveId, leavePosition };
  }

  describe('who may read', () => {
    it('a joined member reads the current room', async () => {
      const { roomId } = await roomBobLeft();
      const [topic] = (await state(roomId, alice, { eventType: 'm.room.topic', stateKey: '' })).events;
      assert.deepEqual(contentOf(topic), { topic: 'after' });
      const all = await state(roomId, carol);
      assert.equal(all.roomVersion, '11');
      assert.ok(labels(all.events).includes(`join:${carol}`));
      assert.deepEqual((await bodies(roomId, carol)).slice(0, 2), [`join:${carol}`, 'after bob']);
    });

    it('a user who left reads the room frozen at their leave: state, members and messages', async () => {
      const { roomId, leaveId } = await roomBobLeft();
      const frozen = await state(roomId, bob);
      const [topic] = (await state(roomId, bob, { eventType: 'm.room.topic', stateKey: '' })).events;
      assert.deepEqual(contentOf(topic), { topic: 'before' });
      const [own] = (await state(roomId, bob, { eventType: 'm.room.member', stateKey: bob })).events;
      assert.equal(own?.eventId, leaveId, 'the state after the leave holds the leave');
      assert.ok(!labels(frozen.events).includes(`join:${carol}`));
      await rejectsWith(state(roomId, bob, { eventType: 'm.room.member', stateKey: carol }), 404, 'M_NOT_FOUND');
      const members = labels((await queryVisibleMembers(world.storage, { roomId, viewerUserId: bob })).events);
      assert.deepEqual(members, [`join:${alice}`, `leave:${bob}`]);
      const seen = await bodies(roomId, bob);
      assert.deepEqual(seen.slice(0, 3), [`leave:${bob}`, 'bob was here', `join:${bob}`]);
      assert.ok(!seen.includes('after bob') && !seen.includes(`join:${carol}`));
    });

    it('a banned user reads the room frozen at their ban', async () => {
      const roomId = await world.room(alice, 'shared', { public: true });
      await world.join(roomId, bob);
      await world.send(roomId, alice, 'before the ban');
      await world.core.ban({ roomId, sender: alice, target: bob });
      await world.send(roomId, alice, 'after the ban');
      const seen = await bodies(roomId, bob);
      assert.deepEqual(seen.slice(0, 2), [`ban:${bob}`, 'before the ban']);
      assert.ok(!seen.includes('after the ban'));
      assert.deepEqual(labels((await queryVisibleMembers(world.storage, { roomId, viewerUserId: bob })).events), [`join:${alice}`, `ban:${bob}`]);
    });

    it('a forgotten room is 403 for state, members and messages, and 404 for an event', async () => {
      const { roomId, leaveId } = await roomBobLeft();
      await world.core.forget({ roomId, userId: bob });
      await rejectsWith(state(roomId, bob), 403, 'M_FORBIDDEN');
      await rejectsWith(state(roomId, bob, { eventType: 'm.room.topic', stateKey: '' }), 403, 'M_FORBIDDEN');
      await rejectsWith(queryVisibleMembers(world.storage, { roomId, viewerUserId: bob }), 403, 'M_FORBIDDEN');
      await rejectsWith(messages(roomId, bob), 403, 'M_FORBIDDEN');
      await rejectsWith(messages(roomId, bob, { backwards: false }), 403, 'M_FORBIDDEN');
      await rejectsWith(queryVisibleEvent(world.storage, { roomId, eventId: leaveId, viewerUserId: bob }), 404, 'M_NOT_FOUND');
      // Joining again brings the room back.
      await world.join(roomId, bob);
      assert.deepEqual((await bodies(roomId, bob)).slice(0, 1), [`join:${bob}`]);
    });

    it('strangers, invitees and knockers read only world_readable rooms, as they are now', async () => {
      const closed = await world.room(alice, 'shared', { invitees: [bob] });
      await world.send(closed, alice, 'secret');
      for (const viewer of [bob, dave]) {
        await rejectsWith(state(closed, viewer), 403, 'M_FORBIDDEN');
        await rejectsWith(queryVisibleMembers(world.storage, { roomId: closed, viewerUserId: viewer }), 403, 'M_FORBIDDEN');
        await rejectsWith(messages(closed, viewer), 403, 'M_FORBIDDEN');
      }
      await assert.rejects(state(closed, dave), (err: unknown) => err instanceof MatrixError && err.message === `User ${dave} not in room ${closed}, and room previews are disabled`);

      const open = await world.room(alice, 'world_readable', { invitees: [bob] });
      await world.send(open, alice, 'for everyone');
      await world.append(open, alice, 'm.room.topic', { topic: 'now' }, '');
      for (const viewer of [bob, dave]) {
        const [topic] = (await state(open, viewer, { eventType: 'm.room.topic', stateKey: '' })).events;
        assert.deepEqual(contentOf(topic), { topic: 'now' });
        assert.deepEqual((await bodies(open, viewer)).slice(0, 2), ['m.room.topic/', 'for everyone']);
      }
    });

    it('a room this server does not know is 403 (404 for an event), like one the user may not read', async () => {
      const unknown = `!unknown:${HS}`;
      await rejectsWith(state(unknown, alice), 403, 'M_FORBIDDEN');
      await rejectsWith(queryVisibleMembers(world.storage, { roomId: unknown, viewerUserId: alice }), 403, 'M_FORBIDDEN');
      await rejectsWith(messages(unknown, alice), 403, 'M_FORBIDDEN');
      await rejectsWith(queryVisibleEvent(world.storage, { roomId: unknown, eventId: '$x', viewerUserId: alice }), 404, 'M_NOT_FOUND');
    });

    it('a leave without stored room state (an out-of-band rejection) shows nothing: 403', async () => {
      const remoteRoom = '!elsewhere:remote.test';
      const remoteSigner = { serverName: 'remote.test', key: generateSigningKey('r1') };
      const invite = buildPdu(
        {
          version: getRoomVersion('11'),
          proto: { type: 'm.room.member', sender: '@x:remote.test', room_id: remoteRoom, state_key: dave, content: { membership: 'invite' } },
          prevEvents: [{ eventId: '$prev', depth: 3 }],
          authEvents: [{ eventId: '$create' }],
          originServerTs: 1,
        },
        remoteSigner,
      );
      const [outcome] = await world.core.inputEvents('remote.test', 'invite', [{ json: JSON.stringify(invite.event), roomVersion: '11' }]);
      assert.equal(outcome?.accepted, true, outcome?.error?.message);
      const rejected = await world.core.rejectInvite({ roomId: remoteRoom, userId: dave });
      assert.equal(rejected.outOfBand, true);
      await rejectsWith(state(remoteRoom, dave), 403, 'M_FORBIDDEN');
      await rejectsWith(queryVisibleMembers(world.storage, { roomId: remoteRoom, viewerUserId: dave }), 403, 'M_FORBIDDEN');
      await rejectsWith(messages(remoteRoom, dave), 403, 'M_FORBIDDEN');
    });

    it('one state key that the visible state lacks is 404', async () => {
      const roomId = await world.room(alice, 'shared');
      await rejectsWith(state(roomId, alice, { eventType: 'm.room.topic', stateKey: '' }), 404, 'M_NOT_FOUND');
      await rejectsWith(state(roomId, alice, { eventType: 'm.room.member', stateKey: dave }), 404, 'M_NOT_FOUND');
    });
  });

  describe('history visibility after a leave', () => {
    it('under joined, the leaver sees what they saw while joined, and their own leave', async () => {
      const { roomId, leaveId } = await roomBobLeft('joined');
      const seen = await bodies(roomId, bob);
      assert.deepEqual(seen.slice(0, 3), [`leave:${bob}`, 'bob was here', `join:${bob}`]);
      assert.ok(!seen.includes('before bob'), 'sent before bob joined');
      const own = await queryVisibleEvent(world.storage, { roomId, eventId: leaveId, viewerUserId: bob });
      assert.equal(own.event.eventId, leaveId);
      assert.deepEqual(JSON.parse(own.event.prevContentJson ?? 'null'), { membership: 'join' });
    });

    it('a user who only rejected an invite sees no shared history', async () => {
      const roomId = await world.room(alice, 'shared', { invitees: [bob] });
      await world.send(roomId, alice, 'private');
      await world.core.rejectInvite({ roomId, userId: bob });
      const seen = await bodies(roomId, bob);
      assert.deepEqual(seen, [`leave:${bob}`, `invite:${bob}`]);
    });
  });

  describe('QueryVisibleEvent', () => {
    it('answers a visible event, and 404 for events after the leave, hidden, or of another room', async () => {
      const { roomId } = await roomBobLeft('joined');
      const events = await world.events(roomId);
      const find = (label: string) => events.find((e) => labels([e])[0] === label)?.eventId ?? '';
      const seen = await queryVisibleEvent(world.storage, { roomId, eventId: find('bob was here'), viewerUserId: bob });
      assert.equal(seen.roomVersion, '11');
      assert.deepEqual(labels([seen.event]), ['bob was here']);
      await rejectsWith(queryVisibleEvent(world.storage, { roomId, eventId: find('after bob'), viewerUserId: bob }), 404, 'M_NOT_FOUND');
      await rejectsWith(queryVisibleEvent(world.storage, { roomId, eventId: find('before bob'), viewerUserId: bob }), 404, 'M_NOT_FOUND');
      await rejectsWith(queryVisibleEvent(world.storage, { roomId, eventId: '$nope', viewerUserId: bob }), 404, 'M_NOT_FOUND');
      const other = await world.room(bob, 'shared');
      const elsewhere = await world.send(other, bob, 'elsewhere');
      await rejectsWith(queryVisibleEvent(world.storage, { roomId, eventId: elsewhere.eventId, viewerUserId: bob }), 404, 'M_NOT_FOUND');
      assert.deepEqual(labels([(await queryVisibleEvent(world.storage, { roomId, eventId: find('after bob'), viewerUserId: alice })).event]), ['after bob']);
    });
  });

  describe('QueryVisibleEvent refusals', () => {
    it('answers 404, the only refusal the spec gives /event, to users who may not read the room', async () => {
      const closed = await world.room(alice, 'shared', { invitees: [bob] });
      const secret = await world.send(closed, alice, 'secret');
      for (const viewer of [bob, dave]) {
        await rejectsWith(queryVisibleEvent(world.storage, { roomId: closed, eventId: secret.eventId, viewerUserId: viewer }), 404, 'M_NOT_FOUND');
      }
    });
  });

  describe('QueryVisibleMembers', () => {
    it('filters by membership and not_membership', async () => {
      const { roomId } = await roomBobLeft();
      await world.invite(roomId, alice, dave);
      const members = (options: { memberships?: ('join' | 'leave' | 'invite')[]; notMemberships?: ('join' | 'leave' | 'invite')[] }) =>
        queryVisibleMembers(world.storage, { roomId, viewerUserId: alice, ...options }).then((a) => labels(a.events));
      assert.deepEqual(await members({}), [`join:${alice}`, `leave:${bob}`, `join:${carol}`, `invite:${dave}`]);
      assert.deepEqual(await members({ memberships: ['join'] }), [`join:${alice}`, `join:${carol}`]);
      assert.deepEqual(await members({ memberships: ['join', 'invite'] }), [`join:${alice}`, `join:${carol}`, `invite:${dave}`]);
      assert.deepEqual(await members({ notMemberships: ['join'] }), [`leave:${bob}`, `invite:${dave}`]);
      assert.deepEqual(await members({ memberships: ['join'], notMemberships: ['join'] }), []);
    });

    it('answers the members as of a stream position, never beyond the leave', async () => {
      const { roomId, leavePosition } = await roomBobLeft();
      const members = (viewerUserId: string, atPosition: number) =>
        queryVisibleMembers(world.storage, { roomId, viewerUserId, atPosition }).then((a) => labels(a.events));
      const end = await world.storage.read((tx) => tx.maxStreamPosition());
      assert.deepEqual(await members(alice, leavePosition - 1), [`join:${alice}`, `join:${bob}`], 'just before the leave');
      assert.deepEqual(await members(alice, leavePosition), [`join:${alice}`, `leave:${bob}`]);
      assert.deepEqual(await members(alice, end), [`join:${alice}`, `leave:${bob}`, `join:${carol}`]);
      assert.deepEqual(await members(bob, end), [`join:${alice}`, `leave:${bob}`], 'bob cannot see past his leave');
      assert.deepEqual(await members(alice, 0), [], 'before the room began');
    });

    it('refuses members as of a point the viewer may not see (under joined, before they joined)', async () => {
      const eve = `@eve:${HS}`;
      const roomId = await world.room(alice, 'joined', { public: true });
      const eveJoin = await world.join(roomId, eve);
      const eveJoinPosition = (await world.storage.read((tx) => tx.getEvent(eveJoin)))?.position ?? 0;
      await world.leave(roomId, eve);
      const bobJoin = await world.join(roomId, bob);
      const bobJoinPosition = (await world.storage.read((tx) => tx.getEvent(bobJoin)))?.position ?? 0;
      const members = (atPosition: number) => queryVisibleMembers(world.storage, { roomId, viewerUserId: bob, atPosition });
      assert.deepEqual(labels((await members(bobJoinPosition)).events), [`join:${alice}`, `join:${bob}`, `leave:${eve}`], 'from his own join on');
      await rejectsWith(members(eveJoinPosition), 403, 'M_FORBIDDEN');
      await rejectsWith(members(bobJoinPosition - 1), 403, 'M_FORBIDDEN');
    });
  });

  describe('QueryMessages', () => {
    it('pages backwards and forwards with tokens that join up, within the leave bound', async () => {
      const roomId = await world.room(alice, 'shared', { public: true });
      await world.join(roomId, bob);
      for (let i = 0; i < 7; i++) await world.send(roomId, alice, `m${i}`);
      await world.leave(roomId, bob);
      await world.send(roomId, alice, 'after');
      const everything = (await bodies(roomId, bob, { limit: 1000 })).reverse();
      assert.equal(everything[everything.length - 1], `leave:${bob}`);
      assert.ok(!everything.includes('after'));

      const walk = async (backwards: boolean): Promise<string[]> => {
        const seen: string[] = [];
        let from: number | undefined;
        for (let page = 0; page < 50; page++) {
          const answer = await messages(roomId, bob, { backwards, limit: 3, ...(from === undefined ? {} : { fromPosition: from }) });
          assert.ok(answer.events.length <= 3);
          if (from !== undefined) assert.equal(answer.startPosition, from);
          seen.push(...labels(answer.events));
          if (answer.endPosition === undefined) return seen;
          from = answer.endPosition;
        }
        throw new Error('pagination did not end');
      };
      assert.deepEqual((await walk(true)).reverse(), everything);
      assert.deepEqual(await walk(false), everything);
    });

    it('stops at to_position in both directions and takes a from token as the point after its event', async () => {
      const roomId = await world.room(alice, 'shared');
      const sent: { position: number }[] = [];
      for (let i = 0; i < 5; i++) sent.push(await world.send(roomId, alice, `m${i}`));
      const at = (i: number) => sent[i]?.position ?? 0;
      assert.deepEqual(await bodies(roomId, alice, { fromPosition: at(3), toPosition: at(1) }), ['m3', 'm2']);
      assert.deepEqual(await bodies(roomId, alice, { backwards: false, fromPosition: at(1), toPosition: at(3) }), ['m2', 'm3']);
      const last = await messages(roomId, alice, { backwards: false, fromPosition: at(4) });
      assert.deepEqual(last.events, []);
      assert.equal(last.endPosition, undefined, 'nothing more that way');
    });

    it('applies a RoomEventFilter and only shows visible events', async () => {
      const { roomId } = await roomBobLeft('joined');
      assert.deepEqual(await bodies(roomId, bob, { filterJson: JSON.stringify({ types: ['m.room.message'] }) }), ['bob was here']);
      assert.deepEqual(await bodies(roomId, alice, { filterJson: JSON.stringify({ types: ['m.room.message'], not_senders: [alice] }) }), ['bob was here']);
      await rejectsWith(messages(roomId, alice, { filterJson: '{"limit":0}' }), 400, 'M_BAD_JSON');
      await rejectsWith(messages(roomId, alice, { filterJson: '{' }), 400, 'M_BAD_JSON');
    });

    it('returns 10 events by default and at most 1000', async () => {
      const roomId = await world.room(alice, 'shared');
      for (let i = 0; i < 12; i++) await world.send(roomId, alice, `m${i}`);
      const page = await messages(roomId, alice);
      assert.equal(page.events.length, 10);
      assert.notEqual(page.endPosition, undefined);
      assert.equal(clampMessagesLimit(0), 10);
      assert.equal(clampMessagesLimit(5000), 1000);
      assert.equal(clampMessagesLimit(7), 7);
      assert.equal((await messages(roomId, alice, { limit: 5000 })).events.length, (await world.events(roomId)).length);
    });

    it('gives state events in the timeline the state they replaced', async () => {
      const roomId = await world.room(alice, 'shared');
      await world.append(roomId, alice, 'm.room.topic', { topic: 'one' }, '');
      await world.append(roomId, alice, 'm.room.topic', { topic: 'two' }, '');
      const [latest] = (await messages(roomId, alice, { limit: 1 })).events;
      assert.deepEqual(JSON.parse(latest?.prevContentJson ?? 'null'), { topic: 'one' });
      assert.equal(latest?.prevSender, alice);
    });
  });
});
