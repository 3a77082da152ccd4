// Rules outside the membership branch: create events, m.federate, aliases,
// ordinary state and message events, and v1/v2 redactions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { authStateFromEvents } from './auth-types.js';
import type { AuthCandidate, AuthDecision } from './auth-types.js';
import { checkEventAuth } from './check-event-auth.js';
import { CREATOR, TestRoom } from './test-support/test-room.js';

const ALICE = '@alice:b.test';

function reasonOf(decision: AuthDecision): string {
  return decision.allowed ? '(allowed)' : decision.reason;
}

/** A create event; a field given as undefined is left out. */
function createEvent(fields: { [K in keyof AuthCandidate]?: AuthCandidate[K] | undefined } = {}): AuthCandidate {
  const event: Record<string, unknown> = {
    type: 'm.room.create',
    state_key: '',
    sender: CREATOR,
    room_id: '!room:a.test',
    content: { creator: CREATOR, room_version: '10' },
    prev_events: [],
    ...fields,
  };
  for (const [key, value] of Object.entries(event)) if (value === undefined) delete event[key];
  return event as unknown as AuthCandidate;
}

const EMPTY = authStateFromEvents([]);

describe('m.room.create', () => {
  it('v1–v10: allowed with no prev_events, room ID on the sender domain, a known room_version and a creator', () => {
    for (const v of ['1', '5', '10']) assert.deepEqual(checkEventAuth(createEvent(), EMPTY, v), { allowed: true }, `v${v}`);
  });

  it('rejects prev_events', () => {
    assert.match(reasonOf(checkEventAuth(createEvent({ prev_events: ['$x'] }), EMPTY, '10')), /prev_events/);
    assert.match(reasonOf(checkEventAuth(createEvent({ prev_events: ['$x'] }), EMPTY, '12')), /prev_events/);
  });

  it('v1–v11: rejects a room ID whose domain is not the sender domain', () => {
    assert.match(reasonOf(checkEventAuth(createEvent({ room_id: '!room:other.test' }), EMPTY, '11')), /domain/);
    assert.equal(checkEventAuth(createEvent({ room_id: undefined }), EMPTY, '11').allowed, false);
  });

  it('rejects an unknown or non-string room_version, and accepts its absence', () => {
    assert.match(reasonOf(checkEventAuth(createEvent({ content: { creator: CREATOR, room_version: '99' } }), EMPTY, '10')), /room_version/);
    assert.equal(checkEventAuth(createEvent({ content: { creator: CREATOR, room_version: 10 } }), EMPTY, '10').allowed, false);
    assert.equal(checkEventAuth(createEvent({ content: { creator: CREATOR } }), EMPTY, '10').allowed, true);
  });

  it('v1–v10 require content.creator; v11+ do not', () => {
    assert.match(reasonOf(checkEventAuth(createEvent({ content: {} }), EMPTY, '10')), /creator/);
    assert.equal(checkEventAuth(createEvent({ content: {} }), EMPTY, '11').allowed, true);
  });

  it('v12: rejects a create event that has a room_id, and ignores the sender domain', () => {
    assert.match(reasonOf(checkEventAuth(createEvent({ content: {} }), EMPTY, '12')), /must not have a room_id/);
    assert.equal(checkEventAuth(createEvent({ content: {}, room_id: undefined, sender: '@x:any.test' }), EMPTY, '12').allowed, true);
  });

  it('v12: additional_creators must be an array of valid user IDs', () => {
    const withCreators = (additional: unknown): boolean =>
      checkEventAuth(createEvent({ room_id: undefined, content: { additional_creators: additional } }), EMPTY, '12').allowed;
    assert.equal(withCreators(['@a:b.test', '@c:[::1]:8448']), true);
    assert.equal(withCreators([]), true);
    assert.equal(withCreators('@a:b.test'), false, 'not an array');
    assert.equal(withCreators([42]), false, 'not a string');
    assert.equal(withCreators(['a:b.test']), false, 'no sigil');
    assert.equal(withCreators(['@a:bad_server!']), false, 'invalid server name');
    assert.equal(withCreators([`@${'x'.repeat(250)}:b.test`]), false, 'over 255 bytes');
    // Before v12 the field serves no purpose and is not validated.
    assert.equal(checkEventAuth(createEvent({ content: { additional_creators: 'junk' } }), EMPTY, '11').allowed, true);
  });
});

