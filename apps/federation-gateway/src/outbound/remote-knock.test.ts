import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@membrane/canonical-json';
import { buildMembershipTemplate, buildPdu, computeEventId, getRoomVersion, roomIdFromCreateEventId, verifyEventSignatures } from '@membrane/events';
import type { Pdu } from '@membrane/events';
import { AttemptOutcome } from '@membrane/proto';
import { generateSigningKey } from '@membrane/signing';
import type { FederationRequest, FederationRequester, FederationResponse } from './federation-client.js';
import { checkKnockRoomState, performRemoteKnock } from './remote-knock.js';
import { noServerAccepted } from './remote-membership-service.js';
import { BOB, CAROL, ROOM, THEM, US, keyForEvent, ourKey, scripted, them, theirKey } from '../test-support/outbound.js';

const version = getRoomVersion('11');
const signer = { serverName: US, key: ourKey };

const template = (overrides: Partial<{ userId: string; membership: 'knock' | 'join'; roomId: string }> = {}): JsonObject =>
  buildMembershipTemplate({
    version,
    roomId: overrides.roomId ?? ROOM,
    userId: overrides.userId ?? BOB,
    membership: overrides.membership ?? 'knock',
    prevEvents: [{ eventId: '$prev', depth: 3 }],
    authEvents: [{ eventId: '$create' }, { eventId: '$rules' }, { eventId: '$pl' }],
    originServerTs: 4,
  });

/** A state event of their room, signed by them. */
const stateEvent = (type: string, content: JsonObject, roomId = ROOM): JsonObject =>
  buildPdu({ version, proto: { type, sender: CAROL, room_id: roomId, state_key: '', content }, prevEvents: [{ eventId: '$prev', depth: 1 }], authEvents: [], originServerTs: 1 }, them).event as unknown as JsonObject;

const knockRoomState = [stateEvent('m.room.create', { room_version: '11', creator: CAROL }), stateEvent('m.room.join_rules', { join_rule: 'knock' }), stateEvent('m.room.name', { name: 'Knock here' })];

const knockOn = (client: FederationRequester, serverNames: string[] = [THEM], reason?: string) =>
  performRemoteKnock({ client, signer, keyForEvent }, { roomId: ROOM, userId: BOB, serverNames, supportedRoomVersions: ['6', '7', '10', '11'], ...(reason === undefined ? {} : { reason }) });

