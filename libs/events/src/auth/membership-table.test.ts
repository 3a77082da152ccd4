// Every membership transition, with outcomes worked out by hand from the
// spec's m.room.member rules (SPEC content/rooms/v1.md … v12.md).
//
// The room: the creator is joined; power levels give invite 50, kick 50,
// ban 50, users_default 0; the creator has 100 (v1–v11; v12 creators are
// never listed). The actor has 100 ("enough" power) or 10 ("too little").
// A "self" row: the actor changes their own membership from `from`.
// An "other" row: the joined actor changes the target's membership (target
// level 0) from `from`.
//
// Outcome strings read "public invite knock" (join rules), each as two
// letters: with enough power, then with too little. A = allowed, R = rejected.
// Where v1/v6 differ from v7+ (knocking exists from v7), both are written.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Membership } from '../types.js';
import { CREATOR, TestRoom } from './test-support/test-room.js';

type From = Membership | 'none';
type Expected = string | { readonly beforeV7: string; readonly fromV7: string };
type Row = readonly [from: From, to: Membership, actor: 'self' | 'other', expected: Expected];

const ALL_R = 'RR RR RR';
const JOIN_IF_PUBLIC = 'AA RR RR';
const BY_POWER = 'AR AR AR';

const TABLE: readonly Row[] = [
  // --- the actor changes their own membership ---
  ['none', 'invite', 'self', ALL_R], //           4.1: sender not joined
  ['none', 'join', 'self', JOIN_IF_PUBLIC], //    3.6 public; 3.4 invite/knock need an invite
  ['none', 'knock', 'self', { beforeV7: ALL_R, fromV7: 'RR RR AA' }], // 7.1 join rule must be knock
  ['none', 'leave', 'self', ALL_R], //            5.1: only from invite/join(/knock)
  ['none', 'ban', 'self', ALL_R], //              6.1: sender not joined

  ['invite', 'invite', 'self', ALL_R],
  ['invite', 'join', 'self', { beforeV7: 'AA AA RR', fromV7: 'AA AA AA' }], // v1–v6 know no knock join rule
  ['invite', 'knock', 'self', ALL_R], //          7.3: invited users cannot knock
  ['invite', 'leave', 'self', 'AA AA AA'], //     rejecting an invite
  ['invite', 'ban', 'self', ALL_R],

  ['join', 'invite', 'self', ALL_R], //           4.3: target already joined
  ['join', 'join', 'self', { beforeV7: 'AA AA RR', fromV7: 'AA AA AA' }],
  ['join', 'knock', 'self', ALL_R],
  ['join', 'leave', 'self', 'AA AA AA'],
  ['join', 'ban', 'self', ALL_R], //              6.2: own level is not below own level

  ['knock', 'invite', 'self', ALL_R],
  ['knock', 'join', 'self', JOIN_IF_PUBLIC], //   a knock is not an invite
  ['knock', 'knock', 'self', { beforeV7: ALL_R, fromV7: 'RR RR AA' }],
  ['knock', 'leave', 'self', { beforeV7: ALL_R, fromV7: 'AA AA AA' }], // retracting a knock (v7+)
  ['knock', 'ban', 'self', ALL_R],

  ['leave', 'invite', 'self', ALL_R],
  ['leave', 'join', 'self', JOIN_IF_PUBLIC],
  ['leave', 'knock', 'self', { beforeV7: ALL_R, fromV7: 'RR RR AA' }],
  ['leave', 'leave', 'self', ALL_R],
  ['leave', 'ban', 'self', ALL_R],

  ['ban', 'invite', 'self', ALL_R],
  ['ban', 'join', 'self', ALL_R], //              3.3: banned
  ['ban', 'knock', 'self', ALL_R], //             7.3: banned
  ['ban', 'leave', 'self', ALL_R], //             a banned user cannot unban themselves
  ['ban', 'ban', 'self', ALL_R],

  // --- the joined actor changes the target's membership ---
  ['none', 'invite', 'other', BY_POWER], //       4.4: invite level 50
  ['none', 'join', 'other', ALL_R], //            3.2: cannot join for someone else
  ['none', 'knock', 'other', ALL_R], //           7.2: cannot knock for someone else
  ['none', 'leave', 'other', BY_POWER], //        5.4: kick level 50, target below actor
  ['none', 'ban', 'other', BY_POWER], //          6.2: ban level 50, target below actor

  ['invite', 'invite', 'other', BY_POWER], //     re-inviting is allowed
  ['invite', 'join', 'other', ALL_R],
  ['invite', 'knock', 'other', ALL_R],
  ['invite', 'leave', 'other', BY_POWER], //      revoking an invite is a kick
  ['invite', 'ban', 'other', BY_POWER],

  ['join', 'invite', 'other', ALL_R], //          4.3: already joined
  ['join', 'join', 'other', ALL_R],
  ['join', 'knock', 'other', ALL_R],
  ['join', 'leave', 'other', BY_POWER], //        kick
  ['join', 'ban', 'other', BY_POWER],

  ['knock', 'invite', 'other', BY_POWER], //      inviting a knocking user
  ['knock', 'join', 'other', ALL_R],
  ['knock', 'knock', 'other', ALL_R],
  ['knock', 'leave', 'other', BY_POWER], //       turning down a knock is a kick
  ['knock', 'ban', 'other', BY_POWER],

  ['leave', 'invite', 'other', BY_POWER],
  ['leave', 'join', 'other', ALL_R],
  ['leave', 'knock', 'other', ALL_R],
  ['leave', 'leave', 'other', BY_POWER], //       the rules allow "kicking" someone who left
  ['leave', 'ban', 'other', BY_POWER],

  ['ban', 'invite', 'other', ALL_R], //           4.3: banned
  ['ban', 'join', 'other', ALL_R],
  ['ban', 'knock', 'other', ALL_R],
  ['ban', 'leave', 'other', BY_POWER], //         unban: ban level 50, then kick level 50
  ['ban', 'ban', 'other', BY_POWER],
];

