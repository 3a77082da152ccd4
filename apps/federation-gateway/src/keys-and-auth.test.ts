// The gateway as a process over real HTTPS: its key document, its version,
// and X-Matrix authentication of every federation request, driven by fake
// remote servers with their own keys.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@membrane/canonical-json';
import { Membership } from '@membrane/proto';
import { encodeVerifyKey, generateSigningKey, parseServerKeyResponse } from '@membrane/signing';
import type { FederationAnswer, FederationCall } from '@membrane/testing';
import { ALICE, US, path, startFixture } from './test-support/fixture.js';
import type { Fixture } from './test-support/fixture.js';

const OLD_KEY = generateSigningKey('old1');
const DAY = 24 * 60 * 60 * 1000;

function assertError(answer: FederationAnswer, status: number, errcode: string, message?: RegExp): void {
  assert.equal(answer.status, status, answer.text);
  const body = answer.body as { errcode?: unknown; error?: unknown };
  assert.equal(body.errcode, errcode, answer.text);
  assert.equal(typeof body.error, 'string');
  if (message !== undefined) assert.match(String(body.error), message);
}

describe('federation gateway: keys, version and X-Matrix', () => {
  let f: Fixture;
  let roomId = '';
  let bob = '';
  let leave: { path: string; body: JsonObject };
  let makeLeavePath = '';

  before(async () => {
    f = await startFixture({
      MEMBRANE_FED_MAX_BODY_BYTES: '100000',
      MEMBRANE_FED_KEYS__OLD_VERIFY_KEYS: JSON.stringify([{ keyId: OLD_KEY.keyId, publicKey: encodeVerifyKey(OLD_KEY), expiredTs: 1_600_000_000_000 }]),
    });
    const room = await f.createRoom();
    roomId = room.roomId;
    bob = f.remote.userId('bob');
    await f.join(roomId, room.version, bob);
    const built = await f.leaveEvent(roomId, room.version, bob);
    leave = { path: path('v2/send_leave', roomId, built.eventId), body: built.event as unknown as JsonObject };
    makeLeavePath = path('v1/make_leave', roomId, bob);
  });

  after(async () => {
    await f?.stop();
  });

  it('publishes our signing key, self-signed, valid for a day, with the configured old keys', async () => {
    const answer = await f.call({ method: 'GET', path: '/_matrix/key/v2/server', authorization: null });
    assert.equal(answer.status, 200);
    const keys = parseServerKeyResponse(answer.body, US);
    assert.deepEqual([...keys.verifyKeys.keys()], [f.ourKey.keyId]);
    assert.deepEqual(keys.verifyKeys.get(f.ourKey.keyId), f.ourKey.publicKey);
    assert.ok(Math.abs(keys.validUntilTs - (Date.now() + DAY)) < 60_000, `valid_until_ts ${keys.validUntilTs}`);
    assert.deepEqual(keys.oldVerifyKeys.get(OLD_KEY.keyId)?.publicKey, OLD_KEY.publicKey);
    assert.equal(keys.oldVerifyKeys.get(OLD_KEY.keyId)?.expiredTs, 1_600_000_000_000);
  });

  it('answers /version without authentication', async () => {
    const answer = await f.call({ method: 'GET', path: '/_matrix/federation/v1/version', authorization: null });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { server: { name: 'membrane-federation-gateway', version: '0.1.0' } });
  });

  it('is ready while its membership service answers', async () => {
    const live = await f.call({ method: 'GET', path: '/healthz', authorization: null });
    assert.equal(live.status, 200);
    const ready = await f.call({ method: 'GET', path: '/readyz', authorization: null });
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready' });
  });

  it('answers unknown endpoints and methods with M_UNRECOGNIZED before authentication (so peers fall back)', async () => {
    assertError(await f.call({ method: 'PUT', path: path('v3/send_leave', roomId, '$x'), body: {}, authorization: null }), 404, 'M_UNRECOGNIZED');
    assertError(await f.call({ method: 'POST', path: path('v2/send_leave', roomId, '$x'), body: {}, authorization: null }), 405, 'M_UNRECOGNIZED');
  });

  it('lets a correctly signed request through (the room answer proves authentication passed)', async () => {
    const answer = await f.call({ method: 'GET', path: makeLeavePath });
    assert.equal(answer.status, 200, answer.text);
    assert.equal((answer.body as { room_version: string }).room_version, '11');
    assertError(await f.call({ method: 'GET', path: path('v1/make_leave', '!unknown:hs.test', bob) }), 404, 'M_NOT_FOUND');
  });

  const refused: { name: string; status: number; message: RegExp; call: () => FederationCall | Promise<FederationCall> }[] = [
    { name: 'no Authorization header', status: 401, message: /Missing Authorization/, call: () => ({ method: 'GET', path: makeLeavePath, authorization: null }) },
    { name: 'another auth scheme only', status: 401, message: /Missing Authorization/, call: () => ({ method: 'GET', path: makeLeavePath, authorization: 'Bearer abc' }) },
    { name: 'a malformed X-Matrix header', status: 400, message: /Malformed/, call: () => ({ method: 'GET', path: makeLeavePath, authorization: 'X-Matrix origin="x",key=' }) },
    { name: 'a header without sig', status: 400, message: /Malformed/, call: () => ({ method: 'GET', path: makeLeavePath, authorization: `X-Matrix origin="${f.remote.serverName}",key="${f.remote.key.keyId}"` }) },
    { name: 'another destination', status: 401, message: /Destination mismatch/, call: () => ({ method: 'GET', path: makeLeavePath, destination: 'other.test' }) },
    { name: 'a key the origin does not publish', status: 401, message: /Failed to find any key/, call: () => ({ method: 'GET', path: makeLeavePath, key: generateSigningKey('unpublished') }) },
    { name: 'the right key id but another key (bad signature)', status: 401, message: /Invalid signature/, call: () => ({ method: 'GET', path: makeLeavePath, key: generateSigningKey(f.remote.key.version) }) },
    { name: 'a signature over another path', status: 401, message: /Invalid signature/, call: () => ({ method: 'GET', path: makeLeavePath, signedPath: path('v1/make_leave', roomId, f.remote.userId('carol')) }) },
    { name: 'a signature over another method', status: 401, message: /Invalid signature/, call: () => ({ method: 'GET', path: makeLeavePath, signedMethod: 'PUT' }) },
    { name: 'a signature that omits the query string', status: 401, message: /Invalid signature/, call: () => ({ method: 'GET', path: `${makeLeavePath}?ver=11`, signedPath: makeLeavePath }) },
    { name: 'an origin whose key did not sign', status: 401, message: /Failed to find any key|Invalid signature/, call: async () => ({ method: 'GET', path: makeLeavePath, origin: (await f.newRemote()).serverName }) },
  ];
  for (const variant of refused) {
    it(`refuses a request with ${variant.name}: ${variant.status} M_UNAUTHORIZED`, async () => {
      assertError(await f.call(await variant.call()), variant.status, 'M_UNAUTHORIZED', variant.message);
    });
  }

  it('refuses a send_leave whose body differs from the signed content, and the leave does not happen', async () => {
    const signedContent = { ...leave.body, origin_server_ts: 1 };
    assertError(await f.call({ method: 'PUT', path: leave.path, body: leave.body, signedContent }), 401, 'M_UNAUTHORIZED', /Invalid signature/);
    assertError(await f.call({ method: 'PUT', path: leave.path, body: leave.body, authorization: null }), 401, 'M_UNAUTHORIZED');
    assertError(await f.call({ method: 'PUT', path: leave.path, body: leave.body, destination: 'elsewhere.test' }), 401, 'M_UNAUTHORIZED');
    assert.equal((await f.membership(roomId, bob)).membership, Membership.JOIN);
  });

  it('refuses a body over maxBodyBytes with 413 M_TOO_LARGE before authentication, and keeps serving', async () => {
    const big = { padding: 'x'.repeat(150_000) };
    assertError(await f.call({ method: 'PUT', path: leave.path, body: big, authorization: null }), 413, 'M_TOO_LARGE');
    assertError(await f.call({ method: 'PUT', path: leave.path, body: big }), 413, 'M_TOO_LARGE');
    assert.equal((await f.call({ method: 'GET', path: '/_matrix/federation/v1/version', authorization: null })).status, 200);
    assert.equal((await f.membership(roomId, bob)).membership, Membership.JOIN);
  });

  it('refuses requests signed with an expired key', async () => {
    const expired = await f.newRemote({ keyDocument: { validForMs: -60_000 } });
    assertError(await f.call({ method: 'GET', path: path('v1/make_leave', roomId, expired.userId('x')) }, expired), 401, 'M_UNAUTHORIZED', /Failed to find any key/);
    assert.equal(expired.keyRequests >= 1, true, 'the keys were fetched');
  });

  it('refuses requests when the origin key document is not validly self-signed', async () => {
    const forger = await f.newRemote();
    forger.setKeyDocument((honest) => ({ ...honest, valid_until_ts: (honest['valid_until_ts'] as number) + 1 }));
    assertError(await f.call({ method: 'GET', path: path('v1/make_leave', roomId, forger.userId('x')) }, forger), 401, 'M_UNAUTHORIZED');
    const other = await f.newRemote();
    other.setKeyDocument((honest) => ({ ...honest, server_name: 'someone.else' }));
    assertError(await f.call({ method: 'GET', path: path('v1/make_leave', roomId, other.userId('x')) }, other), 401, 'M_UNAUTHORIZED');
  });

  it('fetches a remote key document once and answers from the cache afterwards', async () => {
    const fresh = await f.newRemote();
    for (let i = 0; i < 3; i++) {
      assertError(await f.call({ method: 'GET', path: path('v1/make_leave', roomId, fresh.userId('x')) }, fresh), 403, 'M_FORBIDDEN');
    }
    assert.equal(fresh.keyRequests, 1);
  });

  it('refuses a make_leave for a user of another server than the origin', async () => {
    assertError(await f.call({ method: 'GET', path: path('v1/make_leave', roomId, ALICE) }), 403, 'M_FORBIDDEN');
    assert.equal((await f.membership(roomId, ALICE)).membership, Membership.JOIN);
  });
});
