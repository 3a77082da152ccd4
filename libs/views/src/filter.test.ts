import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '@membrane/matrix-errors';
import { eventMatches, parseFilter, parseRoomEventFilter, roomMatches, timelineLimitOf, typeMatches } from './filter.js';

function assertBadJson(fn: () => unknown, mentions: string): void {
  assert.throws(fn, (err: unknown) => err instanceof MatrixError && err.status === 400 && err.errcode === 'M_BAD_JSON' && err.message.includes(mentions));
}

describe('parseFilter', () => {
  it('accepts the filter matrix-js-sdk creates at start-up, and unknown keys', () => {
    const filter = { room: { timeline: { limit: 20, unread_thread_notifications: true }, state: { lazy_load_members: true } }, future_key: { x: 1 } };
    assert.deepEqual(parseFilter(filter), filter);
  });

  it('accepts the empty filter', () => {
    assert.deepEqual(parseFilter({}), {});
  });

  it('refuses what is not an object', () => {
    assertBadJson(() => parseFilter([]), 'filter must be an object');
    assertBadJson(() => parseFilter('x'), 'filter must be an object');
    assertBadJson(() => parseFilter(null), 'filter must be an object');
  });

  it('names the bad field', () => {
    assertBadJson(() => parseFilter({ room: { timeline: { limit: 0 } } }), 'filter.room.timeline.limit');
    assertBadJson(() => parseFilter({ room: { timeline: { limit: 2.5 } } }), 'filter.room.timeline.limit');
    assertBadJson(() => parseFilter({ room: { state: { types: 'm.room.name' } } }), 'filter.room.state.types');
    assertBadJson(() => parseFilter({ room: { include_leave: 'yes' } }), 'filter.room.include_leave');
    assertBadJson(() => parseFilter({ room: { rooms: [1] } }), 'filter.room.rooms');
    assertBadJson(() => parseFilter({ event_format: 'xml' }), 'filter.event_format');
    assertBadJson(() => parseFilter({ presence: { not_senders: [null] } }), 'filter.presence.not_senders');
    assertBadJson(() => parseFilter({ room: { timeline: { contains_url: 1 } } }), 'filter.room.timeline.contains_url');
  });
});

describe('parseRoomEventFilter', () => {
  it('validates the /messages filter', () => {
    assert.deepEqual(parseRoomEventFilter({ types: ['m.room.message'] }), { types: ['m.room.message'] });
    assertBadJson(() => parseRoomEventFilter({ limit: -1 }), 'filter.limit');
  });
});

describe('typeMatches', () => {
  it('matches exactly without a wildcard', () => {
    assert.equal(typeMatches('m.room.message', 'm.room.message'), true);
    assert.equal(typeMatches('m.room.message', 'm.room.messages'), false);
  });
  it('lets * stand for any run of characters, including none', () => {
    assert.equal(typeMatches('m.room.*', 'm.room.member'), true);
    assert.equal(typeMatches('m.room.*', 'm.room.'), true);
    assert.equal(typeMatches('*', 'anything'), true);
    assert.equal(typeMatches('m.*.member', 'm.room.member'), true);
    assert.equal(typeMatches('m.*.member', 'm.member'), false);
    assert.equal(typeMatches('*.call.*', 'm.call.invite'), true);
    assert.equal(typeMatches('ab*ab', 'ab'), false);
    assert.equal(typeMatches('m.room.*', 'org.example'), false);
  });
});

describe('eventMatches', () => {
  const message = { type: 'm.room.message', sender: '@a:hs', roomId: '!r:hs', content: { body: 'hi' } };

  it('lets everything through without a filter or with an empty one', () => {
    assert.equal(eventMatches(undefined, message), true);
    assert.equal(eventMatches({}, message), true);
  });

  it('applies types and not_types, not_types winning', () => {
    assert.equal(eventMatches({ types: ['m.room.*'] }, message), true);
    assert.equal(eventMatches({ types: ['m.room.*'], not_types: ['m.room.message'] }, message), false);
    assert.equal(eventMatches({ types: [] }, message), false);
  });

  it('applies senders and not_senders', () => {
    assert.equal(eventMatches({ senders: ['@a:hs'] }, message), true);
    assert.equal(eventMatches({ senders: ['@b:hs'] }, message), false);
    assert.equal(eventMatches({ not_senders: ['@a:hs'] }, message), false);
  });

  it('applies rooms, not_rooms and contains_url', () => {
    assert.equal(eventMatches({ rooms: ['!other:hs'] }, message), false);
    assert.equal(eventMatches({ not_rooms: ['!r:hs'] }, message), false);
    assert.equal(eventMatches({ contains_url: true }, message), false);
    assert.equal(eventMatches({ contains_url: false }, message), true);
    assert.equal(eventMatches({ contains_url: true }, { ...message, content: { url: 'mxc://hs/x' } }), true);
  });
});

describe('roomMatches and timelineLimitOf', () => {
  it('filters rooms by the room filter lists', () => {
    assert.equal(roomMatches({ rooms: ['!a:hs'] }, '!a:hs'), true);
    assert.equal(roomMatches({ rooms: ['!a:hs'], not_rooms: ['!a:hs'] }, '!a:hs'), false);
    assert.equal(roomMatches(undefined, '!a:hs'), true);
  });
  it('uses 10 timeline events unless the filter says otherwise', () => {
    assert.equal(timelineLimitOf(undefined), 10);
    assert.equal(timelineLimitOf({ room: { timeline: { limit: 3 } } }), 3);
  });
});
