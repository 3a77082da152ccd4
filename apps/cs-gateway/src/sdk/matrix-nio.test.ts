// matrix-nio (Debian's python3-matrix-nio 0.20.1, an older client: r0 paths
// and ?access_token=) against a fresh stack of real processes. nio_flow.py
// runs the SDK calls; every outcome nio reports is confirmed by raw reads of
// the gateway.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { NioDriver } from '@membrane/testing';
import type { NioResult } from '@membrane/testing';
import { startClientStack } from '../test-support/client-stack.js';
import type { ClientStack } from '../test-support/client-stack.js';
import type { CreatedUser } from '../test-support/gateway-client.js';
import { RawReads, enc } from '../test-support/raw-reads.js';

const SCRIPT = fileURLToPath(new URL('./nio_flow.py', import.meta.url));
const R0 = '/_matrix/client/r0';

/** A success of the expected nio response class, sent the way an older client sends it. */
function assertNioOk(result: NioResult, expectedClass: string): void {
  assert.equal(result.class, expectedClass, JSON.stringify(result));
  assert.equal(result.error, false);
  assert.equal(result.status, 200);
  assert.ok(result.request.path.startsWith(`${R0}/`), result.request.path);
  assert.equal(result.request.token_in_query, true);
}

/** An error nio parsed into its error class, with the Matrix errcode it read. */
function assertNioError(result: NioResult, expectedClass: string, status: number, errcode: string): void {
  assert.equal(result.class, expectedClass, JSON.stringify(result));
  assert.equal(result.error, true);
  assert.equal(result.status, status);
  assert.equal(result.fields['status_code'], errcode);
  assert.equal(typeof result.fields['message'], 'string');
}

