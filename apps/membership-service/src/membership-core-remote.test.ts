// The membership verbs that need other servers, with a second real core
// standing in for the remote homeserver behind the RemoteMembership interface.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { JsonObject } from '@membrane/canonical-json';
import { encodeCanonicalJson } from '@membrane/canonical-json';
import { buildPdu, computeEventId, getRoomVersion, hashAndSignEvent, signMembershipTemplate } from '@membrane/events';
import type { Pdu } from '@membrane/events';
import { generateSigningKey } from '@membrane/signing';
import { MatrixError } from '@membrane/matrix-errors';
import { openStorage } from './storage/index.js';
import type { Storage } from './storage/index.js';
import { MembershipCore } from './membership-core.js';
import type { RemoteMembership } from './membership-core.js';

const THEM = 'them.test';
const US = 'us.test';
const alice = `@alice:${THEM}`;
const bob = `@bob:${US}`;

describe('MembershipCore with remote servers', () => {
  let dir = '';
  let theirStorage: Storage;
  let ourStorage: Storage;
  let them: MembershipCore;
  let us: MembershipCore;
  let notified = 0;
  const ourSigner = { serverName: US, key: generateSigningKey('u1') };
  const theirSigner = { serverName: THEM, key: generateSigningKey('t1') };

  /** What the federation gateway would do, done directly against the other core. */
  const remote: RemoteMembership = {
    async leave() {
      throw new Error('not used');
    },
    async join(request) {
      const made = await them.buildMembershipTemplate({ roomId: request.roomId, userId: request.userId, membership: 'join', origin: US, supportedRoomVersions: request.supportedRoomVersions });
      const signed = signMembershipTemplate(made.template, { version: getRoomVersion(made.roomVersion), originServerTs: Date.now() }, ourSigner);
      const [outcome] = await them.inputEvents(US, 'send_join', [{ json: JSON.stringify(signed.event) }]);
      assert.equal(outcome?.accepted, true, outcome?.error?.message);
      const state = await them.queryStateAndAuthChain(request.roomId, signed.eventId);
      return { roomVersion: made.roomVersion, joinEventJson: encodeCanonicalJson(signed.event as unknown as JsonObject), stateJson: state.stateEventsJson, authChainJson: state.authChainJson };
    },
    async invite(request) {
      const event = JSON.parse(request.eventJson) as Pdu;
      const counterSigned = hashAndSignEvent(event as never, THEM, theirSigner.key, getRoomVersion(request.roomVersion));
      return { eventJson: encodeCanonicalJson(counterSigned as unknown as JsonObject) };
    },
    notifyOutbox() {
      notified += 1;
    },
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'membership-core-remote-'));
    theirStorage = await openStorage({ engine: 'sqlite', path: join(dir, 'them.sqlite') });
    ourStorage = await openStorage({ engine: 'sqlite', path: join(dir, 'us.sqlite') });
    them = new MembershipCore({ storage: theirStorage, signer: theirSigner, defaultRoomVersion: '11' });
    us = new MembershipCore({ storage: ourStorage, signer: ourSigner, defaultRoomVersion: '11', remote });
  });
  after(async () => {
    await theirStorage.close();
    await ourStorage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('joins a room on another server, stores its state and becomes resident; a leave then goes through the outbox', async () => {
    const { roomId } = await them.createRoom({ creator: alice, preset: 'public_chat' });
    const before = notified;
    const joined = await us.join({ roomIdOrAlias: roomId, userId: bob, serverNames: [THEM] });
    assert.equal((await us.queryMembership(roomId, bob)).membership?.membership, 'join');
    assert.equal((await us.queryMembership(roomId, alice)).membership?.membership, 'join', 'the members of the returned state are known');
    const state = await us.queryRoomState(roomId);
    const types = new Set(state.stateEventsJson.map((j) => (JSON.parse(j) as Pdu).type));
    for (const type of ['m.room.create', 'm.room.power_levels', 'm.room.join_rules', 'm.room.member']) assert.ok(types.has(type), type);
    assert.ok(notified > before, 'the transaction sender was woken');

    const left = await us.leave({ roomId, userId: bob });
    assert.equal(left.eventCreated, true);
    assert.notEqual(left.eventId, joined.eventId);
    // The leave is an ordinary local event of a room we are resident in: queued for them.test.
    const batch = await ourStorage.claimOutboxBatch({ destination: THEM, limit: 50, leaseMs: 1000, now: Date.now() });
    assert.ok(batch?.items.some((item) => item.eventId === left.eventId));
  });

  it('refuses to join when the resident server sends state that fails the auth rules', async () => {
    const { roomId } = await them.createRoom({ creator: alice, preset: 'public_chat' });
    const version = getRoomVersion('11');
    const lying: RemoteMembership = {
      ...remote,
      async join(request) {
        const join = remote.join;
        assert.ok(join);
        const honest = await join(request);
        const events = honest.stateJson.map((json) => JSON.parse(json) as Pdu);
        const idOf = (type: string) => computeEventId(events.find((e) => e.type === type) as Pdu, version);
        // A user who never joined "changes" the join rules: the auth rules refuse it.
        const forged = buildPdu(
          {
            version,
            proto: { type: 'm.room.join_rules', sender: `@mallory:${THEM}`, state_key: '', room_id: roomId, content: { join_rule: 'public' } },
            prevEvents: [{ eventId: idOf('m.room.join_rules'), depth: 10 }],
            authEvents: [{ eventId: idOf('m.room.create') }, { eventId: idOf('m.room.power_levels') }],
            originServerTs: Date.now(),
          },
          theirSigner,
        );
        const stateJson = honest.stateJson.filter((json) => (JSON.parse(json) as Pdu).type !== 'm.room.join_rules');
        return { ...honest, stateJson: [...stateJson, encodeCanonicalJson(forged.event as unknown as JsonObject)] };
      },
    };
    const victim = new MembershipCore({ storage: ourStorage, signer: ourSigner, defaultRoomVersion: '11', remote: lying });
    await assert.rejects(victim.join({ roomIdOrAlias: roomId, userId: `@carol:${US}`, serverNames: [THEM] }), (err: unknown) => {
      assert.ok(err instanceof MatrixError);
      assert.equal(err.status, 502);
      assert.match(err.message, /fails the auth rules/);
      return true;
    });
    assert.equal((await us.queryMembership(roomId, `@carol:${US}`)).roomKnown, false, 'nothing was stored');
  });

  it('creates a room with an invitee of another server: the room first, then the counter-signed invite', async () => {
    const { roomId } = await us.createRoom({ creator: bob, preset: 'private_chat', invitees: [alice] });
    const membership = await us.queryMembership(roomId, alice);
    assert.equal(membership.membership?.membership, 'invite');
    const stored = JSON.parse((await us.queryEvent(membership.membership?.eventId ?? '')).eventJson) as Pdu;
    assert.ok(stored.signatures?.[THEM] !== undefined, 'the invitee server signed the invite');
  });

  it('refuses a room with an invitee of another server when there is no federation gateway, creating nothing', async () => {
    const alone = new MembershipCore({ storage: ourStorage, signer: ourSigner, defaultRoomVersion: '11' });
    const before = await ourStorage.read((tx) => tx.listRoomsForUser(bob, { memberships: ['join'] }));
    await assert.rejects(alone.createRoom({ creator: bob, invitees: [alice] }), (err: unknown) => err instanceof MatrixError && err.status === 501);
    const after = await ourStorage.read((tx) => tx.listRoomsForUser(bob, { memberships: ['join'] }));
    assert.equal(after.length, before.length);
  });

  it("invites a user of another server with that server's counter-signature and stores the invite", async () => {
    const { roomId } = await us.createRoom({ creator: bob, preset: 'private_chat' });
    const { eventId } = await us.invite({ roomId, sender: bob, invitee: alice });
    const membership = await us.queryMembership(roomId, alice);
    assert.equal(membership.membership?.membership, 'invite');
    assert.equal(membership.membership?.eventId, eventId);
    const stored = JSON.parse((await us.queryEvent(eventId)).eventJson) as Pdu;
    assert.ok(stored.signatures?.[THEM] !== undefined && stored.signatures?.[US] !== undefined);
    const again = await us.invite({ roomId, sender: bob, invitee: alice });
    assert.equal(again.eventId, eventId, 'a repeated invite changes nothing');
  });
});
