// matrix-js-sdk 36's sync loop (startClient) against a fresh stack of real
// processes: what the SDK asks for at start, and the room lifecycle its
// events report: an invite arriving, the room after a leave (membership
// `leave`, nothing after it), and the room gone after forget, also for a
// client that starts afresh. Other users act over raw HTTP.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ClientEvent, RoomEvent, SyncState, createClient } from 'matrix-js-sdk';
import type { MatrixClient, MatrixEvent, Room } from 'matrix-js-sdk';
import { recordingFetch, sdkClientOptions } from '@membrane/testing';
import type { SdkExchange } from '@membrane/testing';
import type { CreatedUser } from '../test-support/gateway-client.js';
import { startClientStack } from '../test-support/client-stack.js';
import type { ClientStack } from '../test-support/client-stack.js';
import type { RoomActions } from '../test-support/room-actions.js';

const originalSetTimeout = globalThis.setTimeout;
const LONG_TIMER_MS = 50_000;

/** What a running SDK client reported through its events. */
interface Observed {
  readonly syncStates: SyncState[];
  readonly memberships: { roomId: string; membership: string }[];
  readonly deletedRooms: string[];
  /** Timeline events the SDK added, per room. */
  readonly timeline: { roomId: string; event: MatrixEvent }[];
}

/** Checks a condition every 50 ms, for at most `timeoutMs`. */
async function eventually(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  for (let waited = 0; waited <= timeoutMs; waited += 50) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`the SDK did not report ${what} within ${timeoutMs} ms`);
}

function bodyOf(event: MatrixEvent): unknown {
  return event.getContent()['body'];
}

describe('matrix-js-sdk startClient against the CS gateway', () => {
  let stack: ClientStack;
  let act: RoomActions;
  let alice: CreatedUser;
  let bob: CreatedUser;
  const exchanges: SdkExchange[] = [];
  const running: MatrixClient[] = [];

  /** Starts the SDK's sync loop for a user, with a short long-poll so each quiet round ends soon. */
  async function startSdk(user: CreatedUser): Promise<{ client: MatrixClient; seen: Observed }> {
    const client = createClient(sdkClientOptions(stack.baseUrl, user, recordingFetch(exchanges)));
    const seen: Observed = { syncStates: [], memberships: [], deletedRooms: [], timeline: [] };
    client.on(ClientEvent.Sync, (state) => seen.syncStates.push(state));
    client.on(RoomEvent.MyMembership, (room: Room, membership: string) => seen.memberships.push({ roomId: room.roomId, membership }));
    client.on(ClientEvent.DeleteRoom, (roomId: string) => seen.deletedRooms.push(roomId));
    client.on(RoomEvent.Timeline, (event: MatrixEvent, room: Room | undefined) => {
      if (room !== undefined) seen.timeline.push({ roomId: room.roomId, event });
    });
    running.push(client);
    await client.startClient({ initialSyncLimit: 10, pollTimeout: 1_000 });
    await eventually('the first sync', () => seen.syncStates.includes(SyncState.Prepared));
    return { client, seen };
  }

  /** Waits until the SDK finished `rounds` more sync requests, so that anything the server had to report has arrived. */
  async function syncRounds(seen: Observed, rounds: number): Promise<void> {
    const target = seen.syncStates.length + rounds;
    await eventually(`${rounds} more sync rounds`, () => seen.syncStates.length >= target);
  }

  before(async () => {
    // The SDK arms an 80 s local deadline per sync request and never clears it
    // (timeoutSignal in its http-api), which would hold this process open long
    // after the tests; such long timers must not keep it alive.
    globalThis.setTimeout = ((handler: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const timer = originalSetTimeout(handler, ms, ...args);
      if ((ms ?? 0) >= LONG_TIMER_MS) timer.unref();
      return timer;
    }) as typeof globalThis.setTimeout;
    stack = await startClientStack(['alice', 'bob']);
    act = stack.actions;
    ({ alice, bob } = stack.users as Record<'alice' | 'bob', CreatedUser>);
  });

  after(async () => {
    for (const client of running) client.stopClient();
    await stack?.stop();
    globalThis.setTimeout = originalSetTimeout;
  });

  it('starts: push rules, capabilities, a filter and /sync, and nothing the gateway does not serve', async () => {
    const from = exchanges.length;
    const { client, seen } = await startSdk(bob);
    await syncRounds(seen, 1);
    const made = exchanges.slice(from);
    const paths = made.map((e) => `${e.method} ${e.path}`);
    for (const expected of ['GET /_matrix/client/v3/pushrules/', 'GET /_matrix/client/v3/capabilities', `POST /_matrix/client/v3/user/${encodeURIComponent(bob.user_id)}/filter`, 'GET /_matrix/client/v3/sync']) {
      assert.ok(paths.includes(expected), `${expected} in ${paths.join(', ')}`);
    }
    assert.deepEqual(made.filter((e) => e.status !== 200), [], 'every request at start succeeded');
    assert.equal(client.getSyncState(), SyncState.Syncing);
    client.stopClient();
  });

  it('reports the invite, the join, the room frozen after the leave, and the room gone after forget', async () => {
    const { client, seen } = await startSdk(bob);
    const roomId = await act.createRoom(alice, { preset: 'private_chat', name: 'SDK sync', invite: [bob.user_id] });

    await eventually('the invite', () => seen.memberships.some((m) => m.roomId === roomId && m.membership === 'invite'));
    assert.equal(client.getRoom(roomId)?.getMyMembership(), 'invite');
    assert.equal(client.getRoom(roomId)?.name, 'SDK sync', 'the stripped state names the room');

    await client.joinRoom(roomId);
    await eventually('the join', () => client.getRoom(roomId)?.getMyMembership() === 'join');
    await act.say(alice, roomId, 'while joined');
    await eventually('the message', () => seen.timeline.some((t) => t.roomId === roomId && bodyOf(t.event) === 'while joined'));

    await client.leave(roomId);
    await eventually('the leave', () => seen.memberships.some((m) => m.roomId === roomId && m.membership === 'leave'));
    const room = client.getRoom(roomId);
    assert.equal(room?.getMyMembership(), 'leave');
    await act.say(alice, roomId, 'after the leave');
    await syncRounds(seen, 2);
    assert.ok(!seen.timeline.some((t) => t.roomId === roomId && bodyOf(t.event) === 'after the leave'), 'nothing after the leave reaches the SDK');
    assert.equal(client.getRoom(roomId)?.getMyMembership(), 'leave');

    await client.forget(roomId);
    assert.ok(seen.deletedRooms.includes(roomId));
    assert.equal(client.getRoom(roomId), null);
    await syncRounds(seen, 2);
    assert.equal(client.getRoom(roomId), null, 'no sync brings the forgotten room back');
    client.stopClient();

    // A client starting afresh never learns of the room.
    const fresh = await startSdk(bob);
    assert.equal(fresh.client.getRoom(roomId), null);
    assert.ok(!fresh.client.getRooms().some((r) => r.roomId === roomId));
    fresh.client.stopClient();
  });

  it('sees an invite rejected with leave() turn into membership leave', async () => {
    const { client, seen } = await startSdk(bob);
    const roomId = await act.createRoom(alice, { preset: 'private_chat', invite: [bob.user_id] });
    await eventually('the invite', () => client.getRoom(roomId)?.getMyMembership() === 'invite');
    await client.leave(roomId);
    await eventually('the rejection', () => seen.memberships.some((m) => m.roomId === roomId && m.membership === 'leave'));
    assert.equal(client.getRoom(roomId)?.getMyMembership(), 'leave');
    client.stopClient();
  });
});
