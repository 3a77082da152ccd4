import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@membrane/canonical-json';
import { buildMembershipTemplate, buildPdu, computeEventId, getRoomVersion, hashAndSignEvent } from '@membrane/events';
import type { BuiltPdu, Pdu } from '@membrane/events';
import { AttemptOutcome } from '@membrane/proto';
import { generateSigningKey } from '@membrane/signing';
import type { SigningKey } from '@membrane/signing';
import { performRemoteInvite } from './remote-invite.js';
import { performRemoteJoin } from './remote-join.js';
import { BOB, CAROL, ROOM, THEM, US, keyForEvent, ourKey, scripted, them, theirKey } from '../test-support/outbound.js';

const version = getRoomVersion('10');

/** A small room on them.test: create, carol's join, public join rules. */
function theirRoom(): BuiltPdu[] {
  const create = buildPdu({ version, proto: { type: 'm.room.create', sender: CAROL, room_id: ROOM, state_key: '', content: { creator: CAROL, room_version: '10' } }, prevEvents: [], authEvents: [], originServerTs: 1 }, them);
  const join = buildPdu({ version, proto: { type: 'm.room.member', sender: CAROL, room_id: ROOM, state_key: CAROL, content: { membership: 'join' } }, prevEvents: [{ eventId: create.eventId, depth: 1 }], authEvents: [{ eventId: create.eventId }], originServerTs: 2 }, them);
  const rules = buildPdu({ version, proto: { type: 'm.room.join_rules', sender: CAROL, room_id: ROOM, state_key: '', content: { join_rule: 'public' } }, prevEvents: [{ eventId: join.eventId, depth: 2 }], authEvents: [{ eventId: create.eventId }, { eventId: join.eventId }], originServerTs: 3 }, them);
  return [create, join, rules];
}

