import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getRoomVersion } from '@membrane/events';
import { planRoomCreation, presetFor } from './room-creation.js';

const alice = '@alice:example.org';
const bob = '@bob:example.org';

describe('planRoomCreation', () => {
  it('orders create, creator join, power levels, join rules, history visibility, guest access, name, topic, invites', () => {
    const events = planRoomCreation({ creator: alice, name: 'n', topic: 't', invitees: [bob] }, getRoomVersion('10'));
    assert.deepEqual(
      events.map((e) => `${e.type}|${e.stateKey ?? ''}`),
      [
        'm.room.create|',
        `m.room.member|${alice}`,
        'm.room.power_levels|',
        'm.room.join_rules|',
        'm.room.history_visibility|',
        'm.room.guest_access|',
        'm.room.name|',
        'm.room.topic|',
        `m.room.member|${bob}`,
      ],
    );
    assert.deepEqual(events.at(-1)?.content, { membership: 'invite' });
  });

  it('puts creator in the create content before v11 and relies on the sender from v11', () => {
    assert.deepEqual(planRoomCreation({ creator: alice }, getRoomVersion('10'))[0]?.content, { room_version: '10', creator: alice });
    assert.deepEqual(planRoomCreation({ creator: alice }, getRoomVersion('11'))[0]?.content, { room_version: '11' });
  });

  it('lists the creator at 100 before v12 and never lists creators in v12', () => {
    const v11 = planRoomCreation({ creator: alice }, getRoomVersion('11'))[2]?.content;
    assert.deepEqual(v11?.['users'], { [alice]: 100 });
    const v12 = planRoomCreation({ creator: alice, preset: 'trusted_private_chat', invitees: [bob] }, getRoomVersion('12'));
    assert.deepEqual(v12[2]?.content['users'], {});
    assert.deepEqual(v12[0]?.content['additional_creators'], [bob]);
  });

  it('chooses the preset from visibility when none is given', () => {
    assert.equal(presetFor({ creator: alice }), 'private_chat');
    assert.equal(presetFor({ creator: alice, visibility: 'public' }), 'public_chat');
    const joinRule = planRoomCreation({ creator: alice, visibility: 'public' }, getRoomVersion('11'))[3]?.content;
    assert.deepEqual(joinRule, { join_rule: 'public' });
  });

  it('lets any member invite in private presets and needs level 50 in public ones', () => {
    const priv = planRoomCreation({ creator: alice, preset: 'private_chat' }, getRoomVersion('11'))[2]?.content;
    const pub = planRoomCreation({ creator: alice, preset: 'public_chat' }, getRoomVersion('11'))[2]?.content;
    assert.equal(priv?.['invite'], 0);
    assert.equal(pub?.['invite'], 50);
  });

  it('does not invite the creator or the same user twice', () => {
    const events = planRoomCreation({ creator: alice, invitees: [bob, bob, alice] }, getRoomVersion('11'));
    assert.equal(events.filter((e) => e.content['membership'] === 'invite').length, 1);
  });

  it('lists the allowed rooms of a restricted room, which needs room version 8 or later', () => {
    const events = planRoomCreation({ creator: alice, joinRule: 'restricted', allowRooms: ['!space:example.org'] }, getRoomVersion('10'));
    assert.deepEqual(events[3]?.content, { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: '!space:example.org' }] });
    assert.throws(() => planRoomCreation({ creator: alice, joinRule: 'restricted' }, getRoomVersion('7')), { name: 'MatrixError' });
  });

  it('allows knock in room versions 7+, and knock_restricted only from room version 10', () => {
    assert.equal(planRoomCreation({ creator: alice, joinRule: 'knock' }, getRoomVersion('7'))[3]?.content['join_rule'], 'knock');
    assert.throws(() => planRoomCreation({ creator: alice, joinRule: 'knock' }, getRoomVersion('6')), { name: 'MatrixError' });
    for (const v of ['8', '9']) assert.throws(() => planRoomCreation({ creator: alice, joinRule: 'knock_restricted' }, getRoomVersion(v)), { name: 'MatrixError' }, `v${v}`);
    assert.equal(planRoomCreation({ creator: alice, joinRule: 'knock_restricted' }, getRoomVersion('10'))[3]?.content['join_rule'], 'knock_restricted');
  });

  it('refuses a knock join rule in a room version without knocking', () => {
    assert.throws(() => planRoomCreation({ creator: alice, joinRule: 'knock' }, getRoomVersion('6')), { name: 'MatrixError' });
    assert.doesNotThrow(() => planRoomCreation({ creator: alice, joinRule: 'knock' }, getRoomVersion('7')));
  });
});