describe('performRemoteKnock', () => {
  it('asks make_knock with our room versions, signs the template with the reason, sends send_knock and returns the knock_room_state', async () => {
    const client = scripted((req) => (req.method === 'GET' ? { status: 200, body: { room_version: '11', event: template() } } : { status: 200, body: { knock_room_state: knockRoomState } }));
    const result = await knockOn(client, [THEM], 'let me in');
    assert.equal(client.calls[0]?.path, `/_matrix/federation/v1/make_knock/${encodeURIComponent(ROOM)}/${encodeURIComponent(BOB)}?ver=6&ver=7&ver=10&ver=11`);
    assert.equal(client.calls[0]?.destination, THEM);
    const knock = JSON.parse(result.knockEventJson) as Pdu;
    assert.deepEqual(knock.content, { membership: 'knock', reason: 'let me in' });
    assert.equal(verifyEventSignatures(knock, version, (server, keyId) => (server === US && keyId === ourKey.keyId ? ourKey.publicKey : undefined)).ok, true);
    assert.equal(client.calls[1]?.method, 'PUT');
    assert.equal(client.calls[1]?.path, `/_matrix/federation/v1/send_knock/${encodeURIComponent(ROOM)}/${encodeURIComponent(computeEventId(knock, version))}`);
    assert.deepEqual(client.calls[1]?.body, knock);
    assert.deepEqual([result.roomVersion, result.serverName], ['11', THEM]);
    assert.deepEqual(result.knockRoomStateJson.map((json) => JSON.parse(json) as unknown), knockRoomState);
    assert.deepEqual(result.attempts.map((a) => [a.serverName, a.outcome, a.endpoint]), [[THEM, AttemptOutcome.SUCCEEDED, 'send_knock']]);
  });

  it('reads knock_state_events, the name older Synapse versions answered', async () => {
    const client = scripted((req) => (req.method === 'GET' ? { status: 200, body: { room_version: '11', event: template() } } : { status: 200, body: { knock_state_events: knockRoomState } }));
    const result = await knockOn(client);
    assert.equal(result.knockRoomStateJson.length, 3);
  });

  it('goes on to the next server when one refuses, and reports each attempt', async () => {
    const client = scripted((req) => {
      if (req.destination === 'first.test') return { status: 403, body: { errcode: 'M_FORBIDDEN', error: 'You are not permitted to knock on this room' } };
      return req.method === 'GET' ? { status: 200, body: { room_version: '11', event: template() } } : { status: 200, body: { knock_room_state: knockRoomState } };
    });
    const result = await knockOn(client, ['first.test', THEM, 'never.test']);
    assert.equal(result.serverName, THEM);
    assert.deepEqual(
      result.attempts.map((a) => [a.serverName, a.outcome, a.endpoint, a.errcode]),
      [
        ['first.test', AttemptOutcome.REFUSED, 'make_knock', 'M_FORBIDDEN'],
        [THEM, AttemptOutcome.SUCCEEDED, 'send_knock', ''],
      ],
    );
    assert.ok(!client.calls.some((c) => c.destination === 'never.test'), 'the servers after the one that took the knock are not asked');
  });

  it('refuses unusable answers: a version without knocking or not ours, a template for someone else, no knock_room_state', async () => {
    const answers: Record<string, (req: FederationRequest) => FederationResponse> = {
      'v6.test': () => ({ status: 200, body: { room_version: '6', event: template() } }),
      'v12.test': () => ({ status: 200, body: { room_version: '12', event: template() } }),
      'other-user.test': () => ({ status: 200, body: { room_version: '11', event: template({ userId: `@eve:${US}` }) } }),
      'join.test': () => ({ status: 200, body: { room_version: '11', event: template({ membership: 'join' }) } }),
      'no-state.test': (req) => (req.method === 'GET' ? { status: 200, body: { room_version: '11', event: template() } } : { status: 200, body: {} }),
      'html.test': () => ({ status: 502, body: '<html>' }),
    };
    const client = scripted((req) => (answers[req.destination] as (r: FederationRequest) => FederationResponse)(req));
    const result = await knockOn(client, Object.keys(answers));
    assert.equal(result.knockEventJson, '');
    assert.deepEqual(
      result.attempts.map((a) => [a.serverName, a.outcome]),
      Object.keys(answers).map((server) => [server, AttemptOutcome.INVALID_RESPONSE]),
    );
    assert.deepEqual(
      result.attempts.map((a) => a.message),
      ['room version 6 has no knocking', 'unsupported room version 12', 'template sender is not the user', 'template membership is not knock', 'knock_room_state is not a list', 'HTTP 502 without a Matrix error'],
    );
  });
});

