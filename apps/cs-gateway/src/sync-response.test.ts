import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Membership } from '@membrane/proto';
import type { SyncRoom, ViewedEvent } from '@membrane/proto';
import { syncResponseBody } from './sync-response.js';

function viewed(eventId: string, pdu: Record<string, unknown>, position: number): ViewedEvent {
  return { eventJson: JSON.stringify({ origin_server_ts: 1000, room_id: '!r:hs.test', depth: 3, hashes: {}, signatures: {}, ...pdu }), eventId, position };
}

const member = (user: string, membership: string, position: number): ViewedEvent =>
  viewed(`$${user}-${membership}`, { type: 'm.room.member', state_key: `@${user}:hs.test`, sender: `@${user}:hs.test`, content: { membership } }, position);

function room(roomId: string, membership: Membership, extra: Partial<SyncRoom> = {}): SyncRoom {
  return {
    roomId,
    roomVersion: '11',
    membership,
    state: [],
    timeline: [],
    limited: false,
    prevBatchPosition: 0,
    strippedStateJson: [],
    joinedMemberCount: 0,
    invitedMemberCount: 0,
    ...extra,
  };
}

describe('syncResponseBody', () => {
  it('puts each room in the section of its membership, bans under leave', () => {
    const body = syncResponseBody(
      {
        nextPosition: 40,
        rooms: [
          room('!j:hs.test', Membership.JOIN, { state: [member('alice', 'join', 1)], timeline: [member('bob', 'join', 7)], limited: true, prevBatchPosition: 6, joinedMemberCount: 2, invitedMemberCount: 1 }),
          room('!i:hs.test', Membership.INVITE, { strippedStateJson: [JSON.stringify({ type: 'm.room.name', state_key: '', sender: '@a:hs.test', content: { name: 'N' } })] }),
          room('!k:hs.test', Membership.KNOCK, { strippedStateJson: [JSON.stringify({ type: 'm.room.member', state_key: '@bob:hs.test', sender: '@bob:hs.test', content: { membership: 'knock' } })] }),
          room('!l:hs.test', Membership.LEAVE, { timeline: [member('bob', 'leave', 9)], prevBatchPosition: 8 }),
          room('!b:hs.test', Membership.BAN, { timeline: [member('bob', 'ban', 10)], prevBatchPosition: 9 }),
        ],
      },
      { now: 3000 },
    );
    assert.equal(body['next_batch'], 's40');
    const rooms = body['rooms'] as Record<string, Record<string, Record<string, unknown>>>;
    assert.deepEqual(Object.keys(rooms['join'] ?? {}), ['!j:hs.test']);
    assert.deepEqual(Object.keys(rooms['invite'] ?? {}), ['!i:hs.test']);
    assert.deepEqual(Object.keys(rooms['knock'] ?? {}), ['!k:hs.test']);
    assert.deepEqual(Object.keys(rooms['leave'] ?? {}).sort(), ['!b:hs.test', '!l:hs.test']);

    const joined = rooms['join']?.['!j:hs.test'] as Record<string, Record<string, unknown>>;
    assert.deepEqual(joined['summary'], { 'm.joined_member_count': 2, 'm.invited_member_count': 1 });
    assert.equal(joined['timeline']?.['limited'], true);
    assert.equal(joined['timeline']?.['prev_batch'], 's6');
    const [join] = joined['timeline']?.['events'] as Record<string, unknown>[];
    assert.deepEqual(join, { type: 'm.room.member', state_key: '@bob:hs.test', sender: '@bob:hs.test', content: { membership: 'join' }, origin_server_ts: 1000, event_id: '$bob-join', unsigned: { age: 2000 } });
    assert.equal((joined['state']?.['events'] as unknown[]).length, 1);
    for (const empty of ['account_data', 'ephemeral']) assert.deepEqual(joined[empty], { events: [] });

    assert.deepEqual(rooms['invite']?.['!i:hs.test'], { invite_state: { events: [{ type: 'm.room.name', state_key: '', sender: '@a:hs.test', content: { name: 'N' } }] } });
    assert.equal(((rooms['knock']?.['!k:hs.test']?.['knock_state'] as Record<string, unknown[]>)['events'] as unknown[]).length, 1);
    const left = rooms['leave']?.['!l:hs.test'] as Record<string, Record<string, unknown>>;
    assert.equal(left['timeline']?.['prev_batch'], 's8');
    assert.deepEqual(left['state'], { events: [] });
    assert.equal('summary' in left, false);
  });

  it('answers with every section present and empty when nothing changed', () => {
    assert.deepEqual(syncResponseBody({ nextPosition: 5, rooms: [] }, { now: 0 }), {
      next_batch: 's5',
      rooms: { join: {}, invite: {}, leave: {}, knock: {} },
      account_data: { events: [] },
      presence: { events: [] },
      to_device: { events: [] },
      device_lists: { changed: [], left: [] },
      device_one_time_keys_count: {},
    });
  });

  it('drops a federation envelope from stripped state, and applies the event format to room events', () => {
    const fullInvite = { type: 'm.room.member', state_key: '@bob:hs.test', sender: '@a:hs.test', content: { membership: 'invite' }, event_id: '$inv', origin_server_ts: 5, hashes: {}, signatures: {}, auth_events: [], prev_events: [], depth: 4, origin: 'hs.test' };
    const body = syncResponseBody(
      { nextPosition: 1, rooms: [room('!i:hs.test', Membership.INVITE, { strippedStateJson: [JSON.stringify(fullInvite)] }), room('!j:hs.test', Membership.JOIN, { timeline: [member('bob', 'join', 1)] })] },
      { now: 1000, format: { fields: ['type'] } },
    );
    const rooms = body['rooms'] as Record<string, Record<string, Record<string, Record<string, unknown[]>>>>;
    assert.deepEqual(rooms['invite']?.['!i:hs.test']?.['invite_state']?.['events'], [
      { type: 'm.room.member', state_key: '@bob:hs.test', sender: '@a:hs.test', content: { membership: 'invite' }, event_id: '$inv', origin_server_ts: 5 },
    ]);
    assert.deepEqual(rooms['join']?.['!j:hs.test']?.['timeline']?.['events'], [{ type: 'm.room.member' }]);
  });
});
