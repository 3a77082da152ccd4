import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ViewedEvent } from '@membrane/proto';
import { fieldPath, onlyFields, viewedEventForClient } from './viewed-event.js';

const TOPIC_PDU = {
  auth_events: ['$a'],
  content: { topic: 'new' },
  depth: 9,
  hashes: { sha256: 'x' },
  origin: 'hs.test',
  origin_server_ts: 1_700_000_000_000,
  prev_events: ['$p'],
  room_id: '!r:hs.test',
  sender: '@alice:hs.test',
  signatures: { 'hs.test': { 'ed25519:a': 'sig' } },
  state_key: '',
  type: 'm.room.topic',
};

const viewed: ViewedEvent = {
  eventJson: JSON.stringify(TOPIC_PDU),
  eventId: '$topic',
  position: 12,
  prevContentJson: JSON.stringify({ topic: 'old' }),
  replacesState: '$old-topic',
  prevSender: '@bob:hs.test',
};

const NOW = TOPIC_PDU.origin_server_ts + 5_000;

describe('viewedEventForClient', () => {
  it('gives the client format with age and the state the event replaced', () => {
    assert.deepEqual(viewedEventForClient(viewed, { roomId: '!r:hs.test', withRoomId: true, now: NOW }), {
      content: { topic: 'new' },
      event_id: '$topic',
      origin_server_ts: TOPIC_PDU.origin_server_ts,
      room_id: '!r:hs.test',
      sender: '@alice:hs.test',
      state_key: '',
      type: 'm.room.topic',
      unsigned: { age: 5_000, prev_content: { topic: 'old' }, prev_sender: '@bob:hs.test', replaces_state: '$old-topic' },
    });
  });

  it('leaves room_id out where the section names the room, and unsigned holds only age for a first state or a message', () => {
    const message: ViewedEvent = { eventJson: JSON.stringify({ ...TOPIC_PDU, type: 'm.room.message', state_key: undefined, content: { body: 'hi' } }), eventId: '$m', position: 13 };
    const event = viewedEventForClient(message, { roomId: '!r:hs.test', withRoomId: false, now: NOW });
    assert.equal('room_id' in event, false);
    assert.equal('state_key' in event, false);
    assert.deepEqual(event['unsigned'], { age: 5_000 });
  });

  it('never reports a negative age for an event from a clock ahead of ours', () => {
    assert.deepEqual(viewedEventForClient({ ...viewed, prevContentJson: undefined, replacesState: undefined, prevSender: undefined }, { roomId: '!r:hs.test', withRoomId: true, now: 0 })['unsigned'], { age: 0 });
  });

  it('keeps the PDU in the federation format', () => {
    const event = viewedEventForClient(viewed, { roomId: '!r:hs.test', withRoomId: false, now: NOW, format: { federation: true } });
    assert.deepEqual(event['signatures'], TOPIC_PDU.signatures);
    assert.equal(event['depth'], 9);
    assert.equal(event['event_id'], '$topic');
    assert.equal((event['unsigned'] as Record<string, unknown>)['age'], 5_000);
  });

  it('keeps only the requested fields', () => {
    const event = viewedEventForClient(viewed, { roomId: '!r:hs.test', withRoomId: true, now: NOW, format: { fields: ['type', 'content.topic', 'unsigned.age', 'nope.deeper'] } });
    assert.deepEqual(event, { type: 'm.room.topic', content: { topic: 'new' }, unsigned: { age: 5_000 } });
  });
});

describe('event_fields paths', () => {
  it('splits on dots, with backslash escapes for dots and backslashes', () => {
    assert.deepEqual(fieldPath('content.body'), ['content', 'body']);
    assert.deepEqual(fieldPath('content.m\\.relates_to'), ['content', 'm.relates_to']);
    assert.deepEqual(fieldPath('a\\\\.b'), ['a\\', 'b']);
    assert.deepEqual(fieldPath('plain'), ['plain']);
  });

  it('copies nested values and merges paths under the same parent', () => {
    const event = { content: { body: 'hi', 'm.relates_to': { rel_type: 'x' }, url: 'mxc://a' }, type: 't' };
    assert.deepEqual(onlyFields(event, ['content.body', 'content.m\\.relates_to']), { content: { body: 'hi', 'm.relates_to': { rel_type: 'x' } } });
    assert.deepEqual(onlyFields(event, ['type.length', 'content.body.x']), {});
    assert.deepEqual(onlyFields(event, []), {});
  });

  it('copies a `__proto__` key that a sender put in the content as a plain field, never reaching Object.prototype', () => {
    // Event content is the sender's to choose, and JSON.parse keeps `__proto__` as an own key.
    const pdu = JSON.parse('{"type":"m.room.message","content":{"__proto__":{"polluted":"yes"},"body":"hi"}}') as Record<string, unknown>;
    try {
      const event = onlyFields(pdu, ['content.__proto__.polluted', 'content.body']);
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype is untouched');
      assert.equal(JSON.stringify(event), '{"content":{"__proto__":{"polluted":"yes"},"body":"hi"}}');
    } finally {
      delete (Object.prototype as Record<string, unknown>)['polluted'];
    }
  });
});
