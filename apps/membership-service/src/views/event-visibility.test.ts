// History visibility per event over real rooms: a real membership core on a
// real SQLite file, events appended as the service appends its own.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ReadTx, StoredEvent } from '../storage/index.js';
import { filterVisibleEvents, toViewedEvent, toViewedEvents, VisibilityCache } from './event-visibility.js';
import { HS, labels, ViewsWorld } from './test-support.js';

const alice = `@alice:${HS}`;
const bob = `@bob:${HS}`;
const dave = `@dave:${HS}`;

describe('filterVisibleEvents', () => {
  let world: ViewsWorld;
  before(async () => {
    world = await ViewsWorld.open();
  });
  after(() => world.close());

  async function visibleTo(viewer: string, roomId: string, viewerIsMember: boolean): Promise<string[]> {
    const events = await world.events(roomId);
    return labels(await world.storage.read((tx) => filterVisibleEvents(tx, viewer, events, { viewerIsMember })));
  }

  /** A room with one message before bob's invite, one between invite and join, one after the join. */
  async function roomWithBobArriving(visibility: 'shared' | 'invited' | 'joined' | 'world_readable'): Promise<string> {
    const roomId = await world.room(alice, visibility);
    await world.send(roomId, alice, 'before invite');
    await world.invite(roomId, alice, bob);
    await world.send(roomId, alice, 'while invited');
    await world.join(roomId, bob);
    await world.send(roomId, alice, 'while joined');
    return roomId;
  }

  /** The part of the story the tests look at: the messages and bob's own member events. */
  const STORY = new Set(['before invite', `invite:${bob}`, 'while invited', `join:${bob}`, 'while joined']);
  const story = (seen: readonly string[]): string[] => seen.filter((l) => STORY.has(l));

  it('under shared, a member sees the history from before they arrived; a peeker sees none of it', async () => {
    const roomId = await roomWithBobArriving('shared');
    const seen = await visibleTo(bob, roomId, true);
    assert.deepEqual(story(seen), [...STORY]);
    assert.ok(seen.includes('m.room.create/'), 'the room creation too');
    assert.deepEqual(await visibleTo(dave, roomId, false), []);
  });

  it('under invited, a member sees from their invite on', async () => {
    const roomId = await roomWithBobArriving('invited');
    assert.deepEqual(story(await visibleTo(bob, roomId, true)), [`invite:${bob}`, 'while invited', `join:${bob}`, 'while joined']);
  });

  it('under joined, a member sees from their join on, and their own invite', async () => {
    const roomId = await roomWithBobArriving('joined');
    const seen = await visibleTo(bob, roomId, true);
    assert.deepEqual(story(seen), [`invite:${bob}`, `join:${bob}`, 'while joined']);
    // The room's first events came before any visibility was set: they count as shared.
    assert.deepEqual(seen.slice(0, 2), ['m.room.create/', `join:${alice}`]);
    assert.ok(!seen.includes('m.room.guest_access/'), 'state set after joined took effect stays hidden');
  });

  it('under world_readable, anyone sees everything from the setting on, members or not', async () => {
    const roomId = await roomWithBobArriving('world_readable');
    const all = labels(await world.events(roomId));
    const fromSetting = all.slice(all.indexOf('m.room.history_visibility/'));
    assert.deepEqual(await visibleTo(dave, roomId, false), fromSetting);
    assert.deepEqual(story(fromSetting), [...STORY]);
    assert.deepEqual(await visibleTo(bob, roomId, true), all);
  });

  it('shows a history visibility change when the old or the new setting allows it', async () => {
    const roomId = await world.room(alice, 'joined');
    await world.send(roomId, alice, 'hidden before');
    await world.setVisibility(roomId, alice, 'world_readable');
    await world.send(roomId, alice, 'readable');
    await world.setVisibility(roomId, alice, 'joined');
    await world.send(roomId, alice, 'hidden after');
    assert.deepEqual(await visibleTo(dave, roomId, false), ['m.room.history_visibility/', 'readable', 'm.room.history_visibility/']);
  });

  it('never shows soft-failed, rejected or outlier events, even in a world_readable room', async () => {
    const roomId = await world.room(alice, 'world_readable');
    const soft = await world.send(roomId, alice, 'soft-failed');
    const rejected = await world.send(roomId, alice, 'rejected');
    await world.send(roomId, alice, 'fine');
    await world.storage.withRoomTransaction(roomId, async (tx) => {
      await tx.updateEventStatus(soft.eventId, { softFailed: true });
      await tx.updateEventStatus(rejected.eventId, { rejectedReason: 'auth' });
      const [template] = await tx.getRoomEventsAfter(roomId, soft.position - 1, 1);
      const json = (template as StoredEvent).json.replace('soft-failed', 'outlier');
      await tx.insertEvent({ ...(template as StoredEvent), eventId: '$outlier', json, outlier: true });
    });
    const seen = await visibleTo(dave, roomId, false);
    assert.ok(seen.includes('fine'));
    for (const hidden of ['soft-failed', 'rejected', 'outlier']) assert.ok(!seen.includes(hidden), hidden);
  });

  it('keeps the order it was given and answers an empty list with one', async () => {
    const roomId = await world.room(alice, 'shared');
    await world.send(roomId, alice, 'one');
    await world.send(roomId, alice, 'two');
    const events = (await world.events(roomId)).reverse();
    const seen = await world.storage.read((tx) => filterVisibleEvents(tx, alice, events, { viewerIsMember: true }));
    assert.deepEqual(labels(seen).slice(0, 2), ['two', 'one']);
    assert.deepEqual(await world.storage.read((tx) => filterVisibleEvents(tx, alice, [], { viewerIsMember: true })), []);
  });

  it('looks up the state of each state group once, however many messages share it', async () => {
    const roomId = await world.room(alice, 'shared');
    for (let i = 0; i < 60; i++) await world.send(roomId, alice, `m${i}`);
    const events = await world.events(roomId);
    const { lookups, visible } = await world.storage.read(async (tx) => {
      let count = 0;
      const counting = new Proxy(tx, {
        get(target, key, receiver) {
          const value: unknown = Reflect.get(target, key, receiver);
          if (key === 'getStateGroupEntries' && typeof value === 'function') {
            return (...args: unknown[]) => {
              count += 1;
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          }
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      }) as ReadTx;
      const cache = new VisibilityCache(bob);
      const first = await filterVisibleEvents(counting, bob, events, { viewerIsMember: false, cache });
      const afterFirst = count;
      await filterVisibleEvents(counting, bob, events, { viewerIsMember: false, cache });
      return { lookups: { first: afterFirst, again: count - afterFirst }, visible: first };
    });
    // The creation events each change the state; the 60 messages share one group.
    const stateEvents = events.filter((e) => e.stateKey !== null).length;
    assert.ok(lookups.first <= stateEvents + 1, `${lookups.first} lookups for ${events.length} events`);
    assert.equal(lookups.again, 0, 'a shared cache answers again without storage');
    assert.deepEqual(visible, [], 'shared history is not shown to a non-member');
  });
});

describe('toViewedEvent', () => {
  let world: ViewsWorld;
  before(async () => {
    world = await ViewsWorld.open();
  });
  after(() => world.close());

  it('gives a state event the content and sender of the state it replaced', async () => {
    const roomId = await world.room(alice, 'shared', { public: true });
    await world.join(roomId, bob);
    const first = await world.append(roomId, alice, 'm.room.topic', { topic: 'one' }, '');
    const second = await world.append(roomId, alice, 'm.room.topic', { topic: 'two' }, '');
    const message = await world.send(roomId, alice, 'hello');
    const bobLeave = await world.leave(roomId, bob);
    const [topicOne, topicTwo, hello, leave] = await world.storage.read(async (tx) => {
      const events = await tx.getEvents([first.eventId, second.eventId, message.eventId, bobLeave]);
      return toViewedEvents(tx, [first.eventId, second.eventId, message.eventId, bobLeave].map((id) => events.get(id) as StoredEvent));
    });
    assert.equal(topicOne?.prevContentJson, undefined, 'the first topic replaced nothing');
    assert.equal(topicOne?.replacesState, undefined);
    assert.deepEqual(JSON.parse(topicTwo?.prevContentJson ?? 'null'), { topic: 'one' });
    assert.equal(topicTwo?.replacesState, first.eventId);
    assert.equal(topicTwo?.prevSender, alice);
    assert.equal(topicTwo?.position, second.position);
    assert.equal(topicTwo?.eventId, second.eventId);
    assert.deepEqual(hello, { eventJson: (await world.storage.read((tx) => tx.getEvent(message.eventId)))?.json, eventId: message.eventId, position: message.position });
    assert.deepEqual(JSON.parse(leave?.prevContentJson ?? 'null'), { membership: 'join' });
    assert.equal(leave?.prevSender, bob);
    const single = await world.storage.read(async (tx) => toViewedEvent(tx, (await tx.getEvent(second.eventId)) as StoredEvent));
    assert.deepEqual(single, topicTwo);
  });
});
