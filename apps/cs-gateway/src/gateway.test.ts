// The CS gateway as a real process in front of a real membership service,
// users made with the real admin CLI, driven over HTTP. Every answer is
// checked against docs/openapi/cs-gateway.yaml by the client.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '@membrane/testing';
import type { AppProcess } from '@membrane/testing';
import { createUserWithCli, memberEvents } from './test-support/gateway-client.js';
import type { Answer, CreatedUser, GatewayClient } from './test-support/gateway-client.js';
import { createUsersWithCli, startGatewayProcess, startScratchMembership } from './test-support/gateway-process.js';
import type { ScratchMembership } from './test-support/gateway-process.js';
import { enc } from './test-support/raw-reads.js';
import { assertError } from './test-support/room-actions.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const V3 = '/_matrix/client/v3';
const R0 = '/_matrix/client/r0';
const BODY_LIMIT = 4096;

let scratch: ScratchMembership;

before(async () => {
  scratch = await startScratchMembership('cs-gateway-');
});

after(async () => {
  await scratch?.stop();
});

/** A gateway in front of the shared membership service, with a small body limit. */
function startGateway(dataDir: string, env: Record<string, string> = {}): Promise<AppProcess & { readonly client: GatewayClient }> {
  return startGatewayProcess(dataDir, scratch.address, { MEMBRANE_CS_LIMITS__MAX_BODY_BYTES: String(BODY_LIMIT), ...env });
}

function assertEmptyOk(answer: Answer): void {
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.text, '{}');
}

