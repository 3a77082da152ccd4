// matrix-nio's sync() (Debian's python3-matrix-nio, r0 paths and
// ?access_token=) against a fresh stack of real processes, driven by
// nio_sync_flow.py: the invite arriving, the room under `leave` after a leave
// with nothing after it, a forgotten room absent from a new initial sync, a
// rejected invite leaving rooms.invite, and a waiting sync woken by an
// invite. Other users act over raw HTTP.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { NioDriver } from '@membrane/testing';
import type { NioResult } from '@membrane/testing';
import type { CreatedUser } from '../test-support/gateway-client.js';
import { startClientStack } from '../test-support/client-stack.js';
import type { ClientStack } from '../test-support/client-stack.js';
import { eventsOf } from '../test-support/room-actions.js';
import type { RoomActions } from '../test-support/room-actions.js';

const SCRIPT = fileURLToPath(new URL('./nio_sync_flow.py', import.meta.url));

interface NioEvent {
  readonly type: string;
  readonly sender: string;
  readonly state_key: string | null;
  readonly membership: string | null;
  readonly body: string | null;
}

interface NioRoom {
  readonly state: NioEvent[];
  readonly timeline: NioEvent[];
}

/** What nio made of one /sync answer (see nio_sync_flow.py). */
interface NioSync {
  readonly next_batch: string;
  readonly invite: Readonly<Record<string, NioEvent[]>>;
  readonly join: Readonly<Record<string, NioRoom>>;
  readonly leave: Readonly<Record<string, NioRoom>>;
  readonly client: { readonly rooms: string[]; readonly invited_rooms: string[] };
}

function syncOf(result: NioResult): NioSync {
  assert.equal(result.class, 'SyncResponse', JSON.stringify(result));
  assert.equal(result.error, false);
  assert.equal(result.request.path, '/_matrix/client/r0/sync');
  assert.equal(result.request.token_in_query, true);
  return (result as unknown as { summary: NioSync }).summary;
}

function inAnySection(sync: NioSync, roomId: string): boolean {
  return roomId in sync.invite || roomId in sync.join || roomId in sync.leave;
}

describe('matrix-nio sync() against the CS gateway', () => {
  let stack: ClientStack;
  let act: RoomActions;
  let nio: NioDriver;
  let alice: CreatedUser;
  let bob: CreatedUser;

  before(async () => {
    stack = await startClientStack(['alice', 'bob']);
    act = stack.actions;
    ({ alice, bob } = stack.users as Record<'alice' | 'bob', CreatedUser>);
    nio = await NioDriver.start(SCRIPT, stack.baseUrl, { bob });
  });

  after(async () => {
    const code = await nio?.close();
    await stack?.stop();
    assert.equal(code, 0, 'the nio driver ends cleanly');
  });

  const sync = async (args: Record<string, unknown> = {}): Promise<NioSync> => syncOf(await nio.call('bob', 'sync', args));

  it('sees the invite, the join, the room under leave after leaving, and nothing after the leave', async () => {
    await sync({ since: null });
    const roomId = await act.createRoom(alice, { preset: 'private_chat', name: 'nio sync', invite: [bob.user_id] });

    const invited = await sync();
    const inviteState = invited.invite[roomId];
    assert.ok(inviteState !== undefined, JSON.stringify(invited));
    assert.ok(inviteState.some((e) => e.type === 'm.room.name'));
    assert.deepEqual(inviteState.filter((e) => e.state_key === bob.user_id).map((e) => e.membership), ['invite']);
    assert.ok(invited.client.invited_rooms.includes(roomId));

    assert.equal((await nio.call('bob', 'join', { room_id: roomId })).class, 'JoinResponse');
    const joined = await sync();
    assert.ok(joined.join[roomId] !== undefined);
    assert.ok(joined.client.rooms.includes(roomId));
    assert.ok(!joined.client.invited_rooms.includes(roomId));

    await act.say(alice, roomId, 'hello nio');
    const message = await sync();
    assert.deepEqual(message.join[roomId]?.timeline.map((e) => e.body), ['hello nio']);

    assert.equal((await nio.call('bob', 'room_leave', { room_id: roomId })).class, 'RoomLeaveResponse');
    const left = await sync();
    assert.equal(left.join[roomId], undefined);
    const last = left.leave[roomId]?.timeline.at(-1);
    assert.equal(last?.state_key, bob.user_id);
    assert.equal(last?.membership, 'leave');

    await act.say(alice, roomId, 'after the leave');
    const quiet = await sync();
    assert.ok(!inAnySection(quiet, roomId), JSON.stringify(quiet));

    // A new initial sync shows the left room only with include_leave, and not at all once forgotten.
    assert.ok(!inAnySection(await sync({ since: null }), roomId));
    const withLeave = await sync({ since: null, filter: { room: { include_leave: true } } });
    assert.ok(!withLeave.leave[roomId]?.timeline.some((e) => e.body === 'after the leave'));
    assert.equal(withLeave.leave[roomId]?.timeline.at(-1)?.membership, 'leave');

    assert.equal((await nio.call('bob', 'room_forget', { room_id: roomId })).class, 'RoomForgetResponse');
    const forgotten = await sync({ since: null, filter: { room: { include_leave: true } } });
    assert.ok(!inAnySection(forgotten, roomId), JSON.stringify(forgotten));
    // The raw answer agrees.
    const raw = await act.sync(bob, { filter: JSON.stringify({ room: { include_leave: true } }) });
    assert.equal(raw.rooms.leave[roomId], undefined);
  });

  it('sees a rejected invite leave rooms.invite and come back under leave', async () => {
    await sync({ since: null });
    const roomId = await act.createRoom(alice, { preset: 'private_chat', invite: [bob.user_id] });
    const invited = await sync();
    assert.ok(invited.invite[roomId] !== undefined, JSON.stringify(invited));
    assert.equal((await nio.call('bob', 'room_leave', { room_id: roomId })).class, 'RoomLeaveResponse');
    const rejected = await sync();
    assert.equal(rejected.invite[roomId], undefined);
    assert.equal(rejected.leave[roomId]?.timeline.at(-1)?.membership, 'leave', JSON.stringify(rejected));
    const raw = await act.sync(bob, { filter: JSON.stringify({ room: { include_leave: true } }) });
    assert.equal(eventsOf(raw.rooms.leave[roomId], 'timeline').at(-1)?.['sender'], bob.user_id);

    // nio 0.20.1 reads rooms.leave only for rooms it joined: it keeps a rejected
    // invite in invited_rooms until room_forget, which clears it.
    assert.ok(rejected.client.invited_rooms.includes(roomId), JSON.stringify(rejected.client));
    assert.equal((await nio.call('bob', 'room_forget', { room_id: roomId })).class, 'RoomForgetResponse');
    assert.ok(!(await sync()).client.invited_rooms.includes(roomId));
  });

  it('is woken from a waiting sync by an invite', async () => {
    await sync({ since: null });
    const roomId = await act.createRoom(alice, { preset: 'private_chat' });
    // The server may hold this sync for 60 s, but the driver gives up on any operation after 20 s: only a wake-up answers in time.
    const waiting = nio.call('bob', 'sync', { timeout: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await act.invite(alice, roomId, bob);
    const woken = syncOf(await waiting);
    assert.ok(woken.invite[roomId] !== undefined, JSON.stringify(woken));
  });
});
