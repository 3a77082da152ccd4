import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '@membrane/matrix-errors';
import type { Membership } from '@membrane/events';
import { assertInvitable, assertKickable, assertUnbannable, decideForget, decideLeave } from './decisions.js';
import type { MembershipRecord } from './decisions.js';

const U = '@u:example.org';
const R = '!r:example.org';
const record = (membership: Membership, forgotten = false): MembershipRecord => ({ membership, eventId: '$e', forgotten });

function assertMatrixError(fn: () => unknown, status: number, errcode: string): void {
  assert.throws(fn, (err: unknown) => err instanceof MatrixError && err.status === status && err.errcode === errcode);
}

describe('decideLeave', () => {
  it('sends a leave from join, invite and knock in a room we are resident in', () => {
    assert.deepEqual(decideLeave(U, R, record('join'), 'resident'), { kind: 'send-leave', from: 'join' });
    assert.deepEqual(decideLeave(U, R, record('invite'), 'resident'), { kind: 'send-leave', from: 'invite' });
    assert.deepEqual(decideLeave(U, R, record('knock'), 'resident'), { kind: 'send-leave', from: 'knock' });
  });

  it('goes through a remote server to reject an invite or rescind a knock for a room we are not in', () => {
    assert.deepEqual(decideLeave(U, R, record('invite'), 'outsider'), { kind: 'remote-leave', from: 'invite' });
    assert.deepEqual(decideLeave(U, R, record('knock'), 'outsider'), { kind: 'remote-leave', from: 'knock' });
  });

  it('is idempotent: an already-left user gets the existing leave and no new event', () => {
    assert.deepEqual(decideLeave(U, R, record('leave'), 'resident'), { kind: 'already-left', eventId: '$e' });
  });

  it('refuses a user who never had a membership with 403 M_FORBIDDEN', () => {
    assertMatrixError(() => decideLeave(U, R, undefined, 'resident'), 403, 'M_FORBIDDEN');
  });

  it('refuses a banned user with 403 M_FORBIDDEN', () => {
    assertMatrixError(() => decideLeave(U, R, record('ban'), 'resident'), 403, 'M_FORBIDDEN');
  });
});

describe('decideForget', () => {
  it('forgets a room the user left or was banned from', () => {
    assert.deepEqual(decideForget(U, R, record('leave')), { kind: 'forget' });
    assert.deepEqual(decideForget(U, R, record('ban')), { kind: 'forget' });
  });

  it('succeeds without change for an unknown or already-forgotten room', () => {
    assert.deepEqual(decideForget(U, R, undefined), { kind: 'nothing-to-do' });
    assert.deepEqual(decideForget(U, R, record('leave', true)), { kind: 'nothing-to-do' });
  });

  it('refuses with 400 M_UNKNOWN while joined, invited or knocking', () => {
    for (const m of ['join', 'invite', 'knock'] as const) {
      assertMatrixError(() => decideForget(U, R, record(m)), 400, 'M_UNKNOWN');
    }
  });

  it('names the user and room in the error, as the spec example does', () => {
    assert.throws(() => decideForget(U, R, record('join')), { message: `User ${U} is in room ${R}` });
  });
});

describe('policy checks beyond the auth rules', () => {
  it('kicks only users who are joined, invited or knocking', () => {
    for (const m of ['join', 'invite', 'knock'] as const) assert.doesNotThrow(() => assertKickable(U, R, record(m)));
    for (const m of ['leave', 'ban'] as const) assertMatrixError(() => assertKickable(U, R, record(m)), 403, 'M_FORBIDDEN');
    assertMatrixError(() => assertKickable(U, R, undefined), 403, 'M_FORBIDDEN');
  });

  it('unbans only banned users', () => {
    assert.doesNotThrow(() => assertUnbannable(U, R, record('ban')));
    assertMatrixError(() => assertUnbannable(U, R, record('leave')), 403, 'M_FORBIDDEN');
  });

  it('does not invite users who are joined or banned', () => {
    assertMatrixError(() => assertInvitable(U, R, record('join')), 403, 'M_FORBIDDEN');
    assertMatrixError(() => assertInvitable(U, R, record('ban')), 403, 'M_FORBIDDEN');
    assert.doesNotThrow(() => assertInvitable(U, R, record('leave')));
    assert.doesNotThrow(() => assertInvitable(U, R, undefined));
  });
});
