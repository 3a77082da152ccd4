import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@membrane/canonical-json';
import { computeEventId, getRoomVersion, verifyEventSignatures } from '@membrane/events';
import type { Pdu } from '@membrane/events';
import { AttemptOutcome } from '@membrane/proto';
import { generateSigningKey } from '@membrane/signing';
import type { FederationRequest, FederationResponse } from './federation-client.js';
import { FederationRequestError } from './federation-client.js';
import { performRemoteLeave, shouldFallBackToV1 } from './remote-leave.js';
import { scripted } from '../test-support/outbound.js';

const US = 'us.test';
const USER = `@bob:${US}`;
const ROOM = '!room:them.test';
const key = generateSigningKey();
const signer = { serverName: US, key };

function template(overrides: JsonObject = {}): JsonObject {
  return {
    room_id: ROOM,
    type: 'm.room.member',
    sender: USER,
    state_key: USER,
    content: { membership: 'leave' },
    origin: 'them.test',
    origin_server_ts: 1_700_000_000_000,
    depth: 5,
    prev_events: ['$prev'],
    auth_events: ['$create', '$power', '$member'],
    ...overrides,
  };
}

const endpointOf = (req: FederationRequest): string => req.path.split('/').slice(3, 5).join('/');
const makeLeaveOk: FederationResponse = { status: 200, body: { room_version: '11', event: template() } };

