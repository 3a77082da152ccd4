// Focused rules of the m.room.member branch (SPEC v10 rule 4, v12 rule 5).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthCandidate, AuthDecision, AuthVerifiers } from './auth-types.js';
import { CREATOR, TestRoom } from './test-support/test-room.js';

const ALICE = '@alice:b.test';
const BOB = '@bob:c.test';
const MOD = '@mod:m.test';

function reasonOf(decision: AuthDecision): string {
  return decision.allowed ? '(allowed)' : decision.reason;
}

describe('the creator joining first', () => {
  for (const version of ['1', '10', '11', '12']) {
    it(`v${version}: the creator's join whose only prev event is the create event is allowed with no join rules`, () => {
      const room = new TestRoom(version);
      const join = room.event({
        type: 'm.room.member',
        sender: CREATOR,
        state_key: CREATOR,
        content: { membership: 'join' },
        prev_events: [room.create.event_id],
      });
      assert.deepEqual(room.check(join), { allowed: true });
    });
  }

  it('v1/v2 prev_events given as [id, hashes] pairs count too', () => {
    const room = new TestRoom('1');
    const join = room.event({
      type: 'm.room.member',
      sender: CREATOR,
      state_key: CREATOR,
      content: { membership: 'join' },
      prev_events: [[room.create.event_id, { sha256: 'x' }]],
    });
    assert.equal(room.check(join).allowed, true);
  });

  it('does not apply to anyone else, nor after other events', () => {
    const room = new TestRoom('10');
    const other = room.event({
      type: 'm.room.member',
      sender: ALICE,
      state_key: ALICE,
      content: { membership: 'join' },
      prev_events: [room.create.event_id],
    });
    assert.equal(room.check(other).allowed, false, 'not the creator');
    const late = room.event({
      type: 'm.room.member',
      sender: CREATOR,
      state_key: CREATOR,
      content: { membership: 'join' },
      prev_events: ['$something-else'],
    });
    assert.equal(room.check(late).allowed, false, 'prev event is not the create event');
  });

  it('v1–v10 compare with content.creator, v11+ with the create sender', () => {
    const v10 = new TestRoom('10', { createContent: { creator: '@named:a.test' } });
    const join10 = (user: string): AuthCandidate =>
      v10.event({ type: 'm.room.member', sender: user, state_key: user, content: { membership: 'join' }, prev_events: [v10.create.event_id] });
    assert.equal(v10.check(join10('@named:a.test')).allowed, true);
    assert.equal(v10.check(join10(CREATOR)).allowed, false);

    const v11 = new TestRoom('11', { createContent: { creator: '@named:a.test' } });
    const join11 = (user: string): AuthCandidate =>
      v11.event({ type: 'm.room.member', sender: user, state_key: user, content: { membership: 'join' }, prev_events: [v11.create.event_id] });
    assert.equal(v11.check(join11(CREATOR)).allowed, true);
    assert.equal(v11.check(join11('@named:a.test')).allowed, false);
  });

  it('v12: an additional creator is not "the creator" for the first join', () => {
    const room = new TestRoom('12', { additionalCreators: [ALICE] });
    const join = room.event({
      type: 'm.room.member',
      sender: ALICE,
      state_key: ALICE,
      content: { membership: 'join' },
      prev_events: [room.create.event_id],
    });
    assert.equal(room.check(join).allowed, false);
  });
});

