// Room reads and writes over real HTTP against the real membership service:
// sending messages and state (transaction IDs), /messages, /state, /members,
// /event under history visibility and after a leave, knocking, capabilities
// and push rules. Every answer is checked against docs/openapi/cs-gateway.yaml.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CreatedUser } from './test-support/gateway-client.js';
import { startClientStack } from './test-support/client-stack.js';
import type { ClientStack } from './test-support/client-stack.js';
import { assertError, eventsOf, membershipOf } from './test-support/room-actions.js';
import type { Json, RoomActions } from './test-support/room-actions.js';
import { CLIENT_V3, enc } from './test-support/raw-reads.js';

type Users = Record<'alice' | 'bob' | 'carol' | 'dave' | 'erin' | 'outsider', CreatedUser>;

describe('room reads and writes', () => {
  let stack: ClientStack;
  let act: RoomActions;
  let u: Users;

  before(async () => {
    stack = await startClientStack(['alice', 'bob', 'carol', 'dave', 'erin', 'outsider']);
    act = stack.actions;
    u = stack.users as Users;
  });

  after(async () => {
    await stack?.stop();
  });

  function room(roomId: string): string {
    return `/rooms/${enc(roomId)}`;
  }

  describe('PUT /rooms/{roomId}/send/{eventType}/{txnId}', () => {
    it('sends once per transaction ID and device: a retry answers the first event', async () => {
      const roomId = await act.createRoom(u.alice, { preset: 'public_chat' });
      const first = await act.sendRaw(u.alice, roomId, { msgtype: 'm.text', body: 'once' }, 'txn-1');
      assert.equal(first.status, 200, first.text);
      assert.match(first.body['event_id'] as string, /^\$/);
      const retry = await act.sendRaw(u.alice, roomId, { msgtype: 'm.text', body: 'once' }, 'txn-1');
      assert.deepEqual(retry.body, first.body);
      assert.deepEqual(await act.messageBodies(u.alice, roomId, { dir: 'b' }), ['once']);

      // The same transaction ID on another device of the same user is another transaction.
      const phone = await stack.loginAgain('alice', 'PHONE');
      const other = await act.sendRaw(phone, roomId, { msgtype: 'm.text', body: 'once' }, 'txn-1');
      assert.equal(other.status, 200, other.text);
      assert.notEqual(other.body['event_id'], first.body['event_id']);
      assert.deepEqual(await act.messageBodies(u.alice, roomId, { dir: 'b' }), ['once', 'once']);
    });

    it('refuses bodies that are not JSON objects, senders who are not joined, unknown rooms', async () => {
      const roomId = await act.createRoom(u.alice, { preset: 'public_chat' });
      const path = `${CLIENT_V3}${room(roomId)}/send/m.room.message`;
      const token = u.alice.access_token;
      assertError(await stack.http.call('PUT', `${path}/t-empty`, { token }), 400, 'M_NOT_JSON');
      for (const [raw, errcode] of [['[]', 'M_BAD_JSON'], ['"text"', 'M_BAD_JSON'], ['nope', 'M_NOT_JSON']] as const) assertError(await stack.http.call('PUT', `${path}/t-${raw.length}`, { token, raw }), 400, errcode);
      assertError(await act.sendRaw(u.outsider, roomId, { body: 'hi' }, 't-out'), 403, 'M_FORBIDDEN');
      assertError(await act.sendRaw(u.alice, '!unknown:hs.test', { body: 'hi' }, 't-unknown'), 404, 'M_NOT_FOUND');
      assertError(await act.sendRaw(u.alice, roomId, { body: 'hi' }, 't-long', 'x'.repeat(256)), 400, 'M_INVALID_PARAM');
      assertError(await stack.http.call('PUT', `${path}/t-big`, { token, json: { body: 'x'.repeat(70_000) } }), 413, 'M_TOO_LARGE');
      assertError(await stack.http.call('POST', `${path}/t-post`, { token, json: {} }), 405, 'M_UNRECOGNIZED');
      assertError(await stack.http.call('PUT', `${path}/t-anon`, { json: {} }), 401, 'M_MISSING_TOKEN');
    });
  });

  describe('state', () => {
    it('sets state and reads it back by type and key, with the empty key in every form', async () => {
      const roomId = await act.createRoom(u.alice, { preset: 'public_chat' });
      const custom = await act.setState(u.alice, roomId, 'org.example.colour', 'sky', { colour: 'blue' });
      assert.deepEqual((await act.read(u.alice, `${room(roomId)}/state/org.example.colour/sky`)).body, { colour: 'blue' });
      const asEvent = await act.read(u.alice, `${room(roomId)}/state/org.example.colour/sky`, { format: 'event' });
      assert.equal(asEvent.body['event_id'], custom);
      assert.equal(asEvent.body['room_id'], roomId);

      const topicPath = `${CLIENT_V3}${room(roomId)}/state/m.room.topic`;
      for (const [path, topic] of [[topicPath, 'no slash'], [`${topicPath}/`, 'slash']] as const) {
        const put = await stack.http.call('PUT', path, { token: u.alice.access_token, json: { topic } });
        assert.equal(put.status, 200, put.text);
        assert.deepEqual((await act.read(u.alice, `${room(roomId)}/state/m.room.topic`)).body, { topic });
      }
      // Read as an event, a replaced state event names what it replaced (state lists carry only its age).
      const topicEvent = await act.read(u.alice, `${room(roomId)}/state/m.room.topic/`, { format: 'event' });
      const single = await act.read(u.alice, `${room(roomId)}/event/${enc(topicEvent.body['event_id'] as string)}`);
      assert.deepEqual((single.body['unsigned'] as Json)['prev_content'], { topic: 'no slash' });
      assert.equal((single.body['unsigned'] as Json)['prev_sender'], u.alice.user_id);

      assertError(await act.read(u.alice, `${room(roomId)}/state/org.example.colour/sea`), 404, 'M_NOT_FOUND');
      assertError(await act.read(u.alice, `${room(roomId)}/state/org.example.colour/sky`, { format: 'xml' }), 400, 'M_INVALID_PARAM');
      assertError(await stack.http.call('PUT', `${topicPath}/`, { token: u.alice.access_token }), 400, 'M_NOT_JSON');
      assertError(await stack.http.call('PUT', `${topicPath}/`, { token: u.outsider.access_token, json: { topic: 'mine' } }), 403, 'M_FORBIDDEN');
      assertError(
        await stack.http.call('PUT', `${CLIENT_V3}${room(roomId)}/state/m.room.member/${enc(u.bob.user_id)}`, { token: u.alice.access_token, json: { membership: 'invite' } }),
        400,
        'M_INVALID_PARAM',
      );
    });

    it('lists the whole state; a user who left sees it as it was at the leave', async () => {
      const roomId = await act.createRoom(u.alice, { preset: 'public_chat', name: 'Before' });
      await act.join(u.bob, roomId);
      await act.leave(u.bob, roomId);
      await act.setState(u.alice, roomId, 'm.room.name', '', { name: 'After' });

      const current = await act.read(u.alice, `${room(roomId)}/state`);
      assert.equal(current.status, 200, current.text);
      const nameOf = (events: Json[]): unknown => (events.find((e) => e['type'] === 'm.room.name')?.['content'] as Json)['name'];
      assert.equal(nameOf(current.body as unknown as Json[]), 'After');
      assert.ok((current.body as unknown as Json[]).some((e) => e['type'] === 'm.room.create'));

      const frozen = await act.read(u.bob, `${room(roomId)}/state`);
      assert.equal(nameOf(frozen.body as unknown as Json[]), 'Before');
      assert.deepEqual((await act.read(u.bob, `${room(roomId)}/state/m.room.name`)).body, { name: 'Before' });
      assertError(await act.read(u.outsider, `${room(roomId)}/state`), 403, 'M_FORBIDDEN');
    });
  });

  describe('GET /rooms/{roomId}/members', () => {
    it('filters by membership and answers the members as of a token', async () => {
      const roomId = await act.createRoom(u.alice, { preset: 'public_chat', invite: [u.carol.user_id] });
      const before = await act.sync(u.alice);
      await act.join(u.bob, roomId);
      const members = (answer: { body: Json }): string[] => ((answer.body['chunk'] as Json[]).map((e) => `${String(e['state_key'])}:${String(membershipOf(e))}`)).sort();

      assert.deepEqual(members(await act.read(u.alice, `${room(roomId)}/members`)), [`${u.alice.user_id}:join`, `${u.bob.user_id}:join`, `${u.carol.user_id}:invite`].sort());
      assert.deepEqual(members(await act.read(u.alice, `${room(roomId)}/members`, { membership: 'invite' })), [`${u.carol.user_id}:invite`]);
      assert.deepEqual(members(await act.read(u.alice, `${room(roomId)}/members`, { not_membership: 'join' })), [`${u.carol.user_id}:invite`]);
      assert.deepEqual(members(await act.read(u.alice, `${room(roomId)}/members`, { at: before.next_batch })), [`${u.alice.user_id}:join`, `${u.carol.user_id}:invite`].sort());

      assertError(await act.read(u.alice, `${room(roomId)}/members`, { at: 'yesterday' }), 400, 'M_INVALID_PARAM');
      assertError(await act.read(u.alice, `${room(roomId)}/members`, { membership: 'gone' }), 400, 'M_INVALID_PARAM');
      assertError(await act.read(u.outsider, `${room(roomId)}/members`), 403, 'M_FORBIDDEN');
    });
  });

  describe('GET /rooms/{roomId}/messages', () => {
    let roomId: string;

    before(async () => {
      roomId = await act.createRoom(u.alice, { preset: 'public_chat' });
      for (const body of ['m1', 'm2', 'm3', 'm4', 'm5']) await act.say(u.alice, roomId, body);
    });

    it('pages backwards and forwards with from, to and limit', async () => {
      const onlyMessages = JSON.stringify({ types: ['m.room.message'] });
      const newest = await act.messages(u.alice, roomId, { dir: 'b', limit: '2', filter: onlyMessages });
      assert.equal(newest.status, 200, newest.text);
      assert.deepEqual((newest.body['chunk'] as Json[]).map((e) => (e['content'] as Json)['body']), ['m5', 'm4']);
      assert.ok((newest.body['chunk'] as Json[]).every((e) => e['room_id'] === roomId && typeof (e['unsigned'] as Json)['age'] === 'number'));
      assert.deepEqual(newest.body['state'], []);
      const end = newest.body['end'] as string;
      assert.deepEqual(await act.messageBodies(u.alice, roomId, { dir: 'b', limit: '2', from: end, filter: onlyMessages }), ['m3', 'm2']);

      // Forwards from the start of the room, up to where the backward page began.
      const forward = await act.messages(u.alice, roomId, { dir: 'f', filter: onlyMessages, limit: '100' });
      assert.deepEqual((forward.body['chunk'] as Json[]).map((e) => (e['content'] as Json)['body']), ['m1', 'm2', 'm3', 'm4', 'm5']);
      const upTo = await act.messageBodies(u.alice, roomId, { dir: 'f', to: end, filter: onlyMessages, limit: '100' });
      assert.deepEqual(upTo, ['m1', 'm2', 'm3']);

      // Paging on past the first event comes to an end.
      let from = newest.body['end'] as string | undefined;
      for (let page = 0; page < 20 && from !== undefined; page++) {
        const next = await act.messages(u.alice, roomId, { dir: 'b', from, limit: '3' });
        assert.equal(next.status, 200, next.text);
        from = next.body['end'] as string | undefined;
      }
      assert.equal(from, undefined, 'no end token once nothing is left');

      // A missing dir is read as forwards, as Synapse does.
      assert.deepEqual(await act.messageBodies(u.alice, roomId, { filter: onlyMessages, limit: '1' }), ['m1']);
    });

    it('filters by type and sender', async () => {
      const senders = await act.messages(u.alice, roomId, { dir: 'b', filter: JSON.stringify({ senders: [u.bob.user_id] }) });
      assert.deepEqual(senders.body['chunk'], []);
      const notMessages = await act.messages(u.alice, roomId, { dir: 'b', limit: '50', filter: JSON.stringify({ not_types: ['m.room.message'] }) });
      assert.ok((notMessages.body['chunk'] as Json[]).length > 0);
      assert.ok((notMessages.body['chunk'] as Json[]).every((e) => e['type'] !== 'm.room.message'));
      const federation = await act.messages(u.alice, roomId, { dir: 'b', limit: '1', filter: JSON.stringify({ event_format: 'federation' }) });
      const [pdu] = federation.body['chunk'] as Json[];
      for (const key of ['signatures', 'hashes', 'depth', 'prev_events', 'event_id']) assert.ok(pdu !== undefined && key in pdu, key);
    });

    it('refuses malformed parameters with 400 and outsiders of a shared room with 403', async () => {
      for (const [query, errcode] of [
        [{ dir: 'up' }, 'M_INVALID_PARAM'],
        [{ from: 'END-ish' }, 'M_INVALID_PARAM'],
        [{ to: '5' }, 'M_INVALID_PARAM'],
        [{ limit: 'many' }, 'M_INVALID_PARAM'],
        [{ filter: '{"types":' }, 'M_NOT_JSON'],
        [{ filter: '{"types":"m.room.message"}' }, 'M_BAD_JSON'],
      ] as const) {
        assertError(await act.messages(u.alice, roomId, query), 400, errcode);
      }
      assertError(await act.messages(u.outsider, roomId, { dir: 'b' }), 403, 'M_FORBIDDEN');
    });
  });

  describe('history visibility', () => {
    async function roomWith(visibility: string): Promise<string> {
      const roomId = await act.createRoom(u.alice, { preset: 'public_chat' });
      await act.setState(u.alice, roomId, 'm.room.history_visibility', '', { history_visibility: visibility });
      await act.say(u.alice, roomId, `${visibility}: before`);
      return roomId;
    }

    it('joined: a newcomer sees nothing from before the join, and their own leave after leaving', async () => {
      const roomId = await roomWith('joined');
      const early = await act.say(u.alice, roomId, 'joined: still before');
      await act.join(u.dave, roomId);
      await act.say(u.alice, roomId, 'joined: while there');
      assert.deepEqual(await act.messageBodies(u.dave, roomId, { dir: 'b' }), ['joined: while there']);
      assertError(await act.read(u.dave, `${room(roomId)}/event/${enc(early)}`), 404, 'M_NOT_FOUND');

      await act.leave(u.dave, roomId, 'gone');
      const late = await act.say(u.alice, roomId, 'joined: after');
      const seen = await act.messages(u.dave, roomId, { dir: 'b', limit: '50' });
      const chunk = seen.body['chunk'] as Json[];
      assert.deepEqual(chunk[0]?.['content'], { membership: 'leave', reason: 'gone' }, 'the own leave is the newest event seen');
      assert.ok(!chunk.some((e) => (e['content'] as Json)['body'] === 'joined: after'));
      assertError(await act.read(u.dave, `${room(roomId)}/event/${enc(late)}`), 404, 'M_NOT_FOUND');
    });

    it('shared: a member sees what was sent before they joined', async () => {
      const roomId = await roomWith('shared');
      await act.join(u.dave, roomId);
      assert.deepEqual(await act.messageBodies(u.dave, roomId, { dir: 'b' }), ['shared: before']);
    });

    it('invited: visible from the invite on', async () => {
      const roomId = await roomWith('invited');
      await act.invite(u.alice, roomId, u.erin);
      await act.say(u.alice, roomId, 'invited: after the invite');
      await act.join(u.erin, roomId);
      assert.deepEqual(await act.messageBodies(u.erin, roomId, { dir: 'b' }), ['invited: after the invite']);
    });

    it('world_readable: anyone reads messages, state and single events', async () => {
      const roomId = await roomWith('world_readable');
      const eventId = await act.say(u.alice, roomId, 'world: open');
      assert.deepEqual(await act.messageBodies(u.outsider, roomId, { dir: 'b' }), ['world: open', 'world_readable: before']);
      const single = await act.read(u.outsider, `${room(roomId)}/event/${enc(eventId)}`);
      assert.equal(single.status, 200, single.text);
      assert.equal(single.body['event_id'], eventId);
      assert.equal((await act.read(u.outsider, `${room(roomId)}/state`)).status, 200);
    });
  });

  describe('GET /rooms/{roomId}/event/{eventId}', () => {
    it('answers a visible event in the client format, and 404 or 400 otherwise', async () => {
      const roomId = await act.createRoom(u.alice, { preset: 'public_chat' });
      const other = await act.createRoom(u.alice, { preset: 'public_chat' });
      const eventId = await act.say(u.alice, roomId, 'single');
      const answer = await act.read(u.alice, `${room(roomId)}/event/${enc(eventId)}`);
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.body['content'], { msgtype: 'm.text', body: 'single' });
      assert.equal(answer.body['room_id'], roomId);
      assert.equal(answer.body['sender'], u.alice.user_id);
      assertError(await act.read(u.alice, `${room(other)}/event/${enc(eventId)}`), 404, 'M_NOT_FOUND');
      assertError(await act.read(u.alice, `${room(roomId)}/event/${enc('$nothing')}`), 404, 'M_NOT_FOUND');
      assertError(await act.read(u.alice, `${room(roomId)}/event/nothing`), 400, 'M_INVALID_PARAM');
    });
  });

  describe('POST /knock/{roomIdOrAlias}', () => {
    it('knocks on a room whose join rule allows it; the knock shows in /members and in the knocker\'s sync', async () => {
      const roomId = await act.createRoom(u.alice, { preset: 'public_chat' });
      assertError(await stack.http.call('POST', `${CLIENT_V3}/knock/${enc(roomId)}`, { token: u.carol.access_token, json: {} }), 403, 'M_FORBIDDEN');
      await act.setState(u.alice, roomId, 'm.room.join_rules', '', { join_rule: 'knock' });
      const knocked = await stack.http.call('POST', `${CLIENT_V3}/knock/${enc(roomId)}`, { token: u.carol.access_token, json: { reason: 'let me in' }, query: { via: 'hs.test' } });
      assert.deepEqual(knocked.body, { room_id: roomId });
      const knock = await act.read(u.alice, `${room(roomId)}/state/m.room.member/${enc(u.carol.user_id)}`);
      assert.deepEqual(knock.body, { membership: 'knock', reason: 'let me in' });
      const sync = await act.sync(u.carol);
      assert.equal(membershipOf(eventsOf(sync.rooms.knock[roomId], 'knock_state').at(-1)), 'knock');
    });

    it('refuses old room versions, unknown rooms and malformed IDs', async () => {
      const v6 = await act.createRoom(u.alice, { preset: 'public_chat', room_version: '6' });
      const knock = (target: string) => stack.http.call('POST', `${CLIENT_V3}/knock/${enc(target)}`, { token: u.carol.access_token, json: {} });
      assertError(await knock(v6), 403, 'M_FORBIDDEN');
      assertError(await knock('!unknown:hs.test'), 404, 'M_NOT_FOUND');
      assertError(await knock('#nowhere:hs.test'), 404, 'M_NOT_FOUND');
      assertError(await knock('not-a-room'), 400, 'M_INVALID_PARAM');
      assertError(await stack.http.call('POST', `${CLIENT_V3}/knock/${enc(v6)}`, { token: u.carol.access_token, json: { reason: 5 } }), 400, 'M_BAD_JSON');
    });
  });

  describe('what clients ask at start', () => {
    it('capabilities tell the room versions and that leaving does not forget', async () => {
      const answer = await act.read(u.alice, '/capabilities');
      const caps = answer.body['capabilities'] as Record<string, Json>;
      assert.equal(caps['m.room_versions']?.['default'], '11');
      assert.equal((caps['m.room_versions']?.['available'] as Json)['12'], 'stable');
      assert.deepEqual(caps['m.forget_forced_upon_leave'], { enabled: false });
    });

    it('push rules are an empty rule set', async () => {
      const empty = { override: [], content: [], room: [], sender: [], underride: [] };
      assert.deepEqual((await act.read(u.alice, '/pushrules/')).body, { global: empty });
      assert.deepEqual((await act.read(u.alice, '/pushrules/global/')).body, empty);
      assertError(await stack.http.call('GET', `${CLIENT_V3}/pushrules/`), 401, 'M_MISSING_TOKEN');
    });
  });
});

describe('a server that forgets rooms on leave', () => {
  let stack: ClientStack;
  let u: Record<'alice' | 'bob', CreatedUser>;

  before(async () => {
    stack = await startClientStack(['alice', 'bob'], { membershipEnv: { MEMBRANE_MEMBERSHIP_FORGET_ROOMS_ON_LEAVE: 'true' } });
    u = stack.users as typeof u;
  });

  after(async () => {
    await stack?.stop();
  });

  it('says so in its capabilities, and a left room is at once gone from the reads', async () => {
    const act = stack.actions;
    const caps = (await act.read(u.alice, '/capabilities')).body['capabilities'] as Record<string, Json>;
    assert.deepEqual(caps['m.forget_forced_upon_leave'], { enabled: true });
    const roomId = await act.createRoom(u.alice, { preset: 'public_chat' });
    await act.join(u.bob, roomId);
    await act.leave(u.bob, roomId);
    assertError(await act.messages(u.bob, roomId, { dir: 'b' }), 403, 'M_FORBIDDEN');
    const sync = await act.sync(u.bob, { filter: JSON.stringify({ room: { include_leave: true } }) });
    assert.equal(sync.rooms.leave[roomId], undefined);
  });
});
