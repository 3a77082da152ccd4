// QuerySync over a real SQLite file, a real MembershipCore and real ed25519:
// what a client sees in initial and incremental syncs around joins, leaves,
// forgets and invite rejections, and how a long-poll wakes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { JsonObject } from '@membrane/canonical-json';
import { buildPdu, getRoomVersion } from '@membrane/events';
import type { Pdu } from '@membrane/events';
import { generateSigningKey } from '@membrane/signing';
import { MatrixError } from '@membrane/matrix-errors';
import { Membership } from '@membrane/proto';
import type { QuerySyncResponse, SyncRoom, ViewedEvent } from '@membrane/proto';
import { CommitNotifier } from '../commit-notifier.js';
import { MembershipCore } from '../membership-core.js';
import { appendLocalEvent } from '../room-writer.js';
import { openStorage } from '../storage/index.js';
import type { Storage } from '../storage/index.js';
import { computeSync, querySync } from './sync.js';
import { queryMessages } from './visible-reads.js';

const HS = 'hs.test';
const alice = `@alice:${HS}`;
const bob = `@bob:${HS}`;
const remoteUser = '@dave:remote.test';

/** A notifier that tells the test when a long-poll has started to wait. */
class WatchedNotifier extends CommitNotifier {
  waits = 0;
  private listeners: (() => void)[] = [];

  override async wait(token: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    this.waits += 1;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
    return super.wait(token, timeoutMs, signal);
  }

  /** Resolves at the next call of `wait`. */
  nextWait(): Promise<void> {
    return new Promise((resolve) => this.listeners.push(resolve));
  }
}

interface SyncOptions {
  since?: number;
  filter?: JsonObject;
  fullState?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
  pollMs?: number;
}

function pdus(events: readonly ViewedEvent[]): Pdu[] {
  return events.map((e) => JSON.parse(e.eventJson) as Pdu);
}

function bodies(room: SyncRoom | undefined): unknown[] {
  return pdus(room?.timeline ?? [])
    .filter((e) => e.type === 'm.room.message')
    .map((e) => e.content['body']);
}

function roomIn(answer: QuerySyncResponse, roomId: string): SyncRoom | undefined {
  return answer.rooms.find((r) => r.roomId === roomId);
}

function membershipOfEvent(event: Pdu | undefined): unknown {
  return event?.content['membership'];
}