describe('performRemoteLeave', () => {
  it('signs the template in the room version format and sends it with send_leave v2', async () => {
    const client = scripted((req) => (req.method === 'GET' ? makeLeaveOk : { status: 200, body: {} }));
    const result = await performRemoteLeave({ client, signer, clock: () => 1 }, { roomId: ROOM, userId: USER, serverNames: ['them.test'], reason: 'no thanks' });
    assert.equal(result.serverName, 'them.test');
    assert.equal(result.roomVersion, '11');
    const event = JSON.parse(result.leaveEventJson) as Pdu;
    assert.equal(event.content['membership'], 'leave');
    assert.equal(event.content['reason'], 'no thanks');
    assert.equal(event.event_id, undefined, 'v11 events carry no event_id');
    const version = getRoomVersion('11');
    const eventId = computeEventId(event, version);
    assert.equal(client.calls[1]?.path, `/_matrix/federation/v2/send_leave/${encodeURIComponent(ROOM)}/${encodeURIComponent(eventId)}`);
    assert.equal(client.calls[0]?.path, `/_matrix/federation/v1/make_leave/${encodeURIComponent(ROOM)}/${encodeURIComponent(USER)}`);
    const check = verifyEventSignatures(event as never, version, (server, keyId) => (server === US && keyId === key.keyId ? key.publicKey : undefined));
    assert.equal(check.ok, true);
    assert.deepEqual(result.attempts.map((a) => [a.serverName, a.outcome, a.endpoint]), [['them.test', AttemptOutcome.SUCCEEDED, 'send_leave/v2']]);
  });

  for (const [status, body, why] of [
    [404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' }, '404 M_UNRECOGNIZED'],
    [400, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' }, '400 M_UNRECOGNIZED'],
    [404, undefined, '404 without a Matrix body'],
    [405, undefined, '405 without a Matrix body'],
  ] as const) {
    it(`falls back to send_leave v1 on ${why}`, async () => {
      const client = scripted((req) => {
        if (req.method === 'GET') return makeLeaveOk;
        return endpointOf(req) === 'v2/send_leave' ? { status, body } : { status: 200, body: [200, {}] };
      });
      const result = await performRemoteLeave({ client, signer }, { roomId: ROOM, userId: USER, serverNames: ['them.test'] });
      assert.notEqual(result.leaveEventJson, '');
      assert.deepEqual(client.calls.map(endpointOf), ['v1/make_leave', 'v2/send_leave', 'v1/send_leave']);
      assert.deepEqual(client.calls[1]?.body, client.calls[2]?.body, 'the same event goes to v1');
      assert.equal(result.attempts[0]?.endpoint, 'send_leave/v1');
    });
  }

  it('does not fall back on a real refusal (403), and tries the next server', async () => {
    const client = scripted((req) => {
      if (req.method === 'GET') return makeLeaveOk;
      return req.destination === 'a.test' ? { status: 403, body: { errcode: 'M_FORBIDDEN', error: 'no' } } : { status: 200, body: {} };
    });
    const result = await performRemoteLeave({ client, signer }, { roomId: ROOM, userId: USER, serverNames: ['a.test', 'b.test'] });
    assert.equal(result.serverName, 'b.test');
    assert.deepEqual(
      result.attempts.map((a) => [a.serverName, a.outcome, a.endpoint, a.httpStatus, a.errcode]),
      [
        ['a.test', AttemptOutcome.REFUSED, 'send_leave/v2', 403, 'M_FORBIDDEN'],
        ['b.test', AttemptOutcome.SUCCEEDED, 'send_leave/v2', 200, ''],
      ],
    );
    assert.equal(client.calls.filter((c) => c.destination === 'a.test' && c.path.includes('/v1/send_leave')).length, 0);
  });

  it('refuses templates that are not a leave of our user in the room, and reports each server', async () => {
    const bad: Record<string, JsonObject> = {
      'wrong-room.test': template({ room_id: '!other:them.test' }),
      'wrong-user.test': template({ sender: '@eve:us.test', state_key: '@eve:us.test' }),
      'join.test': template({ content: { membership: 'join' } }),
    };
    const client = scripted((req) => {
      const event = bad[req.destination];
      if (req.method === 'GET' && event !== undefined) return { status: 200, body: { room_version: '11', event } };
      if (req.destination === 'down.test') return new FederationRequestError('down.test', 'unreachable', 'ECONNREFUSED');
      if (req.destination === 'slow.test') return new FederationRequestError('slow.test', 'timed-out', 'no answer');
      if (req.destination === 'html.test') return { status: 502, body: undefined };
      return { status: 500, body: undefined };
    });
    const result = await performRemoteLeave({ client, signer }, { roomId: ROOM, userId: USER, serverNames: [...Object.keys(bad), 'down.test', 'slow.test', 'html.test'] });
    assert.equal(result.leaveEventJson, '');
    assert.deepEqual(
      result.attempts.map((a) => [a.serverName, a.outcome]),
      [
        ['wrong-room.test', AttemptOutcome.INVALID_RESPONSE],
        ['wrong-user.test', AttemptOutcome.INVALID_RESPONSE],
        ['join.test', AttemptOutcome.INVALID_RESPONSE],
        ['down.test', AttemptOutcome.UNREACHABLE],
        ['slow.test', AttemptOutcome.TIMED_OUT],
        ['html.test', AttemptOutcome.INVALID_RESPONSE],
      ],
    );
    assert.equal(client.calls.filter((c) => c.method === 'PUT').length, 0, 'nothing bad was signed and sent');
  });

  it('refuses a template of another room version than the invite announced', async () => {
    const client = scripted(() => ({ status: 200, body: { room_version: '10', event: template() } }));
    const result = await performRemoteLeave({ client, signer }, { roomId: ROOM, userId: USER, serverNames: ['them.test'], roomVersion: '11' });
    assert.equal(result.attempts[0]?.outcome, AttemptOutcome.INVALID_RESPONSE);
    assert.match(result.attempts[0]?.message ?? '', /room version 10/);
  });

  it('gives v1/v2 room events an event ID of ours', async () => {
    const client = scripted((req) => (req.method === 'GET' ? { status: 200, body: { room_version: '1', event: template({ event_id: '$theirs:them.test' }) } } : { status: 200, body: {} }));
    const result = await performRemoteLeave({ client, signer }, { roomId: ROOM, userId: USER, serverNames: ['them.test'] });
    const event = JSON.parse(result.leaveEventJson) as Pdu;
    assert.match(String(event.event_id), /:us\.test$/);
  });

  it('skips ourselves and duplicates, and asks at most maxServers servers', async () => {
    const client = scripted(() => new FederationRequestError('x', 'unreachable', 'down'));
    const result = await performRemoteLeave({ client, signer, maxServers: 2 }, { roomId: ROOM, userId: USER, serverNames: [US, 'a.test', 'a.test', 'b.test', 'c.test'] });
    assert.deepEqual(result.attempts.map((a) => a.serverName), ['a.test', 'b.test']);
    assert.ok(client.calls.every((c) => c.ignoreBackoff === true), 'a user-initiated leave does not wait for backoff');
  });

  it('stops asking once the total deadline has passed', async () => {
    let now = 0;
    const client = scripted(() => {
      now += 1000;
      return new FederationRequestError('x', 'timed-out', 'slow');
    });
    const result = await performRemoteLeave({ client, signer, clock: () => now, totalTimeoutMs: 1500 }, { roomId: ROOM, userId: USER, serverNames: ['a.test', 'b.test', 'c.test'] });
    assert.equal(result.attempts.length, 2);
  });
});

describe('shouldFallBackToV1', () => {
  it('is true only for an unknown endpoint', () => {
    assert.equal(shouldFallBackToV1({ status: 404, body: { errcode: 'M_NOT_FOUND', error: 'no room' } }), false);
    assert.equal(shouldFallBackToV1({ status: 400, body: { errcode: 'M_BAD_JSON', error: '' } }), false);
    assert.equal(shouldFallBackToV1({ status: 405, body: { errcode: 'M_UNRECOGNIZED' } }), false);
    assert.equal(shouldFallBackToV1({ status: 500, body: undefined }), false);
    assert.equal(shouldFallBackToV1({ status: 405, body: 'Method Not Allowed' }), true);
  });
});
