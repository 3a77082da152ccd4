// Knocking on rooms of other servers, with a second real core standing in
// for the resident server behind the RemoteMembership interface (what the
// federation gateway does over make_knock / send_knock, done directly).
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { JsonObject } from '@membrane/canonical-json';
import { encodeCanonicalJson } from '@membrane/canonical-json';
import { getRoomVersion, hashAndSignEvent, signMembershipTemplate } from '@membrane/events';
import type { Pdu } from '@membrane/events';
import { MatrixError } from '@membrane/matrix-errors';
import { Membership } from '@membrane/proto';
import { generateSigningKey } from '@membrane/signing';
import { CommitNotifier } from './commit-notifier.js';
import { MembershipCore } from './membership-core.js';
import type { MembershipCoreOptions, RemoteMembership } from './membership-core.js';
import { openStorage } from './storage/index.js';
import type { Storage } from './storage/index.js';
import { querySync } from './views/sync.js';

const THEM = 'them.test';
const US = 'us.test';
const THIRD = 'third.test';
const alice = `@alice:${THEM}`;
const carol = `@carol:${US}`;

describe('MembershipCore: knocking on rooms of other servers', () => {
  let dir = '';
  let theirStorage: Storage;
  let ourStorage: Storage;
  let them: MembershipCore;
  let us: MembershipCore;
  const ourSigner = { serverName: US, key: generateSigningKey('u1') };
  const theirSigner = { serverName: THEM, key: generateSigningKey('t1') };
  const thirdSigner = { serverName: THIRD, key: generateSigningKey('d1') };
  let knocks: Parameters<NonNullable<RemoteMembership['knock']>>[0][] = [];
  let leaves: Parameters<RemoteMembership['leave']>[0][] = [];
  let reachable = true;
  let unbelieved: NonNullable<Parameters<NonNullable<MembershipCoreOptions['onUnbelievedMembership']>>[0]>[] = [];

  /** Signs a template of the other core as our server would, and sends it back as `kind`. */
  async function viaThem(roomId: string, userId: string, membership: 'knock' | 'leave' | 'join', kind: 'send_knock' | 'send_leave' | 'send_join', reason?: string) {
    const made = await them.buildMembershipTemplate({ roomId, userId, membership, origin: US, supportedRoomVersions: membership === 'leave' ? [] : ['10', '11'] });
    const version = getRoomVersion(made.roomVersion);
    const signed = signMembershipTemplate(made.template, { version, originServerTs: Date.now(), ...(reason === undefined ? {} : { content: { reason } }) }, ourSigner);
    const [outcome] = await them.inputEvents(US, kind, [{ json: JSON.stringify(signed.event) }]);
    if (outcome?.accepted !== true) throw outcome?.error ?? new Error('not accepted');
    return { version, signed };
  }

  const remote: RemoteMembership = {
    async knock(request) {
      knocks.push(request);
      const { version, signed } = await viaThem(request.roomId, request.userId, 'knock', 'send_knock', request.reason);
      const state = await them.queryRoomState(request.roomId, signed.eventId);
      const stripped = state.stateEventsJson
        .map((json) => JSON.parse(json) as Pdu)
        .filter((e) => ['m.room.create', 'm.room.join_rules', 'm.room.name'].includes(e.type))
        .map((e) => JSON.stringify({ type: e.type, state_key: e.state_key, sender: e.sender, content: e.content }));
      return { roomVersion: version.id, knockEventJson: encodeCanonicalJson(signed.event as unknown as JsonObject), knockRoomStateJson: stripped, serverName: THEM };
    },
    async leave(request) {
      leaves.push(request);
      if (!reachable) throw new Error('them.test cannot be reached');
      const { signed } = await viaThem(request.roomId, request.userId, 'leave', 'send_leave', request.reason);
      return { eventJson: encodeCanonicalJson(signed.event as unknown as JsonObject) };
    },
    async join(request) {
      const { version, signed } = await viaThem(request.roomId, request.userId, 'join', 'send_join');
      const state = await them.queryStateAndAuthChain(request.roomId, signed.eventId);
      return { roomVersion: version.id, joinEventJson: encodeCanonicalJson(signed.event as unknown as JsonObject), stateJson: state.stateEventsJson, authChainJson: state.authChainJson };
    },
  };

  /** Their side of federation /invite: our server counter-signs and takes the invite in. */
  const theirRemote: RemoteMembership = {
    async leave() {
      throw new Error('not used');
    },
    async invite(request) {
      const version = getRoomVersion(request.roomVersion);
      const counterSigned = hashAndSignEvent(JSON.parse(request.eventJson) as never, US, ourSigner.key, version);
      const [outcome] = await us.inputEvents(THEM, 'invite', [{ json: JSON.stringify(counterSigned), roomVersion: version.id, strippedStateJson: request.inviteRoomStateJson }]);
      assert.equal(outcome?.accepted, true, outcome?.error?.message);
      return { eventJson: encodeCanonicalJson(counterSigned as unknown as JsonObject) };
    },
  };

  async function membershipHere(roomId: string): Promise<string | undefined> {
    return (await us.queryMembership(roomId, carol)).membership?.membership;
  }

  async function knockRoom(joinRule = 'knock'): Promise<string> {
    const { roomId } = await them.createRoom({ creator: alice, joinRule: joinRule as 'knock', name: 'Knock here' });
    return roomId;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'membership-core-knock-'));
    theirStorage = await openStorage({ engine: 'sqlite', path: join(dir, 'them.sqlite') });
    ourStorage = await openStorage({ engine: 'sqlite', path: join(dir, 'us.sqlite') });
    them = new MembershipCore({ storage: theirStorage, signer: theirSigner, defaultRoomVersion: '11', remote: theirRemote });
    us = new MembershipCore({ storage: ourStorage, signer: ourSigner, defaultRoomVersion: '11', remote, onUnbelievedMembership: (details) => unbelieved.push(details) });
  });
  after(async () => {
    await theirStorage.close();
    await ourStorage.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    knocks = [];
    leaves = [];
    reachable = true;
    unbelieved = [];
  });

  const syncOptions = () => ({ notifier: new CommitNotifier(), signal: new AbortController().signal });

  /** The newest position of carol's /sync here, for an incremental sync after it. */
  async function syncPosition(): Promise<number> {
    return (await querySync(ourStorage, { userId: carol, timeoutMs: 0, fullState: false, filterJson: '' }, syncOptions())).nextPosition;
  }

  /** An event of their room as their server sends it to ours in a transaction. */
  async function theirEvent(eventId: string): Promise<string> {
    return (await them.queryEvent(eventId)).eventJson;
  }

  it("knocks through the room's server: both sides see the knock, ours as an outlier, and /sync shows the knock_room_state", async () => {
    const roomId = await knockRoom();
    // A third server in the room, which must hear of the knock. (Joining needs an invite under the knock rule.)
    const dave = `@dave:${THIRD}`;
    await them.sendEvent({ roomId, sender: alice, type: 'm.room.join_rules', stateKey: '', contentJson: '{"join_rule":"public"}' });
    const made = await them.buildMembershipTemplate({ roomId, userId: dave, membership: 'join', origin: THIRD, supportedRoomVersions: ['11'] });
    const daveJoin = signMembershipTemplate(made.template, { version: getRoomVersion('11'), originServerTs: Date.now() }, thirdSigner);
    assert.equal((await them.inputEvents(THIRD, 'send_join', [{ json: JSON.stringify(daveJoin.event) }]))[0]?.accepted, true);
    await them.sendEvent({ roomId, sender: alice, type: 'm.room.join_rules', stateKey: '', contentJson: '{"join_rule":"knock"}' });
    const knocked = await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM], reason: 'let me in' });
    assert.equal(knocked.roomId, roomId);
    assert.deepEqual(knocks.map((k) => [k.serverNames, k.reason]), [[[THEM], 'let me in']]);
    assert.ok(knocks[0]?.supportedRoomVersions.includes('11'));
    assert.equal((await them.queryMembership(roomId, carol)).membership?.eventId, knocked.eventId, 'the resident server has our knock');
    const relayed = await theirStorage.claimOutboxBatch({ destination: THIRD, limit: 50, leaseMs: 1000, now: Date.now() });
    assert.ok(relayed?.items.some((item) => item.eventId === knocked.eventId), 'and relays it to the other servers in the room');
    assert.equal(await membershipHere(roomId), 'knock');
    const stored = await ourStorage.read((tx) => tx.getEvent(knocked.eventId));
    assert.equal(stored?.outlier, true, 'outside the room, the knock is an outlier');
    assert.deepEqual((JSON.parse(stored?.json ?? '{}') as Pdu).content, { membership: 'knock', reason: 'let me in' });

    const answer = await querySync(ourStorage, { userId: carol, timeoutMs: 0, fullState: false, filterJson: '' }, { notifier: new CommitNotifier(), signal: new AbortController().signal });
    const room = answer.rooms.find((r) => r.roomId === roomId);
    assert.equal(room?.membership, Membership.KNOCK);
    assert.equal(room?.roomVersion, '11');
    const state = (room?.strippedStateJson ?? []).map((json) => JSON.parse(json) as { type: string; state_key: string; content: JsonObject; event_id?: string });
    assert.deepEqual(state.find((e) => e.type === 'm.room.name')?.content, { name: 'Knock here' });
    assert.deepEqual(state.find((e) => e.type === 'm.room.join_rules')?.content, { join_rule: 'knock' });
    assert.deepEqual([state.at(-1)?.state_key, state.at(-1)?.content['membership'], state.at(-1)?.event_id], [carol, 'knock', knocked.eventId], 'the knock itself last');

    assert.deepEqual(await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] }), knocked, 'knocking again returns the knock there');
    assert.equal(knocks.length, 1, 'without asking the room again');
  });

  it('a retried knock (same idempotency key) asks the room once, also in a room known here from an earlier knock', async () => {
    const roomId = await knockRoom();
    await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] });
    await us.leave({ roomId, userId: carol });
    knocks = [];
    const first = await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM], idempotencyKey: 'txn1' });
    const retried = await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM], idempotencyKey: 'txn1' });
    assert.deepEqual(retried, first);
    assert.equal(knocks.length, 1);
  });

  it("rescinding the knock is a leave through the room's server; the stored knock state goes with it", async () => {
    const roomId = await knockRoom();
    const knocked = await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] });
    const left = await us.leave({ roomId, userId: carol, reason: 'never mind' });
    assert.deepEqual([left.eventCreated, left.outOfBand], [true, false]);
    assert.deepEqual(leaves.map((l) => [l.serverNames, l.kind, l.reason]), [[[THEM], 'rescind-knock', 'never mind']]);
    assert.equal((await them.queryMembership(roomId, carol)).membership?.membership, 'leave', 'the resident server has the leave');
    assert.equal(await membershipHere(roomId), 'leave');
    assert.equal(await ourStorage.read((tx) => tx.getSentKnock(roomId, carol)), null);
    // A new knock after the rescinded one goes out again.
    const again = await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] });
    assert.notEqual(again.eventId, knocked.eventId);
    assert.equal(await membershipHere(roomId), 'knock');
  });

  it('rescinding a knock while the room cannot be reached records an out-of-band leave', async () => {
    const roomId = await knockRoom();
    await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] });
    reachable = false;
    const left = await us.leave({ roomId, userId: carol });
    assert.deepEqual([left.eventCreated, left.outOfBand], [true, true]);
    assert.equal(await membershipHere(roomId), 'leave');
    assert.equal(await ourStorage.read((tx) => tx.getSentKnock(roomId, carol)), null);
  });

  it("an invite answers the knock: the knock state gives way to the invite's, and the knocker joins", async () => {
    const roomId = await knockRoom();
    await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] });
    assert.equal((await them.queryMembership(roomId, carol)).membership?.membership, 'knock');
    await them.invite({ roomId, sender: alice, invitee: carol });
    assert.equal(await membershipHere(roomId), 'invite');
    assert.equal(await ourStorage.read((tx) => tx.getSentKnock(roomId, carol)), null);
    const joined = await us.join({ roomIdOrAlias: roomId, userId: carol });
    assert.equal(await membershipHere(roomId), 'join');
    assert.equal((await them.queryMembership(roomId, carol)).membership?.eventId, joined.eventId);
  });

  describe('the room turns the knock down (a leave or ban of the knocker, sent to our server in a transaction)', () => {
    it("from the room's server: stored as an outlier, it becomes the membership, the knock state goes, and /sync shows the room as left", async () => {
      const roomId = await knockRoom();
      await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] });
      const since = await syncPosition();
      const kick = await them.kick({ roomId, sender: alice, target: carol, reason: 'not today' });
      const [outcome] = await us.inputEvents(THEM, 'transaction', [{ json: await theirEvent(kick.eventId) }]);
      assert.deepEqual([outcome?.accepted, outcome?.eventId, outcome?.error], [true, kick.eventId, undefined]);
      assert.deepEqual((await us.queryMembership(roomId, carol)).membership?.eventId, kick.eventId);
      assert.equal(await membershipHere(roomId), 'leave');
      assert.equal((await ourStorage.read((tx) => tx.getEvent(kick.eventId)))?.outlier, true, 'outside the room, the leave is an outlier');
      assert.equal(await ourStorage.read((tx) => tx.getSentKnock(roomId, carol)), null);
      assert.equal(await ourStorage.read((tx) => tx.isServerInRoom(roomId, US)), false, 'and we are still not in the room');

      const answer = await querySync(ourStorage, { userId: carol, sincePosition: since, timeoutMs: 0, fullState: false, filterJson: '' }, syncOptions());
      const room = answer.rooms.find((r) => r.roomId === roomId);
      assert.equal(room?.membership, Membership.LEAVE, 'the room is under rooms.leave');
      const shown = (room?.timeline ?? []).map((e) => JSON.parse(e.eventJson) as Pdu);
      assert.deepEqual(
        shown.map((e) => [e.sender, e.state_key, e.content['membership'], e.content['reason']]),
        [[alice, carol, 'leave', 'not today']],
        'with the kick, who sent it and why',
      );

      const [again] = await us.inputEvents(THEM, 'transaction', [{ json: await theirEvent(kick.eventId) }]);
      assert.equal(again?.accepted, true, 'a retried transaction is answered the same');
      assert.equal((await us.queryMembership(roomId, carol)).membership?.eventId, kick.eventId);
      // Knocking again after being turned down is a new knock.
      const knocked = await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] });
      assert.equal((await us.queryMembership(roomId, carol)).membership?.eventId, knocked.eventId);
    });

    it('a ban ends the knock as a ban', async () => {
      const roomId = await knockRoom();
      await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] });
      const ban = await them.ban({ roomId, sender: alice, target: carol });
      const [outcome] = await us.inputEvents(THEM, 'transaction', [{ json: await theirEvent(ban.eventId) }]);
      assert.equal(outcome?.accepted, true, outcome?.error?.message);
      assert.deepEqual((await us.queryMembership(roomId, carol)).membership?.membership, 'ban');
      assert.equal(await ourStorage.read((tx) => tx.getSentKnock(roomId, carol)), null);
    });

    it('after a ban ends the knock, the room can lift the ban and invite the user again', async () => {
      const roomId = await knockRoom();
      await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] });
      const ban = await them.ban({ roomId, sender: alice, target: carol });
      assert.equal((await us.inputEvents(THEM, 'transaction', [{ json: await theirEvent(ban.eventId) }]))[0]?.accepted, true);
      assert.equal(await membershipHere(roomId), 'ban');
      // An invite made over the ban (citing it) is still refused.
      const banEvent = JSON.parse(await theirEvent(ban.eventId)) as Pdu;
      const overBan = { ...banEvent, content: { membership: 'invite' }, prev_events: [ban.eventId], auth_events: [...banEvent.auth_events, ban.eventId] };
      const [refused] = await us.inputEvents(THEM, 'invite', [{ json: JSON.stringify(overBan), roomVersion: '11' }]);
      assert.match(String(refused?.error?.message), /already ban/);
      // The unban is news of a room we are not in, which we may never hear; the invite cites it.
      await them.unban({ roomId, sender: alice, target: carol });
      const invite = await them.invite({ roomId, sender: alice, invitee: carol });
      assert.equal(await membershipHere(roomId), 'invite');
      assert.equal((await us.queryMembership(roomId, carol)).membership?.eventId, invite.eventId);
    });

    it('from a server the knock did not go through: ignored and reported, the user still knocks', async () => {
      const roomId = await knockRoom();
      const knocked = await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] });
      const kick = await them.kick({ roomId, sender: alice, target: carol });
      const [outcome] = await us.inputEvents(THIRD, 'transaction', [{ json: await theirEvent(kick.eventId) }]);
      assert.equal(outcome?.accepted, false);
      assert.match(String(outcome?.error?.message), /believed only from them\.test, not from third\.test/);
      assert.deepEqual(unbelieved, [{ roomId, userId: carol, eventId: kick.eventId, origin: THIRD, pending: 'knock', believedFrom: [THEM] }]);
      assert.equal((await us.queryMembership(roomId, carol)).membership?.eventId, knocked.eventId);
      assert.notEqual(await ourStorage.read((tx) => tx.getSentKnock(roomId, carol)), null);
      assert.equal(await ourStorage.read((tx) => tx.getEvent(kick.eventId)), null, 'nothing is stored');
    });

    it('from a server that was only a candidate (named by the client), not the one that took the knock: not believed', async () => {
      const roomId = await knockRoom();
      const knocked = await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THIRD, THEM] });
      const kick = await them.kick({ roomId, sender: alice, target: carol });
      const [outcome] = await us.inputEvents(THIRD, 'transaction', [{ json: await theirEvent(kick.eventId) }]);
      assert.equal(outcome?.accepted, false);
      assert.deepEqual(unbelieved.map((u) => [u.origin, u.believedFrom]), [[THIRD, [THEM]]]);
      assert.equal((await us.queryMembership(roomId, carol)).membership?.eventId, knocked.eventId);
    });

    it('a leave that answers an earlier knock does not end a newer one', async () => {
      const roomId = await knockRoom();
      const first = await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] });
      const kick = await them.kick({ roomId, sender: alice, target: carol });
      // The kick has not reached us; carol gives up (the room no longer takes
      // the rescind: out of band) and knocks again.
      const left = await us.leave({ roomId, userId: carol });
      assert.equal(left.outOfBand, true);
      const second = await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] });
      assert.notEqual(second.eventId, first.eventId);
      const [outcome] = await us.inputEvents(THEM, 'transaction', [{ json: await theirEvent(kick.eventId) }]);
      assert.equal(outcome?.accepted, false);
      assert.match(String(outcome?.error?.message), /does not answer/);
      assert.equal((await us.queryMembership(roomId, carol)).membership?.eventId, second.eventId);
    });

    it('ignores other events of the room, and leaves of users with no knock here', async () => {
      const roomId = await knockRoom();
      await us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] });
      const message = await them.sendEvent({ roomId, sender: alice, type: 'm.room.message', contentJson: '{"body":"hi"}' });
      const otherUser = `@zoe:${US}`;
      await us.knock({ roomIdOrAlias: roomId, userId: otherUser, serverNames: [THEM] });
      await us.leave({ roomId, userId: otherUser });
      const kickOfOther = await them.kick({ roomId, sender: alice, target: carol });
      const outcomes = await us.inputEvents(THEM, 'transaction', [{ json: await theirEvent(message.eventId) }]);
      assert.equal(outcomes[0]?.accepted, false);
      assert.match(String(outcomes[0]?.error?.message), /not in room/);
      // zoe already left: a leave of hers (a copy of carol's kick, re-targeted) ends nothing.
      const zoeKick = { ...(JSON.parse(await theirEvent(kickOfOther.eventId)) as Pdu), state_key: otherUser };
      const [zoe] = await us.inputEvents(THEM, 'transaction', [{ json: JSON.stringify(zoeKick) }]);
      assert.equal(zoe?.accepted, false);
      assert.match(String(zoe?.error?.message), /no invite or knock/);
      assert.equal(await membershipHere(roomId), 'knock');
    });
  });

  describe('the room withdraws an invite (a leave of the invitee, sent to our server in a transaction)', () => {
    it('from the server that sent the invite: the invite ends; from another server: ignored', async () => {
      const roomId = await knockRoom('invite');
      const invite = await them.invite({ roomId, sender: alice, invitee: carol });
      assert.equal(await membershipHere(roomId), 'invite');
      const since = await syncPosition();
      const kick = await them.kick({ roomId, sender: alice, target: carol });
      const [elsewhere] = await us.inputEvents(THIRD, 'transaction', [{ json: await theirEvent(kick.eventId) }]);
      assert.equal(elsewhere?.accepted, false);
      assert.deepEqual(unbelieved.map((u) => [u.pending, u.origin, u.believedFrom]), [['invite', THIRD, [THEM]]]);
      assert.equal((await us.queryMembership(roomId, carol)).membership?.eventId, invite.eventId);

      const [outcome] = await us.inputEvents(THEM, 'transaction', [{ json: await theirEvent(kick.eventId) }]);
      assert.equal(outcome?.accepted, true, outcome?.error?.message);
      assert.equal(await membershipHere(roomId), 'leave');
      assert.equal(await ourStorage.read((tx) => tx.getReceivedInvite(roomId, carol)), null);
      const answer = await querySync(ourStorage, { userId: carol, sincePosition: since, timeoutMs: 0, fullState: false, filterJson: '' }, syncOptions());
      const room = answer.rooms.find((r) => r.roomId === roomId);
      assert.equal(room?.membership, Membership.LEAVE);
      assert.deepEqual(room?.timeline.map((e) => e.eventId), [kick.eventId]);
    });
  });

  it("passes on the room's refusal (a join rule without knocking) and stores nothing", async () => {
    const roomId = await knockRoom('invite');
    await assert.rejects(us.knock({ roomIdOrAlias: roomId, userId: carol, serverNames: [THEM] }), (err: unknown) => err instanceof MatrixError && err.status === 403 && err.errcode === 'M_FORBIDDEN');
    assert.equal((await us.queryMembership(roomId, carol)).roomKnown, false);
  });

  it('is 404 when no server is known to knock through, and refuses users of other servers', async () => {
    await assert.rejects(us.knock({ roomIdOrAlias: `!nowhere:${US}`, userId: carol }), (err: unknown) => err instanceof MatrixError && err.status === 404 && /No server is known/.test(err.message));
    await assert.rejects(us.knock({ roomIdOrAlias: `!room:${THEM}`, userId: alice, serverNames: [THEM] }), (err: unknown) => err instanceof MatrixError && err.status === 403);
    assert.equal(knocks.length, 0);
  });
});