const VERSIONS = ['1', '6', '7', '10', '11', '12'] as const;
const JOIN_RULES = ['public', 'invite', 'knock'] as const;
const POWERS = [
  { name: 'enough', level: 100 },
  { name: 'too little', level: 10 },
] as const;

const ACTOR = '@actor:b.test';
const TARGET = '@target:c.test';

function expectedFor(row: Row, version: string): string {
  const expected = row[3];
  if (typeof expected === 'string') return expected;
  return Number(version) >= 7 ? expected.fromV7 : expected.beforeV7;
}

function outcome(version: string, row: Row, joinRule: string, actorLevel: number): 'A' | 'R' {
  const [from, to, actor] = row;
  const room = new TestRoom(version);
  const users: Record<string, number> = { [ACTOR]: actorLevel };
  if (!room.version.privilegedCreators) users[CREATOR] = 100;
  room
    .setMembership(CREATOR, 'join')
    .setPowerLevels({ users, users_default: 0, invite: 50, kick: 50, ban: 50, redact: 50, state_default: 50, events_default: 0 })
    .setJoinRule(joinRule);
  const target = actor === 'self' ? ACTOR : TARGET;
  if (actor === 'other') room.setMembership(ACTOR, 'join');
  room.setMembership(target, from === 'none' ? undefined : from);
  return room.check(room.memberEvent(ACTOR, target, to)).allowed ? 'A' : 'R';
}

function observedFor(version: string, row: Row): string {
  return JOIN_RULES.map((rule) => POWERS.map((p) => outcome(version, row, rule, p.level)).join('')).join(' ');
}

// v12 creators (infinite power) as actor and as target, against v11 where
// the creator is an ordinary user with level 100. Join rule public. The
// other party has level 100. Outcome strings: "v11 v12".
type CreatorRow = readonly [from: From, to: Membership, creatorIs: 'actor' | 'target', expected: string];
const CREATOR_TABLE: readonly CreatorRow[] = [
  ['none', 'invite', 'actor', 'A A'],
  ['none', 'join', 'actor', 'R R'],
  ['none', 'knock', 'actor', 'R R'],
  ['none', 'leave', 'actor', 'R A'], //   v11: 100 is not below 100; v12: 100 < ∞
  ['none', 'ban', 'actor', 'R A'],
  ['invite', 'invite', 'actor', 'A A'],
  ['invite', 'join', 'actor', 'R R'],
  ['invite', 'knock', 'actor', 'R R'],
  ['invite', 'leave', 'actor', 'R A'],
  ['invite', 'ban', 'actor', 'R A'],
  ['join', 'invite', 'actor', 'R R'],
  ['join', 'join', 'actor', 'R R'],
  ['join', 'knock', 'actor', 'R R'],
  ['join', 'leave', 'actor', 'R A'], //   a creator can kick any non-creator
  ['join', 'ban', 'actor', 'R A'],
  ['knock', 'invite', 'actor', 'A A'],
  ['knock', 'join', 'actor', 'R R'],
  ['knock', 'knock', 'actor', 'R R'],
  ['knock', 'leave', 'actor', 'R A'],
  ['knock', 'ban', 'actor', 'R A'],
  ['leave', 'invite', 'actor', 'A A'],
  ['leave', 'join', 'actor', 'R R'],
  ['leave', 'knock', 'actor', 'R R'],
  ['leave', 'leave', 'actor', 'R A'],
  ['leave', 'ban', 'actor', 'R A'],
  ['ban', 'invite', 'actor', 'R R'],
  ['ban', 'join', 'actor', 'R R'],
  ['ban', 'knock', 'actor', 'R R'],
  ['ban', 'leave', 'actor', 'R A'], //    unban
  ['ban', 'ban', 'actor', 'R A'],

  ['none', 'invite', 'target', 'A A'],
  ['none', 'join', 'target', 'R R'],
  ['none', 'knock', 'target', 'R R'],
  ['none', 'leave', 'target', 'R R'], //  nobody's level is above a creator's
  ['none', 'ban', 'target', 'R R'],
  ['invite', 'invite', 'target', 'A A'],
  ['invite', 'join', 'target', 'R R'],
  ['invite', 'knock', 'target', 'R R'],
  ['invite', 'leave', 'target', 'R R'],
  ['invite', 'ban', 'target', 'R R'],
  ['join', 'invite', 'target', 'R R'],
  ['join', 'join', 'target', 'R R'],
  ['join', 'knock', 'target', 'R R'],
  ['join', 'leave', 'target', 'R R'], //  a creator cannot be kicked
  ['join', 'ban', 'target', 'R R'], //    … nor banned
  ['knock', 'invite', 'target', 'A A'],
  ['knock', 'join', 'target', 'R R'],
  ['knock', 'knock', 'target', 'R R'],
  ['knock', 'leave', 'target', 'R R'],
  ['knock', 'ban', 'target', 'R R'],
  ['leave', 'invite', 'target', 'A A'],
  ['leave', 'join', 'target', 'R R'],
  ['leave', 'knock', 'target', 'R R'],
  ['leave', 'leave', 'target', 'R R'],
  ['leave', 'ban', 'target', 'R R'],
  ['ban', 'invite', 'target', 'R R'],
  ['ban', 'join', 'target', 'R R'],
  ['ban', 'knock', 'target', 'R R'],
  ['ban', 'leave', 'target', 'R R'], //   … nor unbanned
  ['ban', 'ban', 'target', 'R R'],
];

