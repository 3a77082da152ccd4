// What clients write besides memberships: messages and state events (with
// transaction-ID idempotency), knocks, stored filters, and what the server
// tells them about itself (capabilities, forced forget on leave). Real
// SQLite files, real ed25519 signatures.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { buildPdu, getRoomVersion, SUPPORTED_ROOM_VERSIONS } from '@membrane/events';
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

interface Fixture {
  readonly storage: Storage;
  readonly core: MembershipCore;
  readonly commits: () => number;
}

async function openFixture(dir: string, name: string, options: { forgetRoomsOnLeave?: boolean } = {}): Promise<Fixture> {
  const storage = await openStorage({ engine: 'sqlite', path: join(dir, `${name}.sqlite`) });
  let commits = 0;
  const core = new MembershipCore({
    storage,
    signer: { serverName: HS, key: generateSigningKey('t1') },
    defaultRoomVersion: '11',
    onCommitted: () => (commits += 1),
    ...options,
  });
  return { storage, core, commits: () => commits };
}

describe('MembershipCore: what clients write', () => {
  let dir = '';
  let fx: Fixture;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'membership-client-writes-'));
    fx = await openFixture(dir, 'main');
  });
  after(async () => {
    await fx.storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every event of a room, in stream order. */
  async function roomEvents(roomId: string): Promise<Pdu[]> {
    const stored = await fx.storage.read((tx) => tx.getRoomEventsAfter(roomId, 0, 1000));
    return stored.map((e) => JSON.parse(e.json) as Pdu);
  }

  async function publicRoomWithBob(roomVersion = '11'): Promise<string> {
    const { roomId } = await fx.core.createRoom({ creator: alice, preset: 'public_chat', roomVersion });
    await fx.core.join({ roomIdOrAlias: roomId, userId: bob });
    return roomId;
  }

  describe('sendEvent', () => {
    it('sends a message event built, signed and stored in the room DAG', async () => {
      const roomId = await publicRoomWithBob();
      const before = fx.commits();
      const { eventId } = await fx.core.sendEvent({ roomId, sender: bob, type: 'm.room.message', contentJson: '{"msgtype":"m.text","body":"hello"}' });
      const stored = await fx.core.queryEvent(eventId);
      const event = JSON.parse(stored.eventJson) as Pdu;
      assert.deepEqual([event.type, event.sender, event.state_key, event.content], ['m.room.message', bob, undefined, { msgtype: 'm.text', body: 'hello' }]);
      assert.ok(event.signatures?.[HS] !== undefined, 'signed by this server');
      assert.deepEqual(await fx.storage.read((tx) => tx.getForwardExtremities(roomId)), [eventId]);
      assert.ok(fx.commits() > before, 'listeners are told');
    });

    it('sends state events, the empty state key included, and they become current state', async () => {
      const roomId = await publicRoomWithBob();
      const topic = await fx.core.sendEvent({ roomId, sender: alice, type: 'm.room.topic', stateKey: '', contentJson: '{"topic":"news"}' });
      const custom = await fx.core.sendEvent({ roomId, sender: alice, type: 'org.example.marker', stateKey: 'k1', contentJson: '{"n":1}' });
      const state = await fx.storage.read((tx) => tx.getCurrentState(roomId));
      assert.equal(state.find((e) => e.type === 'm.room.topic' && e.stateKey === '')?.eventId, topic.eventId);
      assert.equal(state.find((e) => e.type === 'org.example.marker' && e.stateKey === 'k1')?.eventId, custom.eventId);
    });

    it('answers a repeated transaction ID with the first event ID and creates no second event', async () => {
      const roomId = await publicRoomWithBob();
      const send = (key: string, body: string, sender = bob, type = 'm.room.message') =>
        fx.core.sendEvent({ roomId, sender, type, contentJson: JSON.stringify({ msgtype: 'm.text', body }), idempotencyKey: key });
      const first = await send('txn1', 'one');
      const count = (await roomEvents(roomId)).length;
      assert.deepEqual(await send('txn1', 'one'), first);
      assert.deepEqual(await send('txn1', 'a different body'), first, 'the key alone identifies the request');
      assert.equal((await roomEvents(roomId)).length, count);
      // Other keys, other senders and other event types are other requests.
      const others = [await send('txn2', 'two'), await send('txn1', 'one', alice), await send('txn1', 'one', bob, 'org.example.ping')];
      assert.equal(new Set([first.eventId, ...others.map((o) => o.eventId)]).size, 4);
      assert.equal((await roomEvents(roomId)).length, count + 3);
    });

    it('a retry racing the first request still creates one event', async () => {
      const roomId = await publicRoomWithBob();
      const count = (await roomEvents(roomId)).length;
      const request = { roomId, sender: bob, type: 'm.room.message', contentJson: '{"body":"once"}', idempotencyKey: 'race' };
      const answers = await Promise.all([fx.core.sendEvent(request), fx.core.sendEvent(request), fx.core.sendEvent(request)]);
      assert.equal(new Set(answers.map((a) => a.eventId)).size, 1);
      assert.equal((await roomEvents(roomId)).length, count + 1);
    });

    it('returns the current state event when the same sender sends the same content again', async () => {
      const roomId = await publicRoomWithBob();
      const first = await fx.core.sendEvent({ roomId, sender: alice, type: 'm.room.topic', stateKey: '', contentJson: '{"topic":"a","x":[1,2]}' });
      const count = (await roomEvents(roomId)).length;
      const same = await fx.core.sendEvent({ roomId, sender: alice, type: 'm.room.topic', stateKey: '', contentJson: '{ "x": [1, 2], "topic": "a" }' });
      assert.equal(same.eventId, first.eventId);
      assert.equal((await roomEvents(roomId)).length, count);
      const changed = await fx.core.sendEvent({ roomId, sender: alice, type: 'm.room.topic', stateKey: '', contentJson: '{"topic":"b"}' });
      assert.notEqual(changed.eventId, first.eventId);
    });

    it('refuses content that is not a JSON object, or that canonical JSON cannot sign', async () => {
      const roomId = await publicRoomWithBob();
      const send = (contentJson: string) => fx.core.sendEvent({ roomId, sender: bob, type: 'm.room.message', contentJson });
      await rejectsWith(send('{"body":'), 400, 'M_NOT_JSON');
      await rejectsWith(send(''), 400, 'M_NOT_JSON');
      for (const notObject of ['[]', '"text"', 'null', '42']) await rejectsWith(send(notObject), 400, 'M_BAD_JSON');
      await rejectsWith(send('{"n":1.5}'), 400, 'M_BAD_JSON');
      await rejectsWith(send('{"n":9007199254740992}'), 400, 'M_BAD_JSON');
      await rejectsWith(send('{"a":1,"a":2}'), 400, 'M_BAD_JSON');
    });

    it('refuses membership, create and redaction events with 400, and an empty type', async () => {
      const roomId = await publicRoomWithBob();
      await rejectsWith(fx.core.sendEvent({ roomId, sender: bob, type: 'm.room.member', stateKey: bob, contentJson: '{"membership":"leave"}' }), 400, 'M_INVALID_PARAM', /membership endpoints/);
      await rejectsWith(fx.core.sendEvent({ roomId, sender: alice, type: 'm.room.create', stateKey: '', contentJson: '{}' }), 400, 'M_INVALID_PARAM');
      await rejectsWith(fx.core.sendEvent({ roomId, sender: alice, type: 'm.room.redaction', contentJson: '{}' }), 400, 'M_INVALID_PARAM');
      await rejectsWith(fx.core.sendEvent({ roomId, sender: alice, type: '', contentJson: '{}' }), 400, 'M_MISSING_PARAM');
      assert.equal((await fx.core.queryMembership(roomId, bob)).membership?.membership, 'join');
    });

    it('is 404 for an unknown room, 403 for users not in the room, of other servers or without the power', async () => {
      const roomId = await publicRoomWithBob();
      const message = '{"body":"hi"}';
      await rejectsWith(fx.core.sendEvent({ roomId: '!unknown:hs.test', sender: bob, type: 'm.room.message', contentJson: message }), 404, 'M_NOT_FOUND');
      await rejectsWith(fx.core.sendEvent({ roomId, sender: carol, type: 'm.room.message', contentJson: message }), 403, 'M_FORBIDDEN');
      await rejectsWith(fx.core.sendEvent({ roomId, sender: '@mallory:evil.test', type: 'm.room.message', contentJson: message }), 403, 'M_FORBIDDEN');
      // public_chat: state needs power 50, bob has 0.
      await rejectsWith(fx.core.sendEvent({ roomId, sender: bob, type: 'm.room.topic', stateKey: '', contentJson: '{"topic":"mine"}' }), 403, 'M_FORBIDDEN');
      await fx.core.leave({ roomId, userId: bob });
      await rejectsWith(fx.core.sendEvent({ roomId, sender: bob, type: 'm.room.message', contentJson: message }), 403, 'M_FORBIDDEN');
    });

    it('refuses events over 65536 bytes with 413 M_TOO_LARGE and stores nothing', async () => {
      const roomId = await publicRoomWithBob();
      const count = (await roomEvents(roomId)).length;
      const extremities = await fx.storage.read((tx) => tx.getForwardExtremities(roomId));
      const body = (bytes: number) => JSON.stringify({ body: 'x'.repeat(bytes) });
      // Content alone over the limit: refused before any work.
      await rejectsWith(fx.core.sendEvent({ roomId, sender: bob, type: 'm.room.message', contentJson: body(70_000) }), 413, 'M_TOO_LARGE');
      // Content under the limit, but the signed event with its envelope over it.
      await rejectsWith(fx.core.sendEvent({ roomId, sender: bob, type: 'm.room.message', contentJson: body(65_400), idempotencyKey: 'big' }), 413, 'M_TOO_LARGE');
      assert.equal((await roomEvents(roomId)).length, count);
      assert.deepEqual(await fx.storage.read((tx) => tx.getForwardExtremities(roomId)), extremities);
      assert.equal(await fx.storage.read((tx) => tx.getIdempotencyRecord(JSON.stringify(['sendEvent', bob, roomId, 'm.room.message', 'big']))), null);
      // A large event within the limit goes through.
      await fx.core.sendEvent({ roomId, sender: bob, type: 'm.room.message', contentJson: body(60_000) });
      assert.equal((await roomEvents(roomId)).length, count + 1);
    });
  });

  describe('knock', () => {
    async function knockRoom(roomVersion = '11', joinRule: 'knock' | 'knock_restricted' = 'knock'): Promise<string> {
      const { roomId } = await fx.core.createRoom({ creator: alice, roomVersion, joinRule });
      return roomId;
    }

    it('knocks on a room whose join rule is knock, and knocking again returns the same knock', async () => {
      const roomId = await knockRoom();
      const first = await fx.core.knock({ roomIdOrAlias: roomId, userId: carol, reason: 'let me in' });
      assert.equal(first.roomId, roomId);
      const event = JSON.parse((await fx.core.queryEvent(first.eventId)).eventJson) as Pdu;
      assert.deepEqual([event.sender, event.state_key, event.content], [carol, carol, { membership: 'knock', reason: 'let me in' }]);
      assert.equal((await fx.core.queryMembership(roomId, carol)).membership?.membership, 'knock');
      const count = (await roomEvents(roomId)).length;
      assert.deepEqual(await fx.core.knock({ roomIdOrAlias: roomId, userId: carol }), first);
      assert.equal((await roomEvents(roomId)).length, count);
    });

    it('leaving while knocking rescinds the knock, and forgetting needs that leave first', async () => {
      const roomId = await knockRoom();
      await fx.core.knock({ roomIdOrAlias: roomId, userId: carol });
      await rejectsWith(fx.core.forget({ roomId, userId: carol }), 400, 'M_UNKNOWN');
      const left = await fx.core.leave({ roomId, userId: carol });
      assert.equal(left.eventCreated, true);
      assert.equal((await fx.core.queryMembership(roomId, carol)).membership?.membership, 'leave');
      // A new knock after the rescinded one is a new event.
      const again = await fx.core.knock({ roomIdOrAlias: roomId, userId: carol });
      assert.notEqual(again.eventId, left.eventId);
      assert.equal((await fx.core.queryMembership(roomId, carol)).membership?.membership, 'knock');
    });

    it('a knock can be answered with an invite, which the knocker accepts by joining', async () => {
      const roomId = await knockRoom();
      await fx.core.knock({ roomIdOrAlias: roomId, userId: carol });
      await fx.core.invite({ roomId, sender: alice, invitee: carol });
      await fx.core.join({ roomIdOrAlias: roomId, userId: carol });
      assert.equal((await fx.core.queryMembership(roomId, carol)).membership?.membership, 'join');
    });

    it('allows knock_restricted rooms from version 10', async () => {
      const roomId = await knockRoom('10', 'knock_restricted');
      await fx.core.knock({ roomIdOrAlias: roomId, userId: carol });
      assert.equal((await fx.core.queryMembership(roomId, carol)).membership?.membership, 'knock');
    });

    it('is refused by the join rules, the membership, and room versions before 7', async () => {
      const { roomId: inviteOnly } = await fx.core.createRoom({ creator: alice, preset: 'private_chat' });
      await rejectsWith(fx.core.knock({ roomIdOrAlias: inviteOnly, userId: carol }), 403, 'M_FORBIDDEN');
      const roomId = await knockRoom();
      await rejectsWith(fx.core.knock({ roomIdOrAlias: roomId, userId: alice }), 403, 'M_FORBIDDEN');
      await fx.core.ban({ roomId, sender: alice, target: bob });
      await rejectsWith(fx.core.knock({ roomIdOrAlias: roomId, userId: bob }), 403, 'M_FORBIDDEN');
      await rejectsWith(fx.core.knock({ roomIdOrAlias: roomId, userId: '@mallory:evil.test' }), 403, 'M_FORBIDDEN');
      // A version 6 room whose join rule says knock: the version has no knocking.
      const { roomId: v6 } = await fx.core.createRoom({ creator: alice, preset: 'public_chat', roomVersion: '6' });
      await fx.core.sendEvent({ roomId: v6, sender: alice, type: 'm.room.join_rules', stateKey: '', contentJson: '{"join_rule":"knock"}' });
      await rejectsWith(fx.core.knock({ roomIdOrAlias: v6, userId: carol }), 403, 'M_FORBIDDEN', /version 6/);
    });

    it('is 404 for aliases, and for rooms this server is not in when there is no federation gateway to knock through', async () => {
      await rejectsWith(fx.core.knock({ roomIdOrAlias: '#room:hs.test', userId: carol }), 404, 'M_NOT_FOUND');
      await rejectsWith(fx.core.knock({ roomIdOrAlias: '!elsewhere:remote.test', userId: carol, serverNames: ['remote.test'] }), 404, 'M_NOT_FOUND', /no federation gateway/);
      // A room known only through a remote invite: we are not resident.
      const remoteSigner = { serverName: 'remote.test', key: generateSigningKey('r1') };
      const invite = buildPdu(
        {
          version: getRoomVersion('11'),
          proto: { type: 'm.room.member', sender: '@dave:remote.test', room_id: '!invited:remote.test', state_key: bob, content: { membership: 'invite' } },
          prevEvents: [{ eventId: '$prev', depth: 3 }],
          authEvents: [{ eventId: '$create' }],
          originServerTs: 1,
        },
        remoteSigner,
      );
      const [outcome] = await fx.core.inputEvents('remote.test', 'invite', [{ json: JSON.stringify(invite.event), roomVersion: '11' }]);
      assert.equal(outcome?.accepted, true, outcome?.error?.message);
      await rejectsWith(fx.core.knock({ roomIdOrAlias: '!invited:remote.test', userId: carol }), 404, 'M_NOT_FOUND', /no federation gateway/);
    });
  });

  describe('filters', () => {
    it('stores a filter per user and returns its text exactly', async () => {
      const text = '{"room":{"timeline":{"limit":5}}}';
      const { filterId } = await fx.core.putFilter({ userId: alice, filterJson: text });
      assert.doesNotMatch(filterId, /^\{/);
      assert.deepEqual(await fx.core.queryFilter({ userId: alice, filterId }), { filterJson: text });
      await rejectsWith(fx.core.queryFilter({ userId: bob, filterId }), 404, 'M_NOT_FOUND');
      await rejectsWith(fx.core.queryFilter({ userId: alice, filterId: '424242' }), 404, 'M_NOT_FOUND');
    });

    it('refuses text that is not a JSON object, and filters of users of other servers', async () => {
      await rejectsWith(fx.core.putFilter({ userId: alice, filterJson: '{' }), 400, 'M_NOT_JSON');
      await rejectsWith(fx.core.putFilter({ userId: alice, filterJson: '[]' }), 400, 'M_BAD_JSON');
      await rejectsWith(fx.core.putFilter({ userId: '@x:evil.test', filterJson: '{}' }), 403, 'M_FORBIDDEN');
    });
  });

  describe('capabilities and forgetting on leave', () => {
    it('reports the room versions, and that leaving does not forget by default', async () => {
      assert.deepEqual(fx.core.queryCapabilities(), { defaultRoomVersion: '11', supportedRoomVersions: [...SUPPORTED_ROOM_VERSIONS], forgetForcedUponLeave: false });
      const roomId = await publicRoomWithBob();
      await fx.core.leave({ roomId, userId: bob });
      assert.equal((await fx.core.queryMembership(roomId, bob)).membership?.forgotten, false);
    });

    it('with forgetRoomsOnLeave, a leave and a rejected invite forget the room at once, and a rejoin brings it back', async () => {
      const forgetting = await openFixture(dir, 'forgetting', { forgetRoomsOnLeave: true });
      const { core } = forgetting;
      try {
        assert.equal(core.queryCapabilities().forgetForcedUponLeave, true);
        const { roomId } = await core.createRoom({ creator: alice, preset: 'public_chat', invitees: [carol] });
        await core.join({ roomIdOrAlias: roomId, userId: bob });
        await core.leave({ roomId, userId: bob });
        assert.deepEqual(await core.queryJoinedRooms(bob, [], false), [], 'the room is gone from the left user\u2019s rooms');
        assert.equal((await core.queryMembership(roomId, bob)).membership?.forgotten, true);
        await core.rejectInvite({ roomId, userId: carol });
        assert.equal((await core.queryMembership(roomId, carol)).membership?.forgotten, true);
        // Others stay as they were.
        assert.equal((await core.queryMembership(roomId, alice)).membership?.forgotten, false);
        await core.join({ roomIdOrAlias: roomId, userId: bob });
        assert.equal((await core.queryMembership(roomId, bob)).membership?.forgotten, false);

        // A remote invite rejected out of band (no federation gateway) is forgotten too.
        const remoteSigner = { serverName: 'remote.test', key: generateSigningKey('r1') };
        const invite = buildPdu(
          {
            version: getRoomVersion('11'),
            proto: { type: 'm.room.member', sender: '@dave:remote.test', room_id: '!far:remote.test', state_key: carol, content: { membership: 'invite' } },
            prevEvents: [{ eventId: '$prev', depth: 3 }],
            authEvents: [{ eventId: '$create' }],
            originServerTs: 1,
          },
          remoteSigner,
        );
        await core.inputEvents('remote.test', 'invite', [{ json: JSON.stringify(invite.event), roomVersion: '11' }]);
        const rejected = await core.rejectInvite({ roomId: '!far:remote.test', userId: carol });
        assert.equal(rejected.outOfBand, true);
        assert.equal((await core.queryMembership('!far:remote.test', carol)).membership?.forgotten, true);
      } finally {
        await forgetting.storage.close();
      }
    });
  });
});