describe('cs-gateway over HTTP', () => {
  let gateway: AppProcess & { readonly client: GatewayClient };
  let http: GatewayClient;
  const users: Record<'alice' | 'bob' | 'carol' | 'dave' | 'slow' | 'outsider', CreatedUser> = {} as never;

  before(async () => {
    const dataDir = join(scratch.dir, 'gateway');
    Object.assign(users, await createUsersWithCli(dataDir, ['alice', 'bob', 'carol', 'dave', 'slow', 'outsider']));
    gateway = await startGateway(dataDir, {
      MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__OVERRIDES: JSON.stringify({ '@slow:hs.test': { perSecond: 0.001, burst: 2 } }),
    });
    http = gateway.client;
  });

  after(async () => {
    await gateway?.stop();
  });

  async function createRoom(user: CreatedUser, body: Record<string, unknown> = {}): Promise<string> {
    const answer = await http.call('POST', `${V3}/createRoom`, { token: user.access_token, json: body });
    assert.equal(answer.status, 200, answer.text);
    return answer.body['room_id'] as string;
  }

  async function joinRoom(user: CreatedUser, roomId: string): Promise<void> {
    const answer = await http.call('POST', `${V3}/rooms/${enc(roomId)}/join`, { token: user.access_token, json: {} });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.body, { room_id: roomId });
  }

  async function memberContent(reader: CreatedUser, roomId: string, userId: string): Promise<Answer> {
    return http.call('GET', `${V3}/rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`, { token: reader.access_token });
  }

  async function joinedRooms(user: CreatedUser): Promise<string[]> {
    const answer = await http.call('GET', `${V3}/joined_rooms`, { token: user.access_token });
    assert.equal(answer.status, 200, answer.text);
    return answer.body['joined_rooms'] as string[];
  }

  it('serves /versions without a token, and /capabilities with one', async () => {
    const versions = await http.call('GET', '/_matrix/client/versions');
    assert.equal(versions.status, 200);
    const list = versions.body['versions'] as string[];
    for (const v of ['v1.1', 'v1.12']) assert.ok(list.includes(v), v);
    const capabilities = await http.call('GET', `${V3}/capabilities`, { token: users.alice.access_token });
    assert.equal(capabilities.status, 200);
    const caps = capabilities.body['capabilities'] as Record<string, Record<string, unknown>>;
    assert.equal(caps['m.room_versions']?.['default'], '11');
    assert.equal((caps['m.room_versions']?.['available'] as Record<string, string>)['12'], 'stable');
    assert.deepEqual(caps['m.change_password'], { enabled: false });
  });

  it('logs in with a password, by identifier or by the older user field, and logs out', async () => {
    const flows = await http.call('GET', `${V3}/login`);
    assert.deepEqual(flows.body, { flows: [{ type: 'm.login.password' }] });

    const login = await http.call('POST', `${V3}/login`, { json: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'alice-pw' } });
    assert.equal(login.status, 200, login.text);
    assert.equal(login.body['user_id'], '@alice:hs.test');
    const token = login.body['access_token'] as string;
    const whoami = await http.call('GET', `${V3}/account/whoami`, { token });
    assert.deepEqual(whoami.body, { user_id: '@alice:hs.test', device_id: login.body['device_id'], is_guest: false });

    const legacy = await http.call('POST', `${R0}/login`, { json: { type: 'm.login.password', user: '@alice:hs.test', password: 'alice-pw', device_id: 'MYPHONE' } });
    assert.equal(legacy.status, 200, legacy.text);
    assert.equal(legacy.body['device_id'], 'MYPHONE');

    assertError(await http.call('POST', `${V3}/login`, { json: { type: 'm.login.password', user: 'alice', password: 'wrong' } }), 403, 'M_FORBIDDEN');
    assertError(await http.call('POST', `${V3}/login`, { json: { type: 'm.login.password', user: 'nobody', password: 'x' } }), 403, 'M_FORBIDDEN');
    assertError(await http.call('POST', `${V3}/login`, { json: { type: 'm.login.token', token: 'x' } }), 400, 'M_UNKNOWN');
    assertError(await http.call('POST', `${V3}/login`, { json: { type: 'm.login.password', user: 'alice' } }), 400, 'M_MISSING_PARAM');

    assertEmptyOk(await http.call('POST', `${V3}/logout`, { token }));
    assertError(await http.call('GET', `${V3}/account/whoami`, { token }), 401, 'M_UNKNOWN_TOKEN');
    const still = await http.call('GET', `${V3}/account/whoami`, { token: legacy.body['access_token'] as string });
    assert.equal(still.status, 200, 'other devices keep their tokens');
  });

  it('answers whoami for tokens the admin CLI printed', async () => {
    const whoami = await http.call('GET', `${V3}/account/whoami`, { token: users.bob.access_token });
    assert.deepEqual(whoami.body, { user_id: '@bob:hs.test', device_id: users.bob.device_id, is_guest: false });
  });

  it('refuses requests without a valid token with 401', async () => {
    for (const [method, path] of [
      ['POST', `${V3}/rooms/${enc('!x:hs.test')}/leave`],
      ['POST', `${V3}/rooms/${enc('!x:hs.test')}/forget`],
      ['GET', `${V3}/joined_rooms`],
      ['GET', `${V3}/account/whoami`],
    ] as const) {
      assertError(await http.call(method, path), 401, 'M_MISSING_TOKEN');
      const unknown = await http.call(method, path, { token: 'mbt_not-a-token' });
      assertError(unknown, 401, 'M_UNKNOWN_TOKEN');
      assert.equal(unknown.body['soft_logout'], false);
    }
    assertError(await http.call('GET', `${V3}/joined_rooms`, { headers: { authorization: 'Basic YTpi' } }), 401, 'M_MISSING_TOKEN');
    assertError(await http.call('GET', `${V3}/joined_rooms`, { token: users.bob.access_token, queryToken: users.bob.access_token }), 401, 'M_MISSING_TOKEN');
  });

  it('creates a room, invites, joins, leaves with a reason, shows the leave, and forgets the room', async () => {
    const { alice, bob, carol } = users;
    const roomId = await createRoom(alice, { preset: 'private_chat', name: 'Lifecycle', topic: 'leaving', invite: [bob.user_id] });
    assert.ok(!(await joinedRooms(bob)).includes(roomId));
    assertError(await http.call('GET', `${V3}/rooms/${enc(roomId)}/members`, { token: bob.access_token }), 403, 'M_FORBIDDEN');

    await joinRoom(bob, roomId);
    assert.ok((await joinedRooms(bob)).includes(roomId));
    assertError(await http.call('POST', `${V3}/rooms/${enc(roomId)}/forget`, { token: bob.access_token }), 400, 'M_UNKNOWN');

    assertEmptyOk(await http.call('POST', `${V3}/rooms/${enc(roomId)}/leave`, { token: bob.access_token, json: { reason: 'moving on' } }));
    assert.ok(!(await joinedRooms(bob)).includes(roomId));
    const members = await http.call('GET', `${V3}/rooms/${enc(roomId)}/members`, { token: alice.access_token });
    assert.equal(members.status, 200, members.text);
    const [leave, ...more] = memberEvents(members, bob.user_id);
    assert.equal(more.length, 0);
    assert.deepEqual(leave?.['content'], { membership: 'leave', reason: 'moving on' });
    assert.equal(leave?.['sender'], bob.user_id);
    assert.equal(leave?.['room_id'], roomId);

    // Leaving again changes nothing: 200 {} and still the same single leave event.
    assertEmptyOk(await http.call('POST', `${V3}/rooms/${enc(roomId)}/leave`, { token: bob.access_token, json: { reason: 'moving on' } }));
    const again = memberEvents(await http.call('GET', `${V3}/rooms/${enc(roomId)}/members`, { token: alice.access_token }), bob.user_id);
    assert.deepEqual(again.map((e) => e['event_id']), [leave?.['event_id']]);

    // A former member still reads the room as it was when they left.
    const seenByBob = await http.call('GET', `${V3}/rooms/${enc(roomId)}/members`, { token: bob.access_token });
    assert.equal(seenByBob.status, 200, seenByBob.text);
    assert.equal(memberEvents(seenByBob, bob.user_id)[0]?.['event_id'], leave?.['event_id']);
    assert.deepEqual((await memberContent(bob, roomId, bob.user_id)).body, { membership: 'leave', reason: 'moving on' });

    const asEvent = await http.call('GET', `${V3}/rooms/${enc(roomId)}/state/m.room.member/${enc(bob.user_id)}`, { token: alice.access_token, query: { format: 'event' } });
    assert.equal(asEvent.body['event_id'], leave?.['event_id']);
    assertError(await memberContent(alice, roomId, '@nobody:hs.test'), 404, 'M_NOT_FOUND');
    assert.deepEqual((await http.call('GET', `${V3}/rooms/${enc(roomId)}/state/m.room.name`, { token: alice.access_token })).body, { name: 'Lifecycle' });
    assert.deepEqual((await http.call('GET', `${V3}/rooms/${enc(roomId)}/state/m.room.topic/`, { token: alice.access_token })).body, { topic: 'leaving' });

    // Forget: once, again (no-op), and the room is gone from bob's reads.
    assertEmptyOk(await http.call('POST', `${V3}/rooms/${enc(roomId)}/forget`, { token: bob.access_token }));
    assertEmptyOk(await http.call('POST', `${V3}/rooms/${enc(roomId)}/forget`, { token: bob.access_token }));
    assertError(await http.call('GET', `${V3}/rooms/${enc(roomId)}/members`, { token: bob.access_token }), 403, 'M_FORBIDDEN');
    assertEmptyOk(await http.call('POST', `${V3}/rooms/${enc('!unknown:hs.test')}/forget`, { token: bob.access_token }));

    // Never a member, or no such room: 403 either way (as Synapse).
    assertError(await http.call('GET', `${V3}/rooms/${enc(roomId)}/members`, { token: carol.access_token }), 403, 'M_FORBIDDEN');
    assertError(await http.call('GET', `${V3}/rooms/${enc('!unknown:hs.test')}/members`, { token: carol.access_token }), 403, 'M_FORBIDDEN');
  });

  it('filters /members by membership', async () => {
    const { alice, bob, carol } = users;
    const roomId = await createRoom(alice, { preset: 'public_chat', invite: [carol.user_id] });
    await joinRoom(bob, roomId);
    const url = `${V3}/rooms/${enc(roomId)}/members`;
    const joined = await http.call('GET', url, { token: alice.access_token, query: { membership: 'join' } });
    assert.deepEqual((joined.body['chunk'] as { state_key: string }[]).map((e) => e.state_key).sort(), [alice.user_id, bob.user_id]);
    const notJoined = await http.call('GET', url, { token: alice.access_token, query: { not_membership: 'join' } });
    assert.deepEqual((notJoined.body['chunk'] as { state_key: string }[]).map((e) => e.state_key), [carol.user_id]);
    assertError(await http.call('GET', url, { token: alice.access_token, query: { membership: 'gone' } }), 400, 'M_INVALID_PARAM');
  });

  it('answers leave of an unknown room with 404 and of a room one is not in with 403', async () => {
    assertError(await http.call('POST', `${V3}/rooms/${enc('!nowhere:hs.test')}/leave`, { token: users.bob.access_token }), 404, 'M_NOT_FOUND');
    const roomId = await createRoom(users.alice);
    assertError(await http.call('POST', `${V3}/rooms/${enc(roomId)}/leave`, { token: users.outsider.access_token }), 403, 'M_FORBIDDEN');
  });

  it('accepts every body real clients send to leave and forget', async () => {
    const { alice, carol } = users;
    const variants: { name: string; raw?: string; headers?: Record<string, string>; reason?: string }[] = [
      { name: 'no body' },
      { name: 'empty body with a JSON content type', raw: '', headers: { 'content-type': 'application/json' } },
      { name: 'JSON without Content-Type', raw: '{"reason":"no type"}', reason: 'no type' },
      { name: 'JSON as text/plain', raw: '{"reason":"plain"}', headers: { 'content-type': 'text/plain' }, reason: 'plain' },
      { name: '{}', raw: '{}', headers: { 'content-type': 'application/json' } },
      { name: 'a reason', raw: '{"reason":"bye"}', headers: { 'content-type': 'application/json' }, reason: 'bye' },
    ];
    for (const variant of variants) {
      const roomId = await createRoom(alice, { preset: 'public_chat' });
      await joinRoom(carol, roomId);
      const options = { token: carol.access_token, ...(variant.raw === undefined ? {} : { raw: variant.raw }), ...(variant.headers === undefined ? {} : { headers: variant.headers }) };
      assertEmptyOk(await http.call('POST', `${V3}/rooms/${enc(roomId)}/leave`, options));
      const content = (await memberContent(alice, roomId, carol.user_id)).body;
      assert.deepEqual(content, { membership: 'leave', ...(variant.reason === undefined ? {} : { reason: variant.reason }) }, variant.name);
      assertEmptyOk(await http.call('POST', `${V3}/rooms/${enc(roomId)}/forget`, options));
      assertError(await http.call('GET', `${V3}/rooms/${enc(roomId)}/members`, { token: carol.access_token }), 403, 'M_FORBIDDEN');
    }
  });

  it('is strict about bodies: M_NOT_JSON, M_BAD_JSON, M_TOO_LARGE', async () => {
    const roomId = await createRoom(users.alice, { preset: 'public_chat' });
    await joinRoom(users.dave, roomId);
    const leave = `${V3}/rooms/${enc(roomId)}/leave`;
    const headers = { 'content-type': 'application/json' };
    for (const [raw, errcode] of [['not json', 'M_NOT_JSON'], ['{"reason":', 'M_NOT_JSON'], ['[]', 'M_BAD_JSON'], ['["reason"]', 'M_BAD_JSON'], ['"bye"', 'M_BAD_JSON'], ['42', 'M_BAD_JSON'], ['null', 'M_BAD_JSON']] as const) {
      assertError(await http.call('POST', leave, { token: users.dave.access_token, raw, headers }), 400, errcode);
      assertError(await http.call('POST', `${V3}/rooms/${enc(roomId)}/forget`, { token: users.dave.access_token, raw, headers }), 400, errcode);
    }
    for (const reason of [42, null, true, ['bye'], { text: 'bye' }]) {
      assertError(await http.call('POST', leave, { token: users.dave.access_token, json: { reason } }), 400, 'M_BAD_JSON');
    }
    assertError(await http.call('POST', leave, { token: users.dave.access_token, json: { reason: 'x'.repeat(BODY_LIMIT) } }), 413, 'M_TOO_LARGE');
    assertError(await http.call('POST', `${V3}/createRoom`, { token: users.dave.access_token, json: { name: 'x'.repeat(BODY_LIMIT) } }), 413, 'M_TOO_LARGE');
    // None of that left the room.
    assert.deepEqual((await memberContent(users.alice, roomId, users.dave.user_id)).body, { membership: 'join' });
  });

  it('answers unknown endpoints with 404 and known ones with another method with 405, both M_UNRECOGNIZED', async () => {
    const token = users.alice.access_token;
    for (const path of [`${V3}/no_such_endpoint`, '/_matrix/client/v9/joined_rooms', '/elsewhere', `${V3}/rooms/${enc('!a:hs.test')}/leave/extra`, `${V3}/JOINED_ROOMS`]) {
      assertError(await http.call('GET', path, { token }), 404, 'M_UNRECOGNIZED');
    }
    const wrong = await http.call('GET', `${V3}/rooms/${enc('!a:hs.test')}/leave`, { token });
    assertError(wrong, 405, 'M_UNRECOGNIZED');
    assert.match(wrong.headers.get('allow') ?? '', /POST/);
    assertError(await http.call('PUT', `${V3}/rooms/${enc('!a:hs.test')}/forget`, { token, json: {} }), 405, 'M_UNRECOGNIZED');
    assertError(await http.call('POST', `${V3}/joined_rooms`, { token, json: {} }), 405, 'M_UNRECOGNIZED');
    assertError(await http.call('DELETE', `${V3}/login`), 405, 'M_UNRECOGNIZED');
  });

  it('answers CORS preflights without running the endpoint, and puts CORS headers on every answer', async () => {
    const roomId = await createRoom(users.alice, { preset: 'public_chat' });
    await joinRoom(users.bob, roomId);
    const preflight = await http.call('OPTIONS', `${V3}/rooms/${enc(roomId)}/leave`, {
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      unchecked: true,
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Content-Type/);
    // OPTIONS with a token did not leave the room.
    await http.call('OPTIONS', `${V3}/rooms/${enc(roomId)}/leave`, { token: users.bob.access_token, unchecked: true });
    assert.deepEqual((await memberContent(users.alice, roomId, users.bob.user_id)).body, { membership: 'join' });
    for (const answer of [await http.call('GET', '/_matrix/client/versions'), await http.call('GET', `${V3}/joined_rooms`), await http.call('GET', `${V3}/nope`)]) {
      assert.equal(answer.headers.get('access-control-allow-origin'), '*');
    }
  });

  it('decodes percent-encoded room IDs exactly once', async () => {
    const roomId = await createRoom(users.alice, { preset: 'public_chat' });
    await joinRoom(users.carol, roomId);
    // Raw `!` and `:` work, and so does the encoded form.
    assertEmptyOk(await http.call('POST', `${V3}/rooms/${roomId}/leave`, { token: users.carol.access_token }));
    await joinRoom(users.carol, roomId);
    assertEmptyOk(await http.call('POST', `${V3}/rooms/${enc(roomId)}/leave`, { token: users.carol.access_token }));
    // Encoded twice is decoded once: `%21…` is not a room ID, and `!…%3Ahs.test` is another room.
    assertError(await http.call('POST', `${V3}/rooms/${enc(enc(roomId))}/leave`, { token: users.carol.access_token }), 400, 'M_INVALID_PARAM');
    const halfEncoded = `!${enc(enc(roomId.slice(1)))}`;
    const other = await http.call('POST', `${V3}/rooms/${halfEncoded}/leave`, { token: users.carol.access_token });
    assertError(other, 404, 'M_NOT_FOUND');
    assert.match(other.body['error'] as string, /%3Ahs\.test/);
    assertError(await http.call('POST', `${V3}/rooms/%E0%A4%A/leave`, { token: users.carol.access_token }), 400, 'M_INVALID_PARAM');
  });

  it('serves older clients on r0 paths with ?access_token=', async () => {
    const { alice, dave } = users;
    const created = await http.call('POST', `${R0}/createRoom`, { queryToken: alice.access_token, json: { preset: 'public_chat' } });
    const roomId = created.body['room_id'] as string;
    const joined = await http.call('POST', `${R0}/join/${enc(roomId)}`, { queryToken: dave.access_token, json: {} });
    assert.deepEqual(joined.body, { room_id: roomId });
    const rooms = await http.call('GET', `${R0}/joined_rooms`, { queryToken: dave.access_token });
    assert.ok((rooms.body['joined_rooms'] as string[]).includes(roomId));
    assertEmptyOk(await http.call('POST', `${R0}/rooms/${enc(roomId)}/leave`, { queryToken: dave.access_token, json: { reason: 'r0 bye' } }));
    const members = await http.call('GET', `${R0}/rooms/${enc(roomId)}/members`, { queryToken: dave.access_token });
    assert.deepEqual(memberEvents(members, dave.user_id)[0]?.['content'], { membership: 'leave', reason: 'r0 bye' });
    assertEmptyOk(await http.call('POST', `${R0}/rooms/${enc(roomId)}/forget`, { queryToken: dave.access_token, json: {} }));
    assertError(await http.call('GET', `${R0}/account/whoami`, { queryToken: 'mbt_bogus' }), 401, 'M_UNKNOWN_TOKEN');
  });

  it('rate-limits membership changes per user with 429, retry_after_ms and Retry-After', async () => {
    const { slow, alice } = users;
    const roomId = await createRoom(slow); // 1 of 2
    // A request refused before the limit (bad input) takes no token.
    assertError(await http.call('POST', `${V3}/rooms/${enc(roomId)}/leave`, { token: slow.access_token, json: { reason: 1 } }), 400, 'M_BAD_JSON');
    await joinRoom(slow, roomId); // 2 of 2 (already joined, still a membership request)
    const limited = await http.call('POST', `${V3}/rooms/${enc(roomId)}/leave`, { token: slow.access_token });
    assertError(limited, 429, 'M_LIMIT_EXCEEDED');
    const retryAfterMs = limited.body['retry_after_ms'] as number;
    assert.ok(retryAfterMs > 900_000 && retryAfterMs <= 1_000_000, String(retryAfterMs));
    assert.equal(limited.headers.get('retry-after'), String(Math.ceil(retryAfterMs / 1000)));
    assertError(await http.call('POST', `${V3}/rooms/${enc(roomId)}/forget`, { token: slow.access_token }), 429, 'M_LIMIT_EXCEEDED');
    // Reads are not limited, and other users have their own buckets.
    assert.ok((await joinedRooms(slow)).includes(roomId));
    assert.equal((await http.call('POST', `${V3}/createRoom`, { token: alice.access_token, json: {} })).status, 200);
  });

  it('invites, kicks, bans and unbans, with the reasons in the member events', async () => {
    const { alice, bob, carol, dave } = users;
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    const room = `${V3}/rooms/${enc(roomId)}`;
    await joinRoom(bob, roomId);

    assertEmptyOk(await http.call('POST', `${room}/kick`, { token: alice.access_token, json: { user_id: bob.user_id, reason: 'spam' } }));
    const kicked = memberEvents(await http.call('GET', `${room}/members`, { token: alice.access_token }), bob.user_id)[0];
    assert.deepEqual(kicked?.['content'], { membership: 'leave', reason: 'spam' });
    assert.equal(kicked?.['sender'], alice.user_id);
    assertError(await http.call('POST', `${room}/kick`, { token: alice.access_token, json: { user_id: bob.user_id } }), 403, 'M_FORBIDDEN');

    assertEmptyOk(await http.call('POST', `${room}/invite`, { token: alice.access_token, json: { user_id: carol.user_id, reason: 'join us' } }));
    assert.deepEqual((await memberContent(alice, roomId, carol.user_id)).body, { membership: 'invite', reason: 'join us' });
    assertEmptyOk(await http.call('POST', `${room}/leave`, { token: carol.access_token, json: { reason: 'no thanks' } }));
    assert.deepEqual((await memberContent(alice, roomId, carol.user_id)).body, { membership: 'leave', reason: 'no thanks' });

    assertEmptyOk(await http.call('POST', `${room}/ban`, { token: alice.access_token, json: { user_id: dave.user_id, reason: 'rude' } }));
    assert.deepEqual((await memberContent(alice, roomId, dave.user_id)).body, { membership: 'ban', reason: 'rude' });
    assertError(await http.call('POST', `${room}/join`, { token: dave.access_token, json: {} }), 403, 'M_FORBIDDEN');
    assertEmptyOk(await http.call('POST', `${room}/unban`, { token: alice.access_token, json: { user_id: dave.user_id } }));
    assert.deepEqual((await memberContent(alice, roomId, dave.user_id)).body, { membership: 'leave' });
    await joinRoom(dave, roomId);
    assertError(await http.call('POST', `${room}/unban`, { token: alice.access_token, json: { user_id: dave.user_id } }), 403, 'M_FORBIDDEN');

    await joinRoom(bob, roomId);
    assertError(await http.call('POST', `${room}/kick`, { token: bob.access_token, json: { user_id: alice.user_id } }), 403, 'M_FORBIDDEN');

    for (const verb of ['invite', 'kick', 'ban', 'unban']) {
      assertError(await http.call('POST', `${room}/${verb}`, { token: alice.access_token, json: {} }), 400, 'M_MISSING_PARAM');
      assertError(await http.call('POST', `${room}/${verb}`, { token: alice.access_token, json: { user_id: 'bob' } }), 400, 'M_INVALID_PARAM');
      assertError(await http.call('POST', `${room}/${verb}`, { token: alice.access_token, json: { user_id: 7 } }), 400, 'M_BAD_JSON');
    }
    assertError(await http.call('POST', `${room}/invite`, { token: alice.access_token, json: { medium: 'email', address: 'a@b.c', id_server: 'x', id_access_token: 'y' } }), 400, 'M_INVALID_PARAM');
  });

  it('joins by ID or alias as far as the membership service can', async () => {
    const token = users.bob.access_token;
    assertError(await http.call('POST', `${V3}/join/${enc('#nowhere:hs.test')}`, { token }), 404, 'M_NOT_FOUND');
    assertError(await http.call('POST', `${V3}/join/${enc('!nowhere:remote.test')}`, { token, query: { via: ['remote.test'] } }), 404, 'M_NOT_FOUND');
    assertError(await http.call('POST', `${V3}/join/${enc('!x:remote.test')}`, { token, query: { via: ['not a server'] } }), 400, 'M_INVALID_PARAM');
    assertError(await http.call('POST', `${V3}/join/nothing`, { token }), 400, 'M_INVALID_PARAM');
    assertError(await http.call('POST', `${V3}/rooms/${enc('#alias:hs.test')}/join`, { token }), 400, 'M_INVALID_PARAM');
    const roomId = await createRoom(users.alice, { preset: 'public_chat' });
    const joined = await http.call('POST', `${V3}/join/${enc(roomId)}`, { token, query: { server_name: 'hs.test' }, json: { reason: 'hello' } });
    assert.deepEqual(joined.body, { room_id: roomId });
    assert.deepEqual((await memberContent(users.bob, roomId, users.bob.user_id)).body, { membership: 'join', reason: 'hello' });
  });

  it('creates rooms of the requested version, and refuses what it cannot honour', async () => {
    const { alice } = users;
    const v12 = await createRoom(alice, { room_version: '12', preset: 'public_chat' });
    assert.match(v12, /^![A-Za-z0-9_-]{43}$/);
    const members = await http.call('GET', `${V3}/rooms/${enc(v12)}/members`, { token: alice.access_token });
    assert.equal(memberEvents(members, alice.user_id)[0]?.['room_id'], v12);
    const create = await http.call('GET', `${V3}/rooms/${enc(v12)}/state/m.room.create`, { token: alice.access_token, query: { format: 'event' } });
    assert.equal(create.body['room_id'], v12, 'v12 create events carry no room_id; the client event has one');

    assertError(await http.call('POST', `${V3}/createRoom`, { token: alice.access_token, json: { room_version: '99' } }), 400, 'M_UNSUPPORTED_ROOM_VERSION');
    assertError(await http.call('POST', `${V3}/createRoom`, { token: alice.access_token, json: { preset: 'everyone' } }), 400, 'M_INVALID_PARAM');
    assertError(await http.call('POST', `${V3}/createRoom`, { token: alice.access_token, json: { name: 5 } }), 400, 'M_BAD_JSON');
    assertError(await http.call('POST', `${V3}/createRoom`, { token: alice.access_token, json: { invite: ['nobody'] } }), 400, 'M_INVALID_PARAM');
    const encrypted = { initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }] };
    assertError(await http.call('POST', `${V3}/createRoom`, { token: alice.access_token, json: encrypted }), 400, 'M_INVALID_PARAM');
    assert.equal((await http.call('POST', `${V3}/createRoom`, { token: alice.access_token, json: { initial_state: [], creation_content: {}, is_direct: false } })).status, 200);
    // `m.federate: true` is the default and is accepted; a non-federating room is not supported.
    assert.equal((await http.call('POST', `${V3}/createRoom`, { token: alice.access_token, json: { creation_content: { 'm.federate': true } } })).status, 200);
    assertError(await http.call('POST', `${V3}/createRoom`, { token: alice.access_token, json: { creation_content: { 'm.federate': false } } }), 400, 'M_INVALID_PARAM');
  });

  it('reports liveness and readiness', async () => {
    assert.deepEqual((await http.call('GET', '/healthz')).body, { status: 'ok' });
    assert.deepEqual((await http.call('GET', '/readyz')).body, { status: 'ready' });
  });
});

