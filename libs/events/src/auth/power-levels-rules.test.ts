// The m.room.power_levels rule (SPEC v10 rule 9, v12 rule 10).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CREATOR, TestRoom } from './test-support/test-room.js';

const MOD = '@mod:b.test'; // level 50 in the rooms below
const PEER = '@peer:b.test'; // level 50
const LOW = '@low:b.test'; // level 10

/** A room whose current power levels are `current`, with MOD, PEER and LOW joined. */
function roomWith(current: Record<string, unknown>, version = '10'): TestRoom {
  const room = new TestRoom(version);
  for (const user of [CREATOR, MOD, PEER, LOW]) room.setMembership(user, 'join');
  room.setPowerLevels(current);
  return room;
}

const BASE = {
  users: { [CREATOR]: 100, [MOD]: 50, [PEER]: 50, [LOW]: 10 },
  users_default: 0,
  events_default: 0,
  state_default: 50,
  ban: 50,
  kick: 50,
  redact: 50,
  invite: 0,
  events: { 'm.room.power_levels': 50, 'm.room.name': 50, 'm.room.tombstone': 100 },
};

function withChange(change: Record<string, unknown>): Record<string, unknown> {
  return { ...BASE, ...change };
}

function mayChange(sender: string, content: Record<string, unknown>, version = '10', current = BASE): boolean {
  const room = roomWith(current, version);
  const event = room.event({ type: 'm.room.power_levels', state_key: '', sender, content });
  return room.check(event).allowed;
}

describe('m.room.power_levels changes', () => {
  it('the first power levels event of a room is allowed whatever its values, once the sender may send it', () => {
    const room = new TestRoom('10').setMembership(CREATOR, 'join');
    const event = room.event({ type: 'm.room.power_levels', state_key: '', sender: CREATOR, content: { ...BASE, ban: 1000 } });
    assert.deepEqual(room.check(event), { allowed: true });
  });

  it('needs the level for sending m.room.power_levels itself', () => {
    assert.equal(mayChange(LOW, withChange({ users_default: 0 })), false);
    assert.equal(mayChange(MOD, withChange({ users_default: 0 })), true, 'an unchanged copy is fine');
  });

  it('top-level levels: adding, changing or removing one needs both old and new value at or below the sender', () => {
    assert.equal(mayChange(MOD, withChange({ kick: 40 })), true, 'lowering 50 → 40 at level 50');
    assert.equal(mayChange(MOD, withChange({ kick: 51 })), false, 'new value above the sender');
    assert.equal(mayChange(MOD, withChange({ invite: 50 })), true, 'raising up to the sender level');
    assert.equal(mayChange(MOD, { ...BASE, redact: 60 }, '10', { ...BASE, redact: 70 } as typeof BASE), false, 'old value above the sender');
    const { ban: _ban, ...withoutBan } = BASE;
    assert.equal(mayChange(MOD, withoutBan), true, 'removing ban (50) at level 50');
    assert.equal(mayChange(MOD, withoutBan, '10', { ...BASE, ban: 60 }), false, 'removing ban (60) above level 50');
    assert.equal(mayChange(MOD, { ...BASE, state_default: 50 }, '10', withoutState()), true, 'adding an explicit default at the sender level');
  });

  it('top-level levels are compared as parsed numbers: "50" → 50 is no change (v1–v9)', () => {
    const current = { ...BASE, ban: '75' } as unknown as typeof BASE;
    assert.equal(mayChange(MOD, { ...BASE, ban: 75 }, '9', current), true);
    assert.equal(mayChange(MOD, { ...BASE, ban: 74 }, '9', current), false);
  });

  it('events: changing or removing needs the old value at or below the sender; adding or changing needs the new one', () => {
    const events = (e: Record<string, number>): Record<string, unknown> => withChange({ events: { ...BASE.events, ...e } });
    assert.equal(mayChange(MOD, events({ 'm.room.topic': 50 })), true, 'adding at the sender level');
    assert.equal(mayChange(MOD, events({ 'm.room.topic': 51 })), false, 'adding above');
    assert.equal(mayChange(MOD, events({ 'm.room.tombstone': 50 })), false, 'changing an entry above the sender');
    const { 'm.room.tombstone': _t, ...rest } = BASE.events;
    assert.equal(mayChange(MOD, withChange({ events: rest })), false, 'removing an entry above the sender');
    const { 'm.room.name': _n, ...withoutName } = BASE.events;
    assert.equal(mayChange(MOD, withChange({ events: withoutName })), true, 'removing an entry at the sender level');
  });

  it('notifications are checked like events from v6, and not before', () => {
    const current = { ...BASE, notifications: { room: 100 } } as typeof BASE;
    assert.equal(mayChange(MOD, { ...BASE, notifications: { room: 0 } }, '6', current), false);
    assert.equal(mayChange(MOD, { ...BASE, notifications: { room: 0 } }, '5', current), true);
    assert.equal(mayChange(MOD, { ...BASE, notifications: { room: 60 } }, '10'), false, 'adding above the sender');
  });

  it("users: another user's entry may change only while it is below the sender", () => {
    const users = (u: Record<string, number>): Record<string, unknown> => withChange({ users: { ...BASE.users, ...u } });
    assert.equal(mayChange(MOD, users({ [LOW]: 40 })), true, 'promoting 10 → 40');
    assert.equal(mayChange(MOD, users({ [LOW]: 50 })), true, 'promoting up to own level');
    assert.equal(mayChange(MOD, users({ [LOW]: 51 })), false, 'promoting above own level');
    assert.equal(mayChange(MOD, users({ [PEER]: 10 })), false, 'demoting a peer at the same level');
    assert.equal(mayChange(MOD, users({ [CREATOR]: 10 })), false, 'demoting someone above');
    assert.equal(mayChange(MOD, users({ '@new:b.test': 50 })), true, 'adding a user at own level');
    const { [LOW]: _low, ...withoutLow } = BASE.users;
    assert.equal(mayChange(MOD, withChange({ users: withoutLow })), true, 'removing a lower user');
    const { [PEER]: _peer, ...withoutPeer } = BASE.users;
    assert.equal(mayChange(MOD, withChange({ users: withoutPeer })), false, 'removing a peer');
  });

  it("users: the sender may lower or remove their own entry but not raise it", () => {
    const users = (u: Record<string, number>): Record<string, unknown> => withChange({ users: { ...BASE.users, ...u } });
    assert.equal(mayChange(MOD, users({ [MOD]: 20 })), true);
    assert.equal(mayChange(MOD, users({ [MOD]: 60 })), false);
    const { [MOD]: _mod, ...withoutMod } = BASE.users;
    assert.equal(mayChange(MOD, withChange({ users: withoutMod })), true);
  });

  it('v10 rejects a power levels event with a stringy value; v9 accepts it (rules 9.1–9.3)', () => {
    assert.equal(mayChange(MOD, withChange({ kick: '50' }), '10'), false);
    assert.equal(mayChange(MOD, withChange({ kick: '50' }), '9'), true);
    assert.equal(mayChange(MOD, withChange({ users: { ...BASE.users, [LOW]: '10' } }), '10'), false);
    assert.equal(mayChange(MOD, withChange({ events: { 'm.room.name': '50' } }), '10'), false);
  });

  it('rejects a power levels event with a users key that is not a user ID, in every version', () => {
    for (const v of ['1', '9', '10', '12']) {
      const current = v === '12' ? v12Base() : BASE;
      const room = roomWith(current, v);
      const content = { ...current, users: { ...current.users, room: 0 } };
      const decision = room.check(room.event({ type: 'm.room.power_levels', state_key: '', sender: MOD, content }));
      assert.equal(decision.allowed, false, `v${v}`);
      assert.match(decision.allowed ? '' : decision.reason, /not a user ID/);
    }
  });
});