describe('join rules', () => {
  it('with no m.room.join_rules event, only invited (or joined) users may join, as under "invite"', () => {
    const room = new TestRoom('10').setMembership(CREATOR, 'join');
    assert.equal(room.check(room.memberEvent(ALICE, ALICE, 'join')).allowed, false);
    room.setMembership(ALICE, 'invite');
    assert.equal(room.check(room.memberEvent(ALICE, ALICE, 'join')).allowed, true);
  });

  it('unknown join rules (e.g. "private") allow no join, even for the invited', () => {
    const room = new TestRoom('10').setMembership(CREATOR, 'join').setJoinRule('private').setMembership(ALICE, 'invite');
    assert.equal(room.check(room.memberEvent(ALICE, ALICE, 'join')).allowed, false);
  });

  it('knock join rule: joins need an invite from v7; before v7 it is an unknown rule', () => {
    for (const [version, expected] of [['6', false], ['7', true]] as const) {
      const room = new TestRoom(version).setMembership(CREATOR, 'join').setJoinRule('knock').setMembership(ALICE, 'invite');
      assert.equal(room.check(room.memberEvent(ALICE, ALICE, 'join')).allowed, expected, `v${version}`);
    }
  });

  it('knocking needs the knock join rule (v7+) or knock_restricted (v10+)', () => {
    const knock = (version: string, joinRule: string): boolean => {
      const room = new TestRoom(version).setMembership(CREATOR, 'join').setJoinRule(joinRule);
      return room.check(room.memberEvent(ALICE, ALICE, 'knock')).allowed;
    };
    assert.equal(knock('6', 'knock'), false, 'v6 has no knock membership');
    assert.equal(knock('7', 'knock'), true);
    assert.equal(knock('9', 'knock_restricted'), false);
    assert.equal(knock('10', 'knock_restricted'), true);
    assert.equal(knock('10', 'restricted'), false);
    assert.equal(knock('10', 'public'), false);
  });

  it('an unknown membership value is rejected', () => {
    const room = new TestRoom('10').setMembership(CREATOR, 'join').setJoinRule('public');
    const decision = room.check(room.memberEvent(ALICE, ALICE, 'lurk'));
    assert.match(reasonOf(decision), /unknown membership/);
  });

  it('a member event needs a state_key and a membership', () => {
    const room = new TestRoom('10').setMembership(CREATOR, 'join').setJoinRule('public');
    const noStateKey = room.event({ type: 'm.room.member', sender: ALICE, content: { membership: 'join' } });
    assert.match(reasonOf(room.check(noStateKey)), /state_key/);
    const noMembership = room.event({ type: 'm.room.member', sender: ALICE, state_key: ALICE, content: {} });
    assert.match(reasonOf(room.check(noMembership)), /membership/);
  });
});

