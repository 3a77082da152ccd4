// SPEC server-server §"Auth events selection".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { selectAuthEvents, stateNeededForAuth } from './selection.js';

const A = '@a:x.test';
const B = '@b:y.test';

describe('selectAuthEvents', () => {
  it('a create event cites nothing', () => {
    assert.deepEqual(selectAuthEvents({ type: 'm.room.create', sender: A, state_key: '', content: {} }, '10'), []);
  });

  it('an ordinary event cites the create event, the power levels and the sender membership (v1–v11)', () => {
    assert.deepEqual(selectAuthEvents({ type: 'm.room.message', sender: A, content: {} }, '11'), [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
      ['m.room.member', A],
    ]);
  });

  it('v12 never selects the create event', () => {
    assert.deepEqual(selectAuthEvents({ type: 'm.room.message', sender: A, content: {} }, '12'), [
      ['m.room.power_levels', ''],
      ['m.room.member', A],
    ]);
  });

  it('a self-leave cites the sender membership once and no join rules (MATRIX_FACTS §5.1)', () => {
    assert.deepEqual(selectAuthEvents({ type: 'm.room.member', sender: A, state_key: A, content: { membership: 'leave' } }, '10'), [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
      ['m.room.member', A],
    ]);
  });

  it('a kick or ban cites the target membership too, still without join rules', () => {
    for (const membership of ['leave', 'ban']) {
      assert.deepEqual(selectAuthEvents({ type: 'm.room.member', sender: A, state_key: B, content: { membership } }, '12'), [
        ['m.room.power_levels', ''],
        ['m.room.member', A],
        ['m.room.member', B],
      ]);
    }
  });

  it('join, invite and knock cite the join rules', () => {
    for (const membership of ['join', 'invite', 'knock']) {
      const pairs = selectAuthEvents({ type: 'm.room.member', sender: A, state_key: B, content: { membership } }, '10');
      assert.deepEqual(pairs.at(-1), ['m.room.join_rules', ''], membership);
    }
  });

  it('an invite redeeming a third-party invite cites it by its token', () => {
    const content = { membership: 'invite', third_party_invite: { signed: { mxid: B, token: 'tok' } } };
    assert.deepEqual(selectAuthEvents({ type: 'm.room.member', sender: A, state_key: B, content }, '10'), [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
      ['m.room.member', A],
      ['m.room.member', B],
      ['m.room.join_rules', ''],
      ['m.room.third_party_invite', 'tok'],
    ]);
  });

  it('a restricted join cites the authorising user membership from v8 on', () => {
    const event = { type: 'm.room.member', sender: B, state_key: B, content: { membership: 'join', join_authorised_via_users_server: A } };
    assert.deepEqual(selectAuthEvents(event, '8'), [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
      ['m.room.member', B],
      ['m.room.join_rules', ''],
      ['m.room.member', A],
    ]);
    assert.equal(selectAuthEvents(event, '7').length, 4, 'not before v8');
  });

  it('stateNeededForAuth adds the create event, which v12 needs for checking but never cites', () => {
    const leave = { type: 'm.room.member', sender: A, state_key: A, content: { membership: 'leave' } };
    assert.deepEqual(stateNeededForAuth(leave, '12'), [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
      ['m.room.member', A],
    ]);
    assert.deepEqual(stateNeededForAuth(leave, '11'), selectAuthEvents(leave, '11'), 'the same as the selection before v12');
    assert.deepEqual(stateNeededForAuth({ type: 'm.room.create', sender: A, state_key: '', content: {} }, '12'), []);
  });
});