describe('performRemoteJoin', () => {
  const room = theirRoom();
  const template = (): JsonObject =>
    buildMembershipTemplate({ version, roomId: ROOM, userId: BOB, membership: 'join', prevEvents: [{ eventId: room[2]?.eventId ?? '', depth: 3 }], authEvents: room.map((e) => ({ eventId: e.eventId })), originServerTs: 4 });
  const state = room.map((e) => e.event);

  it('asks make_join with our room versions, signs, sends send_join v2 and returns the checked state', async () => {
    const client = scripted((req) =>
      req.method === 'GET' ? { status: 200, body: { room_version: '10', event: template() } } : { status: 200, body: { origin: THEM, state, auth_chain: state, members_omitted: false } },
    );
    const result = await performRemoteJoin({ client, signer: { serverName: US, key: ourKey }, keyForEvent }, { roomId: ROOM, userId: BOB, serverNames: [THEM], supportedRoomVersions: ['9', '10'], contentExtras: { reason: 'hi' } });
    assert.equal(client.calls[0]?.path, `/_matrix/federation/v1/make_join/${encodeURIComponent(ROOM)}/${encodeURIComponent(BOB)}?ver=9&ver=10`);
    assert.match(client.calls[1]?.path ?? '', /^\/_matrix\/federation\/v2\/send_join\//);
    assert.equal(result.serverName, THEM);
    assert.equal(result.roomVersion, '10');
    assert.equal(result.stateJson.length, 3);
    const join = JSON.parse(result.joinEventJson) as Pdu;
    assert.deepEqual(join.content, { membership: 'join', reason: 'hi' });
    assert.equal(client.calls[1]?.path.endsWith(encodeURIComponent(computeEventId(join, version))), true);
  });

  it('falls back to send_join v1 and unwraps its [200, {...}] answer', async () => {
    const client = scripted((req) => {
      if (req.method === 'GET') return { status: 200, body: { room_version: '10', event: template() } };
      if (req.path.includes('/v2/')) return { status: 404, body: { errcode: 'M_UNRECOGNIZED', error: '' } };
      return { status: 200, body: [200, { origin: THEM, state, auth_chain: state }] };
    });
    const result = await performRemoteJoin({ client, signer: { serverName: US, key: ourKey }, keyForEvent }, { roomId: ROOM, userId: BOB, serverNames: [THEM], supportedRoomVersions: ['10'] });
    assert.equal(result.attempts[0]?.endpoint, 'send_join/v1');
    assert.equal(result.stateJson.length, 3);
  });

  it('refuses a state with a forged signature, and a room version we do not support', async () => {
    const forged = hashAndSignEvent({ ...(state[1] as unknown as JsonObject), signatures: {} } as never, THEM, generateSigningKey(), version) as unknown as Pdu;
    const client = scripted((req) => {
      if (req.destination === 'old.test') return { status: 200, body: { room_version: '1', event: template() } };
      return req.method === 'GET' ? { status: 200, body: { room_version: '10', event: template() } } : { status: 200, body: { origin: THEM, state: [state[0], forged, state[2]], auth_chain: state } };
    });
    const result = await performRemoteJoin({ client, signer: { serverName: US, key: ourKey }, keyForEvent }, { roomId: ROOM, userId: BOB, serverNames: ['old.test', THEM], supportedRoomVersions: ['10'] });
    assert.equal(result.joinEventJson, '');
    assert.deepEqual(result.attempts.map((a) => [a.serverName, a.outcome]), [['old.test', AttemptOutcome.INVALID_RESPONSE], [THEM, AttemptOutcome.INVALID_RESPONSE]]);
    assert.match(result.attempts[0]?.message ?? '', /unsupported room version 1/);
    assert.match(result.attempts[1]?.message ?? '', /not correctly signed/);
  });
});

describe('performRemoteInvite', () => {
  const room = theirRoom();
  const invite = buildPdu(
    { version, proto: { type: 'm.room.member', sender: BOB, room_id: ROOM, state_key: CAROL, content: { membership: 'invite' } }, prevEvents: [{ eventId: room[2]?.eventId ?? '', depth: 3 }], authEvents: [], originServerTs: 5 },
    { serverName: US, key: ourKey },
  );
  const counterSigned = (key: SigningKey): Pdu => hashAndSignEvent(invite.event as never, THEM, key, version) as unknown as Pdu;

  it("sends invite v2 to the invitee's server and returns the event it counter-signed", async () => {
    const client = scripted(() => ({ status: 200, body: { event: counterSigned(theirKey) } }));
    const result = await performRemoteInvite({ client, signer: { serverName: US, key: ourKey }, keyForEvent }, { roomVersion: '10', event: invite.event, inviteRoomState: [{ type: 'm.room.join_rules' }] });
    assert.equal(client.calls[0]?.destination, THEM);
    assert.equal(client.calls[0]?.path, `/_matrix/federation/v2/invite/${encodeURIComponent(ROOM)}/${encodeURIComponent(invite.eventId)}`);
    assert.deepEqual(Object.keys(client.calls[0]?.body as object).sort(), ['event', 'invite_room_state', 'room_version']);
    assert.ok(result.event?.signatures?.[THEM] !== undefined);
    assert.ok(result.event?.signatures?.[US] !== undefined);
  });

  it('refuses an answer without a valid signature of the invitee server', async () => {
    const client = scripted(() => ({ status: 200, body: { event: counterSigned(generateSigningKey()) } }));
    const result = await performRemoteInvite({ client, signer: { serverName: US, key: ourKey }, keyForEvent }, { roomVersion: '10', event: invite.event, inviteRoomState: [] });
    assert.equal(result.event, undefined);
    assert.equal(result.attempts[0]?.outcome, AttemptOutcome.INVALID_RESPONSE);
  });

  it("reports the invitee server's refusal", async () => {
    const client = scripted(() => ({ status: 403, body: { errcode: 'M_FORBIDDEN', error: 'not welcome' } }));
    const result = await performRemoteInvite({ client, signer: { serverName: US, key: ourKey }, keyForEvent }, { roomVersion: '10', event: invite.event, inviteRoomState: [] });
    assert.deepEqual([result.attempts[0]?.outcome, result.attempts[0]?.errcode], [AttemptOutcome.REFUSED, 'M_FORBIDDEN']);
  });
});
