import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Membership } from '../types.js';
import { describeMembershipChange } from './membership-change.js';
import type { MembershipChangeKind } from './membership-change.js';

const U = '@u:a.test';
const M = '@mod:a.test';

function kind(previous: Membership | undefined, next: Membership, sender = U): MembershipChangeKind {
  return describeMembershipChange({ sender, target: U, previous, next });
}

describe('describeMembershipChange', () => {
  it('names the ways of leaving by oneself', () => {
    assert.equal(kind('join', 'leave'), 'leave');
    assert.equal(kind('invite', 'leave'), 'reject_invite');
    assert.equal(kind('knock', 'leave'), 'retract_knock');
  });

  it('names the ways of being removed by someone else', () => {
    assert.equal(kind('join', 'leave', M), 'kick');
    assert.equal(kind('invite', 'leave', M), 'revoke_invite');
    assert.equal(kind('knock', 'leave', M), 'reject_knock');
    assert.equal(kind('ban', 'leave', M), 'unban');
  });

  it('a leave when already out changes nothing', () => {
    assert.equal(kind('leave', 'leave'), 'no_change');
    assert.equal(kind(undefined, 'leave', M), 'no_change');
  });

  it('names joins, invites, knocks and bans', () => {
    assert.equal(kind(undefined, 'join'), 'join');
    assert.equal(kind('leave', 'join'), 'join');
    assert.equal(kind('invite', 'join'), 'accept_invite');
    assert.equal(kind('join', 'join'), 'profile_change');
    assert.equal(kind('leave', 'invite', M), 'invite');
    assert.equal(kind(undefined, 'knock'), 'knock');
    assert.equal(kind('join', 'ban', M), 'ban');
  });
});
