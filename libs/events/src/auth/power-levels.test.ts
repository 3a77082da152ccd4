import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { authStateFromEvents } from './auth-types.js';
import { DEFAULT_POWER_LEVELS, namedLevel, parsePowerLevels, powerLevelOf, requiredPowerLevel } from './power-levels.js';
import type { ParsedPowerLevels } from './power-levels.js';
import { CREATOR, TestRoom } from './test-support/test-room.js';

function parsed(content: unknown, version: string): ParsedPowerLevels {
  const result = parsePowerLevels(content, version);
  assert.ok(result.ok, result.ok ? '' : result.reason);
  return result.powerLevels;
}

function rejects(content: unknown, version: string): string {
  const result = parsePowerLevels(content, version);
  assert.equal(result.ok, false, `expected ${JSON.stringify(content)} to be refused in v${version}`);
  return result.ok ? '' : result.reason;
}

describe('parsePowerLevels', () => {
  it('reads integers in every version and leaves absent levels absent', () => {
    for (let v = 1; v <= 12; v++) {
      const pl = parsed({ ban: 60, users: { '@a:x': 100 }, events: { 'm.room.name': 20 } }, String(v));
      assert.deepEqual(pl.levels, { ban: 60 });
      assert.equal(pl.users.get('@a:x'), 100);
      assert.equal(pl.events.get('m.room.name'), 20);
    }
  });

  it('v1–v9 accept integer strings in the spec formats (SPEC fragment v1-stringy-power-levels)', () => {
    const cases: [string, number][] = [
      ['100', 100],
      ['000100', 100],
      ['+100', 100],
      ['-100', -100],
      [' 100 ', 100],
      [' 00100 ', 100],
      [' +100 ', 100],
      [' -100 ', -100],
    ];
    for (const v of ['1', '5', '6', '9']) {
      for (const [text, value] of cases) {
        const pl = parsed({ kick: text, users: { '@a:x': text }, events: { e: text } }, v);
        assert.equal(pl.levels.kick, value, `v${v} kick ${JSON.stringify(text)}`);
        assert.equal(pl.users.get('@a:x'), value);
        assert.equal(pl.events.get('e'), value);
      }
    }
  });

  it('v1–v9 refuse strings that are not integers', () => {
    for (const text of ['', ' ', 'abc', '1.5', '1e3', '0x10', '++1', '1 0', '١٠٠']) {
      rejects({ ban: text }, '9');
    }
  });

  it('v1–v5 truncate floats, exponent first (SPEC fragment v1-floaty-power-levels)', () => {
    const pl = parsed({ users: { '@bob:localhost': 50.57, '@x:y': 5.114698e4 }, ban: -7.9 }, '5');
    assert.equal(pl.users.get('@bob:localhost'), 50);
    assert.equal(pl.users.get('@x:y'), 51146);
    assert.equal(pl.levels.ban, -7);
  });

  it('v6+ refuse floats (canonical JSON is enforced)', () => {
    for (const v of ['6', '9', '10', '12']) rejects({ users: { '@a:x': 50.5 } }, v);
  });

  it('v10+ refuse every non-integer value, strings included (SPEC v10 rules 9.1–9.3)', () => {
    for (const v of ['10', '11', '12']) {
      rejects({ ban: '50' }, v);
      rejects({ users_default: '0' }, v);
      rejects({ events: { 'm.room.name': '50' } }, v);
      rejects({ notifications: { room: '50' } }, v);
      rejects({ users: { '@a:x': '100' } }, v);
      rejects({ events: [] }, v);
      rejects({ notifications: 5 }, v);
    }
    // The same content is fine one version earlier.
    parsed({ ban: '50', events: { 'm.room.name': '50' }, notifications: { room: '50' }, users: { '@a:x': '100' } }, '9');
  });

  it('refuses booleans, null, arrays and objects as levels', () => {
    for (const value of [true, null, [], {}]) rejects({ kick: value }, '1');
  });

  it('refuses users that are not an object of user IDs', () => {
    rejects({ users: [] }, '1');
    rejects({ users: { 'not-a-user': 10 } }, '1');
    rejects({ users: { '@nocolon': 10 } }, '1');
    rejects('nope', '1');
  });

  it('ignores notifications before v6, where they are not part of the rules', () => {
    const pl = parsed({ notifications: { room: 'high' } }, '5');
    assert.equal(pl.notifications.size, 0);
    rejects({ notifications: { room: 'high' } }, '6');
  });

  it('fills in the spec defaults: invite 0, kick/ban/redact 50, state_default 50, events_default 0, users_default 0', () => {
    assert.deepEqual(DEFAULT_POWER_LEVELS, {
      users_default: 0,
      events_default: 0,
      state_default: 50,
      ban: 50,
      redact: 50,
      kick: 50,
      invite: 0,
    });
    const pl = parsed({ kick: 10 }, '10');
    assert.equal(namedLevel(pl, 'kick'), 10);
    assert.equal(namedLevel(pl, 'ban'), 50);
    assert.equal(namedLevel(undefined, 'invite'), 0);
  });

  it('gives the required level from events, else state_default / events_default', () => {
    const pl = parsed({ events: { 'm.room.name': 70 }, state_default: 40, events_default: 5 }, '10');
    assert.equal(requiredPowerLevel(pl, 'm.room.name', true), 70);
    assert.equal(requiredPowerLevel(pl, 'm.room.topic', true), 40);
    assert.equal(requiredPowerLevel(pl, 'm.room.message', false), 5);
    assert.equal(requiredPowerLevel(undefined, 'm.room.topic', true), 50);
    assert.equal(requiredPowerLevel(undefined, 'm.room.message', false), 0);
  });
});