describe('restricted joins (v8+) and join_authorised_via_users_server', () => {
  const signedBy =
    (...servers: string[]) =>
    (server: string): boolean =>
      servers.includes(server);

  function restrictedRoom(version = '10', joinRule = 'restricted'): TestRoom {
    const room = new TestRoom(version);
    room.setMembership(CREATOR, 'join').setMembership(MOD, 'join');
    room.setPowerLevels({ users: version === '12' ? { [MOD]: 50 } : { [CREATOR]: 100, [MOD]: 50 }, invite: 50 });
    return room.setJoinRule(joinRule);
  }

  function restrictedJoin(room: TestRoom, authoriser: unknown = MOD): AuthCandidate {
    return room.memberEvent(ALICE, ALICE, 'join', { join_authorised_via_users_server: authoriser });
  }

  it('allows a join authorised by a joined user with invite power, signed by their server', () => {
    const room = restrictedRoom();
    assert.deepEqual(room.check(restrictedJoin(room), { verifySignature: signedBy('m.test') }), { allowed: true });
  });

  it('passes the authorising server name and the event to the signature check', () => {
    const room = restrictedRoom();
    const event = restrictedJoin(room);
    const calls: [string, AuthCandidate][] = [];
    room.check(event, { verifySignature: (server, e) => (calls.push([server, e]), true) });
    assert.deepEqual(calls, [['m.test', event]]);
  });

  it('rejects when the signature of the authorising server is missing or cannot be checked', () => {
    const room = restrictedRoom();
    assert.match(reasonOf(room.check(restrictedJoin(room), { verifySignature: signedBy('b.test') })), /not signed by m\.test/);
    assert.equal(room.check(restrictedJoin(room)).allowed, false, 'no verifier given');
  });

  it('rejects an authoriser who is not joined', () => {
    const room = restrictedRoom().setMembership(MOD, 'leave');
    assert.match(reasonOf(room.check(restrictedJoin(room), { verifySignature: signedBy('m.test') })), /not joined/);
  });

  it('rejects an authoriser without invite power', () => {
    const room = restrictedRoom();
    room.setPowerLevels({ users: { [CREATOR]: 100, [MOD]: 49 }, invite: 50 });
    assert.match(reasonOf(room.check(restrictedJoin(room), { verifySignature: signedBy('m.test') })), /may not invite/);
  });

  it('rejects a restricted join without an authoriser, unless the user is invited or joined', () => {
    const room = restrictedRoom();
    assert.equal(room.check(room.memberEvent(ALICE, ALICE, 'join')).allowed, false);
    room.setMembership(ALICE, 'invite');
    assert.equal(room.check(room.memberEvent(ALICE, ALICE, 'join')).allowed, true);
  });

  it('an invited user joins a restricted room without needing the authoriser to qualify, but the signature still counts', () => {
    const room = restrictedRoom().setMembership(ALICE, 'invite').setMembership(MOD, 'leave');
    assert.equal(room.check(restrictedJoin(room), { verifySignature: signedBy('m.test') }).allowed, true);
    assert.equal(room.check(restrictedJoin(room), { verifySignature: signedBy() }).allowed, false);
  });

  it('a banned user cannot join even with an authoriser', () => {
    const room = restrictedRoom().setMembership(ALICE, 'ban');
    assert.equal(room.check(restrictedJoin(room), { verifySignature: signedBy('m.test') }).allowed, false);
  });

  it('v12: a creator authorises restricted joins (infinite power)', () => {
    const room = restrictedRoom('12');
    const event = room.memberEvent(ALICE, ALICE, 'join', { join_authorised_via_users_server: CREATOR });
    assert.equal(room.check(event, { verifySignature: signedBy('a.test') }).allowed, true);
  });

  it('restricted is an unknown join rule before v8, knock_restricted before v10', () => {
    const v7 = restrictedRoom('7');
    assert.equal(v7.check(restrictedJoin(v7), { verifySignature: signedBy('m.test') }).allowed, false);
    const v9 = restrictedRoom('9', 'knock_restricted');
    assert.equal(v9.check(restrictedJoin(v9), { verifySignature: signedBy('m.test') }).allowed, false);
    const v10 = restrictedRoom('10', 'knock_restricted');
    assert.equal(v10.check(restrictedJoin(v10), { verifySignature: signedBy('m.test') }).allowed, true);
  });

  it('v8+: the signature rule applies to every member event carrying the key, a leave included', () => {
    const room = restrictedRoom('8').setMembership(ALICE, 'join');
    const leave = room.memberEvent(ALICE, ALICE, 'leave', { join_authorised_via_users_server: MOD });
    assert.equal(room.check(leave, { verifySignature: signedBy() }).allowed, false);
    assert.equal(room.check(leave, { verifySignature: signedBy('m.test') }).allowed, true);
  });

  it('before v8 the key means nothing', () => {
    const room = restrictedRoom('7').setMembership(ALICE, 'join');
    const leave = room.memberEvent(ALICE, ALICE, 'leave', { join_authorised_via_users_server: MOD });
    assert.equal(room.check(leave).allowed, true);
  });

  it('a value that is not a user ID is rejected', () => {
    const room = restrictedRoom();
    for (const value of [42, 'm.test', '@nocolon']) {
      assert.equal(room.check(restrictedJoin(room, value), { verifySignature: () => true }).allowed, false, String(value));
    }
  });
});

