// What peers read from us: /event, /state, /state_ids, /event_auth and
// /get_missing_events, only for servers in the room.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@membrane/canonical-json';
import { computeEventId } from '@membrane/events';
import type { BuiltPdu, Pdu, RoomVersion } from '@membrane/events';
import type { FakeRemoteServer, FederationAnswer } from '@membrane/testing';
import { US, assertError, path, startFixture } from './test-support/fixture.js';
import type { Fixture } from './test-support/fixture.js';

describe('federation gateway: reads for servers in the room', () => {
  let f: Fixture;
  let remote: FakeRemoteServer;
  let outsider: FakeRemoteServer;
  let roomId = '';
  let version: RoomVersion;
  let join: BuiltPdu;
  let createId = '';

  const get = (target: string, from?: FakeRemoteServer): Promise<FederationAnswer> => f.call({ method: 'GET', path: target }, from);
  const missing = (body: JsonObject, from?: FakeRemoteServer): Promise<FederationAnswer> =>
    f.call({ method: 'POST', path: path('v1/get_missing_events', roomId), body }, from);

  before(async () => {
    f = await startFixture();
    remote = f.remote;
    outsider = await f.newRemote();
    ({ roomId, version } = await f.createRoom());
    join = await f.join(roomId, version, remote.userId('reader'));
    const state = await f.grpc.queryRoomState({ roomId });
    const create = state.stateEventsJson.map((json) => JSON.parse(json) as Pdu).find((e) => e.type === 'm.room.create');
    assert.ok(create !== undefined);
    createId = computeEventId(create, version);
  });

  after(async () => {
    await f?.stop();
  });

  it('/event answers the event to a server in the room; 403 to others, 404 for unknown events', async () => {
    const answer = await get(path('v1/event', join.eventId));
    assert.equal(answer.status, 200, answer.text);
    const body = answer.body as { origin: string; origin_server_ts: number; pdus: Pdu[] };
    assert.equal(body.origin, US);
    assert.equal(typeof body.origin_server_ts, 'number');
    assert.equal(body.pdus.length, 1);
    assert.equal(computeEventId(body.pdus[0] as Pdu, version), join.eventId);
    assertError(await get(path('v1/event', join.eventId), outsider), 403, 'M_FORBIDDEN', /Host not in room/);
    assertError(await get(path('v1/event', '$unknownEventIdunknownEventIdunknownEventId1')), 404, 'M_NOT_FOUND');
  });

  it('/state_ids and /state answer the state before the event and its auth chain', async () => {
    const ids = await get(`${path('v1/state_ids', roomId)}?event_id=${encodeURIComponent(join.eventId)}`);
    assert.equal(ids.status, 200, ids.text);
    const { pdu_ids: pduIds, auth_chain_ids: authChainIds } = ids.body as { pdu_ids: string[]; auth_chain_ids: string[] };
    assert.ok(pduIds.includes(createId));
    assert.ok(!pduIds.includes(join.eventId), 'state before the join');
    assert.ok(Array.isArray(authChainIds) && authChainIds.includes(createId));

    const full = await get(`${path('v1/state', roomId)}?event_id=${encodeURIComponent(join.eventId)}`);
    assert.equal(full.status, 200, full.text);
    const { pdus, auth_chain: authChain } = full.body as { pdus: Pdu[]; auth_chain: Pdu[] };
    assert.deepEqual(pdus.map((e) => computeEventId(e, version)).sort(), [...pduIds].sort());
    assert.deepEqual(authChain.map((e) => computeEventId(e, version)).sort(), [...authChainIds].sort());

    assertError(await get(path('v1/state_ids', roomId)), 400, 'M_MISSING_PARAM');
    assertError(await get(`${path('v1/state_ids', roomId)}?event_id=${encodeURIComponent(join.eventId)}`, outsider), 403, 'M_FORBIDDEN');
    const other = await f.createRoom();
    await f.join(other.roomId, other.version, remote.userId('reader'));
    assertError(await get(`${path('v1/state_ids', other.roomId)}?event_id=${encodeURIComponent(join.eventId)}`), 404, 'M_NOT_FOUND');
  });

  it('/event_auth answers the whole auth chain of the event', async () => {
    const answer = await get(path('v1/event_auth', roomId, join.eventId));
    assert.equal(answer.status, 200, answer.text);
    const chain = (answer.body as { auth_chain: Pdu[] }).auth_chain;
    const types = chain.map((e) => e.type);
    for (const type of ['m.room.create', 'm.room.power_levels', 'm.room.join_rules', 'm.room.member']) assert.ok(types.includes(type), type);
    assert.ok(!chain.some((e) => computeEventId(e, version) === join.eventId));
    assertError(await get(path('v1/event_auth', roomId, join.eventId), outsider), 403, 'M_FORBIDDEN');
  });

  it('/get_missing_events walks back from the latest events, within limit, not past the earliest ones', async () => {
    const answer = await missing({ earliest_events: [createId], latest_events: [join.eventId], limit: 3, min_depth: 0 });
    assert.equal(answer.status, 200, answer.text);
    const events = (answer.body as { events: Pdu[] }).events;
    assert.equal(events.length, 3);
    const depths = events.map((e) => e.depth);
    assert.deepEqual(depths, [...depths].sort((a, b) => a - b));
    assert.ok(depths.every((d) => d < join.event.depth));
    assert.ok(!events.some((e) => e.type === 'm.room.create' || computeEventId(e, version) === join.eventId));

    const all = (await missing({ earliest_events: [], latest_events: [join.eventId], limit: 50 })).body as { events: Pdu[] };
    assert.ok(all.events.some((e) => e.type === 'm.room.create'), 'without earliest events the walk reaches the create event');
    assert.deepEqual(((await missing({ earliest_events: [], latest_events: [join.eventId], limit: 0 })).body as { events: Pdu[] }).events, []);
    assertError(await missing({ earliest_events: [], latest_events: [join.eventId], limit: 'ten' }), 400, 'M_BAD_JSON');
    assertError(await missing({ earliest_events: [], latest_events: [join.eventId] }, outsider), 403, 'M_FORBIDDEN');
  });

  it('a server whose users all left the room may no longer read it', async () => {
    const room = await f.createRoom();
    const userId = remote.userId('leaver');
    const joined = await f.join(room.roomId, room.version, userId);
    assert.equal((await get(path('v1/event', joined.eventId))).status, 200);
    const leave = await f.leaveEvent(room.roomId, room.version, userId);
    assert.equal((await f.call({ method: 'PUT', path: path('v2/send_leave', room.roomId, leave.eventId), body: leave.event as unknown as JsonObject })).status, 200);
    assertError(await get(path('v1/event', joined.eventId)), 403, 'M_FORBIDDEN', /Host not in room/);
  });
});