describe('m.room.power_levels in v12 (privileged creators)', () => {
  it('rejects listing the create sender or an additional creator in users', () => {
    const room = new TestRoom('12', { additionalCreators: ['@co:b.test'] }).setMembership(CREATOR, 'join');
    const send = (users: Record<string, number>): boolean =>
      room.check(room.event({ type: 'm.room.power_levels', state_key: '', sender: CREATOR, content: { users } })).allowed;
    assert.equal(send({ [CREATOR]: 100 }), false);
    assert.equal(send({ '@co:b.test': 100 }), false);
    assert.equal(send({ [MOD]: 100 }), true);
  });

  it('lets a creator set any finite level, including the highest', () => {
    const room = new TestRoom('12').setMembership(CREATOR, 'join').setMembership(MOD, 'join');
    room.setPowerLevels(v12Base());
    const event = room.event({
      type: 'm.room.power_levels',
      state_key: '',
      sender: CREATOR,
      content: { ...v12Base(), users: { [MOD]: Number.MAX_SAFE_INTEGER }, ban: Number.MAX_SAFE_INTEGER },
    });
    assert.deepEqual(room.check(event), { allowed: true });
  });

  it('the same listing of the creator is fine in v11, where creators are ordinary users', () => {
    const room = new TestRoom('11').setMembership(CREATOR, 'join');
    const event = room.event({ type: 'm.room.power_levels', state_key: '', sender: CREATOR, content: { users: { [CREATOR]: 100 } } });
    assert.deepEqual(room.check(event), { allowed: true });
  });
});

function withoutState(): typeof BASE {
  const { state_default: _s, ...rest } = BASE;
  return rest as typeof BASE;
}

function v12Base(): typeof BASE {
  const { [CREATOR]: _c, ...users } = BASE.users;
  return { ...BASE, users } as typeof BASE;
}
