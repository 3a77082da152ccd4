// make_knock and send_knock over real HTTPS, against a real membership
// service: accepted knocks with the stripped state they answer, and every
// invalid variant with its status, errcode and the membership it leaves.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@membrane/canonical-json';
import { computeEventId, roomIdFromCreateEventId, verifyEventSignatures } from '@membrane/events';
import type { BuiltPdu, Pdu, RoomVersion } from '@membrane/events';
import { Membership } from '@membrane/proto';
import { generateSigningKey } from '@membrane/signing';
import type { FakeRemoteServer, FederationAnswer } from '@membrane/testing';
import { ALICE, US, assertError, path, startFixture, withoutKeys } from './test-support/fixture.js';
import type { Fixture } from './test-support/fixture.js';

describe('federation gateway: make_knock and send_knock', () => {
  let f: Fixture;
  let remote: FakeRemoteServer;
  let roomId = '';
  let version: RoomVersion;
  let counter = 0;

  const makeKnock = (room: string, userId: string, query = '?ver=11', from?: FakeRemoteServer): Promise<FederationAnswer> =>
    f.call({ method: 'GET', path: `${path('v1/make_knock', room, userId)}${query}` }, from);
  const sendKnock = (eventId: string, body: unknown, options: { room?: string; from?: FakeRemoteServer } = {}): Promise<FederationAnswer> =>
    f.call({ method: 'PUT', path: path('v1/send_knock', options.room ?? roomId, eventId), body: body as JsonObject }, options.from);

  /** A fresh remote user with a signed (unsent) knock on the room. */
  async function knocker(options: { room?: string; roomVersion?: RoomVersion; content?: JsonObject; from?: FakeRemoteServer } = {}): Promise<{ userId: string; knock: BuiltPdu }> {
    const server = options.from ?? remote;
    const room = options.room ?? roomId;
    const roomVersion = options.roomVersion ?? version;
    const userId = server.userId(`knocker${++counter}`);
    const made = await makeKnock(room, userId, `?ver=${roomVersion.id}`, server);
    assert.equal(made.status, 200, made.text);
    return { userId, knock: server.signTemplate((made.body as { event: JsonObject }).event, roomVersion, options.content) };
  }

  const ourKeys = (server: string, keyId: string): Uint8Array | undefined => (server === US && keyId === f.ourKey.keyId ? f.ourKey.publicKey : undefined);

  async function membershipOf(userId: string, room = roomId): Promise<number> {
    return (await f.membership(room, userId)).membership;
  }

  before(async () => {
    f = await startFixture();
    remote = f.remote;
    ({ roomId, version } = await f.createRoom({ joinRule: 'knock' }));
    await f.sendOurStateEvent(roomId, version, 'm.room.name', { name: 'Knock here' });
    await f.sendOurStateEvent(roomId, version, 'm.room.topic', { topic: 'ask first' });
  });

  after(async () => {
    await f?.stop();
  });

  describe('make_knock', () => {
    it('answers a knock template when the room version is among `ver`', async () => {
      const userId = remote.userId('templated');
      const answer = await makeKnock(roomId, userId, '?ver=10&ver=11');
      assert.equal(answer.status, 200, answer.text);
      const { room_version: roomVersion, event } = answer.body as { room_version: string; event: JsonObject };
      assert.equal(roomVersion, '11');
      assert.deepEqual([event['type'], event['room_id'], event['sender'], event['state_key']], ['m.room.member', roomId, userId, userId]);
      assert.deepEqual(event['content'], { membership: 'knock' });
      assert.ok(Array.isArray(event['auth_events']) && event['auth_events'].length >= 3, 'create, power levels and join rules');
      for (const absent of ['hashes', 'signatures', 'event_id']) assert.equal(event[absent], undefined, absent);
      assert.equal(await membershipOf(userId), Membership.UNSPECIFIED, 'a template changes nothing');
    });

    it('wants `ver` (400 M_MISSING_PARAM), and one of them the room version (400 M_INCOMPATIBLE_ROOM_VERSION with room_version)', async () => {
      const userId = remote.userId('old-server');
      assertError(await makeKnock(roomId, userId, ''), 400, 'M_MISSING_PARAM', /ver/);
      const answer = await makeKnock(roomId, userId, '?ver=7&ver=10');
      assertError(answer, 400, 'M_INCOMPATIBLE_ROOM_VERSION', /knock on this room/);
      assert.equal((answer.body as { room_version?: unknown }).room_version, '11');
    });

    it('refuses an unknown room (404), a user of another server (403), a join rule without knocking (403) and room versions before 7 (403)', async () => {
      assertError(await makeKnock('!unknown:hs.test', remote.userId('x')), 404, 'M_NOT_FOUND');
      assertError(await makeKnock(roomId, '@mallory:elsewhere.test'), 403, 'M_FORBIDDEN', /does not belong/);
      const inviteOnly = await f.createRoom({ joinRule: 'invite' });
      assertError(await makeKnock(inviteOnly.roomId, remote.userId('x')), 403, 'M_FORBIDDEN', /does not allow knocking/);
      const v6 = await f.createRoom({ version: '6' });
      assertError(await makeKnock(v6.roomId, remote.userId('x'), '?ver=6'), 403, 'M_FORBIDDEN', /does not support knocking/);
    });

    it('refuses users who are joined or banned (403)', async () => {
      const joined = remote.userId(`joined${++counter}`);
      const publicRoom = await f.createRoom();
      await f.join(publicRoom.roomId, publicRoom.version, joined);
      assertError(await makeKnock(publicRoom.roomId, joined), 403, 'M_FORBIDDEN');
      const banned = remote.userId(`banned${++counter}`);
      await f.sendOurStateEvent(roomId, version, 'm.room.member', { membership: 'ban' }, banned);
      assertError(await makeKnock(roomId, banned), 403, 'M_FORBIDDEN');
    });
  });

  describe('accepted knocks', () => {
    it('answers the state that identifies the room, as signed PDUs, and the user is knocking; sending it again changes nothing', async () => {
      const { userId, knock } = await knocker({ content: { reason: 'let me in' } });
      const answer = await sendKnock(knock.eventId, knock.event);
      assert.equal(answer.status, 200, answer.text);
      const state = (answer.body as { knock_room_state: Pdu[] }).knock_room_state;
      assert.deepEqual(
        state.map((e) => e.type),
        ['m.room.create', 'm.room.join_rules', 'm.room.name', 'm.room.topic'],
      );
      const current = new Set((await f.grpc.queryRoomState({ roomId })).stateEventsJson.map((json) => computeEventId(JSON.parse(json) as Pdu, version)));
      for (const event of state) {
        // Spec v1.16 (MSC4311): PDUs in the room version's format, which the knocking server can verify.
        assert.equal(verifyEventSignatures(event, version, ourKeys).ok, true, event.type);
        assert.ok(current.has(computeEventId(event, version)), `${event.type} is the room's own event`);
        assert.equal(event.room_id, roomId);
      }
      assert.deepEqual(state.find((e) => e.type === 'm.room.join_rules')?.content, { join_rule: 'knock' });
      assert.deepEqual(state.find((e) => e.type === 'm.room.name')?.content, { name: 'Knock here' });
      assert.equal(state[0]?.sender, ALICE);
      assert.deepEqual(await f.membership(roomId, userId), { membership: Membership.KNOCK, eventId: knock.eventId });
      const stored = JSON.parse((await f.grpc.queryEvent({ eventId: knock.eventId })).eventJson) as Pdu;
      assert.deepEqual(stored.content, { membership: 'knock', reason: 'let me in' });

      const stateBefore = await f.grpc.queryRoomState({ roomId });
      const again = await sendKnock(knock.eventId, knock.event);
      assert.equal(again.status, 200, again.text);
      assert.deepEqual((await f.grpc.queryRoomState({ roomId })).stateEventsJson, stateBefore.stateEventsJson);
    });

    it('a knocking user may rescind with make_leave / send_leave, and knock again', async () => {
      const { userId, knock } = await knocker();
      assert.equal((await sendKnock(knock.eventId, knock.event)).status, 200);
      const leave = await f.leaveEvent(roomId, version, userId);
      assert.deepEqual((await f.call({ method: 'PUT', path: path('v2/send_leave', roomId, leave.eventId), body: leave.event as unknown as JsonObject })).body, {});
      assert.equal(await membershipOf(userId), Membership.LEAVE);
      const made = await makeKnock(roomId, userId);
      const second = remote.signTemplate((made.body as { event: JsonObject }).event, version);
      assert.equal((await sendKnock(second.eventId, second.event)).status, 200);
      assert.deepEqual(await f.membership(roomId, userId), { membership: Membership.KNOCK, eventId: second.eventId });
    });

    it('keeps only the redacted knock when the content hash does not match (membership survives redaction)', async () => {
      const { userId, knock } = await knocker({ content: { reason: 'signed reason' } });
      const tampered = { ...knock.event, content: { membership: 'knock', reason: 'altered in transit' } };
      const answer = await sendKnock(knock.eventId, tampered);
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(await f.membership(roomId, userId), { membership: Membership.KNOCK, eventId: knock.eventId });
      const stored = JSON.parse((await f.grpc.queryEvent({ eventId: knock.eventId })).eventJson) as Pdu;
      assert.deepEqual(stored.content, { membership: 'knock' });
    });

    it('accepts knocks in knock_restricted rooms (v10+)', async () => {
      const restricted = await f.createRoom({ version: '10', joinRule: 'knock_restricted' });
      const { userId, knock } = await knocker({ room: restricted.roomId, roomVersion: restricted.version });
      assert.equal((await sendKnock(knock.eventId, knock.event, { room: restricted.roomId })).status, 200);
      assert.equal(await membershipOf(userId, restricted.roomId), Membership.KNOCK);
    });

    it('in room version 12, the create event it answers gives the room ID and carries our signature', async () => {
      const v12 = await f.createRoom({ version: '12', joinRule: 'knock' });
      const { userId, knock } = await knocker({ room: v12.roomId, roomVersion: v12.version });
      const answer = await sendKnock(knock.eventId, knock.event, { room: v12.roomId });
      assert.equal(answer.status, 200, answer.text);
      const state = (answer.body as { knock_room_state: JsonObject[] }).knock_room_state;
      const create = state.find((e) => e['type'] === 'm.room.create') as unknown as Pdu;
      assert.equal(roomIdFromCreateEventId(computeEventId(create, v12.version)), v12.roomId);
      assert.equal(verifyEventSignatures(create, v12.version, ourKeys).ok, true);
      assert.equal((state.find((e) => e['type'] === 'm.room.join_rules') as Pdu | undefined)?.room_id, v12.roomId);
      assert.equal(await membershipOf(userId, v12.roomId), Membership.KNOCK);
    });
  });

  describe('refused knocks (the user does not knock)', () => {
    it('body not JSON: 400 M_NOT_JSON; not an object: 400 M_BAD_JSON', async () => {
      const { userId, knock } = await knocker();
      assertError(await f.call({ method: 'PUT', path: path('v1/send_knock', roomId, knock.eventId), rawBody: '{"not json', body: {} }), 400, 'M_NOT_JSON');
      assertError(await f.call({ method: 'PUT', path: path('v1/send_knock', roomId, knock.eventId), body: [knock.event as unknown as JsonObject] }), 400, 'M_BAD_JSON');
      assert.equal(await membershipOf(userId), Membership.UNSPECIFIED);
    });

    it('room_id of the body differs from the path: 400 M_BAD_JSON; unknown room: 404 M_NOT_FOUND', async () => {
      const { userId, knock } = await knocker();
      const other = await f.createRoom({ joinRule: 'knock' });
      assertError(await sendKnock(knock.eventId, knock.event, { room: other.roomId }), 400, 'M_BAD_JSON', /room ID/);
      assertError(await sendKnock(knock.eventId, { ...knock.event, room_id: '!unknown:hs.test' }, { room: '!unknown:hs.test' }), 404, 'M_NOT_FOUND');
      assert.equal(await membershipOf(userId), Membership.UNSPECIFIED);
    });

    it('a room version without knocking: 403 M_FORBIDDEN, before the event is looked at', async () => {
      const v6 = await f.createRoom({ version: '6' });
      const userId = remote.userId(`v6-${++counter}`);
      const made = await f.call({ method: 'GET', path: `${path('v1/make_join', v6.roomId, userId)}?ver=6` });
      const template = (made.body as { event: JsonObject }).event;
      const knock = remote.signTemplate({ ...template, content: { membership: 'knock' } }, v6.version);
      assertError(await sendKnock(knock.eventId, knock.event, { room: v6.roomId }), 403, 'M_FORBIDDEN', /does not support knocking/);
      assertError(await sendKnock(knock.eventId, { ...withoutKeys(knock.event, 'depth') }, { room: v6.roomId }), 403, 'M_FORBIDDEN', /does not support knocking/);
      assert.equal(await membershipOf(userId, v6.roomId), Membership.UNSPECIFIED);
    });

    it('not canonical JSON, a required field missing, or oversized: 400 M_BAD_JSON / 413 M_TOO_LARGE', async () => {
      const { userId, knock } = await knocker({ content: { count: 1 } });
      const text = JSON.stringify(knock.event);
      assertError(await f.call({ method: 'PUT', path: path('v1/send_knock', roomId, knock.eventId), body: knock.event as unknown as JsonObject, rawBody: text.replace('"count":1', '"count":1.0') }), 400, 'M_BAD_JSON');
      const withoutDepth = remote.signEvent(withoutKeys(knock.event, 'depth', 'hashes', 'signatures'), version);
      assertError(await sendKnock(knock.eventId, withoutDepth), 400, 'M_BAD_JSON', /depth/);
      const { knock: big } = await knocker({ content: { padding: 'x'.repeat(70_000) } });
      assertError(await sendKnock(big.eventId, big.event), 413, 'M_TOO_LARGE');
      assert.equal(await membershipOf(userId), Membership.UNSPECIFIED);
    });

    it('not a member event, not a knock, or sender is not state_key: 400 M_BAD_JSON', async () => {
      const { userId, knock } = await knocker();
      const base = withoutKeys(knock.event, 'hashes', 'signatures');
      const message = remote.signEvent({ ...base, type: 'm.room.message', content: { body: 'hi', msgtype: 'm.text' } }, version);
      assertError(await sendKnock(knock.eventId, message), 400, 'M_BAD_JSON', /Not an m\.room\.member event/);
      for (const membership of ['join', 'leave', 'invite']) {
        const wrong = remote.signEvent({ ...base, content: { membership } }, version);
        assertError(await sendKnock(knock.eventId, wrong), 400, 'M_BAD_JSON', /Not a knock event/);
      }
      const onBehalf = remote.signEvent({ ...base, sender: remote.userId('someone-else') }, version);
      assertError(await sendKnock(knock.eventId, onBehalf), 400, 'M_BAD_JSON', /sender and state_key/);
      assert.equal(await membershipOf(userId), Membership.UNSPECIFIED);
    });

    it('spoofed sender (a user of another server): 403 M_FORBIDDEN', async () => {
      const other = await f.newRemote();
      const victim = other.userId(`victim${++counter}`);
      const template = await f.serviceTemplate(roomId, victim, 'knock', other.serverName);
      const spoofed = remote.signTemplate(template, version);
      assertError(await sendKnock(spoofed.eventId, spoofed.event), 403, 'M_FORBIDDEN', /on behalf of another server/);
      const genuine = other.signTemplate(template, version);
      assertError(await sendKnock(genuine.eventId, genuine.event), 403, 'M_FORBIDDEN', /on behalf of another server/);
      assert.equal(await membershipOf(victim), Membership.UNSPECIFIED);
    });

    it('signatures missing, broken, or by an unpublished key: 403 M_FORBIDDEN', async () => {
      const { userId, knock } = await knocker();
      assertError(await sendKnock(knock.eventId, withoutKeys(knock.event, 'signatures')), 403, 'M_FORBIDDEN', /not signed/);
      assertError(await sendKnock(knock.eventId, { ...knock.event, origin_server_ts: knock.event.origin_server_ts + 1 }), 403, 'M_FORBIDDEN', /Invalid signature/);
      const unpublished = remote.signEvent(withoutKeys(knock.event, 'hashes', 'signatures'), version, generateSigningKey('unpublished'));
      assertError(await sendKnock(knock.eventId, unpublished), 403, 'M_FORBIDDEN', /No known key/);
      assert.equal(await membershipOf(userId), Membership.UNSPECIFIED);
    });

    it('event ID of the path does not match the event: 400 M_INVALID_PARAM', async () => {
      const { userId, knock } = await knocker();
      assertError(await sendKnock('$notTheRightEventId0000000000000000000000000', knock.event), 400, 'M_INVALID_PARAM', /event ID/);
      assert.equal(await membershipOf(userId), Membership.UNSPECIFIED);
    });

    it('refused by the auth rules (403 M_FORBIDDEN): a joined user, a banned user, and a room that stopped taking knocks', async () => {
      const room = await f.createRoom({ joinRule: 'knock' });
      const joined = await knocker({ room: room.roomId, roomVersion: room.version });
      await f.sendOurStateEvent(room.roomId, room.version, 'm.room.member', { membership: 'invite' }, joined.userId);
      await f.join(room.roomId, room.version, joined.userId);
      assertError(await sendKnock(joined.knock.eventId, joined.knock.event, { room: room.roomId }), 403, 'M_FORBIDDEN');
      assert.equal(await membershipOf(joined.userId, room.roomId), Membership.JOIN);

      const banned = await knocker({ room: room.roomId, roomVersion: room.version });
      await f.sendOurStateEvent(room.roomId, room.version, 'm.room.member', { membership: 'ban' }, banned.userId);
      assertError(await sendKnock(banned.knock.eventId, banned.knock.event, { room: room.roomId }), 403, 'M_FORBIDDEN');
      assert.equal(await membershipOf(banned.userId, room.roomId), Membership.BAN);

      const late = await knocker({ room: room.roomId, roomVersion: room.version });
      await f.sendOurStateEvent(room.roomId, room.version, 'm.room.join_rules', { join_rule: 'invite' });
      assertError(await sendKnock(late.knock.eventId, late.knock.event, { room: room.roomId }), 403, 'M_FORBIDDEN');
      assert.equal(await membershipOf(late.userId, room.roomId), Membership.UNSPECIFIED);
    });

    it('server ACL: make_knock and send_knock are 403 for a denied origin, after the shape checks', async () => {
      const acl = await f.createRoom({ joinRule: 'knock' });
      const { userId, knock } = await knocker({ room: acl.roomId, roomVersion: acl.version });
      await f.sendOurStateEvent(acl.roomId, acl.version, 'm.room.server_acl', { allow: ['*'], deny: ['127.0.0.1'], allow_ip_literals: true });
      assertError(await makeKnock(acl.roomId, remote.userId('newcomer')), 403, 'M_FORBIDDEN', /Server is banned from room/);
      assertError(await sendKnock(knock.eventId, knock.event, { room: acl.roomId }), 403, 'M_FORBIDDEN', /Server is banned from room/);
      const wrongShape = remote.signEvent({ ...withoutKeys(knock.event, 'hashes', 'signatures'), content: { membership: 'join' } }, acl.version);
      assertError(await sendKnock(knock.eventId, wrongShape, { room: acl.roomId }), 400, 'M_BAD_JSON');
      assert.equal(await membershipOf(userId, acl.roomId), Membership.UNSPECIFIED);
    });
  });
});