describe('checks before the event-type rules', () => {
  it('rejects any non-create event when the state has no create event', () => {
    const message: AuthCandidate = { type: 'm.room.message', sender: ALICE, room_id: '!room:a.test', content: {} };
    assert.match(reasonOf(checkEventAuth(message, EMPTY, '10')), /no m\.room\.create/);
  });

  it('v1–v11: rejects an event whose room is not the create event room', () => {
    const room = new TestRoom('10').setMembership(CREATOR, 'join');
    const event = room.event({ type: 'm.room.message', sender: CREATOR, content: {}, room_id: '!other:a.test' });
    assert.match(reasonOf(room.check(event)), /belongs to room/);
  });

  it('v12: rejects an event whose room ID is not derived from the create event in the state', () => {
    const room = new TestRoom('12').setMembership(CREATOR, 'join');
    assert.equal(room.check(room.event({ type: 'm.room.message', sender: CREATOR, content: {} })).allowed, true);
    const elsewhere = room.event({ type: 'm.room.message', sender: CREATOR, content: {}, room_id: '!someOtherRoomEntirely' });
    assert.match(reasonOf(room.check(elsewhere)), /is not the ID of create event/);
  });

  it('m.federate false: only senders from the creator server pass', () => {
    const room = new TestRoom('10', { createContent: { 'm.federate': false } }).setJoinRule('public');
    assert.match(reasonOf(room.check(room.memberEvent(ALICE, ALICE, 'join'))), /does not federate/);
    assert.equal(room.check(room.memberEvent('@local:a.test', '@local:a.test', 'join')).allowed, true);
    const federating = new TestRoom('10', { createContent: { 'm.federate': true } }).setJoinRule('public');
    assert.equal(federating.check(federating.memberEvent(ALICE, ALICE, 'join')).allowed, true);
  });
});

describe('m.room.aliases (v1–v5 special rule)', () => {
  it('v1–v5: allowed for the sender server name as state key, even from a non-member', () => {
    for (const v of ['1', '5']) {
      const room = new TestRoom(v);
      assert.equal(room.check(room.event({ type: 'm.room.aliases', state_key: 'b.test', sender: ALICE, content: {} })).allowed, true);
      assert.equal(room.check(room.event({ type: 'm.room.aliases', state_key: 'c.test', sender: ALICE, content: {} })).allowed, false);
      assert.equal(room.check(room.event({ type: 'm.room.aliases', sender: ALICE, content: {} })).allowed, false);
    }
  });

  it('v6+: an ordinary state event (needs membership and state_default)', () => {
    const room = new TestRoom('6');
    assert.match(reasonOf(room.check(room.event({ type: 'm.room.aliases', state_key: 'b.test', sender: ALICE, content: {} }))), /not joined/);
    room.setMembership(ALICE, 'join');
    assert.match(reasonOf(room.check(room.event({ type: 'm.room.aliases', state_key: 'b.test', sender: ALICE, content: {} }))), /needs power level 50/);
  });
});

