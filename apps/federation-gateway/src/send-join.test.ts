// make_join and send_join (v1 and v2) over real HTTPS against a real
// membership service.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@membrane/canonical-json';
import { computeEventId, verifyEventSignatures } from '@membrane/events';
import type { BuiltPdu, Pdu, RoomVersion } from '@membrane/events';
import { Membership } from '@membrane/proto';
import type { FakeRemoteServer, FederationAnswer } from '@membrane/testing';
import { ALICE, US, assertError, path, startFixture } from './test-support/fixture.js';
import type { Fixture } from './test-support/fixture.js';

interface SendJoinAnswer {
  origin: string;
  state: Pdu[];
  auth_chain: Pdu[];
  event?: Pdu;
  members_omitted?: boolean;
}

describe('federation gateway: make_join and send_join', () => {
  let f: Fixture;
  let remote: FakeRemoteServer;
  let roomId = '';
  let version: RoomVersion;
  let counter = 0;

  const makeJoin = (room: string, userId: string, query = '?ver=11', from?: FakeRemoteServer): Promise<FederationAnswer> =>
    f.call({ method: 'GET', path: `${path('v1/make_join', room, userId)}${query}` }, from);
  const sendJoin = (room: string, eventId: string, body: unknown, v: 'v1' | 'v2' = 'v2', from?: FakeRemoteServer): Promise<FederationAnswer> =>
    f.call({ method: 'PUT', path: path(`${v}/send_join`, room, eventId), body: body as JsonObject }, from);

  async function signedJoin(room: string, roomVersion: RoomVersion, userId: string, content?: JsonObject): Promise<BuiltPdu> {
    const made = await makeJoin(room, userId, `?ver=${roomVersion.id}`);
    assert.equal(made.status, 200, made.text);
    return remote.signTemplate((made.body as { event: JsonObject }).event, roomVersion, content);
  }

  const ourKeys = (): ((server: string, keyId: string) => Uint8Array | undefined) => (server, keyId) =>
    server === US && keyId === f.ourKey.keyId ? f.ourKey.publicKey : undefined;

  before(async () => {
    f = await startFixture();
    remote = f.remote;
    ({ roomId, version } = await f.createRoom());
  });

  after(async () => {
    await f?.stop();
  });

  describe('make_join', () => {
    it('answers a join template when the room version is among `ver`', async () => {
      const userId = remote.userId('joiner');
      const answer = await makeJoin(roomId, userId, '?ver=10&ver=11');
      assert.equal(answer.status, 200, answer.text);
      const { room_version: roomVersion, event } = answer.body as { room_version: string; event: JsonObject };
      assert.equal(roomVersion, '11');
      assert.deepEqual([event['type'], event['room_id'], event['sender'], event['state_key']], ['m.room.member', roomId, userId, userId]);
      assert.deepEqual(event['content'], { membership: 'join' });
      assert.equal((await f.membership(roomId, userId)).membership, Membership.UNSPECIFIED);
    });

    it('answers 400 M_INCOMPATIBLE_ROOM_VERSION with room_version when `ver` lacks it, defaulting `ver` to ["1"]', async () => {
      const userId = remote.userId('old-server');
      for (const query of ['', '?ver=1', '?ver=1&ver=2&ver=10']) {
        const answer = await makeJoin(roomId, userId, query);
        assertError(answer, 400, 'M_INCOMPATIBLE_ROOM_VERSION');
        assert.equal((answer.body as { room_version?: unknown }).room_version, '11', query);
      }
      const legacy = await f.createRoom({ version: '1' });
      const answer = await makeJoin(legacy.roomId, userId, '');
      assert.equal(answer.status, 200, answer.text);
      assert.equal((answer.body as { room_version: string }).room_version, '1');
    });

    it('refuses an unknown room (404), a user of another server (403), and a room the user may not join (403)', async () => {
      assertError(await makeJoin('!unknown:hs.test', remote.userId('x')), 404, 'M_NOT_FOUND');
      assertError(await makeJoin(roomId, '@mallory:elsewhere.test'), 403, 'M_FORBIDDEN');
      const closed = await f.createRoom({ joinRule: 'invite' });
      assertError(await makeJoin(closed.roomId, remote.userId('x')), 403, 'M_FORBIDDEN');
    });
  });

  describe('send_join', () => {
    it('v2 accepts the join and answers the state before it, its auth chain and the event', async () => {
      const userId = remote.userId(`user${++counter}`);
      const join = await signedJoin(roomId, version, userId);
      const answer = await sendJoin(roomId, join.eventId, join.event);
      assert.equal(answer.status, 200, answer.text);
      const body = answer.body as SendJoinAnswer;
      assert.equal(body.origin, US);
      assert.equal(body.members_omitted, false);
      const stateTypes = body.state.map((e) => `${e.type}|${e.state_key ?? ''}`).sort();
      for (const expected of ['m.room.create|', 'm.room.power_levels|', 'm.room.join_rules|', `m.room.member|${ALICE}`]) assert.ok(stateTypes.includes(expected), expected);
      assert.ok(!body.state.some((e) => e.state_key === userId), 'the state is the state before the join');
      assert.ok(body.auth_chain.some((e) => e.type === 'm.room.create'));
      // Every event we answer is signed by us and checks out.
      for (const event of [...body.state, ...body.auth_chain]) assert.equal(verifyEventSignatures(event, version, ourKeys()).ok, true);
      assert.ok(body.event !== undefined);
      assert.equal(computeEventId(body.event, version), join.eventId);
      assert.deepEqual(await f.membership(roomId, userId), { membership: Membership.JOIN, eventId: join.eventId });

      const again = await sendJoin(roomId, join.eventId, join.event);
      assert.equal(again.status, 200);
      assert.deepEqual(await f.membership(roomId, userId), { membership: Membership.JOIN, eventId: join.eventId });
    });

    it('v1 answers [200, {origin, state, auth_chain}]', async () => {
      const userId = remote.userId(`user${++counter}`);
      const join = await signedJoin(roomId, version, userId);
      const answer = await sendJoin(roomId, join.eventId, join.event, 'v1');
      assert.equal(answer.status, 200, answer.text);
      const [code, body] = answer.body as [number, SendJoinAnswer];
      assert.equal(code, 200);
      assert.equal(body.origin, US);
      assert.ok(Array.isArray(body.state) && body.state.length >= 4);
      assert.ok(Array.isArray(body.auth_chain) && body.auth_chain.length >= 1);
      assert.equal((await f.membership(roomId, userId)).membership, Membership.JOIN);
    });

    it('refuses a join whose join_authorised_via_users_server names another server: 400 M_INVALID_PARAM', async () => {
      const other = remote.userId(`user${++counter}`);
      const foreign = await signedJoin(roomId, version, other, { join_authorised_via_users_server: remote.userId('someone') });
      assertError(await sendJoin(roomId, foreign.eventId, foreign.event), 400, 'M_INVALID_PARAM', /Cannot authorise/);
      assert.equal((await f.membership(roomId, other)).membership, Membership.UNSPECIFIED);
    });

    it('refuses a leave sent to send_join, a spoofed sender and a bad signature, and the user does not join', async () => {
      const userId = remote.userId(`user${++counter}`);
      const join = await signedJoin(roomId, version, userId);
      const unsigned = { ...(join.event as unknown as JsonObject) };
      delete unsigned['signatures'];
      delete unsigned['hashes'];
      const leave = remote.signEvent({ ...unsigned, content: { membership: 'leave' } }, version);
      assertError(await sendJoin(roomId, join.eventId, leave), 400, 'M_BAD_JSON', /Not a join event/);
      const other = await f.newRemote();
      const spoofed = remote.signEvent({ ...unsigned, sender: other.userId('v'), state_key: other.userId('v') }, version);
      assertError(await sendJoin(roomId, join.eventId, spoofed), 403, 'M_FORBIDDEN', /on behalf/);
      assertError(await sendJoin(roomId, join.eventId, { ...join.event, origin_server_ts: join.event.origin_server_ts + 5 }), 403, 'M_FORBIDDEN', /signature/i);
      assertError(await sendJoin('!unknown:hs.test', join.eventId, { ...join.event, room_id: '!unknown:hs.test' }), 404, 'M_NOT_FOUND');
      assert.equal((await f.membership(roomId, userId)).membership, Membership.UNSPECIFIED);
    });

    it('refuses a join the current state no longer allows (the room became invite-only): 403', async () => {
      const room = await f.createRoom();
      const userId = remote.userId(`user${++counter}`);
      const join = await signedJoin(room.roomId, room.version, userId);
      await f.sendOurStateEvent(room.roomId, room.version, 'm.room.join_rules', { join_rule: 'invite' });
      assertError(await sendJoin(room.roomId, join.eventId, join.event), 403, 'M_FORBIDDEN');
      assert.equal((await f.membership(room.roomId, userId)).membership, Membership.UNSPECIFIED);
    });

    it('joins a room version 1 room through send_join v1', async () => {
      const legacy = await f.createRoom({ version: '1' });
      const userId = remote.userId(`user${++counter}`);
      const join = await signedJoin(legacy.roomId, legacy.version, userId);
      assert.ok(typeof join.event.event_id === 'string');
      const answer = await sendJoin(legacy.roomId, join.eventId, join.event, 'v1');
      assert.equal(answer.status, 200, answer.text);
      assert.equal((answer.body as [number, SendJoinAnswer])[1].event, undefined, 'room version 1 has no restricted joins');
      assert.deepEqual(await f.membership(legacy.roomId, userId), { membership: Membership.JOIN, eventId: join.eventId });
    });
  });
});
