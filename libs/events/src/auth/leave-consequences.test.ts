// MATRIX_FACTS.md §5.2, "Consequences": one test per row of that table.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Membership } from '../types.js';
import { CREATOR, TestRoom } from './test-support/test-room.js';

const S = '@s:b.test';
const T = '@t:c.test';

interface Setup {
  readonly version?: string;
  readonly s?: Membership | undefined;
  readonly t?: Membership | undefined;
  readonly levels?: Readonly<Record<string, unknown>>;
  readonly users?: Readonly<Record<string, number>>;
}

function room({ version = '10', s, t, levels = {}, users = {} }: Setup): TestRoom {
  const r = new TestRoom(version);
  r.setMembership(CREATOR, 'join').setJoinRule('public');
  r.setPowerLevels({ users: { ...users }, users_default: 0, kick: 50, ban: 50, ...levels });
  r.setMembership(S, s).setMembership(T, t);
  return r;
}

function selfLeave(setup: Setup): boolean {
  const r = room(setup);
  return r.check(r.memberEvent(S, S, 'leave')).allowed;
}

function leaveOfT(setup: Setup): boolean {
  const r = room(setup);
  return r.check(r.memberEvent(S, T, 'leave')).allowed;
}

const ALL_VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];

describe('MATRIX_FACTS §5.2 consequences of the leave rules', () => {
  it('a joined user may leave (every version)', () => {
    for (const version of ALL_VERSIONS) assert.equal(selfLeave({ version, s: 'join' }), true, `v${version}`);
  });

  it('an invited user may leave, i.e. reject the invite (every version)', () => {
    for (const version of ALL_VERSIONS) assert.equal(selfLeave({ version, s: 'invite' }), true, `v${version}`);
  });

  it('a knocking user may leave, i.e. retract the knock, from v7; knocks do not exist before', () => {
    for (const version of ALL_VERSIONS) {
      assert.equal(selfLeave({ version, s: 'knock' }), Number(version) >= 7, `v${version}`);
    }
  });

  it('a user who has left, or never had a membership, cannot send a self-leave', () => {
    for (const version of ALL_VERSIONS) {
      assert.equal(selfLeave({ version, s: 'leave' }), false, `v${version} from leave`);
      assert.equal(selfLeave({ version }), false, `v${version} from nothing`);
    }
  });

  it('a banned user cannot send a self-leave (cannot unban themselves), even with enough power', () => {
    for (const version of ALL_VERSIONS) {
      assert.equal(selfLeave({ version, s: 'ban', users: { [S]: 100 } }), false, `v${version}`);
    }
  });

  it('a kick by a joined sender with kick level and more power than the target is allowed whatever the target membership, ban aside', () => {
    const targets: (Membership | undefined)[] = ['join', 'invite', 'knock', 'leave', undefined];
    for (const t of targets) {
      assert.equal(leaveOfT({ s: 'join', t, users: { [S]: 50, [T]: 49 } }), true, `target ${t ?? 'absent'}`);
    }
    // The ban case goes through the unban rule: kick level alone is not enough.
    assert.equal(leaveOfT({ s: 'join', t: 'ban', users: { [S]: 50, [T]: 0 }, levels: { kick: 50, ban: 60 } }), false);
  });

  it('an unban needs the sender joined, at or above both ban and kick levels, and above the target', () => {
    const unban = (sLevel: number, tLevel: number, ban: number, kick: number, s: Membership = 'join'): boolean =>
      leaveOfT({ s, t: 'ban', users: { [S]: sLevel, [T]: tLevel }, levels: { ban, kick } });
    assert.equal(unban(60, 0, 60, 50), true, 'meets ban and kick, above target');
    assert.equal(unban(55, 0, 60, 50), false, 'below the ban level');
    assert.equal(unban(55, 0, 50, 60), false, 'meets ban but below the kick level');
    assert.equal(unban(60, 60, 50, 50), false, 'target level equals sender level');
    assert.equal(unban(60, 0, 60, 50, 'leave'), false, 'sender not joined');
  });

  it('a sender who is not joined cannot change anyone else to leave', () => {
    for (const s of ['invite', 'knock', 'leave', 'ban', undefined] as const) {
      assert.equal(leaveOfT({ s, t: 'join', users: { [S]: 100 } }), false, `sender ${s ?? 'absent'}`);
    }
  });

  it('equal power levels: a sender cannot kick a target at their own level', () => {
    assert.equal(leaveOfT({ s: 'join', t: 'join', users: { [S]: 75, [T]: 75 } }), false);
    assert.equal(leaveOfT({ s: 'join', t: 'join', users: { [S]: 75, [T]: 74 } }), true);
  });

  it('v12: nobody can kick or unban a creator; a creator can kick any non-creator', () => {
    const r = new TestRoom('12', { additionalCreators: ['@co:d.test'] });
    r.setPowerLevels({ users: { [S]: 9007199254740991 }, kick: 50, ban: 50 });
    r.setMembership(CREATOR, 'join').setMembership('@co:d.test', 'join').setMembership(S, 'join');
    assert.equal(r.check(r.memberEvent(S, CREATOR, 'leave')).allowed, false, 'highest finite level cannot kick the creator');
    assert.equal(r.check(r.memberEvent('@co:d.test', CREATOR, 'leave')).allowed, false, 'a creator cannot kick another creator');
    assert.equal(r.check(r.memberEvent(CREATOR, S, 'leave')).allowed, true, 'the creator kicks the highest non-creator');
    assert.equal(r.check(r.memberEvent('@co:d.test', S, 'leave')).allowed, true, 'so does an additional creator');
    r.setMembership(CREATOR, 'ban');
    assert.equal(r.check(r.memberEvent(S, CREATOR, 'leave')).allowed, false, 'a banned creator cannot be unbanned');
  });
});