describe('QuerySync on SQLite', () => {
  let dir = '';
  let storage: Storage;
  let core: MembershipCore;
  const notifier = new WatchedNotifier();
  const signer = { serverName: HS, key: generateSigningKey('s1') };
  const remoteSigner = { serverName: 'remote.test', key: generateSigningKey('r1') };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'membership-sync-'));
    storage = await openStorage({ engine: 'sqlite', path: join(dir, 'db.sqlite') });
    core = new MembershipCore({ storage, signer, defaultRoomVersion: '11', onCommitted: () => notifier.notify() });
  });
  after(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function sync(userId: string, options: SyncOptions = {}): Promise<QuerySyncResponse> {
    return querySync(
      storage,
      {
        userId,
        ...(options.since === undefined ? {} : { sincePosition: options.since }),
        timeoutMs: options.timeoutMs ?? 0,
        fullState: options.fullState ?? false,
        filterJson: options.filter === undefined ? '' : JSON.stringify(options.filter),
      },
      { notifier, signal: options.signal ?? new AbortController().signal, pollMs: options.pollMs ?? 60_000 },
    );
  }

  /** Sends an event as `sender` through the room's own write path. */
  async function send(roomId: string, sender: string, type: string, content: JsonObject, stateKey?: string): Promise<string> {
    const appended = await storage.withRoomTransaction(roomId, async (tx) => {
      const room = await tx.getRoom(roomId);
      assert.ok(room);
      return appendLocalEvent(tx, room, getRoomVersion(room.roomVersion), { type, sender, content, ...(stateKey === undefined ? {} : { stateKey }) }, signer, Date.now());
    });
    notifier.notify();
    return appended.eventId;
  }

  async function say(roomId: string, sender: string, ...texts: string[]): Promise<void> {
    for (const body of texts) await send(roomId, sender, 'm.room.message', { msgtype: 'm.text', body });
  }

  async function publicRoomWithBob(name = 'Room'): Promise<string> {
    const { roomId } = await core.createRoom({ creator: alice, preset: 'public_chat', name });
    await core.join({ roomIdOrAlias: roomId, userId: bob });
    return roomId;
  }

  async function remoteInviteFor(userId: string, roomId: string, strippedState: readonly JsonObject[]): Promise<string> {
    const invite = buildPdu(
      {
        version: getRoomVersion('11'),
        proto: { type: 'm.room.member', sender: remoteUser, room_id: roomId, state_key: userId, content: { membership: 'invite' } },
        prevEvents: [{ eventId: '$prev', depth: 3 }],
        authEvents: [{ eventId: '$create' }],
        originServerTs: Date.now(),
      },
      remoteSigner,
    );
    const [outcome] = await core.inputEvents('remote.test', 'invite', [
      { json: JSON.stringify(invite.event), roomVersion: '11', strippedStateJson: strippedState.map((e) => JSON.stringify(e)) },
    ]);
    assert.equal(outcome?.accepted, true, outcome?.error?.message);
    return invite.eventId;
  }

  describe('initial sync', () => {
    it('reports joined rooms with their newest events and the state before them, invites with stripped state, and knocks', async () => {
      const carol = `@carol-initial:${HS}`;
      const { roomId: joined } = await core.createRoom({ creator: carol, preset: 'public_chat', name: 'Joined' });
      await say(joined, carol, 'hello');
      const { roomId: invited } = await core.createRoom({ creator: alice, preset: 'private_chat', name: 'Invited', topic: 'come in' });
      await core.invite({ roomId: invited, sender: alice, invitee: carol });
      const { roomId: knocked } = await core.createRoom({ creator: alice, joinRule: 'knock', name: 'Knock here' });
      await core.knock({ roomIdOrAlias: knocked, userId: carol, reason: 'let me in' });

      const answer = await sync(carol);
      assert.deepEqual(answer.rooms.map((r) => r.roomId).sort(), [invited, joined, knocked].sort());
      assert.equal(answer.nextPosition, await storage.read((tx) => tx.maxStreamPosition()));

      const join = roomIn(answer, joined);
      assert.equal(join?.membership, Membership.JOIN);
      assert.equal(join?.roomVersion, '11');
      assert.equal(join?.limited, false, 'the whole room fits in the default timeline of 10');
      const timeline = pdus(join?.timeline ?? []);
      assert.equal(timeline[0]?.type, 'm.room.create', 'an unlimited timeline starts at the room start');
      assert.deepEqual(bodies(join), ['hello']);
      assert.equal(join?.prevBatchPosition, (join?.timeline[0]?.position ?? 0) - 1);
      assert.deepEqual(join?.state, [], 'nothing precedes the create event');
      assert.equal(join?.joinedMemberCount, 1);
      assert.equal(join?.invitedMemberCount, 0);

      const invite = roomIn(answer, invited);
      assert.equal(invite?.membership, Membership.INVITE);
      assert.deepEqual(invite?.timeline, []);
      const stripped = (invite?.strippedStateJson ?? []).map((j) => JSON.parse(j) as Record<string, unknown>);
      const types = stripped.map((e) => e['type']);
      for (const type of ['m.room.create', 'm.room.join_rules', 'm.room.name', 'm.room.topic']) assert.ok(types.includes(type), type);
      assert.ok(!types.includes('m.room.power_levels'), 'only the stripped-state types');
      assert.ok(stripped.some((e) => e['type'] === 'm.room.member' && e['state_key'] === alice), "the inviter's member event");
      const last = stripped[stripped.length - 1];
      assert.deepEqual([last?.['type'], last?.['state_key'], (last?.['content'] as JsonObject)['membership']], ['m.room.member', carol, 'invite']);
      assert.equal(typeof last?.['event_id'], 'string', 'the invite event names itself');
      for (const event of stripped) assert.equal(event['signatures'], undefined, 'stripped, not whole PDUs');

      const knock = roomIn(answer, knocked);
      assert.equal(knock?.membership, Membership.KNOCK);
      const knockState = (knock?.strippedStateJson ?? []).map((j) => JSON.parse(j) as Record<string, unknown>);
      assert.ok(knockState.some((e) => e['type'] === 'm.room.name'));
      const knockEvent = knockState[knockState.length - 1];
      assert.deepEqual([knockEvent?.['state_key'], (knockEvent?.['content'] as JsonObject)['membership']], [carol, 'knock']);
    });

    it('limits a long timeline to the newest events, with prev_batch and the state before the first of them', async () => {
      const roomId = await publicRoomWithBob('Long');
      await say(roomId, alice, 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8');
      const answer = await sync(bob, { filter: { room: { rooms: [roomId], timeline: { limit: 3 } } } });
      const room = roomIn(answer, roomId);
      assert.deepEqual(bodies(room), ['m6', 'm7', 'm8']);
      assert.equal(room?.limited, true);
      assert.equal(room?.prevBatchPosition, (room?.timeline[0]?.position ?? 0) - 1);
      const stateTypes = pdus(room?.state ?? []).map((e) => e.type);
      for (const type of ['m.room.create', 'm.room.power_levels', 'm.room.name', 'm.room.member']) assert.ok(stateTypes.includes(type), type);
      const members = pdus(room?.state ?? []).filter((e) => e.type === 'm.room.member').map((e) => e.state_key);
      assert.deepEqual(members.sort(), [alice, bob].sort());
      assert.equal(room?.joinedMemberCount, 2);
    });

    it('does not wait, whatever the timeout', async () => {
      const before = notifier.waits;
      const answer = await sync(bob, { timeoutMs: 20_000 });
      assert.ok(answer.rooms.length > 0);
      assert.equal(notifier.waits, before);
    });
  });

  describe('leaving and forgetting', () => {
    it('shows a left room only with include_leave, frozen at the leave, and never once forgotten', async () => {
      const roomId = await publicRoomWithBob('Left');
      await say(roomId, alice, 'before the leave');
      await core.leave({ roomId, userId: bob });
      await say(roomId, alice, 'after the leave');
      const only = { rooms: [roomId] };

      assert.equal(roomIn(await sync(bob, { filter: { room: only } }), roomId), undefined, 'no include_leave: not reported');
      const left = roomIn(await sync(bob, { filter: { room: { ...only, include_leave: true, timeline: { limit: 2 } } } }), roomId);
      assert.equal(left?.membership, Membership.LEAVE);
      const timeline = pdus(left?.timeline ?? []);
      assert.deepEqual(bodies(left), ['before the leave'], 'nothing after the leave');
      const last = timeline[timeline.length - 1];
      assert.deepEqual([last?.type, last?.state_key, membershipOfEvent(last)], ['m.room.member', bob, 'leave']);
      assert.equal(left?.limited, true);
      assert.ok(pdus(left?.state ?? []).some((e) => e.type === 'm.room.create'), 'the state before the timeline');
      assert.ok(pdus(left?.state ?? []).some((e) => e.type === 'm.room.member' && e.state_key === bob && membershipOfEvent(e) === 'join'), 'bob as he was before leaving');

      await core.forget({ roomId, userId: bob });
      assert.equal(roomIn(await sync(bob, { filter: { room: { ...only, include_leave: true } } }), roomId), undefined, 'forgotten: gone even with include_leave');

      await core.invite({ roomId, sender: alice, invitee: bob });
      assert.equal(roomIn(await sync(bob, { filter: { room: only } }), roomId)?.membership, Membership.INVITE, 'a new invite brings it back');
      await core.join({ roomIdOrAlias: roomId, userId: bob });
      const rejoined = roomIn(await sync(bob, { filter: { room: only } }), roomId);
      assert.equal(rejoined?.membership, Membership.JOIN, 'and so does a join');
      assert.ok(bodies(rejoined).includes('after the leave'), 'shared history is visible again once joined');
    });

    it('reports a leave after the token under leave even when the room was forgotten since, and nothing for a forget alone', async () => {
      const roomId = await publicRoomWithBob('Spanning');
      const only = { room: { rooms: [roomId] } };
      const token = (await sync(bob, { filter: only })).nextPosition;
      await say(roomId, alice, 'last words');
      await core.leave({ roomId, userId: bob });
      await core.forget({ roomId, userId: bob });
      await say(roomId, alice, 'unseen');

      const answer = await sync(bob, { since: token, filter: only });
      const room = roomIn(answer, roomId);
      assert.equal(room?.membership, Membership.LEAVE, 'without include_leave, and although forgotten');
      const timeline = pdus(room?.timeline ?? []);
      assert.deepEqual(bodies(room), ['last words']);
      assert.equal(membershipOfEvent(timeline[timeline.length - 1]), 'leave');
      assert.ok(timeline.every((e) => e.content['body'] !== 'unseen'));

      // The next sync starts after the leave: the forget alone is no news.
      const next = await sync(bob, { since: answer.nextPosition, filter: only });
      assert.deepEqual(next.rooms, []);
      assert.ok(next.nextPosition >= answer.nextPosition);
    });

    it('reports nothing for a room left before the token and forgotten after it', async () => {
      const roomId = await publicRoomWithBob('Left earlier');
      await core.leave({ roomId, userId: bob });
      const token = (await sync(bob)).nextPosition;
      await core.forget({ roomId, userId: bob });
      assert.equal(roomIn(await sync(bob, { since: token }), roomId), undefined);
    });

    it('moves a rejected invite from invite to leave, showing the user their own leave', async () => {
      const erin = `@erin:${HS}`;
      const { roomId } = await core.createRoom({ creator: alice, preset: 'private_chat', name: 'Rejected' });
      await core.invite({ roomId, sender: alice, invitee: erin });
      const first = await sync(erin);
      assert.equal(roomIn(first, roomId)?.membership, Membership.INVITE);

      const { eventId } = await core.rejectInvite({ roomId, userId: erin });
      const next = await sync(erin, { since: first.nextPosition });
      const room = roomIn(next, roomId);
      assert.equal(room?.membership, Membership.LEAVE);
      assert.equal(room?.timeline[room.timeline.length - 1]?.eventId, eventId);

      assert.equal(roomIn(await sync(erin), roomId), undefined, 'gone from an initial sync without include_leave');
      const withLeave = roomIn(await sync(erin, { filter: { room: { include_leave: true } } }), roomId);
      assert.equal(withLeave?.membership, Membership.LEAVE);
      assert.ok(withLeave?.timeline.some((e) => e.eventId === eventId));
    });

    it('moves a rejected remote invite to leave when the leave could only be recorded out of band', async () => {
      const frank = `@frank:${HS}`;
      const remoteRoom = '!faraway:remote.test';
      const inviteId = await remoteInviteFor(frank, remoteRoom, [
        { type: 'm.room.name', state_key: '', sender: remoteUser, content: { name: 'Far away' } },
        { type: 'm.room.join_rules', state_key: '', sender: remoteUser, content: { join_rule: 'invite' } },
      ]);
      const first = await sync(frank);
      const invite = roomIn(first, remoteRoom);
      assert.equal(invite?.membership, Membership.INVITE);
      const stripped = (invite?.strippedStateJson ?? []).map((j) => JSON.parse(j) as Record<string, unknown>);
      assert.deepEqual(
        stripped.map((e) => e['type']),
        ['m.room.name', 'm.room.join_rules', 'm.room.member'],
        "the state the inviting server sent, then the invite",
      );
      assert.equal(stripped[2]?.['event_id'], inviteId);

      const { eventId, outOfBand } = await core.rejectInvite({ roomId: remoteRoom, userId: frank });
      assert.equal(outOfBand, true);
      const next = await sync(frank, { since: first.nextPosition });
      const room = roomIn(next, remoteRoom);
      assert.equal(room?.membership, Membership.LEAVE);
      assert.deepEqual(room?.timeline.map((e) => e.eventId), [eventId], 'only their own leave');
      assert.deepEqual(room?.state, []);

      assert.equal(roomIn(await sync(frank), remoteRoom), undefined);
      const withLeave = roomIn(await sync(frank, { filter: { room: { include_leave: true } } }), remoteRoom);
      assert.deepEqual(withLeave?.timeline.map((e) => e.eventId), [eventId]);
    });
  });

  describe('incremental sync', () => {
    it('sends only new events, with no state, and the state at the start of a limited timeline', async () => {
      const roomId = await publicRoomWithBob('Incremental');
      const only = { rooms: [roomId] };
      const token = (await sync(bob, { filter: { room: only } })).nextPosition;
      assert.deepEqual((await sync(bob, { since: token, filter: { room: only } })).rooms, [], 'nothing new');

      await say(roomId, alice, 'n1', 'n2');
      const small = await sync(bob, { since: token, filter: { room: only } });
      const room = roomIn(small, roomId);
      assert.deepEqual(bodies(room), ['n1', 'n2']);
      assert.equal(room?.timeline.length, 2, 'only events after the token');
      assert.equal(room?.limited, false);
      assert.deepEqual(room?.state, []);

      await say(roomId, alice, 'x1', 'x2', 'x3', 'x4', 'x5');
      const big = await sync(bob, { since: small.nextPosition, filter: { room: { ...only, timeline: { limit: 2 } } } });
      const limited = roomIn(big, roomId);
      assert.deepEqual(bodies(limited), ['x4', 'x5']);
      assert.equal(limited?.limited, true);
      assert.equal(limited?.prevBatchPosition, (limited?.timeline[0]?.position ?? 0) - 1);
      assert.ok(pdus(limited?.state ?? []).some((e) => e.type === 'm.room.create'), 'a gap: the whole state at the timeline start');

      const full = roomIn(await sync(bob, { since: big.nextPosition, fullState: true, filter: { room: only } }), roomId);
      assert.deepEqual(full?.timeline, [], 'full_state reports the room with nothing new');
      assert.ok(pdus(full?.state ?? []).some((e) => e.type === 'm.room.create'));
    });

    it('sends a room joined after the token whole, and new invites', async () => {
      const gina = `@gina:${HS}`;
      const { roomId } = await core.createRoom({ creator: alice, preset: 'public_chat', name: 'Joined later' });
      await say(roomId, alice, 'old news');
      const { roomId: other } = await core.createRoom({ creator: alice, preset: 'private_chat' });
      const token = (await sync(gina)).nextPosition;
      await core.join({ roomIdOrAlias: roomId, userId: gina });
      await core.invite({ roomId: other, sender: alice, invitee: gina });

      const answer = await sync(gina, { since: token });
      const room = roomIn(answer, roomId);
      assert.equal(room?.membership, Membership.JOIN);
      assert.ok(bodies(room).includes('old news'), 'history from before the token, as in an initial sync');
      assert.equal(roomIn(answer, other)?.membership, Membership.INVITE);

      // A display name change of a member is not a new join.
      const token2 = answer.nextPosition;
      await send(roomId, gina, 'm.room.member', { membership: 'join', displayname: 'Gina' }, gina);
      const again = roomIn(await sync(gina, { since: token2 }), roomId);
      assert.equal(again?.timeline.length, 1, 'only the member event itself');
      assert.deepEqual(again?.state, []);
    });

    it('reports state changes that the timeline filter leaves out', async () => {
      const roomId = await publicRoomWithBob('Named');
      const only = { rooms: [roomId], timeline: { types: ['m.room.message'] } };
      const token = (await sync(bob, { filter: { room: only } })).nextPosition;
      const renamed = await send(roomId, alice, 'm.room.name', { name: 'Renamed' }, '');
      await say(roomId, alice, 'after rename');
      const room = roomIn(await sync(bob, { since: token, filter: { room: only } }), roomId);
      assert.deepEqual(bodies(room), ['after rename']);
      assert.deepEqual(room?.state.map((e) => e.eventId), [renamed]);
    });
  });

  describe('finding rooms with news', () => {
    it('walks the stream once for all joined rooms, one busy room costing no page per event', async () => {
      const lee = `@lee:${HS}`;
      const quiet1 = await core.createRoom({ creator: lee, preset: 'public_chat' });
      const busy = await core.createRoom({ creator: lee, preset: 'public_chat' });
      const quiet2 = await core.createRoom({ creator: lee, preset: 'public_chat' });
      const untouched = await core.createRoom({ creator: lee, preset: 'public_chat' });
      const token = (await sync(lee)).nextPosition;
      await say(quiet1.roomId, lee, 'q1');
      await storage.withRoomTransaction(busy.roomId, async (tx) => {
        const room = await tx.getRoom(busy.roomId);
        assert.ok(room);
        const version = getRoomVersion(room.roomVersion);
        for (let i = 0; i < 1000; i += 1) await appendLocalEvent(tx, room, version, { type: 'm.room.message', sender: lee, content: { body: `b${i}` } }, signer, Date.now());
      });
      await say(quiet2.roomId, lee, 'q2');

      let pages = 0;
      const found = await storage.read((tx) => {
        const counting = new Proxy(tx, {
          get(target, key, receiver) {
            if (key === 'eventsSince') pages += 1;
            const value = Reflect.get(target, key, receiver) as unknown;
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          },
        });
        return computeSync(counting, { userId: lee, since: token, fullState: false, filter: { room: { timeline: { limit: 2 } } } });
      });
      assert.deepEqual(found.rooms.map((r) => r.roomId).sort(), [quiet1.roomId, busy.roomId, quiet2.roomId].sort());
      assert.ok(!found.rooms.some((r) => r.roomId === untouched.roomId));
      assert.ok(pages <= 4, `at most one page per room with news, plus the last: ${pages}`);
      const busyRoom = roomIn(found, busy.roomId);
      assert.deepEqual(bodies(busyRoom), ['b998', 'b999']);
      assert.equal(busyRoom?.limited, true);
    });
  });

  describe('filters', () => {
    it('applies the rooms filter to every section, and timeline and state filters to events', async () => {
      const hank = `@hank:${HS}`;
      const { roomId: a } = await core.createRoom({ creator: hank, preset: 'public_chat', name: 'A' });
      const { roomId: b } = await core.createRoom({ creator: alice, preset: 'private_chat', invitees: [hank] });
      const { roomId: c } = await core.createRoom({ creator: hank, preset: 'public_chat' });
      await core.leave({ roomId: c, userId: hank });
      await core.join({ roomIdOrAlias: a, userId: alice });
      await say(a, alice, 'from alice');
      await say(a, hank, 'from hank');

      const all = await sync(hank, { filter: { room: { include_leave: true } } });
      assert.deepEqual(all.rooms.map((r) => r.roomId).sort(), [a, b, c].sort());
      const notB = await sync(hank, { filter: { room: { include_leave: true, not_rooms: [b] } } });
      assert.deepEqual(notB.rooms.map((r) => r.roomId).sort(), [a, c].sort());
      const onlyC = await sync(hank, { filter: { room: { include_leave: true, rooms: [c] } } });
      assert.deepEqual(onlyC.rooms.map((r) => r.roomId), [c]);

      const messages = roomIn(await sync(hank, { filter: { room: { rooms: [a], timeline: { types: ['m.room.message'], senders: [alice] } } } }), a);
      assert.deepEqual(pdus(messages?.timeline ?? []).map((e) => [e.type, e.sender]), [['m.room.message', alice]]);
      const noMembers = roomIn(await sync(hank, { filter: { room: { rooms: [a], timeline: { not_types: ['m.room.member', 'm.room.m*'] } } } }), a);
      assert.ok(pdus(noMembers?.timeline ?? []).every((e) => e.type !== 'm.room.member' && e.type !== 'm.room.message'));
      const nameOnly = roomIn(await sync(hank, { filter: { room: { rooms: [a], timeline: { limit: 1 }, state: { types: ['m.room.name'] } } } }), a);
      assert.deepEqual(pdus(nameOnly?.state ?? []).map((e) => e.type), ['m.room.name']);
    });

    it('refuses a malformed filter with M_BAD_JSON', async () => {
      for (const filterJson of ['{', '{"room":{"timeline":{"limit":0}}}', '[]']) {
        await assert.rejects(
          querySync(storage, { userId: bob, timeoutMs: 0, fullState: false, filterJson }, { notifier, signal: new AbortController().signal }),
          (err: unknown) => err instanceof MatrixError && err.status === 400 && err.errcode === 'M_BAD_JSON',
          filterJson,
        );
      }
    });
  });

  describe('history visibility', () => {
    it('hides events from before the join under `joined`, and shows them under `shared`', async () => {
      for (const [historyVisibility, expected] of [
        ['joined', ['after join']],
        ['shared', ['before join', 'after join']],
      ] as const) {
        const ivy = `@ivy-${historyVisibility}:${HS}`;
        const { roomId } = await core.createRoom({ creator: alice, preset: 'public_chat', historyVisibility });
        await say(roomId, alice, 'before join');
        await core.join({ roomIdOrAlias: roomId, userId: ivy });
        await say(roomId, alice, 'after join');
        const room = roomIn(await sync(ivy, { filter: { room: { timeline: { limit: 50 } } } }), roomId);
        assert.deepEqual(bodies(room), expected, historyVisibility);
        assert.ok(pdus(room?.timeline ?? []).some((e) => e.type === 'm.room.member' && e.state_key === ivy), 'their own join is always visible');
      }
    });

    it('never shows events after the leave, even under world_readable', async () => {
      const jo = `@jo:${HS}`;
      const { roomId } = await core.createRoom({ creator: alice, preset: 'public_chat', historyVisibility: 'world_readable' });
      await core.join({ roomIdOrAlias: roomId, userId: jo });
      const token = (await sync(jo)).nextPosition;
      await say(roomId, alice, 'seen');
      await core.leave({ roomId, userId: jo });
      await say(roomId, alice, 'not seen');
      const incremental = roomIn(await sync(jo, { since: token }), roomId);
      assert.deepEqual(bodies(incremental), ['seen']);
      const initial = roomIn(await sync(jo, { filter: { room: { include_leave: true } } }), roomId);
      assert.deepEqual(bodies(initial), ['seen']);
    });
  });

  describe('history visibility of a rejected invite', () => {
    it('shows a user who only rejected an invite no shared history, as /messages does', async () => {
      const nell = `@nell:${HS}`;
      const { roomId } = await core.createRoom({ creator: alice, preset: 'private_chat', historyVisibility: 'shared' });
      await say(roomId, alice, 'before the invite');
      const token = (await sync(nell)).nextPosition;
      await core.invite({ roomId, sender: alice, invitee: nell });
      await say(roomId, alice, 'while invited');
      await core.rejectInvite({ roomId, userId: nell });

      const messages = await queryMessages(storage, { roomId, viewerUserId: nell, backwards: true, limit: 50 });
      assert.deepEqual(pdus(messages.events).filter((e) => e.type === 'm.room.message'), [], '/messages shows no shared history');
      const incremental = roomIn(await sync(nell, { since: token }), roomId);
      assert.equal(incremental?.membership, Membership.LEAVE);
      assert.deepEqual(bodies(incremental), [], 'incremental sync');
      const initial = roomIn(await sync(nell, { filter: { room: { include_leave: true, timeline: { limit: 50 } } } }), roomId);
      assert.deepEqual(bodies(initial), [], 'initial sync with include_leave');
      assert.deepEqual(
        pdus(initial?.timeline ?? []).map((e) => membershipOfEvent(e)),
        ['invite', 'leave'],
        'their own invite and leave stay visible',
      );
    });
  });

  describe('long-poll', () => {
    it('is woken at once by an invite, not by commits that are not for the user', async () => {
      const kim = `@kim:${HS}`;
      const token = (await sync(kim)).nextPosition;
      const { roomId } = await core.createRoom({ creator: alice, preset: 'private_chat' });
      // Storage is never polled within the timeout: only the commit notifier can wake the sync.
      let waiting = notifier.nextWait();
      let invited = false;
      const answer = sync(kim, { since: token, timeoutMs: 20_000, pollMs: 60_000 }).then((a) => ({ answer: a, invited }));
      await waiting;
      waiting = notifier.nextWait();
      await say(roomId, alice, 'nothing for kim');
      await waiting;
      invited = true;
      await core.invite({ roomId, sender: alice, invitee: kim });
      const result = await answer;
      assert.equal(result.invited, true, 'answered after the invite');
      assert.equal(roomIn(result.answer, roomId)?.membership, Membership.INVITE, 'woken by the invite before the 20 s timeout');
    });

    it('answers with no rooms and the newest position when the timeout ends', async () => {
      const token = (await sync(bob)).nextPosition;
      const answer = await sync(bob, { since: token, timeoutMs: 50 });
      assert.deepEqual(answer.rooms, []);
      assert.equal(answer.nextPosition, token);
    });

    it('stops waiting when the caller goes away', async () => {
      const token = (await sync(bob)).nextPosition;
      const controller = new AbortController();
      const waiting = notifier.nextWait();
      const answer = sync(bob, { since: token, timeoutMs: 20_000, signal: controller.signal });
      await waiting;
      controller.abort();
      assert.deepEqual((await answer).rooms, []);
    });
  });
});
