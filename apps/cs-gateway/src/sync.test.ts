// /sync and filters over real HTTP against the real membership service: the
// sections a room appears in, the view frozen at a leave, forgotten rooms,
// rejected invites, long-poll, filters. Every answer is checked against
// docs/openapi/cs-gateway.yaml by the client.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CreatedUser } from './test-support/gateway-client.js';
import { startClientStack } from './test-support/client-stack.js';
import type { ClientStack } from './test-support/client-stack.js';
import { assertClientFormat, assertError, eventsOf, membershipOf, timelineBodies } from './test-support/room-actions.js';
import type { Json, RoomActions } from './test-support/room-actions.js';
import { CLIENT_V3, enc } from './test-support/raw-reads.js';

const INCLUDE_LEAVE = JSON.stringify({ room: { include_leave: true } });

describe('GET /sync', () => {
  let stack: ClientStack;
  let act: RoomActions;
  let u: Record<'alice' | 'bob' | 'carol' | 'dave' | 'erin' | 'frank' | 'gina' | 'hank', CreatedUser>;

  before(async () => {
    stack = await startClientStack(['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank']);
    act = stack.actions;
    u = stack.users as typeof u;
  });

  after(async () => {
    await stack?.stop();
  });

  it('lists joined rooms with state, timeline and summary, and invites with their stripped state', async () => {
    const roomId = await act.createRoom(u.alice, { preset: 'private_chat', name: 'Sync room', invite: [u.bob.user_id] });
    await act.say(u.alice, roomId, 'hello');

    const alice = await act.sync(u.alice);
    assert.match(alice.next_batch, /^s[0-9]+$/);
    assertClientFormat(alice);
    const joined = alice.rooms.join[roomId];
    assert.deepEqual(timelineBodies(joined), ['hello']);
    assert.deepEqual(joined?.['summary'], { 'm.joined_member_count': 1, 'm.invited_member_count': 1 });
    const everything = [...eventsOf(joined, 'state'), ...eventsOf(joined, 'timeline')];
    assert.ok(everything.some((e) => e['type'] === 'm.room.name' && (e['content'] as Json)['name'] === 'Sync room'));
    assert.ok(everything.every((e) => !('room_id' in e)), 'sync events leave the room ID to their section');
    assert.ok(everything.every((e) => typeof (e['unsigned'] as Json)['age'] === 'number'));

    const bob = await act.sync(u.bob);
    assert.equal(bob.rooms.join[roomId], undefined);
    const inviteState = eventsOf(bob.rooms.invite[roomId], 'invite_state');
    assert.ok(inviteState.some((e) => e['type'] === 'm.room.name'));
    const mine = inviteState.at(-1);
    assert.equal(mine?.['state_key'], u.bob.user_id);
    assert.equal(membershipOf(mine), 'invite');
  });

  it('reports only what changed since a token, and after a leave shows the room frozen at the leave', async () => {
    const roomId = await act.createRoom(u.alice, { preset: 'public_chat' });
    await act.setState(u.alice, roomId, 'm.room.topic', '', { topic: 'before' });
    await act.join(u.carol, roomId);
    const start = await act.sync(u.carol);
    assert.ok(start.rooms.join[roomId] !== undefined);

    await act.say(u.alice, roomId, 'one');
    const step = await act.sync(u.carol, { since: start.next_batch });
    assert.deepEqual(timelineBodies(step.rooms.join[roomId]), ['one']);
    assert.equal(eventsOf(step.rooms.join[roomId], 'timeline').length, 1, 'nothing older than the token');

    await act.leave(u.carol, roomId, 'bye');
    await act.say(u.alice, roomId, 'after you left');
    await act.setState(u.alice, roomId, 'm.room.topic', '', { topic: 'after' });
    const left = await act.sync(u.carol, { since: step.next_batch });
    assertClientFormat(left);
    assert.equal(left.rooms.join[roomId], undefined);
    const timeline = eventsOf(left.rooms.leave[roomId], 'timeline');
    const last = timeline.at(-1);
    assert.equal(last?.['state_key'], u.carol.user_id);
    assert.deepEqual(last?.['content'], { membership: 'leave', reason: 'bye' });
    assert.ok(!timelineBodies(left.rooms.leave[roomId]).includes('after you left'));
    assert.ok(!timeline.some((e) => e['type'] === 'm.room.topic' && (e['content'] as Json)['topic'] === 'after'));

    // Nothing more is reported once the leave was seen.
    const quiet = await act.sync(u.carol, { since: left.next_batch });
    assert.equal(quiet.rooms.leave[roomId], undefined);
    assert.equal(quiet.rooms.join[roomId], undefined);

    // The other reads agree: the room as it was at the leave.
    const topic = await act.read(u.carol, `/rooms/${enc(roomId)}/state/m.room.topic`);
    assert.deepEqual(topic.body, { topic: 'before' });
    assert.deepEqual(await act.messageBodies(u.carol, roomId, { dir: 'b' }), ['one']);
  });

  it('keeps forgotten rooms out of an initial sync, even with include_leave, until a new invite', async () => {
    const roomId = await act.createRoom(u.alice, { preset: 'public_chat' });
    await act.join(u.dave, roomId);
    await act.leave(u.dave, roomId);
    const before = await act.sync(u.dave, { filter: INCLUDE_LEAVE });
    assert.equal(membershipOf(eventsOf(before.rooms.leave[roomId], 'timeline').at(-1)), 'leave');
    assert.equal((await act.sync(u.dave)).rooms.leave[roomId], undefined, 'without include_leave an initial sync has no left rooms');

    await act.forget(u.dave, roomId);
    const after = await act.sync(u.dave, { filter: INCLUDE_LEAVE });
    for (const section of ['join', 'invite', 'leave', 'knock'] as const) assert.equal(after.rooms[section][roomId], undefined, section);
    assertError(await act.messages(u.dave, roomId, { dir: 'b' }), 403, 'M_FORBIDDEN');
    assertError(await act.read(u.dave, `/rooms/${enc(roomId)}/state`), 403, 'M_FORBIDDEN');

    await act.invite(u.alice, roomId, u.dave);
    const back = await act.sync(u.dave, { since: after.next_batch });
    assert.equal(membershipOf(eventsOf(back.rooms.invite[roomId], 'invite_state').at(-1)), 'invite');
    assert.ok((await act.sync(u.dave)).rooms.invite[roomId] !== undefined);
  });

  it('reports a leave followed by a forget within the range under leave, and a forget alone not at all', async () => {
    const spanned = await act.createRoom(u.alice, { preset: 'public_chat' });
    await act.join(u.erin, spanned);
    const joined = await act.sync(u.erin);
    await act.leave(u.erin, spanned);
    await act.forget(u.erin, spanned);
    const report = await act.sync(u.erin, { since: joined.next_batch });
    assert.equal(membershipOf(eventsOf(report.rooms.leave[spanned], 'timeline').at(-1)), 'leave');

    const forgotLater = await act.createRoom(u.alice, { preset: 'public_chat' });
    await act.join(u.erin, forgotLater);
    await act.leave(u.erin, forgotLater);
    const seenLeave = await act.sync(u.erin);
    await act.forget(u.erin, forgotLater);
    const afterForget = await act.sync(u.erin, { since: seenLeave.next_batch });
    for (const section of ['join', 'invite', 'leave', 'knock'] as const) assert.equal(afterForget.rooms[section][forgotLater], undefined, section);
  });

  it('removes a rejected invite from rooms.invite and shows the rejection under rooms.leave with include_leave', async () => {
    const roomId = await act.createRoom(u.alice, { preset: 'private_chat', invite: [u.frank.user_id] });
    const invited = await act.sync(u.frank);
    assert.ok(invited.rooms.invite[roomId] !== undefined);

    await act.leave(u.frank, roomId, 'no thanks');
    const incremental = await act.sync(u.frank, { since: invited.next_batch });
    assert.equal(incremental.rooms.invite[roomId], undefined);
    const rejection = eventsOf(incremental.rooms.leave[roomId], 'timeline').at(-1);
    assert.deepEqual(rejection?.['content'], { membership: 'leave', reason: 'no thanks' });

    const initial = await act.sync(u.frank);
    assert.equal(initial.rooms.invite[roomId], undefined);
    assert.equal(initial.rooms.leave[roomId], undefined);
    const withLeave = await act.sync(u.frank, { filter: INCLUDE_LEAVE });
    assert.equal(withLeave.rooms.invite[roomId], undefined);
    const own = eventsOf(withLeave.rooms.leave[roomId], 'timeline').at(-1);
    assert.equal(own?.['sender'], u.frank.user_id);
    assert.equal(membershipOf(own), 'leave');
  });

  it('wakes a waiting /sync as soon as the user is invited', async () => {
    const roomId = await act.createRoom(u.alice, { preset: 'private_chat' });
    const start = await act.sync(u.gina);
    // The wait is far longer than the test client's own 20 s bound: only a wake-up answers in time.
    const waiting = act.sync(u.gina, { since: start.next_batch, timeout: '60000' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await act.invite(u.alice, roomId, u.gina);
    const woken = await waiting;
    assert.equal(membershipOf(eventsOf(woken.rooms.invite[roomId], 'invite_state').at(-1)), 'invite');
  });

  it('answers a long-poll with nothing to report with empty sections and a usable token', async () => {
    const start = await act.sync(u.hank);
    const idle = await act.sync(u.hank, { since: start.next_batch, timeout: '200' });
    for (const section of ['join', 'invite', 'leave', 'knock'] as const) assert.deepEqual(idle.rooms[section], {});
    const again = await act.sync(u.hank, { since: idle.next_batch });
    assert.deepEqual(again.rooms.join, {});
  });

  it('sends the whole state again with full_state', async () => {
    const roomId = await act.createRoom(u.hank, { preset: 'public_chat', name: 'Full' });
    const start = await act.sync(u.hank);
    await act.say(u.hank, roomId, 'more');
    const delta = await act.sync(u.hank, { since: start.next_batch });
    assert.ok(!eventsOf(delta.rooms.join[roomId], 'state').some((e) => e['type'] === 'm.room.create'));
    const full = await act.sync(u.hank, { since: start.next_batch, full_state: 'true' });
    assert.ok(eventsOf(full.rooms.join[roomId], 'state').some((e) => e['type'] === 'm.room.create'));
    assert.deepEqual(timelineBodies(full.rooms.join[roomId]), ['more']);
  });

  it('refuses malformed parameters with 400', async () => {
    const token = u.alice.access_token;
    const sync = (query: Record<string, string>) => stack.http.call('GET', `${CLIENT_V3}/sync`, { token, query });
    for (const since of ['12', 'x', 's-1', 's1.5']) assertError(await sync({ since }), 400, 'M_INVALID_PARAM');
    assertError(await sync({ timeout: '-1' }), 400, 'M_INVALID_PARAM');
    assertError(await sync({ timeout: 'soon' }), 400, 'M_INVALID_PARAM');
    assertError(await sync({ full_state: 'yes' }), 400, 'M_INVALID_PARAM');
    assertError(await sync({ set_presence: 'away' }), 400, 'M_INVALID_PARAM');
    assertError(await sync({ from: 's1' }), 400, 'M_UNKNOWN');
    assertError(await sync({ filter: '{"room":' }), 400, 'M_NOT_JSON');
    assertError(await sync({ filter: '{"room":{"timeline":{"limit":0}}}' }), 400, 'M_BAD_JSON');
    assertError(await sync({ filter: 'no-such-filter' }), 400, 'M_INVALID_PARAM');
    assertError(await stack.http.call('GET', `${CLIENT_V3}/sync`), 401, 'M_MISSING_TOKEN');
    assertError(await stack.http.call('POST', `${CLIENT_V3}/sync`, { token, json: {} }), 405, 'M_UNRECOGNIZED');
    assert.equal((await sync({ set_presence: 'offline', timeout: '0' })).status, 200);
  });

  it('serves older clients on r0 with ?access_token=', async () => {
    const answer = await stack.http.call('GET', '/_matrix/client/r0/sync', { queryToken: u.alice.access_token });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.body['next_batch'] as string, /^s[0-9]+$/);
  });
});

describe('sync filters', () => {
  let stack: ClientStack;
  let act: RoomActions;
  let u: Record<'alice' | 'bob' | 'mallory', CreatedUser>;
  let roomId: string;

  before(async () => {
    stack = await startClientStack(['alice', 'bob', 'mallory']);
    act = stack.actions;
    u = stack.users as typeof u;
    roomId = await act.createRoom(u.alice, { preset: 'public_chat', topic: 'filtered' });
    await act.join(u.bob, roomId);
    for (const body of ['m1', 'm2', 'm3', 'm4']) await act.say(u.alice, roomId, body);
    await act.setState(u.alice, roomId, 'org.example.marker', 'k', { n: 1 });
  });

  after(async () => {
    await stack?.stop();
  });

  function filterPath(user: CreatedUser, id?: string): string {
    return `${CLIENT_V3}/user/${enc(user.user_id)}/filter${id === undefined ? '' : `/${enc(id)}`}`;
  }

  it('stores a filter and gives it back; /sync reads it by ID', async () => {
    const filter = { room: { timeline: { limit: 2, types: ['m.room.message'] } }, event_fields: ['type', 'content', 'event_id', 'sender'] };
    const created = await stack.http.call('POST', filterPath(u.bob), { token: u.bob.access_token, json: filter });
    assert.equal(created.status, 200, created.text);
    const filterId = created.body['filter_id'] as string;
    const stored = await stack.http.call('GET', filterPath(u.bob, filterId), { token: u.bob.access_token });
    assert.deepEqual(stored.body, filter);

    const sync = await act.sync(u.bob, { filter: filterId });
    const room = sync.rooms.join[roomId];
    assert.deepEqual(timelineBodies(room), ['m3', 'm4']);
    assert.equal((room?.['timeline'] as Json)['limited'], true);
    for (const event of eventsOf(room, 'timeline')) assert.deepEqual(Object.keys(event).sort(), ['content', 'event_id', 'sender', 'type']);
  });

  it('pages back from a limited timeline with its prev_batch', async () => {
    const sync = await act.sync(u.bob, { filter: JSON.stringify({ room: { timeline: { limit: 1, types: ['m.room.message'] } } }) });
    const timeline = sync.rooms.join[roomId]?.['timeline'] as Json;
    assert.equal(timeline['limited'], true);
    assert.deepEqual(timelineBodies(sync.rooms.join[roomId]), ['m4']);
    const older = await act.messageBodies(u.bob, roomId, { from: timeline['prev_batch'] as string, dir: 'b', limit: '2', filter: JSON.stringify({ types: ['m.room.message'] }) });
    assert.deepEqual(older, ['m3', 'm2']);
  });

  it('honours timeline not_types, state types and the rooms lists', async () => {
    const filter = { room: { timeline: { not_types: ['m.room.message'] }, state: { types: ['m.room.topic'] } } };
    const sync = await act.sync(u.bob, { filter: JSON.stringify(filter) });
    const room = sync.rooms.join[roomId];
    assert.ok(eventsOf(room, 'timeline').every((e) => e['type'] !== 'm.room.message'));
    assert.ok(eventsOf(room, 'state').every((e) => e['type'] === 'm.room.topic'));
    const elsewhere = await act.sync(u.bob, { filter: JSON.stringify({ room: { not_rooms: [roomId] } }) });
    assert.equal(elsewhere.rooms.join[roomId], undefined);
  });

  it('answers events in the federation format when asked', async () => {
    const sync = await act.sync(u.bob, { filter: JSON.stringify({ event_format: 'federation', room: { timeline: { limit: 1 } } }) });
    const [event] = eventsOf(sync.rooms.join[roomId], 'timeline');
    assert.ok(event !== undefined);
    for (const key of ['signatures', 'hashes', 'depth', 'auth_events', 'prev_events', 'event_id']) assert.ok(key in event, key);
  });

  it('refuses filters of other users with 403, malformed filters with 400, unknown IDs with 404', async () => {
    assertError(await stack.http.call('POST', filterPath(u.alice), { token: u.mallory.access_token, json: {} }), 403, 'M_FORBIDDEN');
    const mine = await stack.http.call('POST', filterPath(u.alice), { token: u.alice.access_token, json: { room: { include_leave: true } } });
    assertError(await stack.http.call('GET', filterPath(u.alice, mine.body['filter_id'] as string), { token: u.mallory.access_token }), 403, 'M_FORBIDDEN');
    for (const bad of [{ room: { timeline: { limit: 'ten' } } }, { event_format: 'xml' }, { room: { include_leave: 'yes' } }, { event_fields: 'type' }]) {
      assertError(await stack.http.call('POST', filterPath(u.alice), { token: u.alice.access_token, json: bad }), 400, 'M_BAD_JSON');
    }
    assertError(await stack.http.call('POST', filterPath(u.alice), { token: u.alice.access_token, raw: '[1]' }), 400, 'M_BAD_JSON');
    assertError(await stack.http.call('GET', filterPath(u.alice, '987654'), { token: u.alice.access_token }), 404, 'M_NOT_FOUND');
    assertError(await stack.http.call('GET', `${CLIENT_V3}/user/not-a-user/filter/1`, { token: u.alice.access_token }), 400, 'M_INVALID_PARAM');
    // Another user's filter ID is unknown to this user's /sync.
    assertError(await stack.http.call('GET', `${CLIENT_V3}/sync`, { token: u.mallory.access_token, query: { filter: mine.body['filter_id'] as string } }), 400, 'M_INVALID_PARAM');
  });

  it("keeps a sender's `__proto__` content key to the filtered event: other users' requests are unaffected", async () => {
    const own = await act.createRoom(u.mallory, { preset: 'private_chat' });
    const content = JSON.parse('{"msgtype":"m.text","body":"x","__proto__":{"third_party_signed":{}}}') as Json;
    const sent = await act.sendRaw(u.mallory, own, content, `proto-${process.pid}`);
    assert.equal(sent.status, 200, sent.text);
    const filter = { room: { rooms: [own], timeline: { limit: 1 } }, event_fields: ['type', 'content.__proto__.third_party_signed'] };
    const sync = await act.sync(u.mallory, { filter: JSON.stringify(filter) });
    // Had the key reached Object.prototype, every request body would seem to carry third_party_signed.
    const other = await act.createRoom(u.alice, { preset: 'public_chat' });
    await act.join(u.bob, other);
    const [event] = eventsOf(sync.rooms.join[own], 'timeline');
    assert.deepEqual(event, JSON.parse('{"type":"m.room.message","content":{"__proto__":{"third_party_signed":{}}}}'));
  });
});