describe('checkKnockRoomState', () => {
  const stripped = (type: string, content: JsonObject): JsonObject => ({ type, state_key: '', sender: CAROL, content });

  it('keeps the PDUs of the room that are correctly signed, and the stripped events of servers before spec v1.16', async () => {
    assert.deepEqual(await checkKnockRoomState({ knock_room_state: knockRoomState }, ROOM, version, keyForEvent), knockRoomState);
    const legacy = [stripped('m.room.create', { creator: CAROL }), stripped('m.room.name', { name: 'old' })];
    assert.deepEqual(await checkKnockRoomState({ knock_room_state: legacy }, ROOM, version, keyForEvent), legacy);
  });

  it('drops PDUs that are forged, of another room, or not events at all (the spec: SHOULD be removed)', async () => {
    const [create, rules] = knockRoomState as [JsonObject, JsonObject, JsonObject];
    // Signed anew by a key nobody published, under their server's name.
    const forged = buildPdu({ version, proto: { type: 'm.room.name', sender: CAROL, room_id: ROOM, state_key: '', content: { name: 'Forged' } }, prevEvents: [{ eventId: '$prev', depth: 1 }], authEvents: [], originServerTs: 1 }, { serverName: THEM, key: generateSigningKey(theirKey.keyId.slice('ed25519:'.length)) }).event as unknown as JsonObject;
    const otherRoom = stateEvent('m.room.topic', { topic: 'elsewhere' }, `!other:${THEM}`);
    const byStranger = buildPdu({ version, proto: { type: 'm.room.topic', sender: CAROL, room_id: ROOM, state_key: '', content: { topic: 'x' } }, prevEvents: [{ eventId: '$prev', depth: 1 }], authEvents: [], originServerTs: 1 }, { serverName: THEM, key: generateSigningKey() }).event as unknown as JsonObject;
    const kept = await checkKnockRoomState({ knock_room_state: [create, forged, rules, otherRoom, byStranger, 7, { type: 'm.room.topic' }] }, ROOM, version, keyForEvent);
    assert.deepEqual(kept, [create, rules]);
  });

  it('keeps only the redacted form of a PDU whose content hash does not match', async () => {
    const name = knockRoomState[2] as JsonObject;
    const altered = { ...name, content: { name: 'Altered in transit' } };
    const [kept] = (await checkKnockRoomState({ knock_room_state: [altered] }, ROOM, version, keyForEvent)) as JsonObject[];
    assert.deepEqual(kept?.['content'], {});
  });

  it('in room version 12 wants the create event as a signed PDU of this very room (MSC4311)', async () => {
    const v12 = getRoomVersion('12');
    const create = buildPdu({ version: v12, proto: { type: 'm.room.create', sender: CAROL, state_key: '', content: { room_version: '12' } }, prevEvents: [], authEvents: [], originServerTs: 1 }, them);
    const v12Room = roomIdFromCreateEventId(create.eventId);
    const rules = buildPdu({ version: v12, proto: { type: 'm.room.join_rules', sender: CAROL, room_id: v12Room, state_key: '', content: { join_rule: 'knock' } }, prevEvents: [{ eventId: create.eventId, depth: 1 }], authEvents: [], originServerTs: 2 }, them).event as unknown as JsonObject;
    const createJson = create.event as unknown as JsonObject;
    assert.equal(((await checkKnockRoomState({ knock_room_state: [createJson, rules] }, v12Room, v12, keyForEvent)) as JsonObject[]).length, 2);
    assert.match(String(await checkKnockRoomState({ knock_room_state: [rules] }, v12Room, v12, keyForEvent)), /no correctly signed m\.room\.create/);
    assert.match(String(await checkKnockRoomState({ knock_room_state: [stripped('m.room.create', { room_version: '12' }), rules] }, v12Room, v12, keyForEvent)), /no correctly signed m\.room\.create/);
    const otherRoom = `!${'A'.repeat(43)}`;
    assert.match(String(await checkKnockRoomState({ knock_room_state: [createJson] }, otherRoom, v12, keyForEvent)), /no correctly signed m\.room\.create/);
  });
});

describe('noServerAccepted', () => {
  const attempt = (serverName: string, outcome: number, httpStatus: number, errcode = '', message = '') => ({ serverName, outcome: outcome as AttemptOutcome, endpoint: 'make_knock', httpStatus, errcode, message, durationMs: 1 });

  it("passes on the last server's Matrix refusal, so the user learns why", () => {
    const error = noServerAccepted('take the knock', [attempt('a.test', AttemptOutcome.REFUSED, 404, 'M_NOT_FOUND', 'Unknown room'), attempt('b.test', AttemptOutcome.REFUSED, 403, 'M_FORBIDDEN', 'You are not permitted to knock on this room'), attempt('c.test', AttemptOutcome.UNREACHABLE, 0)]);
    assert.deepEqual([error.status, error.errcode, error.message], [403, 'M_FORBIDDEN', 'You are not permitted to knock on this room']);
  });

  it('is 502 when no server gave a Matrix refusal', () => {
    const error = noServerAccepted('take the knock', [attempt('a.test', AttemptOutcome.UNREACHABLE, 0, '', 'connect ECONNREFUSED'), attempt('b.test', AttemptOutcome.REFUSED, 500, 'M_UNKNOWN', 'oops')]);
    assert.deepEqual([error.status, error.errcode], [502, 'M_UNKNOWN']);
    assert.match(error.message, /a\.test: connect ECONNREFUSED; b\.test: oops/);
    assert.equal(noServerAccepted('take the knock', []).status, 502);
  });
});