describe('ordinary events (the default rule)', () => {
  function room(): TestRoom {
    const r = new TestRoom('10').setMembership(CREATOR, 'join').setMembership(ALICE, 'join');
    r.setPowerLevels({
      users: { [CREATOR]: 100, [ALICE]: 20 },
      events: { 'm.room.history_visibility': 100, 'm.room.reaction': 30 },
      state_default: 20,
      events_default: 10,
    });
    return r;
  }

  it('rejects any event from a sender who is not joined', () => {
    for (const m of ['invite', 'knock', 'leave', 'ban'] as const) {
      const r = room().setMembership(ALICE, m);
      assert.match(reasonOf(r.check(r.event({ type: 'm.room.message', sender: ALICE, content: {} }))), /not joined/, m);
    }
  });

  it('message events need events[type], else events_default', () => {
    const r = room();
    assert.equal(r.check(r.event({ type: 'm.room.message', sender: ALICE, content: {} })).allowed, true);
    assert.match(reasonOf(r.check(r.event({ type: 'm.room.reaction', sender: ALICE, content: {} }))), /needs power level 30/);
  });

  it('a sender exactly at the required level may send; one below may not', () => {
    const r = room();
    r.setPowerLevels({ users: { [CREATOR]: 100, [ALICE]: 20 }, events: { 'x.at': 20, 'x.above': 21 } });
    assert.equal(r.check(r.event({ type: 'x.at', sender: ALICE, content: {} })).allowed, true);
    assert.match(reasonOf(r.check(r.event({ type: 'x.above', sender: ALICE, content: {} }))), /needs power level 21; @alice:b.test has 20/);
  });

  it('state events need events[type], else state_default: history_visibility and join_rules are ordinary state', () => {
    const r = room();
    const state = (type: string): AuthDecision => r.check(r.event({ type, state_key: '', sender: ALICE, content: {} }));
    assert.equal(state('m.room.topic').allowed, true, 'state_default 20');
    assert.equal(state('m.room.join_rules').allowed, true, 'join rules use state_default too');
    assert.match(reasonOf(state('m.room.history_visibility')), /needs power level 100/);
  });

  it('without power levels, state needs 50 and messages 0; the creator has 100', () => {
    const r = new TestRoom('10').setMembership(CREATOR, 'join').setMembership(ALICE, 'join');
    assert.equal(r.check(r.event({ type: 'm.room.message', sender: ALICE, content: {} })).allowed, true);
    assert.equal(r.check(r.event({ type: 'm.room.name', state_key: '', sender: ALICE, content: {} })).allowed, false);
    assert.equal(r.check(r.event({ type: 'm.room.name', state_key: '', sender: CREATOR, content: {} })).allowed, true);
  });

  it("rejects state keyed by another user's ID", () => {
    const r = room();
    assert.match(reasonOf(r.check(r.event({ type: 'x.custom', state_key: CREATOR, sender: ALICE, content: {} }))), /only @creator/);
    assert.equal(r.check(r.event({ type: 'x.custom', state_key: ALICE, sender: ALICE, content: {} })).allowed, true);
    assert.equal(r.check(r.event({ type: 'x.custom', state_key: 'alice', sender: ALICE, content: {} })).allowed, true);
  });
});

describe('m.room.redaction', () => {
  function room(version: string): TestRoom {
    const r = new TestRoom(version).setMembership(CREATOR, 'join').setMembership(ALICE, 'join');
    r.setPowerLevels({ users: { [CREATOR]: 100, [ALICE]: 10 }, redact: 50 });
    return r;
  }

  it('v1/v2: below the redact level, only events from the same server (by event ID) may be redacted', () => {
    for (const v of ['1', '2']) {
      const r = room(v);
      const redaction = (redacts: string, eventId = '$r1:b.test'): AuthCandidate =>
        ({ ...r.event({ type: 'm.room.redaction', sender: ALICE, content: {}, redacts }), event_id: eventId });
      assert.equal(r.check(redaction('$m:b.test')).allowed, true, 'same server');
      assert.match(reasonOf(r.check(redaction('$m:a.test'))), /redact events from other servers/);
      assert.equal(r.check(redaction('$m:b.test', '$r1:other.test')).allowed, false, 'judged by the redaction event ID domain');
      const { event_id: _id, ...withoutId } = redaction('$m:b.test');
      assert.match(reasonOf(r.check(withoutId)), /without its event_id/);
    }
  });

  it('v1/v2: the redact level allows redacting anything', () => {
    const r = room('1');
    r.setPowerLevels({ users: { [CREATOR]: 100, [ALICE]: 50 }, redact: 50 });
    assert.equal(r.check(r.event({ type: 'm.room.redaction', sender: ALICE, content: {}, redacts: '$m:a.test' })).allowed, true);
  });

  it('v3+: redactions are ordinary events for the auth rules; the redact level is not considered', () => {
    for (const v of ['3', '11']) {
      const r = room(v);
      const content = v === '11' ? { redacts: '$other' } : {};
      assert.equal(r.check(r.event({ type: 'm.room.redaction', sender: ALICE, content, redacts: '$other' })).allowed, true, `v${v}`);
    }
  });
});
