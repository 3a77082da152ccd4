// matrix-js-sdk 36 against a fresh stack of real processes: the SDK's own
// calls, its return values and its errors, each confirmed by raw reads of the
// gateway. The sync loop (startClient) is not started: /sync is not served.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError, Method, Preset, createClient } from 'matrix-js-sdk';
import type { IStateEventWithRoomId, MatrixClient } from 'matrix-js-sdk';
import { recordingFetch, sdkClientOptions } from '@membrane/testing';
import type { SdkExchange } from '@membrane/testing';
import { startClientStack } from '../test-support/client-stack.js';
import type { ClientStack } from '../test-support/client-stack.js';
import type { CreatedUser } from '../test-support/gateway-client.js';
import { RawReads, enc } from '../test-support/raw-reads.js';

/** The SDK reports a refusal as a MatrixError with the status and errcode the gateway sent. */
function matrixError(status: number, errcode: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof MatrixError, String(err));
    assert.equal(err.httpStatus, status);
    assert.equal(err.errcode, errcode);
    assert.equal(typeof err.data.error, 'string');
    return true;
  };
}

/** `members()` is typed as a map in the SDK, but returns the spec's `{chunk}`. */
async function memberEventsOf(client: MatrixClient, roomId: string, userId: string): Promise<IStateEventWithRoomId[]> {
  const answer = (await client.members(roomId)) as unknown as { chunk: IStateEventWithRoomId[] };
  return answer.chunk.filter((e) => e.state_key === userId);
}