describe('matrix-nio against the CS gateway', () => {
  let stack: ClientStack;
  let raw: RawReads;
  let nio: NioDriver;
  let alice: CreatedUser;
  let bob: CreatedUser;

  before(async () => {
    stack = await startClientStack(['alice', 'bob']);
    raw = new RawReads(stack.http);
    ({ alice, bob } = stack.users as Record<'alice' | 'bob', CreatedUser>);
    nio = await NioDriver.start(SCRIPT, stack.baseUrl, stack.users);
  });

  after(async () => {
    const code = await nio?.close();
    await stack?.stop();
    assert.equal(code, 0, 'the nio driver ends cleanly');
  });

  async function createPlainRoom(body: Record<string, unknown>): Promise<string> {
    const created = await nio.call('alice', 'room_create_plain', body);
    assertNioOk(created, 'RoomCreateResponse');
    const roomId = created.fields['room_id'];
    assert.equal(typeof roomId, 'string');
    return roomId as string;
  }

  it('authenticates nio with the admin-issued token on r0 paths and ?access_token=', async () => {
    assert.equal(nio.nioVersion, '0.20.1');
    const whoami = await nio.call('bob', 'whoami');
    assertNioOk(whoami, 'WhoamiResponse');
    assert.equal(whoami.request.path, `${R0}/account/whoami`);
    assert.equal(whoami.fields['user_id'], bob.user_id);
  });

  it('creates a room with room_create as nio sends it (creation_content {"m.federate": true})', async () => {
    const created = await nio.call('alice', 'room_create', { preset: 'private_chat', name: 'nio default create' });
    assert.deepEqual(created.request.body, { visibility: 'private', creation_content: { 'm.federate': true }, is_direct: false, name: 'nio default create', preset: 'private_chat' });
    assertNioOk(created, 'RoomCreateResponse');
  });

  it('private room: invite, join, leave with a reason, refused rejoin, members, forget', async () => {
    const roomId = await createPlainRoom({ preset: 'private_chat', name: 'nio leave demo' });
    const joinRules = await nio.call('alice', 'room_get_state_event', { room_id: roomId, event_type: 'm.room.join_rules' });
    assertNioOk(joinRules, 'RoomGetStateEventResponse');
    assert.equal((joinRules.fields['content'] as Record<string, unknown>)['join_rule'], 'invite');

    assertNioOk(await nio.call('alice', 'room_invite', { room_id: roomId, user_id: bob.user_id }), 'RoomInviteResponse');
    assert.deepEqual((await raw.memberState(alice, roomId, bob.user_id)).body, { membership: 'invite' });

    const before = await nio.call('bob', 'joined_rooms');
    assertNioOk(before, 'JoinedRoomsResponse');
    assert.ok(!(before.fields['rooms'] as string[]).includes(roomId));

    const joined = await nio.call('bob', 'join', { room_id: roomId });
    assertNioOk(joined, 'JoinResponse');
    assert.equal(joined.fields['room_id'], roomId);
    const during = await nio.call('bob', 'joined_rooms');
    assert.ok((during.fields['rooms'] as string[]).includes(roomId));
    assert.ok((await raw.joinedRooms(bob)).includes(roomId));

    // Forgetting a room one is still in is refused, and nio reads the error.
    assertNioError(await nio.call('bob', 'room_forget', { room_id: roomId }), 'RoomForgetError', 400, 'M_UNKNOWN');

    const left = await nio.call('bob', 'room_leave_with_reason', { room_id: roomId, reason: 'nio says bye' });
    assertNioOk(left, 'RoomLeaveResponse');
    assert.deepEqual(left.request.body, { reason: 'nio says bye' });
    assert.deepEqual(left.response, {});
    const after = await nio.call('bob', 'joined_rooms');
    assert.ok(!(after.fields['rooms'] as string[]).includes(roomId));
    assert.ok(!(await raw.joinedRooms(bob)).includes(roomId));

    // Join rule "invite": a user who left needs a new invite to come back.
    assertNioError(await nio.call('bob', 'join', { room_id: roomId }), 'JoinError', 403, 'M_FORBIDDEN');

    const seen = await nio.call('alice', 'room_get_state_event', { room_id: roomId, event_type: 'm.room.member', state_key: bob.user_id });
    assertNioOk(seen, 'RoomGetStateEventResponse');
    assert.deepEqual(seen.fields['content'], { membership: 'leave', reason: 'nio says bye' });
    assert.deepEqual((await raw.memberState(alice, roomId, bob.user_id)).body, { membership: 'leave', reason: 'nio says bye' });
    const [leave, ...more] = await raw.memberEventsOf(alice, roomId, bob.user_id);
    assert.equal(more.length, 0);
    assert.deepEqual(leave?.['content'], { membership: 'leave', reason: 'nio says bye' });
    assert.equal(leave?.['sender'], bob.user_id);

    // A former member reads the room as it was at the leave, until forgetting it.
    const own = await nio.call('bob', 'room_get_state_event', { room_id: roomId, event_type: 'm.room.member', state_key: bob.user_id });
    assert.deepEqual(own.fields['content'], { membership: 'leave', reason: 'nio says bye' });
    const forgot = await nio.call('bob', 'room_forget', { room_id: roomId });
    assertNioOk(forgot, 'RoomForgetResponse');
    assert.equal(forgot.fields['room_id'], roomId);
    // nio 0.20.1 turns only a 404 into RoomGetStateEventError: the 403 comes back
    // as a RoomGetStateEventResponse whose content is the error body.
    const forgotten = await nio.call('bob', 'room_get_state_event', { room_id: roomId, event_type: 'm.room.member', state_key: bob.user_id });
    assert.equal(forgotten.status, 403);
    assert.equal((forgotten.fields['content'] as Record<string, unknown>)['errcode'], 'M_FORBIDDEN');
    assert.equal((await raw.members(bob, roomId)).status, 403);
    // Forgetting is bob's alone: alice still sees his leave and its reason.
    assert.deepEqual((await raw.memberEventsOf(alice, roomId, bob.user_id)).map((e) => e['content']), [{ membership: 'leave', reason: 'nio says bye' }]);
  });

  it('leaves another room without a reason (room_leave sends {})', async () => {
    const roomId = await createPlainRoom({ preset: 'public_chat', invite: [bob.user_id] });
    assertNioOk(await nio.call('bob', 'join', { room_id: roomId }), 'JoinResponse');
    const left = await nio.call('bob', 'room_leave', { room_id: roomId });
    assertNioOk(left, 'RoomLeaveResponse');
    assert.deepEqual(left.request.body, {});
    assert.equal(left.request.path, `${R0}/rooms/${enc(roomId)}/leave`);
    const content = await nio.call('alice', 'room_get_state_event', { room_id: roomId, event_type: 'm.room.member', state_key: bob.user_id });
    assert.deepEqual(content.fields['content'], { membership: 'leave' });
    assert.deepEqual((await raw.memberState(alice, roomId, bob.user_id)).body, { membership: 'leave' });
  });

  it('rejects an invite with room_leave, then forgets the room', async () => {
    const roomId = await createPlainRoom({ preset: 'private_chat' });
    assertNioOk(await nio.call('alice', 'room_invite', { room_id: roomId, user_id: bob.user_id }), 'RoomInviteResponse');
    assertNioOk(await nio.call('bob', 'room_leave', { room_id: roomId }), 'RoomLeaveResponse');
    const [rejection, ...more] = await raw.memberEventsOf(alice, roomId, bob.user_id);
    assert.equal(more.length, 0);
    assert.deepEqual(rejection?.['content'], { membership: 'leave' });
    assert.equal(rejection?.['sender'], bob.user_id);
    assert.ok(!(await raw.joinedRooms(bob)).includes(roomId));
    // The rejected invite is gone: joining now needs a new one.
    assertNioError(await nio.call('bob', 'join', { room_id: roomId }), 'JoinError', 403, 'M_FORBIDDEN');
    assertNioOk(await nio.call('bob', 'room_forget', { room_id: roomId }), 'RoomForgetResponse');
  });

  it('leaves with a reason through the public room_kick on oneself', async () => {
    const roomId = await createPlainRoom({ preset: 'public_chat' });
    assertNioOk(await nio.call('bob', 'join', { room_id: roomId }), 'JoinResponse');
    const kicked = await nio.call('bob', 'room_kick', { room_id: roomId, user_id: bob.user_id, reason: 'self-kick' });
    assertNioOk(kicked, 'RoomKickResponse');
    const [leave] = await raw.memberEventsOf(alice, roomId, bob.user_id);
    assert.deepEqual(leave?.['content'], { membership: 'leave', reason: 'self-kick' });
    assert.equal(leave?.['sender'], bob.user_id, 'a leave of ones own, not a kick by someone else');
  });
});
