// Rules on the cited auth_events (SPEC v1–v11 rule 2; v12 rules 2 and 3).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthCandidate, AuthDecision } from './auth-types.js';
import { checkAuthEventsSanity } from './auth-events-sanity.js';
import type { CitedAuthEvent } from './auth-events-sanity.js';
import { CREATOR, TestRoom } from './test-support/test-room.js';

const ALICE = '@alice:b.test';

function reasonOf(decision: AuthDecision): string {
  return decision.allowed ? '(allowed)' : decision.reason;
}

/** A room where ALICE is joined, and her self-leave citing the right events. */
function leaveSetup(version: string): { room: TestRoom; cited: CitedAuthEvent[]; leave: AuthCandidate } {
  const room = new TestRoom(version).setMembership(CREATOR, 'join').setJoinRule('public');
  room.setPowerLevels({ users: version === '12' ? {} : { [CREATOR]: 100 } }).setMembership(ALICE, 'join');
  const cited: CitedAuthEvent[] = [room.get('m.room.power_levels', '')!, room.get('m.room.member', ALICE)!];
  if (version !== '12') cited.unshift(room.create);
  const leave = { ...room.memberEvent(ALICE, ALICE, 'leave'), auth_events: cited.map((e) => e.event_id) };
  return { room, cited, leave };
}

describe('checkAuthEventsSanity', () => {
  it('accepts the selected events for v1–v11', () => {
    for (const version of ['1', '3', '10', '11']) {
      const { cited, leave } = leaveSetup(version);
      assert.deepEqual(checkAuthEventsSanity(leave, cited, version), { allowed: true }, `v${version}`);
    }
  });

  it('accepts v1/v2 references given as [event_id, hashes] pairs', () => {
    const { cited, leave } = leaveSetup('1');
    const withPairs = { ...leave, auth_events: cited.map((e) => [e.event_id, { sha256: 'abc' }] as const) };
    assert.deepEqual(checkAuthEventsSanity(withPairs, cited, '1'), { allowed: true });
  });

  it('accepts a v12 event that does not cite the create event named by its room ID', () => {
    const { room, cited, leave } = leaveSetup('12');
    assert.deepEqual(checkAuthEventsSanity(leave, cited, '12', room.create), { allowed: true });
  });

  it('rejects a cited ID for which no event was provided', () => {
    const { cited, leave } = leaveSetup('10');
    assert.match(reasonOf(checkAuthEventsSanity(leave, cited.slice(1), '10')), /was not provided/);
  });

  it('rejects two entries for the same (type, state_key)', () => {
    const { room, cited, leave } = leaveSetup('10');
    const older = { ...room.get('m.room.member', ALICE)!, event_id: '$older' };
    const event = { ...leave, auth_events: [...(leave.auth_events ?? []), older.event_id] };
    assert.match(reasonOf(checkAuthEventsSanity(event, [...cited, older], '10')), /more than once/);
  });

  it('rejects an entry the selection does not pick: join rules on a leave', () => {
    const { room, cited, leave } = leaveSetup('10');
    const joinRules = room.get('m.room.join_rules', '')!;
    const event = { ...leave, auth_events: [...(leave.auth_events ?? []), joinRules.event_id] };
    assert.match(reasonOf(checkAuthEventsSanity(event, [...cited, joinRules], '10')), /does not pick/);
  });

  it('rejects a cited event that is not a state event', () => {
    const { room, cited, leave } = leaveSetup('10');
    const message: CitedAuthEvent = { event_id: '$msg', room_id: room.roomId, type: 'm.room.message', sender: ALICE, content: {} };
    const event = { ...leave, auth_events: [...(leave.auth_events ?? []), message.event_id] };
    assert.equal(checkAuthEventsSanity(event, [...cited, message], '10').allowed, false);
  });

  it('rejects an entry that was itself rejected', () => {
    const { cited, leave } = leaveSetup('10');
    const marked = cited.map((e) => (e.type === 'm.room.power_levels' ? { ...e, rejected: true } : e));
    assert.match(reasonOf(checkAuthEventsSanity(leave, marked, '10')), /was rejected/);
  });

  it('v1–v11: rejects auth events without the create event', () => {
    const { cited, leave } = leaveSetup('11');
    const withoutCreate = cited.filter((e) => e.type !== 'm.room.create');
    const event = { ...leave, auth_events: withoutCreate.map((e) => e.event_id) };
    assert.match(reasonOf(checkAuthEventsSanity(event, withoutCreate, '11')), /do not cite the create event/);
  });

  it('rejects an auth event from another room', () => {
    const { cited, leave } = leaveSetup('10');
    const moved = cited.map((e) => (e.type === 'm.room.member' ? { ...e, room_id: '!elsewhere:a.test' } : e));
    assert.match(reasonOf(checkAuthEventsSanity(leave, moved, '10')), /belongs to room !elsewhere/);
  });

  it('v12: rejects citing the create event', () => {
    const { room, cited, leave } = leaveSetup('12');
    const event = { ...leave, auth_events: [room.create.event_id, ...(leave.auth_events ?? [])] };
    assert.match(reasonOf(checkAuthEventsSanity(event, [room.create, ...cited], '12', room.create)), /must not cite the create event/);
  });

  it('v12: rejects a room ID that is not the create event ID with "!" for "$"', () => {
    const { room, cited, leave } = leaveSetup('12');
    const event = { ...leave, room_id: '!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' };
    assert.match(reasonOf(checkAuthEventsSanity(event, cited, '12', room.create)), /is not the ID of create event/);
  });

  it('v12: rejects when the create event is unknown, rejected, or not a create event', () => {
    const { room, cited, leave } = leaveSetup('12');
    assert.match(reasonOf(checkAuthEventsSanity(leave, cited, '12')), /unknown/);
    assert.match(reasonOf(checkAuthEventsSanity(leave, cited, '12', { ...room.create, rejected: true })), /was rejected/);
    assert.match(reasonOf(checkAuthEventsSanity(leave, cited, '12', { ...room.create, type: 'm.room.name' })), /not a create event/);
  });

  it('has nothing to check for a create event', () => {
    const room = new TestRoom('10');
    assert.deepEqual(checkAuthEventsSanity(room.create, [], '10'), { allowed: true });
  });
});