describe('matrix-js-sdk against the CS gateway', () => {
  let stack: ClientStack;
  let raw: RawReads;
  let alice: CreatedUser;
  let bob: CreatedUser;
  let aliceSdk: MatrixClient;
  let bobSdk: MatrixClient;
  /** Every request the SDK makes, so the test sees what it asked for. */
  const exchanges: SdkExchange[] = [];

  function sdkClient(user: CreatedUser): MatrixClient {
    return createClient(sdkClientOptions(stack.baseUrl, user, recordingFetch(exchanges)));
  }

  /** Leave with a reason: the SDK's `leave(roomId)` takes none, so this is the request it would make, with a body. */
  function leaveWithReason(client: MatrixClient, roomId: string, reason: string): Promise<Record<string, never>> {
    return client.http.authedRequest(Method.Post, `/rooms/${enc(roomId)}/leave`, undefined, { reason });
  }

  /** Runs a flow and checks that none of the SDK's requests hit an endpoint the gateway does not serve. */
  async function servedOnly(flow: () => Promise<void>): Promise<void> {
    const from = exchanges.length;
    await flow();
    const made = exchanges.slice(from);
    assert.ok(made.length > 0);
    assert.deepEqual(
      made.filter((e) => e.errcode === 'M_UNRECOGNIZED'),
      [],
      'the SDK needed no endpoint the gateway does not serve',
    );
    assert.ok(made.every((e) => e.path.startsWith('/_matrix/client/v3/') || e.path === '/_matrix/client/versions'));
  }

  before(async () => {
    stack = await startClientStack(['alice', 'bob']);
    raw = new RawReads(stack.http);
    ({ alice, bob } = stack.users as Record<'alice' | 'bob', CreatedUser>);
    aliceSdk = sdkClient(alice);
    bobSdk = sdkClient(bob);
  });

  after(async () => {
    await stack?.stop();
  });

  it('reaches the gateway with the admin-issued token: versions, whoami, capabilities', () =>
    servedOnly(async () => {
      const versions = await aliceSdk.getVersions();
      assert.ok(versions.versions.includes('v1.1'));
      assert.equal(await aliceSdk.isVersionSupported('v1.12'), true);
      assert.deepEqual(await bobSdk.whoami(), { user_id: bob.user_id, device_id: bob.device_id, is_guest: false });
      const capabilities = await aliceSdk.getCapabilities();
      assert.equal(capabilities['m.room_versions']?.default, '11');
    }));

  it('private room: invite, join, leave with a reason, refused rejoin, members, forget', () =>
    servedOnly(async () => {
      const { room_id: roomId } = await aliceSdk.createRoom({ preset: Preset.PrivateChat, name: 'SDK leave demo' });
      assert.match(roomId, /^!.+:hs\.test$/);
      // The empty state key goes out as `/state/m.room.join_rules/`.
      assert.deepEqual(await aliceSdk.getStateEvent(roomId, 'm.room.join_rules', ''), { join_rule: 'invite' });

      assert.deepEqual(await aliceSdk.invite(roomId, bob.user_id), {});
      assert.deepEqual((await raw.memberState(alice, roomId, bob.user_id)).body, { membership: 'invite' });
      assert.ok(!(await bobSdk.getJoinedRooms()).joined_rooms.includes(roomId));

      // joinRoom resolves to a Room object; without /sync the SDK knows only its ID.
      const room = await bobSdk.joinRoom(roomId);
      assert.equal(room.roomId, roomId);
      assert.ok((await bobSdk.getJoinedRooms()).joined_rooms.includes(roomId));
      assert.ok((await raw.joinedRooms(bob)).includes(roomId));
      assert.deepEqual((await raw.memberState(alice, roomId, bob.user_id)).body, { membership: 'join' });

      // Forgetting a room one is still in is refused.
      await assert.rejects(bobSdk.forget(roomId), matrixError(400, 'M_UNKNOWN'));

      assert.deepEqual(await leaveWithReason(bobSdk, roomId, 'Thanks, bye'), {});
      assert.ok(!(await bobSdk.getJoinedRooms()).joined_rooms.includes(roomId));
      assert.ok(!(await raw.joinedRooms(bob)).includes(roomId));

      // Join rule "invite": a user who left needs a new invite to come back.
      await assert.rejects(bobSdk.joinRoom(roomId), matrixError(403, 'M_FORBIDDEN'));

      const [leave, ...more] = await memberEventsOf(aliceSdk, roomId, bob.user_id);
      assert.equal(more.length, 0);
      assert.deepEqual(leave?.content, { membership: 'leave', reason: 'Thanks, bye' });
      assert.equal(leave?.sender, bob.user_id);
      assert.equal(leave?.room_id, roomId);
      const rawLeave = await raw.memberEventsOf(alice, roomId, bob.user_id);
      assert.deepEqual(rawLeave.map((e) => e['event_id']), [leave?.event_id]);
      assert.deepEqual(await aliceSdk.getStateEvent(roomId, 'm.room.member', bob.user_id), { membership: 'leave', reason: 'Thanks, bye' });
      assert.deepEqual((await raw.memberState(alice, roomId, bob.user_id)).body, { membership: 'leave', reason: 'Thanks, bye' });

      // A former member reads the room as it was at the leave, until forgetting it.
      assert.deepEqual(await bobSdk.getStateEvent(roomId, 'm.room.member', bob.user_id), { membership: 'leave', reason: 'Thanks, bye' });
      assert.deepEqual(await bobSdk.forget(roomId), {});
      await assert.rejects(bobSdk.getStateEvent(roomId, 'm.room.member', bob.user_id), matrixError(403, 'M_FORBIDDEN'));
      await assert.rejects(bobSdk.members(roomId), matrixError(403, 'M_FORBIDDEN'));
      assert.equal((await raw.members(bob, roomId)).status, 403);
      // Forgetting is bob's alone: alice still sees his leave and its reason.
      assert.deepEqual((await memberEventsOf(aliceSdk, roomId, bob.user_id)).map((e) => e.content), [{ membership: 'leave', reason: 'Thanks, bye' }]);
    }));

  it('leaves another room without a reason with leave(roomId)', () =>
    servedOnly(async () => {
      const { room_id: roomId } = await aliceSdk.createRoom({ preset: Preset.PublicChat, invite: [bob.user_id] });
      assert.deepEqual((await raw.memberState(alice, roomId, bob.user_id)).body, { membership: 'invite' });
      await bobSdk.joinRoom(roomId);
      assert.deepEqual(await bobSdk.leave(roomId), {});
      assert.deepEqual(await aliceSdk.getStateEvent(roomId, 'm.room.member', bob.user_id), { membership: 'leave' });
      assert.deepEqual((await raw.memberState(alice, roomId, bob.user_id)).body, { membership: 'leave' });
      assert.ok(!(await bobSdk.getJoinedRooms()).joined_rooms.includes(roomId));
    }));

  it('rejects an invite with leave(roomId), then forgets the room', () =>
    servedOnly(async () => {
      const { room_id: roomId } = await aliceSdk.createRoom({ preset: Preset.PrivateChat });
      assert.deepEqual(await aliceSdk.invite(roomId, bob.user_id, 'come along'), {});
      assert.deepEqual(await aliceSdk.getStateEvent(roomId, 'm.room.member', bob.user_id), { membership: 'invite', reason: 'come along' });

      assert.deepEqual(await bobSdk.leave(roomId), {});
      const [rejection, ...more] = await memberEventsOf(aliceSdk, roomId, bob.user_id);
      assert.equal(more.length, 0);
      assert.deepEqual(rejection?.content, { membership: 'leave' });
      assert.equal(rejection?.sender, bob.user_id);
      assert.deepEqual((await raw.memberState(alice, roomId, bob.user_id)).body, { membership: 'leave' });
      assert.ok(!(await bobSdk.getJoinedRooms()).joined_rooms.includes(roomId));
      // The rejected invite is gone: joining now needs a new one.
      await assert.rejects(bobSdk.joinRoom(roomId), matrixError(403, 'M_FORBIDDEN'));
      assert.deepEqual(await bobSdk.forget(roomId), {});
    }));

  it('leaves with a reason through the public kick(roomId, ownUserId, reason)', () =>
    servedOnly(async () => {
      const { room_id: roomId } = await aliceSdk.createRoom({ preset: Preset.PublicChat });
      await bobSdk.joinRoom(roomId);
      assert.deepEqual(await bobSdk.kick(roomId, bob.user_id, 'self-kick'), {});
      const [leave] = await raw.memberEventsOf(alice, roomId, bob.user_id);
      assert.deepEqual(leave?.['content'], { membership: 'leave', reason: 'self-kick' });
      assert.equal(leave?.['sender'], bob.user_id, 'a leave of ones own, not a kick by someone else');
    }));
});
