// Invites for our users from other servers (`PUT /invite` v1 and v2) over
// real HTTPS against a real membership service.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { JsonObject } from '@membrane/canonical-json';
import { computeEventId, getRoomVersion, verifyEventSignatures } from '@membrane/events';
import type { Pdu, RoomVersion } from '@membrane/events';
import { Membership } from '@membrane/proto';
import type { FakeRemoteServer, FederationAnswer } from '@membrane/testing';
import { US, assertError, path, startFixture } from './test-support/fixture.js';
import type { Fixture } from './test-support/fixture.js';

const fakeEventId = (): string => `$${randomBytes(32).toString('base64url')}`;

describe('federation gateway: invites', () => {
  let f: Fixture;
  let remote: FakeRemoteServer;
  let counter = 0;
  const v11 = getRoomVersion('11');

  /** An invite for a fresh user of ours into a room that lives on the remote server. */
  function inviteFor(overrides: JsonObject = {}, version: RoomVersion = v11): { roomId: string; invitee: string; event: Pdu; eventId: string } {
    counter += 1;
    const roomId = `!room${counter}:${remote.serverName}`;
    const invitee = `@carol${counter}:${US}`;
    const unsigned: JsonObject = {
      type: 'm.room.member',
      room_id: roomId,
      sender: remote.userId('inviter'),
      state_key: invitee,
      content: { membership: 'invite' },
      depth: 7,
      prev_events: version.eventFormat === 'v1' ? [[`$prev:${remote.serverName}`, { sha256: 'x' }]] : [fakeEventId()],
      auth_events: version.eventFormat === 'v1' ? [[`$create:${remote.serverName}`, { sha256: 'x' }]] : [fakeEventId(), fakeEventId()],
      origin_server_ts: Date.now(),
      ...(version.eventFormat === 'v1' ? { event_id: `$invite${counter}:${remote.serverName}` } : {}),
      ...overrides,
    };
    const event = remote.signEvent(unsigned, version);
    return { roomId, invitee, event, eventId: computeEventId(event, version) };
  }

  const strippedState = (roomId: string): JsonObject[] => [
    { type: 'm.room.name', state_key: '', sender: remote.userId('inviter'), content: { name: `Room ${roomId}` } },
    { type: 'm.room.join_rules', state_key: '', sender: remote.userId('inviter'), content: { join_rule: 'invite' } },
  ];

  const sendInviteV2 = (roomId: string, eventId: string, body: JsonObject): Promise<FederationAnswer> =>
    f.call({ method: 'PUT', path: path('v2/invite', roomId, eventId), body });

  const ourKeys = (server: string, keyId: string): Uint8Array | undefined => {
    if (server === US && keyId === f.ourKey.keyId) return f.ourKey.publicKey;
    if (server === remote.serverName && keyId === remote.key.keyId) return remote.key.publicKey;
    return undefined;
  };

  before(async () => {
    f = await startFixture();
    remote = f.remote;
  });

  after(async () => {
    await f?.stop();
  });

  it('v2: answers the invite signed by us too, and our user is invited', async () => {
    const invite = inviteFor();
    const answer = await sendInviteV2(invite.roomId, invite.eventId, { room_version: '11', event: invite.event as unknown as JsonObject, invite_room_state: strippedState(invite.roomId) });
    assert.equal(answer.status, 200, answer.text);
    const event = (answer.body as { event: Pdu }).event;
    assert.equal(computeEventId(event, v11), invite.eventId);
    assert.deepEqual(Object.keys(event.signatures ?? {}).sort(), [remote.serverName, US].sort());
    assert.equal(verifyEventSignatures(event, v11, ourKeys).ok, true);
    assert.equal(verifyEventSignatures({ ...event, signatures: { [US]: event.signatures?.[US] ?? {} } }, v11, ourKeys).ok, false, 'our signature alone is not enough: the sender signed too');
    const membership = await f.grpc.queryMembership({ roomId: invite.roomId, userId: invite.invitee });
    assert.deepEqual([membership.membership, membership.eventId, membership.roomKnown], [Membership.INVITE, invite.eventId, true]);

    const again = await sendInviteV2(invite.roomId, invite.eventId, { room_version: '11', event: invite.event as unknown as JsonObject });
    assert.equal(again.status, 200, again.text);
    assert.equal((await f.membership(invite.roomId, invite.invitee)).eventId, invite.eventId);
  });

  it('v1: takes the event as body (room version 1) and answers [200, {event}]', async () => {
    const v1 = getRoomVersion('1');
    const invite = inviteFor({ unsigned: { invite_room_state: strippedState('x') } }, v1);
    const answer = await f.call({ method: 'PUT', path: path('v1/invite', invite.roomId, invite.eventId), body: invite.event as unknown as JsonObject });
    assert.equal(answer.status, 200, answer.text);
    const [code, body] = answer.body as [number, { event: Pdu }];
    assert.equal(code, 200);
    assert.equal(body.event.event_id, invite.eventId);
    assert.ok(body.event.signatures?.[US]?.[f.ourKey.keyId] !== undefined);
    assert.equal((await f.membership(invite.roomId, invite.invitee)).membership, Membership.INVITE);
  });

  it('refuses malformed or false invites with their own errors, and nobody is invited', async () => {
    const body = (invite: ReturnType<typeof inviteFor>, extra: JsonObject = {}): JsonObject => ({ room_version: '11', event: invite.event as unknown as JsonObject, ...extra });
    const cases: { name: string; run: () => Promise<{ answer: FederationAnswer; roomId: string; invitee: string }>; status: number; errcode: string; message?: RegExp; extra?: JsonObject }[] = [
      {
        name: 'room version not supported',
        status: 400,
        errcode: 'M_INCOMPATIBLE_ROOM_VERSION',
        extra: { room_version: '99' },
        run: async () => {
          const i = inviteFor();
          return { ...i, answer: await sendInviteV2(i.roomId, i.eventId, body(i, { room_version: '99' })) };
        },
      },
      {
        name: 'room_version missing',
        status: 400,
        errcode: 'M_MISSING_PARAM',
        run: async () => {
          const i = inviteFor();
          return { ...i, answer: await sendInviteV2(i.roomId, i.eventId, { event: i.event as unknown as JsonObject }) };
        },
      },
      {
        name: 'invite_room_state not a list of objects',
        status: 400,
        errcode: 'M_BAD_JSON',
        run: async () => {
          const i = inviteFor();
          return { ...i, answer: await sendInviteV2(i.roomId, i.eventId, body(i, { invite_room_state: 'none' })) };
        },
      },
      {
        name: 'room of the path is another',
        status: 400,
        errcode: 'M_INVALID_PARAM',
        message: /room ID/,
        run: async () => {
          const i = inviteFor();
          return { ...i, answer: await sendInviteV2(`!other:${remote.serverName}`, i.eventId, body(i)) };
        },
      },
      {
        name: 'not an invite',
        status: 400,
        errcode: 'M_INVALID_PARAM',
        message: /Not an invite/,
        run: async () => {
          const i = inviteFor({ content: { membership: 'join' } });
          return { ...i, answer: await sendInviteV2(i.roomId, i.eventId, body(i)) };
        },
      },
      {
        name: 'the invitee is not our user',
        status: 400,
        errcode: 'M_INVALID_PARAM',
        message: /not a user of hs\.test/,
        run: async () => {
          const i = inviteFor({ state_key: '@dave:elsewhere.test' });
          return { ...i, invitee: '@dave:elsewhere.test', answer: await sendInviteV2(i.roomId, i.eventId, body(i)) };
        },
      },
      {
        name: 'the sender belongs to another server',
        status: 403,
        errcode: 'M_FORBIDDEN',
        message: /on behalf of another server/,
        run: async () => {
          const i = inviteFor({ sender: '@mallory:elsewhere.test' });
          return { ...i, answer: await sendInviteV2(i.roomId, i.eventId, body(i)) };
        },
      },
      {
        name: 'the signature does not verify',
        status: 403,
        errcode: 'M_FORBIDDEN',
        message: /Signature check failed/,
        run: async () => {
          const i = inviteFor();
          const tampered = { ...(i.event as unknown as JsonObject), depth: 8 };
          return { ...i, answer: await sendInviteV2(i.roomId, i.eventId, { room_version: '11', event: tampered }) };
        },
      },
      {
        name: 'the path event ID is another',
        status: 400,
        errcode: 'M_INVALID_PARAM',
        message: /event ID/,
        run: async () => {
          const i = inviteFor();
          return { ...i, answer: await sendInviteV2(i.roomId, fakeEventId(), body(i)) };
        },
      },
    ];
    for (const c of cases) {
      const { answer, roomId, invitee } = await c.run();
      assertError(answer, c.status, c.errcode, c.message);
      for (const [key, value] of Object.entries(c.extra ?? {})) assert.equal((answer.body as JsonObject)[key], value, c.name);
      assert.equal((await f.membership(roomId, invitee)).membership, Membership.UNSPECIFIED, c.name);
    }
  });
});