describe('powerLevelOf', () => {
  it('without power levels, v1–v10 give content.creator 100 and everyone else 0', () => {
    const room = new TestRoom('10', { creator: '@maker:a.test' });
    assert.equal(powerLevelOf('@maker:a.test', room.authState(), '10'), 100);
    assert.equal(powerLevelOf('@someone:a.test', room.authState(), '10'), 0);
  });

  it('v1–v10 take the creator from content.creator, not from the sender', () => {
    const room = new TestRoom('1', { createContent: { creator: '@named:a.test' } });
    assert.equal(powerLevelOf('@named:a.test', room.authState(), '1'), 100);
    assert.equal(powerLevelOf(CREATOR, room.authState(), '1'), 0);
  });

  it('v11 takes the creator from the create event sender and ignores content.creator', () => {
    const room = new TestRoom('11', { createContent: { creator: '@named:a.test' } });
    assert.equal(powerLevelOf(CREATOR, room.authState(), '11'), 100);
    assert.equal(powerLevelOf('@named:a.test', room.authState(), '11'), 0);
  });

  it('with power levels, uses users, else users_default', () => {
    const room = new TestRoom('10').setPowerLevels({ users: { '@a:x': 42 }, users_default: 7 });
    assert.equal(powerLevelOf('@a:x', room.authState(), '10'), 42);
    assert.equal(powerLevelOf(CREATOR, room.authState(), '10'), 7);
  });

  it('v12 creators (sender and additional_creators) have infinite power, with or without power levels', () => {
    const room = new TestRoom('12', { additionalCreators: ['@co:b.test'] });
    assert.equal(powerLevelOf(CREATOR, room.authState(), '12'), Infinity);
    assert.equal(powerLevelOf('@co:b.test', room.authState(), '12'), Infinity);
    assert.equal(powerLevelOf('@x:b.test', room.authState(), '12'), 0);
    room.setPowerLevels({ users: { '@x:b.test': 100 }, users_default: 3 });
    assert.equal(powerLevelOf(CREATOR, room.authState(), '12'), Infinity);
    assert.equal(powerLevelOf('@x:b.test', room.authState(), '12'), 100);
    assert.equal(powerLevelOf('@y:b.test', room.authState(), '12'), 3);
  });

  it('additional_creators mean nothing before v12', () => {
    const room = new TestRoom('11', { createContent: { additional_creators: ['@co:b.test'] } });
    assert.equal(powerLevelOf('@co:b.test', room.authState(), '11'), 0);
  });

  it('reads stringy and floaty levels of old rooms', () => {
    const room = new TestRoom('3').setPowerLevels({ users: { '@a:x': ' +75 ', '@b:x': 60.9 } });
    assert.equal(powerLevelOf('@a:x', room.authState(), '3'), 75);
    assert.equal(powerLevelOf('@b:x', room.authState(), '3'), 60);
  });

  it('is 0 for everyone in a state with no create event and no power levels', () => {
    assert.equal(powerLevelOf('@a:x', authStateFromEvents([]), '10'), 0);
  });
});