const OTHER = '@other:b.test';

function creatorOutcome(version: string, row: CreatorRow): 'A' | 'R' {
  const [from, to, creatorIs] = row;
  const room = new TestRoom(version);
  const users: Record<string, number> = { [OTHER]: 100 };
  if (!room.version.privilegedCreators) users[CREATOR] = 100;
  room.setPowerLevels({ users, users_default: 0, invite: 50, kick: 50, ban: 50 }).setJoinRule('public');
  const [actor, target] = creatorIs === 'actor' ? [CREATOR, OTHER] : [OTHER, CREATOR];
  room.setMembership(actor, 'join').setMembership(target, from === 'none' ? undefined : from);
  return room.check(room.memberEvent(actor, target, to)).allowed ? 'A' : 'R';
}

const FROM_STATES: readonly From[] = ['none', 'invite', 'join', 'knock', 'leave', 'ban'];
const TO_STATES: readonly Membership[] = ['invite', 'join', 'knock', 'leave', 'ban'];

const TABLE_CASES = TABLE.length * VERSIONS.length * JOIN_RULES.length * POWERS.length;
const CREATOR_CASES = CREATOR_TABLE.length * 2;

describe(`membership transitions: ${TABLE_CASES + CREATOR_CASES} cases`, () => {
  it(`covers 2280 cases: 6 prior × 5 new memberships × self/other × 2 power × 3 join rules × 6 versions (2160), plus 60 creator rows × v11/v12 (120)`, () => {
    assert.equal(TABLE_CASES, 2160);
    assert.equal(CREATOR_CASES, 120);
    for (const table of [TABLE.map((r) => [r[0], r[1], r[2]]), CREATOR_TABLE.map((r) => [r[0], r[1], r[2]])]) {
      const seen = new Set(table.map((r) => r.join(' ')));
      assert.equal(seen.size, table.length, 'no row appears twice');
      for (const from of FROM_STATES) {
        for (const to of TO_STATES) {
          assert.equal(table.filter((r) => r[0] === from && r[1] === to).length, 2, `${from} → ${to} has both rows`);
        }
      }
    }
  });

  for (const version of VERSIONS) {
    describe(`room version ${version}`, () => {
      for (const row of TABLE) {
        const [from, to, actor] = row;
        const expected = expectedFor(row, version);
        it(`${actor}: ${from} → ${to} gives ${expected} (public | invite | knock; enough / too little power)`, () => {
          assert.equal(observedFor(version, row), expected);
        });
      }
    });
  }

  describe('creators: v11 (ordinary user) vs v12 (infinite power)', () => {
    for (const row of CREATOR_TABLE) {
      const [from, to, creatorIs, expected] = row;
      it(`creator as ${creatorIs}: ${from} → ${to} gives ${expected} (v11 v12)`, () => {
        assert.equal(`${creatorOutcome('11', row)} ${creatorOutcome('12', row)}`, expected);
      });
    }
  });
});
