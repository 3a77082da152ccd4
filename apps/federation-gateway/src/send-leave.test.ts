// make_leave and send_leave (v1 and v2) over real HTTPS, against a real
// membership service: every valid and invalid variant, with the exact status,
// errcode and the membership it leaves behind.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@membrane/canonical-json';
import type { BuiltPdu, Pdu, RoomVersion } from '@membrane/events';
import { Membership } from '@membrane/proto';
import { generateSigningKey } from '@membrane/signing';
import type { FakeRemoteServer, FederationAnswer } from '@membrane/testing';
import { assertError, path, startFixture, withoutKeys } from './test-support/fixture.js';
import type { Fixture } from './test-support/fixture.js';

describe('federation gateway: make_leave and send_leave', () => {
  let f: Fixture;
  let remote: FakeRemoteServer;
  let roomId = '';
  let version: RoomVersion;
  let counter = 0;

  /** A fresh remote user joined to the room, with a signed (unsent) leave. */
  async function joinedUserWithLeave(content?: JsonObject, from?: FakeRemoteServer): Promise<{ userId: string; leave: BuiltPdu }> {
    const server = from ?? remote;
    const userId = server.userId(`user${++counter}`);
    await f.join(roomId, version, userId, server);
    return { userId, leave: await f.leaveEvent(roomId, version, userId, server, content) };
  }

  const sendLeave = (eventId: string, body: unknown, options: { v?: 'v1' | 'v2'; room?: string; from?: FakeRemoteServer } = {}): Promise<FederationAnswer> =>
    f.call({ method: 'PUT', path: path(`${options.v ?? 'v2'}/send_leave`, options.room ?? roomId, eventId), body: body as JsonObject }, options.from);

  async function assertStillJoined(userId: string): Promise<void> {
    assert.equal((await f.membership(roomId, userId)).membership, Membership.JOIN);
  }

  before(async () => {
    f = await startFixture();
    remote = f.remote;
    ({ roomId, version } = await f.createRoom());
  });

  after(async () => {
    await f?.stop();
  });

  describe('make_leave', () => {
    it('answers a leave template in the room version format for a joined user of the origin', async () => {
      const userId = remote.userId('templated');
      await f.join(roomId, version, userId);
      const answer = await f.call({ method: 'GET', path: path('v1/make_leave', roomId, userId) });
      assert.equal(answer.status, 200, answer.text);
      const { room_version: roomVersion, event } = answer.body as { room_version: string; event: JsonObject };
      assert.equal(roomVersion, '11');
      assert.equal(event['type'], 'm.room.member');
      assert.equal(event['room_id'], roomId);
      assert.equal(event['sender'], userId);
      assert.equal(event['state_key'], userId);
      assert.deepEqual(event['content'], { membership: 'leave' });
      assert.ok(Array.isArray(event['auth_events']) && event['auth_events'].every((id) => typeof id === 'string' && id.startsWith('$')));
      assert.ok(Array.isArray(event['prev_events']) && event['prev_events'].length > 0);
      assert.equal(typeof event['depth'], 'number');
      for (const absent of ['hashes', 'signatures', 'event_id']) assert.equal(event[absent], undefined, absent);
    });

    it('refuses a user who is not in the room (403), and an unknown room (404)', async () => {
      assertError(await f.call({ method: 'GET', path: path('v1/make_leave', roomId, remote.userId('stranger')) }), 403, 'M_FORBIDDEN', /User is not in the room\./);
      assertError(await f.call({ method: 'GET', path: path('v1/make_leave', '!nowhere:hs.test', remote.userId('stranger')) }), 404, 'M_NOT_FOUND');
    });
  });

  describe('accepted leaves', () => {
    it('v2 answers {} and the user has left; sending it again (v2 or v1) succeeds without a second event', async () => {
      const { userId, leave } = await joinedUserWithLeave();
      const answer = await sendLeave(leave.eventId, leave.event);
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.body, {});
      assert.deepEqual(await f.membership(roomId, userId), { membership: Membership.LEAVE, eventId: leave.eventId });
      const stateBefore = await f.grpc.queryRoomState({ roomId });

      const again = await sendLeave(leave.eventId, leave.event);
      assert.deepEqual([again.status, again.body], [200, {}]);
      const againV1 = await sendLeave(leave.eventId, leave.event, { v: 'v1' });
      assert.deepEqual([againV1.status, againV1.body], [200, [200, {}]]);
      assert.deepEqual(await f.membership(roomId, userId), { membership: Membership.LEAVE, eventId: leave.eventId });
      assert.deepEqual((await f.grpc.queryRoomState({ roomId })).stateEventsJson, stateBefore.stateEventsJson);
    });

    it('v1 answers [200, {}]', async () => {
      const { userId, leave } = await joinedUserWithLeave();
      const answer = await sendLeave(leave.eventId, leave.event, { v: 'v1' });
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.body, [200, {}]);
      assert.deepEqual(await f.membership(roomId, userId), { membership: Membership.LEAVE, eventId: leave.eventId });
    });

    it('a second, different leave of a user who already left is refused by the auth rules', async () => {
      const { userId, leave } = await joinedUserWithLeave();
      assert.equal((await sendLeave(leave.eventId, leave.event)).status, 200);
      const template = { ...(leave.event as unknown as JsonObject) };
      const second = remote.signTemplate({ ...template, origin_server_ts: (template['origin_server_ts'] as number) + 1 }, version);
      assertError(await sendLeave(second.eventId, second.event), 403, 'M_FORBIDDEN');
      assert.deepEqual(await f.membership(roomId, userId), { membership: Membership.LEAVE, eventId: leave.eventId });
    });

    it('keeps only the redacted event when the content hash does not match (membership survives redaction)', async () => {
      const { userId, leave } = await joinedUserWithLeave({ reason: 'signed reason' });
      const tampered = { ...leave.event, content: { membership: 'leave', reason: 'altered in transit' } };
      const answer = await sendLeave(leave.eventId, tampered);
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(await f.membership(roomId, userId), { membership: Membership.LEAVE, eventId: leave.eventId });
      const stored = JSON.parse((await f.grpc.queryEvent({ eventId: leave.eventId })).eventJson) as Pdu;
      assert.deepEqual(stored.content, { membership: 'leave' });
    });

    it('accepts a leave of a user who was only invited (rejecting the invite)', async () => {
      const userId = remote.userId(`invited${++counter}`);
      await f.sendOurStateEvent(roomId, version, 'm.room.member', { membership: 'invite' }, userId);
      assert.equal((await f.membership(roomId, userId)).membership, Membership.INVITE);
      const leave = await f.leaveEvent(roomId, version, userId);
      assert.deepEqual((await sendLeave(leave.eventId, leave.event)).body, {});
      assert.equal((await f.membership(roomId, userId)).membership, Membership.LEAVE);
    });
  });

  describe('refused leaves (the user stays joined)', () => {
    it('body not JSON: 400 M_NOT_JSON; not an object: 400 M_BAD_JSON', async () => {
      const { userId, leave } = await joinedUserWithLeave();
      assertError(await f.call({ method: 'PUT', path: path('v2/send_leave', roomId, leave.eventId), rawBody: '{"not json', body: {} }), 400, 'M_NOT_JSON');
      assertError(await f.call({ method: 'PUT', path: path('v2/send_leave', roomId, leave.eventId), body: [leave.event as unknown as JsonObject] }), 400, 'M_BAD_JSON');
      await assertStillJoined(userId);
    });

    it('room_id of the body differs from the path: 400 M_BAD_JSON', async () => {
      const { userId, leave } = await joinedUserWithLeave();
      const other = await f.createRoom();
      assertError(await sendLeave(leave.eventId, leave.event, { room: other.roomId }), 400, 'M_BAD_JSON', /room ID/);
      await assertStillJoined(userId);
    });

    it('unknown room: 404 M_NOT_FOUND', async () => {
      const { userId, leave } = await joinedUserWithLeave();
      const elsewhere = { ...leave.event, room_id: '!unknown:hs.test' };
      assertError(await sendLeave(leave.eventId, elsewhere, { room: '!unknown:hs.test' }), 404, 'M_NOT_FOUND');
      await assertStillJoined(userId);
    });

    it('not canonical JSON for room version 11 (a float, also in an unknown top-level key): 400 M_BAD_JSON', async () => {
      const { userId, leave } = await joinedUserWithLeave({ count: 1 });
      const text = JSON.stringify(leave.event);
      const floatInContent = text.replace('"count":1', '"count":1.0');
      assert.notEqual(floatInContent, text);
      assertError(await f.call({ method: 'PUT', path: path('v2/send_leave', roomId, leave.eventId), body: leave.event as unknown as JsonObject, rawBody: floatInContent }), 400, 'M_BAD_JSON');
      const extraKey = `${text.slice(0, -1)},"extra":2.0}`;
      const signedExtra = { ...(leave.event as unknown as JsonObject), extra: 2 };
      assertError(await f.call({ method: 'PUT', path: path('v2/send_leave', roomId, leave.eventId), body: signedExtra, rawBody: extraKey }), 400, 'M_BAD_JSON');
      await assertStillJoined(userId);
    });

    it('a required field missing: 400 M_BAD_JSON', async () => {
      const { userId, leave } = await joinedUserWithLeave();
      const withoutDepth = remote.signEvent(withoutKeys(leave.event, 'depth', 'hashes', 'signatures'), version);
      assertError(await sendLeave(leave.eventId, withoutDepth), 400, 'M_BAD_JSON', /depth/);
      await assertStillJoined(userId);
    });

    it('oversized event (over 65536 bytes): 413 M_TOO_LARGE', async () => {
      const { userId, leave } = await joinedUserWithLeave({ padding: 'x'.repeat(70_000) });
      assertError(await sendLeave(leave.eventId, leave.event), 413, 'M_TOO_LARGE');
      await assertStillJoined(userId);
    });

    it('not a member event, not a leave, or sender is not state_key: 400 M_BAD_JSON', async () => {
      const { userId, leave } = await joinedUserWithLeave();
      const base = withoutKeys(leave.event, 'hashes', 'signatures');
      const message = remote.signEvent({ ...base, type: 'm.room.message', content: { body: 'hi', msgtype: 'm.text' } }, version);
      assertError(await sendLeave(leave.eventId, message), 400, 'M_BAD_JSON', /Not an m\.room\.member event/);
      const join = remote.signEvent({ ...base, content: { membership: 'join' } }, version);
      assertError(await sendLeave(leave.eventId, join), 400, 'M_BAD_JSON', /Not a leave event/);
      const ban = remote.signEvent({ ...base, content: { membership: 'ban' } }, version);
      assertError(await sendLeave(leave.eventId, ban), 400, 'M_BAD_JSON', /Not a leave event/);
      const kick = remote.signEvent({ ...base, sender: remote.userId('someone-else') }, version);
      assertError(await sendLeave(leave.eventId, kick), 400, 'M_BAD_JSON', /sender and state_key/);
      await assertStillJoined(userId);
    });

    it('spoofed sender (a user of another server): 403 M_FORBIDDEN', async () => {
      const other = await f.newRemote();
      const { userId: victim } = await joinedUserWithLeave(undefined, other);
      // The origin signs a leave for the other server's user with its own key.
      const template = await f.serviceTemplate(roomId, victim, 'leave', other.serverName);
      const spoofed = remote.signTemplate(template, version);
      assertError(await sendLeave(spoofed.eventId, spoofed.event), 403, 'M_FORBIDDEN', /on behalf of another server/);
      // Even with a valid signature of the user's server, only that server may send it.
      const genuine = other.signTemplate(template, version);
      assertError(await sendLeave(genuine.eventId, genuine.event), 403, 'M_FORBIDDEN', /on behalf of another server/);
      await assertStillJoined(victim);
    });

    it('signatures missing, broken, or by an unpublished key: 403 M_FORBIDDEN; missing hashes too (not 400)', async () => {
      const { userId, leave } = await joinedUserWithLeave();
      assertError(await sendLeave(leave.eventId, withoutKeys(leave.event, 'signatures')), 403, 'M_FORBIDDEN', /not signed/);
      assertError(await sendLeave(leave.eventId, { ...leave.event, origin_server_ts: (leave.event.origin_server_ts) + 1 }), 403, 'M_FORBIDDEN', /Invalid signature/);
      assertError(await sendLeave(leave.eventId, withoutKeys(leave.event, 'hashes')), 403, 'M_FORBIDDEN', /Invalid signature/);
      const unpublished = remote.signEvent(withoutKeys(leave.event, 'hashes', 'signatures'), version, generateSigningKey('unpublished'));
      assertError(await sendLeave(leave.eventId, unpublished), 403, 'M_FORBIDDEN', /No known key/);
      await assertStillJoined(userId);
    });

    it('event ID of the path does not match the event: 400 M_INVALID_PARAM', async () => {
      const { userId, leave } = await joinedUserWithLeave();
      assertError(await sendLeave('$notTheRightEventId0000000000000000000000000', leave.event), 400, 'M_INVALID_PARAM', /event ID/);
      await assertStillJoined(userId);
    });

    it('a leave for a user who never joined is refused by the auth rules: 403 M_FORBIDDEN', async () => {
      const { leave } = await joinedUserWithLeave();
      const stranger = remote.userId('never-joined');
      const template = { ...withoutKeys(leave.event, 'hashes', 'signatures'), sender: stranger, state_key: stranger };
      const forged = remote.signTemplate(template, version);
      assertError(await sendLeave(forged.eventId, forged.event), 403, 'M_FORBIDDEN');
      assert.equal((await f.membership(roomId, stranger)).membership, Membership.UNSPECIFIED);
    });

    it('checks in the documented order: shape before origin, origin before signature, signature before path event ID', async () => {
      const { userId, leave } = await joinedUserWithLeave();
      const unsigned = withoutKeys(leave.event, 'signatures');
      const foreign = `@x:${(await f.newRemote()).serverName}`;
      assertError(await sendLeave(leave.eventId, { ...unsigned, content: { membership: 'join' }, sender: foreign, state_key: foreign }), 400, 'M_BAD_JSON', /Not a leave/);
      assertError(await sendLeave(leave.eventId, { ...unsigned, sender: foreign, state_key: foreign }), 403, 'M_FORBIDDEN', /on behalf/);
      assertError(await sendLeave('$wrong', unsigned), 403, 'M_FORBIDDEN', /not signed/);
      assertError(await sendLeave(leave.eventId, { ...unsigned, room_id: '!other:hs.test' }), 400, 'M_BAD_JSON', /room ID/);
      await assertStillJoined(userId);
    });
  });

  describe('server ACL', () => {
    it('denies make_leave, send_leave and make_join to a denied origin (403), after the shape checks', async () => {
      const acl = await f.createRoom();
      const userId = remote.userId('acl-victim');
      await f.join(acl.roomId, acl.version, userId);
      const template = await f.serviceTemplate(acl.roomId, userId, 'leave', remote.serverName);
      const leave = remote.signTemplate(template, acl.version);
      await f.sendOurStateEvent(acl.roomId, acl.version, 'm.room.server_acl', { allow: ['*'], deny: ['127.0.0.1'], allow_ip_literals: true });

      assertError(await f.call({ method: 'GET', path: path('v1/make_leave', acl.roomId, userId) }), 403, 'M_FORBIDDEN', /Server is banned from room/);
      assertError(await sendLeave(leave.eventId, leave.event, { room: acl.roomId }), 403, 'M_FORBIDDEN', /Server is banned from room/);
      assertError(await sendLeave(leave.eventId, leave.event, { room: acl.roomId, v: 'v1' }), 403, 'M_FORBIDDEN', /Server is banned from room/);
      assertError(await f.call({ method: 'GET', path: `${path('v1/make_join', acl.roomId, remote.userId('newcomer'))}?ver=11` }), 403, 'M_FORBIDDEN', /Server is banned/);
      const wrongShape = remote.signEvent({ ...withoutKeys(leave.event, 'hashes', 'signatures'), content: { membership: 'join' } }, acl.version);
      assertError(await sendLeave(leave.eventId, wrongShape, { room: acl.roomId }), 400, 'M_BAD_JSON');
      assert.equal((await f.membership(acl.roomId, userId)).membership, Membership.JOIN);
    });
  });

  describe('room version 1 (event IDs chosen by the sender)', () => {
    it('accepts a v1 leave over send_leave v1 and refuses a path event ID that is not the event_id', async () => {
      const legacy = await f.createRoom({ version: '1' });
      const userId = remote.userId('legacy');
      await f.join(legacy.roomId, legacy.version, userId);
      const leave = await f.leaveEvent(legacy.roomId, legacy.version, userId);
      assert.match(leave.eventId, new RegExp(`^\\$.+:${remote.serverName.replace(/\./g, '\\.')}$`));
      assertError(await sendLeave(`$other:${remote.serverName}`, leave.event, { room: legacy.roomId, v: 'v1' }), 400, 'M_INVALID_PARAM');
      assert.equal((await f.membership(legacy.roomId, userId)).membership, Membership.JOIN);
      const answer = await sendLeave(leave.eventId, leave.event, { room: legacy.roomId, v: 'v1' });
      assert.deepEqual([answer.status, answer.body], [200, [200, {}]]);
      assert.deepEqual(await f.membership(legacy.roomId, userId), { membership: Membership.LEAVE, eventId: leave.eventId });
    });
  });
});