describe('third-party invites', () => {
  const TOKEN = 'tok123';

  function room(version = '10'): TestRoom {
    const r = new TestRoom(version);
    r.setMembership(CREATOR, 'join').setMembership(ALICE, 'join').setJoinRule('invite');
    r.put('m.room.third_party_invite', TOKEN, { public_key: 'KEY1', public_keys: [{ public_key: 'KEY2' }, { nope: 1 }] }, ALICE);
    return r;
  }

  function invite(r: TestRoom, signed: unknown, sender = ALICE, target = BOB): AuthCandidate {
    return r.memberEvent(sender, target, 'invite', { third_party_invite: { display_name: 'b…', signed } });
  }

  const goodSigned = { mxid: BOB, token: TOKEN, signatures: { 'id.test': { 'ed25519:0': 'sig' } } };
  const accept: AuthVerifiers = { verifyThirdPartyInviteSigned: () => true };

  it('allows an invite whose signed block names the target and a known token, signed with a key of the invite', () => {
    const r = room();
    const seen: [unknown, readonly string[]][] = [];
    const decision = r.check(invite(r, goodSigned), { verifyThirdPartyInviteSigned: (s, keys) => (seen.push([s, keys]), true) });
    assert.deepEqual(decision, { allowed: true });
    assert.deepEqual(seen, [[goodSigned, ['KEY1', 'KEY2']]], 'public_key and every public_keys entry are offered');
  });

  it('rejects when no signature matches, or signatures cannot be checked', () => {
    const r = room();
    assert.match(reasonOf(r.check(invite(r, goodSigned), { verifyThirdPartyInviteSigned: () => false })), /no signature/);
    assert.equal(r.check(invite(r, goodSigned)).allowed, false);
  });

  it('rejects a banned target', () => {
    const r = room().setMembership(BOB, 'ban');
    assert.match(reasonOf(r.check(invite(r, goodSigned), accept)), /banned/);
  });

  it('rejects a missing signed block, or one without mxid or token', () => {
    const r = room();
    assert.match(reasonOf(r.check(invite(r, undefined), accept)), /signed/);
    assert.match(reasonOf(r.check(invite(r, { token: TOKEN }), accept)), /mxid and token/);
    assert.match(reasonOf(r.check(invite(r, { mxid: BOB }), accept)), /mxid and token/);
  });

  it('rejects an mxid that is not the target', () => {
    const r = room();
    assert.match(reasonOf(r.check(invite(r, { ...goodSigned, mxid: '@eve:c.test' }), accept)), /mxid/);
  });

  it('rejects a token with no m.room.third_party_invite in the state', () => {
    const r = room();
    assert.match(reasonOf(r.check(invite(r, { ...goodSigned, token: 'other' }), accept)), /no m\.room\.third_party_invite/);
  });

  it('rejects a sender other than the sender of the third-party invite', () => {
    const r = room().setMembership(MOD, 'join');
    assert.match(reasonOf(r.check(invite(r, goodSigned, MOD), accept)), /not sent by the sender/);
  });

  it('does not look at the sender membership or power: the third-party invite already required them', () => {
    const r = room().setMembership(ALICE, 'leave');
    r.setPowerLevels({ users: { [CREATOR]: 100 }, invite: 100 });
    assert.equal(r.check(invite(r, goodSigned), accept).allowed, true);
  });

  it('sending m.room.third_party_invite itself needs a joined sender with invite power', () => {
    const r = room().setPowerLevels({ users: { [CREATOR]: 100, [ALICE]: 20 }, invite: 30, state_default: 0 });
    const tpi = r.event({ type: 'm.room.third_party_invite', state_key: 'tok2', sender: ALICE, content: { public_key: 'K' } });
    assert.match(reasonOf(r.check(tpi)), /power to invite/);
    r.setPowerLevels({ users: { [CREATOR]: 100, [ALICE]: 30 }, invite: 30, state_default: 100 });
    assert.equal(r.check(tpi).allowed, true, 'invite level suffices even below state_default');
    r.setMembership(ALICE, 'invite');
    assert.match(reasonOf(r.check(tpi)), /not joined/);
  });
});