describe('cs-gateway without a membership service', () => {
  let gateway: AppProcess & { readonly client: GatewayClient };
  let user: CreatedUser;

  before(async () => {
    const dataDir = join(scratch.dir, 'orphan');
    user = await createUserWithCli(dataDir, 'alice');
    gateway = await startGateway(dataDir, { MEMBRANE_CS_MEMBERSHIP__ADDRESS: '127.0.0.1:1', MEMBRANE_CS_MEMBERSHIP__DEADLINE_MS: '3000' });
  });

  after(async () => {
    await gateway?.stop();
  });

  it('is alive but not ready, and answers membership requests with 503', async () => {
    assert.equal((await gateway.client.call('GET', '/healthz')).status, 200);
    const ready = await gateway.client.call('GET', '/readyz');
    assert.equal(ready.status, 503);
    assertError(await gateway.client.call('POST', `${V3}/createRoom`, { token: user.access_token, json: {} }), 503, 'M_UNKNOWN');
  });
});

describe('cs-gateway with tokens verified by an upstream homeserver', () => {
  let gateway: AppProcess & { readonly client: GatewayClient };
  let upstream: Server;
  const whoamiCalls: string[] = [];

  before(async () => {
    upstream = createServer((req, res) => {
      const auth = req.headers.authorization ?? '';
      whoamiCalls.push(`${req.method ?? ''} ${req.url ?? ''} ${auth}`);
      const known = auth === 'Bearer syt_upstream_token';
      res.writeHead(known ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(known ? { user_id: '@erin:hs.test', device_id: 'SYNAPSEDEV' } : { errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid access token passed.', soft_logout: false }));
    });
    upstream.listen(0, '127.0.0.1');
    await new Promise((resolve) => upstream.once('listening', resolve));
    gateway = await startGateway(join(scratch.dir, 'upstream'), {
      MEMBRANE_CS_AUTH__TYPE: 'upstream',
      MEMBRANE_CS_AUTH__BASE_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    });
  });

  after(async () => {
    await gateway?.stop();
    upstream?.closeAllConnections();
    upstream?.close();
  });

  it("believes the homeserver's whoami, caches it, and lets that user change memberships", async () => {
    const http = gateway.client;
    const token = 'syt_upstream_token';
    assert.deepEqual((await http.call('GET', `${V3}/account/whoami`, { token })).body, { user_id: '@erin:hs.test', device_id: 'SYNAPSEDEV', is_guest: false });
    const created = await http.call('POST', `${V3}/createRoom`, { token, json: { preset: 'public_chat' } });
    assert.equal(created.status, 200, created.text);
    const roomId = created.body['room_id'] as string;
    assertEmptyOk(await http.call('POST', `${V3}/rooms/${enc(roomId)}/leave`, { token, json: { reason: 'done' } }));
    assert.equal(whoamiCalls.filter((c) => c === `GET /_matrix/client/v3/account/whoami Bearer ${token}`).length, 1);
  });

  it('refuses tokens the homeserver does not know, and leaves login to the homeserver', async () => {
    const http = gateway.client;
    assertError(await http.call('GET', `${V3}/joined_rooms`, { token: 'syt_unknown' }), 401, 'M_UNKNOWN_TOKEN');
    assertError(await http.call('POST', `${V3}/login`, { json: { type: 'm.login.password', user: 'erin', password: 'x' } }), 404, 'M_UNRECOGNIZED');
    assertError(await http.call('POST', `${V3}/logout`, { token: 'syt_upstream_token' }), 404, 'M_UNRECOGNIZED');
  });
});

describe('cs-gateway command line', () => {
  it('prints help, and exits with 2 naming the bad key of a wrong configuration', () => {
    const help = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--help'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /MEMBRANE_CS_/);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', MAIN], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, MEMBRANE_CS_LISTEN__PORT: 'eighty', MEMBRANE_CS_DATA_DIR: join(scratch.dir, 'bad') },
    });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /listen\.port/);
  });
});
