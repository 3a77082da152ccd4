import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toClientEvent } from './client-event.js';

const PDU = {
  auth_events: ['$a'],
  content: { membership: 'leave', reason: 'bye' },
  depth: 7,
  hashes: { sha256: 'x' },
  origin: 'hs.test',
  origin_server_ts: 1700000000000,
  prev_events: ['$p'],
  room_id: '!r:hs.test',
  sender: '@bob:hs.test',
  signatures: { 'hs.test': { 'ed25519:a': 'sig' } },
  state_key: '@bob:hs.test',
  type: 'm.room.member',
  unsigned: { age_ts: 1 },
};

describe('toClientEvent', () => {
  it('keeps what clients read and drops the federation envelope', () => {
    assert.deepEqual(toClientEvent(PDU, '$e', '!r:hs.test'), {
      content: { membership: 'leave', reason: 'bye' },
      origin_server_ts: 1700000000000,
      sender: '@bob:hs.test',
      state_key: '@bob:hs.test',
      type: 'm.room.member',
      event_id: '$e',
      room_id: '!r:hs.test',
    });
  });

  it('adds the room ID to events that carry none (v12 create events)', () => {
    const { room_id: _dropped, ...create } = { ...PDU, type: 'm.room.create', state_key: '', content: { room_version: '12' } };
    assert.equal(toClientEvent(create, '$c', '!c').room_id, '!c');
  });
});
