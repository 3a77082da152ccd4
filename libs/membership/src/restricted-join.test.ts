import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '@membrane/matrix-errors';
import { allowedRoomIds, chooseJoinAuthoriser } from './restricted-join.js';
import type { RoomMembershipAnswer } from './restricted-join.js';

const allow = [
  { type: 'm.room_membership', room_id: '!space:hs' },
  { type: 'm.other', room_id: '!ignored:hs' },
];
const members = [
  { userId: '@mod:hs', powerLevel: 50 },
  { userId: '@admin:hs', powerLevel: 100 },
  { userId: '@user:hs', powerLevel: 0 },
];
const answers = (map: Record<string, RoomMembershipAnswer>) => (roomId: string) => map[roomId] ?? 'unknown-room';

function assertError(fn: () => unknown, status: number, errcode: string): void {
  assert.throws(fn, (err: unknown) => err instanceof MatrixError && err.status === status && err.errcode === errcode);
}

describe('chooseJoinAuthoriser', () => {
  it('names the most powerful local member who may invite, when the user is in an allowed room', () => {
    const chosen = chooseJoinAuthoriser({ userId: '@x:r', allow, membershipIn: answers({ '!space:hs': 'joined' }), localMembers: members, invitePowerLevel: 50 });
    assert.equal(chosen, '@admin:hs');
  });

  it('refuses with 403 when the user is in none of the allowed rooms', () => {
    assertError(() => chooseJoinAuthoriser({ userId: '@x:r', allow, membershipIn: answers({ '!space:hs': 'not-joined' }), localMembers: members, invitePowerLevel: 0 }), 403, 'M_FORBIDDEN');
  });

  it('says it cannot grant the join when it does not know the allowed rooms', () => {
    assertError(() => chooseJoinAuthoriser({ userId: '@x:r', allow, membershipIn: answers({}), localMembers: members, invitePowerLevel: 0 }), 400, 'M_UNABLE_TO_GRANT_JOIN');
  });

  it('says it cannot authorise when no local member has invite power', () => {
    assertError(
      () => chooseJoinAuthoriser({ userId: '@x:r', allow, membershipIn: answers({ '!space:hs': 'joined' }), localMembers: members, invitePowerLevel: 150 }),
      400,
      'M_UNABLE_TO_AUTHORISE_JOIN',
    );
  });

  it('understands only m.room_membership conditions', () => {
    assert.deepEqual(allowedRoomIds(allow), ['!space:hs']);
    assert.deepEqual(allowedRoomIds('nope'), []);
    assert.deepEqual(allowedRoomIds([null, { type: 'm.room_membership' }]), []);
  });
});
