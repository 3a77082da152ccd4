// `PUT /send/{txnId}` over real HTTPS against a real membership service:
// per-PDU results, limits, replays.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, JsonValue } from '@membrane/canonical-json';
import { randomBytes } from 'node:crypto';
import { computeEventId, getRoomVersion } from '@membrane/events';
import type { BuiltPdu, Pdu, RoomVersion } from '@membrane/events';
import { Membership } from '@membrane/proto';
import type { FakeRemoteServer, FederationAnswer } from '@membrane/testing';
import { US, path, startFixture } from './test-support/fixture.js';
import type { Fixture } from './test-support/fixture.js';

interface TransactionAnswer {
  pdus: Record<string, { error?: string }>;
}

describe('federation gateway: /send transactions', () => {
  let f: Fixture;
  let remote: FakeRemoteServer;
  let roomId = '';
  let version: RoomVersion;
  let counter = 0;
  let txn = 0;

  const transaction = (pdus: readonly unknown[], edus: readonly unknown[] = []): JsonObject => ({
    origin: remote.serverName,
    origin_server_ts: Date.now(),
    pdus: pdus as JsonValue[],
    edus: edus as JsonValue[],
  });
  const send = (txnId: string, body: JsonObject, rawBody?: string, from?: FakeRemoteServer): Promise<FederationAnswer> =>
    f.call({ method: 'PUT', path: `/_matrix/federation/v1/send/${encodeURIComponent(txnId)}`, body, ...(rawBody === undefined ? {} : { rawBody }) }, from);

  async function joinPdu(content?: JsonObject, room = roomId, roomVersion = version): Promise<{ userId: string; join: BuiltPdu }> {
    const userId = remote.userId(`member${++counter}`);
    const template = await f.serviceTemplate(room, userId, 'join', remote.serverName);
    return { userId, join: remote.signTemplate(template, roomVersion, content) };
  }

  before(async () => {
    f = await startFixture();
    remote = f.remote;
    ({ roomId, version } = await f.createRoom());
  });

  after(async () => {
    await f?.stop();
  });

  it('answers one result per PDU: accepted, bad signature, non-canonical number; ignores unknown rooms and PDUs without room', async () => {
    const good = await joinPdu();
    const forged = await joinPdu();
    const floaty = await joinPdu({ n: 1 });
    const forgedEvent = { ...forged.join.event, origin_server_ts: forged.join.event.origin_server_ts + 1 };
    // Results are keyed by the ID of the event as received.
    const forgedId = computeEventId(forgedEvent, version);
    const unknownRoom = { ...good.join.event, room_id: '!nowhere:hs.test' };
    const body = transaction([good.join.event, forgedEvent, floaty.join.event, unknownRoom, { type: 'm.room.message' }], [{ edu_type: 'm.typing', content: {} }]);
    const rawBody = JSON.stringify(body).replace('"n":1', '"n":1.0');
    const answer = await send(`t${++txn}`, body, rawBody);
    assert.equal(answer.status, 200, answer.text);
    const { pdus } = answer.body as TransactionAnswer;
    assert.deepEqual(Object.keys(pdus).sort(), [good.join.eventId, forgedId, floaty.join.eventId].sort());
    assert.deepEqual(pdus[good.join.eventId], {});
    assert.match(String(pdus[forgedId]?.error), /Signature check failed/);
    assert.match(String(pdus[floaty.join.eventId]?.error), /canonical JSON/);
    assert.equal((await f.membership(roomId, good.userId)).membership, Membership.JOIN);
    assert.equal((await f.membership(roomId, forged.userId)).membership, Membership.UNSPECIFIED);
    assert.equal((await f.membership(roomId, floaty.userId)).membership, Membership.UNSPECIFIED);
  });

  it('refuses a non-canonical number however many others come before it in the body', async () => {
    const floaty = await joinPdu({ n: 1 });
    // 1.0 reads as the 1 the request was signed with; only the text is not canonical.
    const junk = { room_id: '!nowhere:hs.test', junk: Array.from({ length: 150 }, () => 1) };
    const body = transaction([junk, floaty.join.event]);
    const rawBody = JSON.stringify(body).replace(/"junk":\[[^\]]*\]/, `"junk":[${Array.from({ length: 150 }, () => '1.0').join(',')}]`).replace('"n":1', '"n":1.0');
    const answer = await send(`t${++txn}`, body, rawBody);
    assert.equal(answer.status, 200, answer.text);
    assert.match(String((answer.body as TransactionAnswer).pdus[floaty.join.eventId]?.error), /canonical JSON/);
    assert.equal((await f.membership(roomId, floaty.userId)).membership, Membership.UNSPECIFIED);
  });

  it('answers a repeated transaction ID as before and processes nothing new; another ID is processed', async () => {
    const first = await joinPdu();
    const txnId = `t${++txn}`;
    const answer = await send(txnId, transaction([first.join.event]));
    assert.equal(answer.status, 200, answer.text);
    const second = await joinPdu();
    const replay = await send(txnId, transaction([second.join.event]));
    assert.deepEqual([replay.status, replay.body], [200, answer.body]);
    assert.equal((await f.membership(roomId, second.userId)).membership, Membership.UNSPECIFIED);
    const fresh = await send(`t${++txn}`, transaction([second.join.event]));
    assert.deepEqual((fresh.body as TransactionAnswer).pdus[second.join.eventId], {});
    assert.equal((await f.membership(roomId, second.userId)).membership, Membership.JOIN);
  });

  it('applies a leave, and reports a PDU the auth rules refuse', async () => {
    const { userId, join } = await joinPdu();
    await send(`t${++txn}`, transaction([join.event]));
    const leave = remote.signTemplate(await f.serviceTemplate(roomId, userId, 'leave', remote.serverName), version);
    const stranger = remote.userId('stranger');
    const strangerLeave = remote.signTemplate({ ...(leave.event as unknown as JsonObject), sender: stranger, state_key: stranger, hashes: null, signatures: null }, version);
    const answer = await send(`t${++txn}`, transaction([leave.event, strangerLeave.event]));
    const { pdus } = answer.body as TransactionAnswer;
    assert.deepEqual(pdus[leave.eventId], {});
    assert.equal(typeof pdus[strangerLeave.eventId]?.error, 'string');
    assert.deepEqual(await f.membership(roomId, userId), { membership: Membership.LEAVE, eventId: leave.eventId });
    assert.equal((await f.membership(roomId, stranger)).membership, Membership.UNSPECIFIED);
  });

  it('refuses more than 50 PDUs or 100 EDUs, or no pdus list, with 400 M_BAD_JSON, and does not remember the ID', async () => {
    const tooMany = await send('limits', transaction(Array.from({ length: 51 }, () => ({}))));
    assert.deepEqual([tooMany.status, (tooMany.body as { errcode: string }).errcode], [400, 'M_BAD_JSON']);
    const tooManyEdus = await send('limits', transaction([], Array.from({ length: 101 }, () => ({ edu_type: 'm.presence', content: {} }))));
    assert.deepEqual([tooManyEdus.status, (tooManyEdus.body as { errcode: string }).errcode], [400, 'M_BAD_JSON']);
    const noPdus = await send('limits', { origin: remote.serverName, origin_server_ts: 1 });
    assert.deepEqual([noPdus.status, (noPdus.body as { errcode: string }).errcode], [400, 'M_BAD_JSON']);
    const atLimit = await send('limits', transaction(Array.from({ length: 50 }, () => ({})), Array.from({ length: 100 }, () => ({ edu_type: 'm.presence', content: {} }))));
    assert.deepEqual([atLimit.status, atLimit.body], [200, { pdus: {} }]);
  });

  it('reports PDUs of a room whose ACL denies the origin', async () => {
    const acl = await f.createRoom();
    const { join } = await joinPdu(undefined, acl.roomId, acl.version);
    await f.sendOurStateEvent(acl.roomId, acl.version, 'm.room.server_acl', { allow: ['*'], allow_ip_literals: false });
    const answer = await send(`t${++txn}`, transaction([join.event]));
    assert.deepEqual((answer.body as TransactionAnswer).pdus, { [join.eventId]: { error: 'Server is banned from room' } });
  });

  it('of a room we are not in, passes only leaves and bans of our users, signatures checked; the end of an invite is believed from its sender only', async () => {
    // An invite from the remote makes its room known here, without us in it.
    const v11 = getRoomVersion('11');
    counter += 1;
    const room = `!elsewhere${counter}:${remote.serverName}`;
    const invitee = `@carol${counter}:${US}`;
    const inviter = remote.userId('inviter');
    const fakeId = (): string => `$${randomBytes(32).toString('base64url')}`;
    const roomEvent = (type: string, content: JsonObject, refs: { prev: string[]; auth: string[] }, stateKey?: string): Pdu =>
      remote.signEvent(
        { type, room_id: room, sender: inviter, ...(stateKey === undefined ? {} : { state_key: stateKey }), content, depth: 7, prev_events: refs.prev, auth_events: refs.auth, origin_server_ts: Date.now() },
        v11,
      );
    const createId = fakeId();
    const invite = roomEvent('m.room.member', { membership: 'invite' }, { prev: [fakeId()], auth: [createId, fakeId()] }, invitee);
    const inviteId = computeEventId(invite, v11);
    const invited = await f.call({ method: 'PUT', path: path('v2/invite', room, inviteId), body: { room_version: '11', event: invite as unknown as JsonObject, invite_room_state: [] } });
    assert.equal(invited.status, 200, invited.text);
    assert.equal((await f.membership(room, invitee)).membership, Membership.INVITE);

    const withdrawn = roomEvent('m.room.member', { membership: 'leave' }, { prev: [inviteId], auth: [createId, inviteId] }, invitee);
    const withdrawnId = computeEventId(withdrawn, v11);
    const other = await f.newRemote();
    const fromOther = await send(`t${++txn}`, { origin: other.serverName, origin_server_ts: Date.now(), pdus: [withdrawn as unknown as JsonObject] }, undefined, other);
    assert.match(String((fromOther.body as TransactionAnswer).pdus[withdrawnId]?.error), /believed only from/);
    assert.equal((await f.membership(room, invitee)).membership, Membership.INVITE, 'another server cannot withdraw the invite');

    const forged = { ...withdrawn, origin_server_ts: withdrawn.origin_server_ts + 1 };
    const message = roomEvent('m.room.message', { body: 'not for us' }, { prev: [inviteId], auth: [createId] });
    const answer = await send(`t${++txn}`, transaction([forged, message, withdrawn]));
    const { pdus } = answer.body as TransactionAnswer;
    assert.deepEqual(Object.keys(pdus).sort(), [computeEventId(forged, v11), withdrawnId].sort(), 'the message is ignored');
    assert.match(String(pdus[computeEventId(forged, v11)]?.error), /Signature check failed/);
    assert.deepEqual(pdus[withdrawnId], {});
    assert.deepEqual(await f.membership(room, invitee), { membership: Membership.LEAVE, eventId: withdrawnId });
  });
});
