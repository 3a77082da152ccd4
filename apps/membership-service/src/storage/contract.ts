// The storage contract: one suite of behaviour, run unchanged against every
// engine (sqlite.test.ts, postgres.test.ts). Each test gets a new, empty
// database from the harness. Every wait is bounded.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StorageError } from './errors.js';
import { MIGRATIONS } from './migrations.js';
import { openStorage } from './open-storage.js';
import { MAX_CHAIN_LENGTH } from './state-groups.js';
import type { NewEvent, RoomTx, StateEntry, Storage, StorageConfig } from './types.js';

export interface StorageHarness {
  /** Settings of a new, empty database (a new file, a new schema). */
  freshConfig(): Promise<StorageConfig>;
  /** Removes everything the harness created; runs once after the suite. */
  cleanup(): Promise<void>;
  /** True when transactions on different rooms run at the same time. */
  readonly parallelRooms: boolean;
  /** Records a migration version this code does not know, as newer code would. */
  recordUnknownMigration(config: StorageConfig, version: number): Promise<void>;
}

const TEST_TIMEOUT = { timeout: 60_000 };
const ROOM = '!room:hs.test';
const OTHER_ROOM = '!other:hs.test';

// ---------------------------------------------------------------- helpers

function event(id: string, overrides: Partial<NewEvent> = {}): NewEvent {
  const roomId = overrides.roomId ?? ROOM;
  return {
    eventId: id,
    roomId,
    type: 'm.room.message',
    stateKey: null,
    sender: '@alice:hs.test',
    depth: 1,
    originServerTs: 1_700_000_000_000,
    json: JSON.stringify({ event_id: id, room_id: roomId }),
    ...overrides,
  };
}

function memberEvent(id: string, userId: string, roomId = ROOM): NewEvent {
  return event(id, { roomId, type: 'm.room.member', stateKey: userId, sender: userId });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects when `promise` has not settled after `ms`. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/**
 * Holds a transaction on `roomId` open (after `body`) while `during` runs,
 * and always lets it finish afterwards, so a failing check never leaves a
 * transaction (and the test process) hanging.
 */
async function whileHolding<T>(
  s: Storage,
  roomId: string,
  body: (tx: RoomTx) => Promise<void>,
  during: () => Promise<T>,
): Promise<T> {
  const entered = gate();
  const release = gate();
  const holder = s.withRoomTransaction(roomId, async (tx) => {
    await body(tx);
    entered.open();
    await release.promise;
  });
  try {
    const endedEarly = holder.then(() => {
      throw new Error('the holding transaction ended early');
    });
    endedEarly.catch(() => undefined); // only the race below listens
    await within(5_000, 'holding transaction start', Promise.race([entered.promise, endedEarly]));
    return await during();
  } finally {
    release.open();
    await within(10_000, 'holding transaction end', holder);
  }
}

async function rejectsWithCode(promise: Promise<unknown>, code: StorageError['code']): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof StorageError, `expected a StorageError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

/** Reads the counter kept as the event ID `$count_<n>` of a state entry. */
async function readCounter(tx: RoomTx): Promise<number> {
  const id = await tx.getCurrentStateEventId(tx.roomId, 'org.membrane.counter', '');
  return id === null ? 0 : Number(id.slice('$count_'.length));
}

async function writeCounter(tx: RoomTx, value: number): Promise<void> {
  await tx.setCurrentState([{ type: 'org.membrane.counter', stateKey: '', eventId: `$count_${value}` }]);
}

// ---------------------------------------------------------------- the suite

export function defineStorageContract(name: string, harness: StorageHarness): void {
  describe(`storage contract: ${name}`, () => {
    after(() => harness.cleanup());

    const open = async (): Promise<{ storage: Storage; config: StorageConfig }> => {
      const config = await harness.freshConfig();
      return { storage: await openStorage(config), config };
    };

    /** Runs `fn` against a fresh storage and closes it afterwards. */
    const withStorage = async (fn: (s: Storage, config: StorageConfig) => Promise<void>): Promise<void> => {
      const { storage, config } = await open();
      try {
        await fn(storage, config);
      } finally {
        await storage.close();
      }
    };

    describe('opening, migrations and closing', () => {
      it('applies every migration once and records it', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const applied = await s.appliedMigrations();
          assert.deepEqual(
            applied.map((m) => m.version),
            MIGRATIONS.map((m) => m.version).sort((a, b) => a - b),
          );
          assert.equal(applied[0]?.name, 'initial schema');
          assert.equal(applied.find((m) => m.version === 3)?.name, 'user filters');
        }),
      );

      it('opening an existing database again applies nothing twice', TEST_TIMEOUT, async () => {
        const { storage, config } = await open();
        const first = await storage.appliedMigrations();
        await storage.close();
        const again = await openStorage(config);
        try {
          assert.deepEqual(await again.appliedMigrations(), first);
        } finally {
          await again.close();
        }
      });

      it('two processes starting at once on an empty database migrate it once', TEST_TIMEOUT, async () => {
        const config = await harness.freshConfig();
        const [a, b] = await within(30_000, 'concurrent open', Promise.all([openStorage(config), openStorage(config)]));
        try {
          assert.deepEqual(
            (await a.appliedMigrations()).map((m) => m.version),
            MIGRATIONS.map((m) => m.version).sort((x, y) => x - y),
          );
          assert.deepEqual(await a.appliedMigrations(), await b.appliedMigrations());
        } finally {
          await a.close();
          await b.close();
        }
      });

      it('refuses a database migrated by newer code', TEST_TIMEOUT, async () => {
        const { storage, config } = await open();
        await storage.close();
        await harness.recordUnknownMigration(config, 9_999);
        await rejectsWithCode(openStorage(config), 'SCHEMA_TOO_NEW');
      });

      it('reopening keeps every kind of data', TEST_TIMEOUT, async () => {
        const { storage, config } = await open();
        await storage.withRoomTransaction(ROOM, async (tx) => {
          await tx.createRoom({ roomVersion: '11', createdTs: 5 });
          await tx.insertEvent(memberEvent('$join', '@alice:hs.test'));
          await tx.upsertMembership({ userId: '@alice:hs.test', membership: 'join', eventId: '$join' });
          await tx.setCurrentState([{ type: 'm.room.member', stateKey: '@alice:hs.test', eventId: '$join' }]);
          await tx.enqueueOutbox(['remote.test'], '$join', 7);
          await tx.putIdempotencyRecord('k', '{"ok":true}', 9);
        });
        await storage.close();
        const reopened = await openStorage(config);
        try {
          await reopened.read(async (r) => {
            assert.equal((await r.getRoom(ROOM))?.roomVersion, '11');
            assert.equal((await r.getEvent('$join'))?.eventId, '$join');
            assert.equal((await r.getMembership(ROOM, '@alice:hs.test'))?.membership, 'join');
            assert.equal(await r.getCurrentStateEventId(ROOM, 'm.room.member', '@alice:hs.test'), '$join');
            assert.equal((await r.getIdempotencyRecord('k'))?.resultJson, '{"ok":true}');
          });
          assert.equal((await reopened.outboxStats(10)).depth, 1);
        } finally {
          await reopened.close();
        }
      });

      it('close waits for a running transaction, then refuses new work', TEST_TIMEOUT, async () => {
        const { storage, config } = await open();
        let closed: Promise<void> | undefined;
        try {
          await whileHolding(
            storage,
            ROOM,
            (tx) => tx.createRoom({ roomVersion: '11', createdTs: 1 }).then(() => undefined),
            async () => {
              closed = storage.close();
              await rejectsWithCode(
                storage.read(async () => 1),
                'CLOSED',
              );
              let closedEarly = false;
              void closed.then(() => {
                closedEarly = true;
              });
              await sleep(50);
              assert.equal(closedEarly, false, 'close returned while a transaction was running');
            },
          );
          await within(10_000, 'close', closed ?? Promise.resolve());
          await rejectsWithCode(
            storage.withRoomTransaction(ROOM, async () => 1),
            'CLOSED',
          );
        } finally {
          await storage.close();
        }
        // The running transaction committed before the connections closed.
        const reopened = await openStorage(config);
        try {
          assert.equal((await reopened.read((r) => r.getRoom(ROOM)))?.roomVersion, '11');
        } finally {
          await reopened.close();
        }
      });
    });

    describe('rooms', () => {
      it('creates a room once and reports the existing one afterwards', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const first = await s.withRoomTransaction(ROOM, (tx) => tx.createRoom({ roomVersion: '10', createdTs: 100 }));
          assert.deepEqual(first, {
            created: true,
            room: { roomId: ROOM, roomVersion: '10', createdTs: 100, currentStateGroupId: null },
          });
          const second = await s.withRoomTransaction(ROOM, (tx) => tx.createRoom({ roomVersion: '12', createdTs: 200 }));
          assert.equal(second.created, false);
          assert.equal(second.room.roomVersion, '10');
          assert.equal(second.room.createdTs, 100);
          assert.equal(await s.read((r) => r.getRoom('!unknown:hs.test')), null);
        }),
      );
    });

    describe('events', () => {
      it('stores every field and the JSON text byte for byte', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const json = '{"content":{"body":"h\\u00e9 \\"q\\" \u{1F600} \u00e9"},"depth":9007199254740991,"type":"m.x"}';
          const full = event('$full', {
            type: 'm.room.member',
            stateKey: '',
            sender: '@bob:remote.test',
            depth: 42,
            originServerTs: 1_234_567_890_123,
            json,
            rejectedReason: 'auth_error',
            outlier: true,
            softFailed: true,
          });
          const { position } = await s.withRoomTransaction(ROOM, (tx) => tx.insertEvent(full));
          const stored = await s.read((r) => r.getEvent('$full'));
          assert.deepEqual(stored, {
            eventId: '$full',
            roomId: ROOM,
            position,
            type: 'm.room.member',
            stateKey: '',
            sender: '@bob:remote.test',
            depth: 42,
            originServerTs: 1_234_567_890_123,
            json,
            rejectedReason: 'auth_error',
            outlier: true,
            softFailed: true,
          });
          await s.withRoomTransaction(ROOM, (tx) => tx.insertEvent(event('$plain')));
          const plain = await s.read((r) => r.getEvent('$plain'));
          assert.equal(plain?.stateKey, null);
          assert.equal(plain?.rejectedReason, null);
          assert.equal(plain?.outlier, false);
          assert.equal(plain?.softFailed, false);
          assert.equal(await s.read((r) => r.getEvent('$missing')), null);
        }),
      );

      it('gives increasing positions across rooms and reports the highest', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          assert.equal(await s.read((r) => r.maxStreamPosition()), 0);
          const a = await s.withRoomTransaction(ROOM, (tx) => tx.insertEvent(event('$a')));
          const b = await s.withRoomTransaction(OTHER_ROOM, (tx) => tx.insertEvent(event('$b', { roomId: OTHER_ROOM })));
          const c = await s.withRoomTransaction(ROOM, (tx) => tx.insertEvent(event('$c')));
          assert.ok(a.position > 0 && a.position < b.position && b.position < c.position);
          assert.equal(await s.read((r) => r.maxStreamPosition()), c.position);
        }),
      );

      it('inserting an existing event ID returns its position and changes nothing', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const first = await s.withRoomTransaction(ROOM, (tx) => tx.insertEvent(event('$dup', { json: '{"v":1}' })));
          assert.equal(first.inserted, true);
          const again = await s.withRoomTransaction(ROOM, async (tx) => {
            const inSameTx = await tx.insertEvent(event('$new'));
            const repeat = await tx.insertEvent(event('$dup', { json: '{"v":2}' }));
            const repeatNew = await tx.insertEvent(event('$new'));
            return { inSameTx, repeat, repeatNew };
          });
          assert.deepEqual(again.repeat, { position: first.position, inserted: false });
          assert.deepEqual(again.repeatNew, { position: again.inSameTx.position, inserted: false });
          assert.equal((await s.read((r) => r.getEvent('$dup')))?.json, '{"v":1}');
          assert.equal(await s.read((r) => r.maxStreamPosition()), again.inSameTx.position);
        }),
      );

      it('refuses events of another room and text PostgreSQL cannot hold', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await rejectsWithCode(
            s.withRoomTransaction(ROOM, (tx) => tx.insertEvent(event('$x', { roomId: OTHER_ROOM }))),
            'ROOM_MISMATCH',
          );
          await rejectsWithCode(
            s.withRoomTransaction(ROOM, (tx) => tx.insertEvent(event('$y', { stateKey: 'a\u0000b' }))),
            'INVALID_ARGUMENT',
          );
          await rejectsWithCode(
            s.withRoomTransaction(ROOM, (tx) => tx.insertEvent(event('$z', { originServerTs: 1.5 }))),
            'INVALID_ARGUMENT',
          );
          assert.equal(await s.read((r) => r.maxStreamPosition()), 0);
        }),
      );

      it('gets many events at once, leaving out unknown IDs', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await s.withRoomTransaction(ROOM, async (tx) => {
            await tx.insertEvent(event('$1'));
            await tx.insertEvent(event('$2'));
          });
          const found = await s.read((r) => r.getEvents(['$2', '$missing', '$1', '$2']));
          assert.deepEqual([...found.keys()].sort(), ['$1', '$2']);
          assert.equal(found.get('$2')?.eventId, '$2');
          assert.equal((await s.read((r) => r.getEvents([]))).size, 0);
        }),
      );

      it('lists a room’s events after a position, ascending and limited', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const positions: number[] = [];
          for (let i = 0; i < 5; i++) {
            const room = i % 2 === 0 ? ROOM : OTHER_ROOM;
            const r = await s.withRoomTransaction(room, (tx) => tx.insertEvent(event(`$e${i}`, { roomId: room })));
            positions.push(r.position);
          }
          const all = await s.read((r) => r.getRoomEventsAfter(ROOM, 0, 100));
          assert.deepEqual(
            all.map((e) => e.eventId),
            ['$e0', '$e2', '$e4'],
          );
          const after = await s.read((r) => r.getRoomEventsAfter(ROOM, positions[0] ?? 0, 1));
          assert.deepEqual(
            after.map((e) => e.eventId),
            ['$e2'],
          );
          await rejectsWithCode(
            s.read((r) => r.getRoomEventsAfter(ROOM, 0, 0)),
            'INVALID_ARGUMENT',
          );
          await rejectsWithCode(
            s.read((r) => r.getRoomEventsAfter(ROOM, 0, 1001)),
            'INVALID_ARGUMENT',
          );
        }),
      );

      it('lists a room’s events backwards from a position, descending, bounded below and limited', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const positions: number[] = [];
          for (let i = 0; i < 7; i++) {
            const room = i % 2 === 0 ? ROOM : OTHER_ROOM;
            const r = await s.withRoomTransaction(room, (tx) => tx.insertEvent(event(`$e${i}`, { roomId: room })));
            positions.push(r.position);
          }
          const ids = (events: readonly { eventId: string }[]): string[] => events.map((e) => e.eventId);
          const top = positions[6] ?? 0;
          assert.deepEqual(ids(await s.read((r) => r.getRoomEventsBackwards(ROOM, top, 100))), ['$e6', '$e4', '$e2', '$e0']);
          assert.deepEqual(ids(await s.read((r) => r.getRoomEventsBackwards(ROOM, positions[4] ?? 0, 100))), ['$e4', '$e2', '$e0'], 'the start position is included');
          assert.deepEqual(ids(await s.read((r) => r.getRoomEventsBackwards(ROOM, top, 2))), ['$e6', '$e4']);
          assert.deepEqual(ids(await s.read((r) => r.getRoomEventsBackwards(ROOM, top, 100, positions[2]))), ['$e6', '$e4'], 'the lower bound is excluded');
          assert.deepEqual(ids(await s.read((r) => r.getRoomEventsBackwards(ROOM, positions[2] ?? 0, 100, positions[2]))), []);
          assert.deepEqual(ids(await s.read((r) => r.getRoomEventsBackwards(OTHER_ROOM, top, 100))), ['$e5', '$e3', '$e1']);
          await rejectsWithCode(
            s.read((r) => r.getRoomEventsBackwards(ROOM, top, 0)),
            'INVALID_ARGUMENT',
          );
          await rejectsWithCode(
            s.read((r) => r.getRoomEventsBackwards(ROOM, top, 1001)),
            'INVALID_ARGUMENT',
          );
        }),
      );

      it('serves the ordered output stream, optionally for some rooms', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const rooms = [ROOM, OTHER_ROOM, '!third:hs.test'];
          for (let i = 0; i < 9; i++) {
            const room = rooms[i % 3] ?? ROOM;
            await s.withRoomTransaction(room, (tx) => tx.insertEvent(event(`$s${i}`, { roomId: room })));
          }
          const page1 = await s.read((r) => r.eventsSince(0, 4));
          assert.deepEqual(
            page1.map((e) => e.eventId),
            ['$s0', '$s1', '$s2', '$s3'],
          );
          const cursor = page1[page1.length - 1]?.position ?? 0;
          const page2 = await s.read((r) => r.eventsSince(cursor, 100));
          assert.deepEqual(
            page2.map((e) => e.eventId),
            ['$s4', '$s5', '$s6', '$s7', '$s8'],
          );
          const filtered = await s.read((r) => r.eventsSince(0, 2, [OTHER_ROOM, '!third:hs.test']));
          assert.deepEqual(
            filtered.map((e) => e.eventId),
            ['$s1', '$s2'],
          );
          assert.deepEqual(await s.read((r) => r.eventsSince(0, 10, [])), []);
        }),
      );

      it('updates the flags of a stored event of the room only', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await s.withRoomTransaction(ROOM, (tx) => tx.insertEvent(event('$f', { outlier: true })));
          const result = await s.withRoomTransaction(ROOM, (tx) =>
            tx.updateEventStatus('$f', { outlier: false, softFailed: true, rejectedReason: 'nope' }),
          );
          assert.equal(result, true);
          const stored = await s.read((r) => r.getEvent('$f'));
          assert.deepEqual([stored?.outlier, stored?.softFailed, stored?.rejectedReason], [false, true, 'nope']);
          await s.withRoomTransaction(ROOM, (tx) => tx.updateEventStatus('$f', { rejectedReason: null }));
          assert.equal((await s.read((r) => r.getEvent('$f')))?.rejectedReason, null);
          assert.equal(await s.withRoomTransaction(ROOM, (tx) => tx.updateEventStatus('$none', { outlier: true })), false);
          assert.equal(
            await s.withRoomTransaction(OTHER_ROOM, (tx) => tx.updateEventStatus('$f', { outlier: true })),
            false,
          );
          assert.equal((await s.read((r) => r.getEvent('$f')))?.outlier, false);
        }),
      );
    });

    describe('forward extremities and current state', () => {
      it('replaces the forward extremities of a room', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          assert.deepEqual(await s.read((r) => r.getForwardExtremities(ROOM)), []);
          await s.withRoomTransaction(ROOM, (tx) => tx.setForwardExtremities(['$b', '$a', '$b']));
          await s.withRoomTransaction(OTHER_ROOM, (tx) => tx.setForwardExtremities(['$o']));
          assert.deepEqual(await s.read((r) => r.getForwardExtremities(ROOM)), ['$a', '$b']);
          await s.withRoomTransaction(ROOM, (tx) => tx.setForwardExtremities(['$c']));
          assert.deepEqual(await s.read((r) => r.getForwardExtremities(ROOM)), ['$c']);
          assert.deepEqual(await s.read((r) => r.getForwardExtremities(OTHER_ROOM)), ['$o']);
        }),
      );

      it('sets, reads, deletes and replaces current state entries', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await s.withRoomTransaction(ROOM, (tx) =>
            tx.setCurrentState([
              { type: 'm.room.member', stateKey: '@b:hs.test', eventId: '$mb' },
              { type: 'm.room.create', stateKey: '', eventId: '$create' },
              { type: 'm.room.member', stateKey: '@a:hs.test', eventId: '$ma' },
            ]),
          );
          await s.withRoomTransaction(OTHER_ROOM, (tx) =>
            tx.setCurrentState([{ type: 'm.room.create', stateKey: '', eventId: '$other' }]),
          );
          await s.withRoomTransaction(ROOM, (tx) =>
            tx.setCurrentState([{ type: 'm.room.member', stateKey: '@a:hs.test', eventId: '$ma2' }]),
          );
          assert.equal(await s.read((r) => r.getCurrentStateEventId(ROOM, 'm.room.member', '@a:hs.test')), '$ma2');
          assert.equal(await s.read((r) => r.getCurrentStateEventId(ROOM, 'm.room.member', '@z:hs.test')), null);
          assert.deepEqual(await s.read((r) => r.getCurrentState(ROOM)), [
            { type: 'm.room.create', stateKey: '', eventId: '$create' },
            { type: 'm.room.member', stateKey: '@a:hs.test', eventId: '$ma2' },
            { type: 'm.room.member', stateKey: '@b:hs.test', eventId: '$mb' },
          ]);
          await s.withRoomTransaction(ROOM, (tx) =>
            tx.deleteCurrentState([{ type: 'm.room.member', stateKey: '@b:hs.test' }]),
          );
          assert.equal((await s.read((r) => r.getCurrentState(ROOM))).length, 2);
          await s.withRoomTransaction(ROOM, (tx) =>
            tx.replaceCurrentState([{ type: 'm.room.name', stateKey: '', eventId: '$name' }]),
          );
          assert.deepEqual(await s.read((r) => r.getCurrentState(ROOM)), [
            { type: 'm.room.name', stateKey: '', eventId: '$name' },
          ]);
          assert.equal((await s.read((r) => r.getCurrentState(OTHER_ROOM))).length, 1);
        }),
      );

      it('returns the stored events of selected current state', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await s.withRoomTransaction(ROOM, async (tx) => {
            await tx.insertEvent(event('$create', { type: 'm.room.create', stateKey: '' }));
            await tx.insertEvent(memberEvent('$ma', '@a:hs.test'));
            await tx.insertEvent(memberEvent('$mb', '@b:hs.test'));
            await tx.setCurrentState([
              { type: 'm.room.create', stateKey: '', eventId: '$create' },
              { type: 'm.room.member', stateKey: '@a:hs.test', eventId: '$ma' },
              { type: 'm.room.member', stateKey: '@b:hs.test', eventId: '$mb' },
              { type: 'm.room.topic', stateKey: '', eventId: '$not-stored' },
            ]);
          });
          const ids = async (filters?: Parameters<RoomTx['getCurrentStateEvents']>[1]): Promise<string[]> =>
            (await s.read((r) => r.getCurrentStateEvents(ROOM, filters))).map((e) => e.eventId);
          assert.deepEqual(await ids(), ['$create', '$ma', '$mb']);
          assert.deepEqual(await ids([{ type: 'm.room.member' }]), ['$ma', '$mb']);
          assert.deepEqual(
            await ids([
              { type: 'm.room.create', stateKey: '' },
              { type: 'm.room.member', stateKey: '@b:hs.test' },
              { type: 'm.room.member' },
            ]),
            ['$create', '$ma', '$mb'],
          );
          assert.deepEqual(await ids([{ type: 'm.room.member', stateKey: '@nobody:hs.test' }]), []);
          assert.deepEqual(await ids([]), []);
        }),
      );
    });

    describe('state snapshots', () => {
      const member = (user: string, eventId: string): StateEntry => ({
        type: 'm.room.member',
        stateKey: user,
        eventId,
      });
      const create: StateEntry = { type: 'm.room.create', stateKey: '', eventId: '$create' };

      it('stores complete snapshots and changes to them', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const groups = await s.withRoomTransaction(ROOM, async (tx) => {
            const g1 = await tx.storeStateGroup({ prevGroupId: null, entries: [member('@a:hs', '$a1'), create] });
            const g2 = await tx.storeStateGroup({ prevGroupId: g1, entries: [member('@b:hs', '$b1')] });
            const g3 = await tx.storeStateGroup({
              prevGroupId: g2,
              entries: [member('@a:hs', '$a2')],
              removed: [{ type: 'm.room.member', stateKey: '@b:hs' }],
            });
            const same = await tx.storeStateGroup({ prevGroupId: g3, entries: [] });
            return { g1, g2, g3, same };
          });
          assert.equal(groups.same, groups.g3);
          assert.deepEqual(await s.read((r) => r.getStateGroup(groups.g1)), [create, member('@a:hs', '$a1')]);
          assert.deepEqual(await s.read((r) => r.getStateGroup(groups.g2)), [
            create,
            member('@a:hs', '$a1'),
            member('@b:hs', '$b1'),
          ]);
          assert.deepEqual(await s.read((r) => r.getStateGroup(groups.g3)), [create, member('@a:hs', '$a2')]);
          assert.equal(await s.read((r) => r.getStateGroup(999_999)), null);
        }),
      );

      it('stays correct past the longest chain of changes', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const steps = MAX_CHAIN_LENGTH * 2 + 5;
          const expected = new Map<string, string>([['', '$create']]);
          const groupIds = await s.withRoomTransaction(ROOM, async (tx) => {
            const ids = [await tx.storeStateGroup({ prevGroupId: null, entries: [create] })];
            for (let i = 0; i < steps; i++) {
              const user = `@u${i % 7}:hs`;
              const prev = ids[ids.length - 1] ?? null;
              ids.push(await tx.storeStateGroup({ prevGroupId: prev, entries: [member(user, `$m${i}`)] }));
            }
            return ids;
          });
          for (let i = 0; i < steps; i++) expected.set(`@u${i % 7}:hs`, `$m${i}`);
          const last = groupIds[groupIds.length - 1] ?? 0;
          const state = await s.read((r) => r.getStateGroup(last));
          assert.deepEqual(
            new Map(state?.map((e) => [e.stateKey, e.eventId])),
            expected,
          );
          // An early group still resolves to its own snapshot.
          const third = await s.read((r) => r.getStateGroup(groupIds[3] ?? 0));
          assert.deepEqual(third, [create, member('@u0:hs', '$m0'), member('@u1:hs', '$m1'), member('@u2:hs', '$m2')]);
        }),
      );

      it('keeps every snapshot exact while long chains are merged, also when merged changes grow large', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          // Each step sets 40 new keys, changes one old key and removes another,
          // so merged chains soon exceed any bound on a single change.
          const steps = MAX_CHAIN_LENGTH * 3 + 7;
          const model = new Map<string, string>([['m.room.create|', '$create']]);
          const snapshots: Array<{ id: number; state: StateEntry[] }> = [];
          const asEntries = (m: Map<string, string>): StateEntry[] =>
            [...m]
              .map(([k, eventId]) => {
                const [type, stateKey] = k.split('|') as [string, string];
                return { type, stateKey, eventId };
              })
              .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.stateKey < b.stateKey ? -1 : a.stateKey > b.stateKey ? 1 : 0));
          await s.withRoomTransaction(ROOM, async (tx) => {
            let prev = await tx.storeStateGroup({ prevGroupId: null, entries: [create] });
            snapshots.push({ id: prev, state: asEntries(model) });
            for (let i = 0; i < steps; i++) {
              const entries = Array.from({ length: 40 }, (_, j) => member(`@n${i}_${j}:hs`, `$n${i}_${j}`));
              if (i > 0) entries.push(member(`@n${i - 1}_0:hs`, `$changed${i}`));
              const removed = i > 1 ? [{ type: 'm.room.member', stateKey: `@n${i - 2}_1:hs` }] : [];
              prev = await tx.storeStateGroup({ prevGroupId: prev, entries, removed });
              for (const e of entries) model.set(`${e.type}|${e.stateKey}`, e.eventId);
              for (const k of removed) model.delete(`${k.type}|${k.stateKey}`);
              if (i % 9 === 0 || i === steps - 1) snapshots.push({ id: prev, state: asEntries(model) });
            }
          });
          for (const { id, state } of snapshots) {
            assert.deepEqual(await s.read((r) => r.getStateGroup(id)), state, `snapshot ${id}`);
          }
        }),
      );

      it('records the state before and after an event', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await s.withRoomTransaction(ROOM, async (tx) => {
            await tx.createRoom({ roomVersion: '11', createdTs: 1 });
            await tx.insertEvent(memberEvent('$join', '@a:hs'));
            const before = await tx.storeStateGroup({ prevGroupId: null, entries: [create] });
            const afterGroup = await tx.storeStateGroup({ prevGroupId: before, entries: [member('@a:hs', '$join')] });
            await tx.setEventStateGroups('$join', { beforeGroupId: before, afterGroupId: afterGroup });
            await tx.setCurrentStateGroup(afterGroup);
          });
          assert.deepEqual(await s.read((r) => r.getStateAtEvent('$join', 'before')), [create]);
          assert.deepEqual(await s.read((r) => r.getStateAtEvent('$join', 'after')), [create, member('@a:hs', '$join')]);
          const groups = await s.read((r) => r.getEventStateGroups('$join'));
          assert.equal((await s.read((r) => r.getRoom(ROOM)))?.currentStateGroupId, groups?.afterGroupId);
          assert.equal(await s.read((r) => r.getStateAtEvent('$unknown', 'before')), null);
        }),
      );

      it('looks up some keys of a snapshot, through changes, removals and past the longest chain', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const steps = MAX_CHAIN_LENGTH + 5;
          const ids = await s.withRoomTransaction(ROOM, async (tx) => {
            const first = await tx.storeStateGroup({ prevGroupId: null, entries: [create, member('@a:hs', '$a1'), member('@b:hs', '$b1')] });
            const removed = await tx.storeStateGroup({ prevGroupId: first, entries: [], removed: [{ type: 'm.room.member', stateKey: '@b:hs' }] });
            const groups = [first, removed];
            for (let i = 0; i < steps; i++) {
              groups.push(await tx.storeStateGroup({ prevGroupId: groups[groups.length - 1] ?? null, entries: [member('@a:hs', `$a${i + 2}`)] }));
            }
            return groups;
          });
          const keys = [
            { type: 'm.room.member', stateKey: '@b:hs' },
            { type: 'm.room.member', stateKey: '@a:hs' },
            { type: 'm.room.create', stateKey: '' },
            { type: 'm.room.name', stateKey: '' },
            { type: 'm.room.member', stateKey: '@a:hs' },
          ];
          const [first, removed] = [ids[0] ?? 0, ids[1] ?? 0];
          assert.deepEqual(await s.read((r) => r.getStateGroupEntries(first, keys)), [create, member('@a:hs', '$a1'), member('@b:hs', '$b1')]);
          assert.deepEqual(await s.read((r) => r.getStateGroupEntries(removed, keys)), [create, member('@a:hs', '$a1')], 'a removed key is absent');
          const last = ids[ids.length - 1] ?? 0;
          assert.deepEqual(await s.read((r) => r.getStateGroupEntries(last, keys)), [create, member('@a:hs', `$a${steps + 1}`)]);
          for (const groupId of [first, removed, ids[5] ?? 0, last]) {
            const full = (await s.read((r) => r.getStateGroup(groupId))) ?? [];
            const some = await s.read((r) => r.getStateGroupEntries(groupId, keys));
            assert.deepEqual(some, full.filter((e) => keys.some((k) => k.type === e.type && k.stateKey === e.stateKey)), `group ${groupId} agrees with its full state`);
          }
          assert.deepEqual(await s.read((r) => r.getStateGroupEntries(last, [])), []);
          assert.equal(await s.read((r) => r.getStateGroupEntries(999_999, keys)), null);
        }),
      );

      it('reads the snapshots around many events at once', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const recorded = await s.withRoomTransaction(ROOM, async (tx) => {
            await tx.insertEvent(memberEvent('$join', '@a:hs'));
            await tx.insertEvent(event('$message'));
            const before = await tx.storeStateGroup({ prevGroupId: null, entries: [create] });
            const afterGroup = await tx.storeStateGroup({ prevGroupId: before, entries: [member('@a:hs', '$join')] });
            await tx.setEventStateGroups('$join', { beforeGroupId: before, afterGroupId: afterGroup });
            await tx.setEventStateGroups('$message', { beforeGroupId: afterGroup, afterGroupId: afterGroup });
            return { before, afterGroup };
          });
          const found = await s.read((r) => r.getStateGroupsOfEvents(['$message', '$join', '$unknown', '$join']));
          assert.deepEqual(
            new Map(found),
            new Map([
              ['$join', { beforeGroupId: recorded.before, afterGroupId: recorded.afterGroup }],
              ['$message', { beforeGroupId: recorded.afterGroup, afterGroupId: recorded.afterGroup }],
            ]),
          );
          assert.equal((await s.read((r) => r.getStateGroupsOfEvents([]))).size, 0);
        }),
      );

      it('refuses snapshots that mix rooms or cite unknown groups', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const otherGroup = await s.withRoomTransaction(OTHER_ROOM, (tx) =>
            tx.storeStateGroup({ prevGroupId: null, entries: [create] }),
          );
          await rejectsWithCode(
            s.withRoomTransaction(ROOM, (tx) => tx.storeStateGroup({ prevGroupId: otherGroup, entries: [create] })),
            'ROOM_MISMATCH',
          );
          await rejectsWithCode(
            s.withRoomTransaction(ROOM, (tx) => tx.storeStateGroup({ prevGroupId: 424_242, entries: [create] })),
            'NOT_FOUND',
          );
          await rejectsWithCode(
            s.withRoomTransaction(ROOM, (tx) => tx.storeStateGroup({ prevGroupId: null, entries: [create, create] })),
            'INVALID_ARGUMENT',
          );
          await rejectsWithCode(
            s.withRoomTransaction(ROOM, async (tx) => {
              await tx.insertEvent(event('$e'));
              await tx.setEventStateGroups('$e', { beforeGroupId: otherGroup, afterGroupId: otherGroup });
            }),
            'ROOM_MISMATCH',
          );
          await rejectsWithCode(
            s.withRoomTransaction(ROOM, (tx) => tx.setCurrentStateGroup(otherGroup)),
            'ROOM_MISMATCH',
          );
        }),
      );
    });

    describe('memberships', () => {
      const alice = '@alice:hs.test';
      const bob = '@bob:remote.test';
      const carol = '@carol:remote.test';

      it('upserts a membership with the position of its event', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const { position } = await s.withRoomTransaction(ROOM, (tx) => tx.insertEvent(memberEvent('$j', alice)));
          const record = await s.withRoomTransaction(ROOM, (tx) =>
            tx.upsertMembership({ userId: alice, membership: 'join', eventId: '$j' }),
          );
          assert.deepEqual(record, {
            roomId: ROOM,
            userId: alice,
            serverName: 'hs.test',
            membership: 'join',
            eventId: '$j',
            forgotten: false,
            position,
          });
          assert.deepEqual(await s.read((r) => r.getMembership(ROOM, alice)), record);
          assert.equal(await s.read((r) => r.getMembership(OTHER_ROOM, alice)), null);
          const left = await s.withRoomTransaction(ROOM, async (tx) => {
            const ev = await tx.insertEvent(memberEvent('$l', alice));
            return { ev, m: await tx.upsertMembership({ userId: alice, membership: 'leave', eventId: '$l' }) };
          });
          assert.equal(left.m.membership, 'leave');
          assert.equal(left.m.position, left.ev.position);
        }),
      );

      it('keeps the forgotten flag unless told, and sets it on request', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await s.withRoomTransaction(ROOM, async (tx) => {
            await tx.insertEvent(memberEvent('$l', alice));
            await tx.upsertMembership({ userId: alice, membership: 'leave', eventId: '$l' });
          });
          assert.equal(await s.withRoomTransaction(ROOM, (tx) => tx.setForgotten(alice, true)), true);
          assert.equal((await s.read((r) => r.getMembership(ROOM, alice)))?.forgotten, true);
          const kept = await s.withRoomTransaction(ROOM, async (tx) => {
            await tx.insertEvent(memberEvent('$l2', alice));
            return tx.upsertMembership({ userId: alice, membership: 'leave', eventId: '$l2' });
          });
          assert.equal(kept.forgotten, true);
          const rejoined = await s.withRoomTransaction(ROOM, async (tx) => {
            await tx.insertEvent(memberEvent('$j', alice));
            return tx.upsertMembership({ userId: alice, membership: 'join', eventId: '$j', forgotten: false });
          });
          assert.equal(rejoined.forgotten, false);
          assert.equal(await s.withRoomTransaction(ROOM, (tx) => tx.setForgotten(bob, true)), false);
        }),
      );

      it('refuses memberships whose event is not stored in the room', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await rejectsWithCode(
            s.withRoomTransaction(ROOM, (tx) => tx.upsertMembership({ userId: alice, membership: 'join', eventId: '$no' })),
            'NOT_FOUND',
          );
          await s.withRoomTransaction(OTHER_ROOM, (tx) => tx.insertEvent(memberEvent('$o', alice, OTHER_ROOM)));
          await rejectsWithCode(
            s.withRoomTransaction(ROOM, (tx) => tx.upsertMembership({ userId: alice, membership: 'join', eventId: '$o' })),
            'ROOM_MISMATCH',
          );
          await rejectsWithCode(
            s.withRoomTransaction(OTHER_ROOM, (tx) =>
              tx.upsertMembership({ userId: 'not-a-user', membership: 'join', eventId: '$o' }),
            ),
            'INVALID_ARGUMENT',
          );
        }),
      );

      it('lists rooms of a user by membership and forgotten flag', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const rooms: Array<[string, 'join' | 'leave' | 'invite', boolean]> = [
            ['!c:hs.test', 'join', false],
            ['!a:hs.test', 'leave', true],
            ['!b:hs.test', 'leave', false],
            ['!d:hs.test', 'invite', false],
          ];
          for (const [room, membership, forgotten] of rooms) {
            await s.withRoomTransaction(room, async (tx) => {
              await tx.insertEvent(memberEvent(`$${room}`, alice, room));
              await tx.upsertMembership({ userId: alice, membership, eventId: `$${room}`, forgotten });
            });
          }
          const list = async (q?: Parameters<RoomTx['listRoomsForUser']>[1]): Promise<string[]> =>
            (await s.read((r) => r.listRoomsForUser(alice, q))).map((m) => m.roomId);
          assert.deepEqual(await list(), ['!b:hs.test', '!c:hs.test', '!d:hs.test']);
          assert.deepEqual(await list({ forgotten: 'include' }), ['!a:hs.test', '!b:hs.test', '!c:hs.test', '!d:hs.test']);
          assert.deepEqual(await list({ forgotten: 'only' }), ['!a:hs.test']);
          assert.deepEqual(await list({ memberships: ['leave'], forgotten: 'include' }), ['!a:hs.test', '!b:hs.test']);
          assert.deepEqual(await list({ memberships: ['join', 'invite'] }), ['!c:hs.test', '!d:hs.test']);
          assert.deepEqual(await list({ memberships: [] }), []);
          assert.deepEqual(await s.read((r) => r.listRoomsForUser('@nobody:hs.test')), []);
        }),
      );

      it('lists members, counts joined members per server, and knows which servers are in', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const members: Array<[string, 'join' | 'leave' | 'ban']> = [
            [carol, 'join'],
            [alice, 'join'],
            [bob, 'join'],
            ['@dave:third.test', 'leave'],
            ['@eve:third.test', 'ban'],
          ];
          await s.withRoomTransaction(ROOM, async (tx) => {
            for (const [user, membership] of members) {
              await tx.insertEvent(memberEvent(`$${user}`, user));
              await tx.upsertMembership({ userId: user, membership, eventId: `$${user}` });
            }
          });
          const all = await s.read((r) => r.listRoomMembers(ROOM));
          assert.deepEqual(
            all.map((m) => m.userId),
            [alice, bob, carol, '@dave:third.test', '@eve:third.test'],
          );
          const joined = await s.read((r) => r.listRoomMembers(ROOM, ['join']));
          assert.deepEqual(
            joined.map((m) => m.userId),
            [alice, bob, carol],
          );
          assert.deepEqual(await s.read((r) => r.countJoinedMembersByServer(ROOM)), [
            { serverName: 'hs.test', joined: 1 },
            { serverName: 'remote.test', joined: 2 },
          ]);
          assert.equal(await s.read((r) => r.isServerInRoom(ROOM, 'remote.test')), true);
          assert.equal(await s.read((r) => r.isServerInRoom(ROOM, 'third.test')), false);
          assert.equal(await s.read((r) => r.isServerInRoom(OTHER_ROOM, 'hs.test')), false);
          assert.deepEqual(await s.read((r) => r.countJoinedMembersByServer(OTHER_ROOM)), []);
        }),
      );

      it('keeps the joined counts per server exact through every membership change, and through rollbacks', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const counted = (roomId: string) => s.read((r) => r.countJoinedMembersByServer(roomId));
          const recounted = async (roomId: string) => {
            const joined = await s.read((r) => r.listRoomMembers(roomId, ['join']));
            const byServer = new Map<string, number>();
            for (const m of joined) byServer.set(m.serverName, (byServer.get(m.serverName) ?? 0) + 1);
            return [...byServer].map(([serverName, n]) => ({ serverName, joined: n })).sort((a, b) => (a.serverName < b.serverName ? -1 : 1));
          };
          const users = ['@a:one.test', '@b:one.test', '@c:two.test', '@d:two.test', '@e:three.test'];
          // A bounded, deterministic walk through join, leave, ban, invite, knock and rejoin.
          const steps: Array<[string, 'join' | 'leave' | 'ban' | 'invite' | 'knock']> = [];
          const cycle = ['join', 'join', 'leave', 'invite', 'join', 'ban', 'leave', 'knock', 'join'] as const;
          for (let i = 0; i < 40; i++) steps.push([users[(i * 3) % users.length] as string, cycle[i % cycle.length] as (typeof cycle)[number]]);
          let n = 0;
          for (const [user, membership] of steps) {
            n += 1;
            await s.withRoomTransaction(ROOM, async (tx) => {
              await tx.insertEvent(memberEvent(`$s${n}`, user));
              await tx.upsertMembership({ userId: user, membership, eventId: `$s${n}` });
            });
            assert.deepEqual(await counted(ROOM), await recounted(ROOM), `after step ${n} (${user} ${membership})`);
          }
          // Another room's counts are its own.
          await s.withRoomTransaction(OTHER_ROOM, async (tx) => {
            await tx.insertEvent(memberEvent('$o1', '@a:one.test', OTHER_ROOM));
            await tx.upsertMembership({ userId: '@a:one.test', membership: 'join', eventId: '$o1' });
          });
          assert.deepEqual(await counted(OTHER_ROOM), [{ serverName: 'one.test', joined: 1 }]);
          assert.deepEqual(await counted(ROOM), await recounted(ROOM));
          // A rolled-back change leaves the counts as they were.
          const before = await counted(ROOM);
          await assert.rejects(
            s.withRoomTransaction(ROOM, async (tx) => {
              for (const [i, user] of users.entries()) {
                await tx.insertEvent(memberEvent(`$rb${i}`, user));
                await tx.upsertMembership({ userId: user, membership: i % 2 === 0 ? 'join' : 'leave', eventId: `$rb${i}` });
              }
              throw new Error('abort');
            }),
            /abort/,
          );
          assert.deepEqual(await counted(ROOM), before);
          // Everyone leaves: no server is left in the room.
          await s.withRoomTransaction(ROOM, async (tx) => {
            for (const [i, user] of users.entries()) {
              await tx.insertEvent(memberEvent(`$out${i}`, user));
              await tx.upsertMembership({ userId: user, membership: 'leave', eventId: `$out${i}` });
            }
          });
          assert.deepEqual(await counted(ROOM), []);
          for (const server of ['one.test', 'two.test', 'three.test']) {
            assert.equal(await s.read((r) => r.isServerInRoom(ROOM, server)), false, server);
          }
          assert.equal(await s.read((r) => r.isServerInRoom(OTHER_ROOM, 'one.test')), true);
        }),
      );

      it('derives the server of a user ID with a port', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const user = '@x:host.test:8448';
          const record = await s.withRoomTransaction(ROOM, async (tx) => {
            await tx.insertEvent(memberEvent('$p', user));
            return tx.upsertMembership({ userId: user, membership: 'join', eventId: '$p' });
          });
          assert.equal(record.serverName, 'host.test:8448');
          assert.equal(await s.read((r) => r.isServerInRoom(ROOM, 'host.test:8448')), true);
        }),
      );
    });

    describe('idempotency records', () => {
      it('puts a record only if the key is new and returns the first one otherwise', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const first = await s.withRoomTransaction(ROOM, (tx) => tx.putIdempotencyRecord('leave:1', '{"a":1}', 100));
          assert.deepEqual(first, { stored: true, record: { key: 'leave:1', resultJson: '{"a":1}', createdTs: 100 } });
          const second = await s.withRoomTransaction(OTHER_ROOM, (tx) =>
            tx.putIdempotencyRecord('leave:1', '{"a":2}', 200),
          );
          assert.deepEqual(second, { stored: false, record: first.record });
          assert.deepEqual(await s.read((r) => r.getIdempotencyRecord('leave:1')), first.record);
          assert.equal(await s.read((r) => r.getIdempotencyRecord('leave:2')), null);
        }),
      );

      it('sweeps records older than a time', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await s.withRoomTransaction(ROOM, async (tx) => {
            await tx.putIdempotencyRecord('old', '{}', 100);
            await tx.putIdempotencyRecord('edge', '{}', 200);
            await tx.putIdempotencyRecord('new', '{}', 300);
          });
          assert.equal(await s.sweepIdempotencyRecords(200), 1);
          assert.equal(await s.read((r) => r.getIdempotencyRecord('old')), null);
          assert.notEqual(await s.read((r) => r.getIdempotencyRecord('edge')), null);
          assert.equal(await s.sweepIdempotencyRecords(200), 0);
        }),
      );
    });

    describe('federation outbox', () => {
      /** Stores events `$<prefix>0..n-1` in one transaction each and queues them. */
      const enqueueEvents = async (
        s: Storage,
        prefix: string,
        count: number,
        destinations: readonly string[],
        createdTs = 1_000,
      ): Promise<void> => {
        for (let i = 0; i < count; i++) {
          await s.withRoomTransaction(ROOM, async (tx) => {
            await tx.insertEvent(event(`$${prefix}${i}`));
            await tx.enqueueOutbox(destinations, `$${prefix}${i}`, createdTs + i);
          });
        }
      };

      it('queues a stored event once per destination', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const added = await s.withRoomTransaction(ROOM, async (tx) => {
            await tx.insertEvent(event('$e'));
            const first = await tx.enqueueOutbox(['a.test', 'b.test', 'a.test'], '$e', 10);
            const again = await tx.enqueueOutbox(['b.test', 'c.test'], '$e', 11);
            return [first, again];
          });
          assert.deepEqual(added, [2, 1]);
          assert.deepEqual(await s.outboxStats(20), { depth: 3, destinations: 3, inFlight: 0, oldestAgeMs: 10 });
          await rejectsWithCode(
            s.withRoomTransaction(ROOM, (tx) => tx.enqueueOutbox(['a.test'], '$unknown', 10)),
            'NOT_FOUND',
          );
          assert.equal(await s.withRoomTransaction(ROOM, (tx) => tx.enqueueOutbox([], '$e', 10)), 0);
        }),
      );

      it('claims the oldest rows of one destination in order, with the PDU', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await enqueueEvents(s, 'e', 5, ['a.test']);
          const batch = await s.claimOutboxBatch({ limit: 3, leaseMs: 1_000, now: 5_000 });
          assert.equal(batch?.destination, 'a.test');
          assert.equal(batch?.leaseUntil, 6_000);
          assert.deepEqual(
            batch?.items.map((i) => i.eventId),
            ['$e0', '$e1', '$e2'],
          );
          const item = batch?.items[0];
          assert.equal(item?.eventJson, JSON.stringify({ event_id: '$e0', room_id: ROOM }));
          assert.equal(item?.roomId, ROOM);
          assert.equal(item?.attempts, 0);
          assert.equal(item?.claimedUntil, 6_000);
          assert.ok((batch?.items[0]?.id ?? 0) < (batch?.items[1]?.id ?? 0));
        }),
      );

      it('hands a destination to one claimer until it acks or the lease runs out', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await enqueueEvents(s, 'e', 4, ['a.test']);
          const first = await s.claimOutboxBatch({ limit: 2, leaseMs: 1_000, now: 5_000 });
          assert.deepEqual(
            first?.items.map((i) => i.eventId),
            ['$e0', '$e1'],
          );
          // The destination is leased: nobody gets its later rows meanwhile.
          assert.equal(await s.claimOutboxBatch({ limit: 2, leaseMs: 1_000, now: 5_500 }), null);
          assert.equal(
            await s.claimOutboxBatch({ destination: 'a.test', limit: 2, leaseMs: 1_000, now: 5_999 }),
            null,
          );
          assert.deepEqual(await s.pendingOutboxDestinations(5_500), []);
          assert.equal((await s.outboxStats(5_500)).inFlight, 2);
          // The lease ran out: the same rows are claimable again.
          const reclaimed = await s.claimOutboxBatch({ limit: 2, leaseMs: 1_000, now: 6_000 });
          assert.deepEqual(
            reclaimed?.items.map((i) => i.eventId),
            ['$e0', '$e1'],
          );
          assert.equal(await s.ackOutbox(reclaimed?.items.map((i) => i.id) ?? []), 2);
          const next = await s.claimOutboxBatch({ limit: 10, leaseMs: 1_000, now: 6_100 });
          assert.deepEqual(
            next?.items.map((i) => i.eventId),
            ['$e2', '$e3'],
          );
          assert.equal(await s.ackOutbox(next?.items.map((i) => i.id) ?? []), 2);
          assert.equal(await s.ackOutbox(next?.items.map((i) => i.id) ?? []), 0);
          assert.deepEqual(await s.outboxStats(6_200), { depth: 0, destinations: 0, inFlight: 0, oldestAgeMs: null });
          assert.equal(await s.claimOutboxBatch({ limit: 10, leaseMs: 1_000, now: 6_200 }), null);
        }),
      );

      it('serves other destinations while one is leased, oldest due first', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await enqueueEvents(s, 'a', 2, ['a.test']);
          await enqueueEvents(s, 'b', 2, ['b.test']);
          assert.deepEqual(await s.pendingOutboxDestinations(5_000), ['a.test', 'b.test']);
          const first = await s.claimOutboxBatch({ limit: 50, leaseMs: 1_000, now: 5_000 });
          const second = await s.claimOutboxBatch({ limit: 50, leaseMs: 1_000, now: 5_000 });
          assert.equal(first?.destination, 'a.test');
          assert.equal(second?.destination, 'b.test');
          assert.equal(await s.claimOutboxBatch({ limit: 50, leaseMs: 1_000, now: 5_000 }), null);
          const only = await s.claimOutboxBatch({ destination: 'c.test', limit: 5, leaseMs: 10, now: 5_000 });
          assert.equal(only, null);
        }),
      );

      it('retries later with one more attempt, holding the destination back until then', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await enqueueEvents(s, 'e', 2, ['a.test']);
          const batch = await s.claimOutboxBatch({ limit: 1, leaseMs: 60_000, now: 5_000 });
          const ids = batch?.items.map((i) => i.id) ?? [];
          assert.equal(await s.retryOutboxLater(ids, 9_000), 1);
          // $e1 is due, but $e0 goes first: nothing until 9000.
          assert.equal(await s.claimOutboxBatch({ limit: 5, leaseMs: 1_000, now: 8_999 }), null);
          assert.deepEqual(await s.pendingOutboxDestinations(8_999), []);
          assert.deepEqual(await s.pendingOutboxDestinations(9_000), ['a.test']);
          const retry = await s.claimOutboxBatch({ limit: 5, leaseMs: 1_000, now: 9_000 });
          assert.deepEqual(
            retry?.items.map((i) => [i.eventId, i.attempts, i.nextAttemptTs]),
            [
              ['$e0', 1, 9_000],
              ['$e1', 0, 1_001],
            ],
          );
          assert.equal(await s.retryOutboxLater(retry?.items.map((i) => i.id) ?? [], 20_000), 2);
          const third = await s.claimOutboxBatch({ limit: 5, leaseMs: 1_000, now: 20_000 });
          assert.deepEqual(
            third?.items.map((i) => i.attempts),
            [2, 1],
          );
        }),
      );

      it('reports depth, destinations, leases and the oldest age', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          assert.deepEqual(await s.outboxStats(0), { depth: 0, destinations: 0, inFlight: 0, oldestAgeMs: null });
          await enqueueEvents(s, 'e', 3, ['a.test', 'b.test'], 1_000);
          await s.claimOutboxBatch({ destination: 'b.test', limit: 2, leaseMs: 500, now: 2_000 });
          assert.deepEqual(await s.outboxStats(2_000), { depth: 6, destinations: 2, inFlight: 2, oldestAgeMs: 1_000 });
          assert.equal((await s.outboxStats(2_500)).inFlight, 0);
        }),
      );

      it('refuses batches larger than a federation transaction', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await rejectsWithCode(s.claimOutboxBatch({ limit: 51, leaseMs: 1, now: 0 }), 'INVALID_ARGUMENT');
          await rejectsWithCode(s.claimOutboxBatch({ limit: 0, leaseMs: 1, now: 0 }), 'INVALID_ARGUMENT');
          await rejectsWithCode(s.claimOutboxBatch({ limit: 1, leaseMs: 0, now: 0 }), 'INVALID_ARGUMENT');
        }),
      );

      it('two replicas claiming at once never get the same rows and keep each destination in order', TEST_TIMEOUT, async () => {
        const { storage: a, config } = await open();
        const b = await openStorage(config);
        try {
          const destinations = ['d0.test', 'd1.test', 'd2.test', 'd3.test', 'd4.test'];
          const perDestination = 12;
          await enqueueEvents(a, 'e', perDestination, destinations);
          const delivered = new Map<string, string[]>(destinations.map((d) => [d, []]));
          const holders = new Set<string>();
          const seenIds = new Set<number>();
          const claimer = async (s: Storage): Promise<number> => {
            let claims = 0;
            // Bounded: each round acks at least one row, or finds nothing and stops soon.
            for (let round = 0, idle = 0; round < 500 && idle < 20; round++) {
              const batch = await s.claimOutboxBatch({ limit: 5, leaseMs: 60_000, now: Date.now() });
              if (!batch) {
                idle++;
                await sleep(2);
                continue;
              }
              idle = 0;
              claims++;
              assert.ok(!holders.has(batch.destination), `${batch.destination} handed to two claimers`);
              holders.add(batch.destination);
              for (const item of batch.items) {
                assert.ok(!seenIds.has(item.id), `row ${item.id} claimed twice`);
                seenIds.add(item.id);
                delivered.get(item.destination)?.push(item.eventId);
              }
              await sleep(1 + (round % 3));
              holders.delete(batch.destination);
              await s.ackOutbox(batch.items.map((i) => i.id));
            }
            return claims;
          };
          const [claimsA, claimsB] = await within(45_000, 'claimers', Promise.all([claimer(a), claimer(b)]));
          assert.ok(claimsA > 0 && claimsB > 0, `both claimers worked (${claimsA}, ${claimsB})`);
          const expected = Array.from({ length: perDestination }, (_, i) => `$e${i}`);
          for (const d of destinations) assert.deepEqual(delivered.get(d), expected, `order for ${d}`);
          assert.equal((await a.outboxStats(Date.now())).depth, 0);
        } finally {
          await a.close();
          await b.close();
        }
      });
    });

    describe('received invites', () => {
      const invite = (userId: string, receivedTs: number): Parameters<RoomTx['putReceivedInvite']>[0] => ({
        userId,
        inviteEventJson: `{"invite":"${userId}"}`,
        roomVersion: '11',
        strippedStateJson: '[{"type":"m.room.name"}]',
        servers: ['inviter.test', 'other.test'],
        receivedTs,
      });

      it('puts, replaces, gets, lists and deletes invites', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await s.withRoomTransaction(OTHER_ROOM, (tx) => tx.putReceivedInvite(invite('@alice:hs.test', 20)));
          await s.withRoomTransaction(ROOM, (tx) => tx.putReceivedInvite(invite('@alice:hs.test', 10)));
          await s.withRoomTransaction(ROOM, (tx) => tx.putReceivedInvite(invite('@bob:hs.test', 5)));
          assert.deepEqual(await s.read((r) => r.getReceivedInvite(ROOM, '@alice:hs.test')), {
            roomId: ROOM,
            ...invite('@alice:hs.test', 10),
          });
          const listed = await s.read((r) => r.listReceivedInvitesForUser('@alice:hs.test'));
          assert.deepEqual(
            listed.map((i) => i.roomId),
            [ROOM, OTHER_ROOM],
          );
          await s.withRoomTransaction(ROOM, (tx) =>
            tx.putReceivedInvite({ ...invite('@alice:hs.test', 30), servers: ['new.test'] }),
          );
          const replaced = await s.read((r) => r.getReceivedInvite(ROOM, '@alice:hs.test'));
          assert.deepEqual([replaced?.receivedTs, replaced?.servers], [30, ['new.test']]);
          assert.equal(await s.withRoomTransaction(ROOM, (tx) => tx.deleteReceivedInvite('@alice:hs.test')), true);
          assert.equal(await s.withRoomTransaction(ROOM, (tx) => tx.deleteReceivedInvite('@alice:hs.test')), false);
          assert.equal(await s.read((r) => r.getReceivedInvite(ROOM, '@alice:hs.test')), null);
          assert.equal((await s.read((r) => r.listReceivedInvitesForUser('@alice:hs.test'))).length, 1);
        }),
      );
    });

    describe('sent knocks', () => {
      const knock = (userId: string, eventId: string, sentTs: number): Parameters<RoomTx['putSentKnock']>[0] => ({
        userId,
        eventId,
        knockRoomStateJson: '[{"type":"m.room.join_rules","state_key":"","sender":"@a:them.test","content":{"join_rule":"knock"}}]',
        servers: ['them.test', 'other.test'],
        sentTs,
      });

      it('puts, replaces, gets and deletes knocks, per room and user', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await s.withRoomTransaction(ROOM, (tx) => tx.putSentKnock(knock('@alice:hs.test', '$k1', 10)));
          await s.withRoomTransaction(OTHER_ROOM, (tx) => tx.putSentKnock(knock('@alice:hs.test', '$k2', 20)));
          await s.withRoomTransaction(ROOM, (tx) => tx.putSentKnock(knock('@bob:hs.test', '$k3', 5)));
          assert.deepEqual(await s.read((r) => r.getSentKnock(ROOM, '@alice:hs.test')), { roomId: ROOM, ...knock('@alice:hs.test', '$k1', 10) });
          assert.equal((await s.read((r) => r.getSentKnock(OTHER_ROOM, '@alice:hs.test')))?.eventId, '$k2');
          assert.equal(await s.read((r) => r.getSentKnock(ROOM, '@carol:hs.test')), null);

          // Knocking again (after a leave) replaces the row.
          await s.withRoomTransaction(ROOM, (tx) => tx.putSentKnock({ ...knock('@alice:hs.test', '$k4', 30), servers: ['new.test'], knockRoomStateJson: '[]' }));
          const replaced = await s.read((r) => r.getSentKnock(ROOM, '@alice:hs.test'));
          assert.deepEqual([replaced?.eventId, replaced?.servers, replaced?.knockRoomStateJson, replaced?.sentTs], ['$k4', ['new.test'], '[]', 30]);

          assert.equal(await s.withRoomTransaction(ROOM, (tx) => tx.deleteSentKnock('@alice:hs.test')), true);
          assert.equal(await s.withRoomTransaction(ROOM, (tx) => tx.deleteSentKnock('@alice:hs.test')), false);
          assert.equal(await s.read((r) => r.getSentKnock(ROOM, '@alice:hs.test')), null);
          assert.equal((await s.read((r) => r.getSentKnock(OTHER_ROOM, '@alice:hs.test')))?.eventId, '$k2', 'other rooms keep theirs');
          assert.equal((await s.read((r) => r.getSentKnock(ROOM, '@bob:hs.test')))?.eventId, '$k3', 'other users keep theirs');
        }),
      );

      it('refuses empty user IDs, event IDs and server names, and rolls back with the transaction', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await rejectsWithCode(s.withRoomTransaction(ROOM, (tx) => tx.putSentKnock(knock('', '$k', 1))), 'INVALID_ARGUMENT');
          await rejectsWithCode(s.withRoomTransaction(ROOM, (tx) => tx.putSentKnock(knock('@a:hs.test', '', 1))), 'INVALID_ARGUMENT');
          await rejectsWithCode(s.withRoomTransaction(ROOM, (tx) => tx.putSentKnock({ ...knock('@a:hs.test', '$k', 1), servers: [''] })), 'INVALID_ARGUMENT');
          await assert.rejects(
            s.withRoomTransaction(ROOM, async (tx) => {
              await tx.putSentKnock(knock('@a:hs.test', '$k', 1));
              throw new Error('abort');
            }),
            /abort/,
          );
          assert.equal(await s.read((r) => r.getSentKnock(ROOM, '@a:hs.test')), null);
        }),
      );
    });

    describe('user filters', () => {
      const alice = '@alice:hs.test';
      const bob = '@bob:hs.test';
      const filter = '{"room":{"timeline":{"limit":10}}}';

      it('stores a filter under a short ID and returns its text exactly, to its owner only', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const id = await s.putFilter(alice, filter, 1_000);
          assert.match(id, /^[0-9]{1,15}$/, 'a short decimal ID, never one that starts with {');
          assert.equal(await s.read((r) => r.getFilter(alice, id)), filter);
          assert.equal(await s.read((r) => r.getFilter(bob, id)), null, 'IDs are scoped by user');
        }),
      );

      it('gives the same ID to the same text of the same user, and new IDs otherwise', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const first = await s.putFilter(alice, filter, 1);
          assert.equal(await s.putFilter(alice, filter, 2), first);
          const spaced = '{ "room": {"timeline": {"limit": 10}} }';
          const other = await s.putFilter(alice, spaced, 3);
          assert.notEqual(other, first, 'text is compared exactly, not as JSON');
          assert.equal(await s.read((r) => r.getFilter(alice, other)), spaced);
          const bobs = await s.putFilter(bob, filter, 4);
          assert.notEqual(bobs, first);
          assert.equal(await s.read((r) => r.getFilter(bob, bobs)), filter);
        }),
      );

      it('answers null for unknown and malformed IDs', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await s.putFilter(alice, filter, 1);
          for (const id of ['999999', '', '0', '01', '-1', 'abc', '{"room":{}}', '1.0', '9'.repeat(40)]) {
            assert.equal(await s.read((r) => r.getFilter(alice, id)), null, `filter ID ${JSON.stringify(id)}`);
          }
        }),
      );

      it('refuses an empty user ID and text with NUL characters', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await rejectsWithCode(s.putFilter('', filter, 1), 'INVALID_ARGUMENT');
          await rejectsWithCode(s.putFilter(alice, 'a\u0000b', 1), 'INVALID_ARGUMENT');
        }),
      );

      it('keeps filters across a reopen', TEST_TIMEOUT, async () => {
        const { storage, config } = await open();
        const id = await storage.putFilter(alice, filter, 1);
        await storage.close();
        const reopened = await openStorage(config);
        try {
          assert.equal(await reopened.read((r) => r.getFilter(alice, id)), filter);
          assert.notEqual(await reopened.putFilter(alice, '{}', 2), id);
        } finally {
          await reopened.close();
        }
      });
    });

    describe('transactions', () => {
      it('a throw rolls back every write of the transaction, outbox included', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const failure = new Error('abort');
          await assert.rejects(
            s.withRoomTransaction(ROOM, async (tx) => {
              await tx.createRoom({ roomVersion: '11', createdTs: 1 });
              await tx.insertEvent(memberEvent('$m', '@a:hs.test'));
              await tx.setForwardExtremities(['$m']);
              await tx.setCurrentState([{ type: 'm.room.member', stateKey: '@a:hs.test', eventId: '$m' }]);
              const g = await tx.storeStateGroup({
                prevGroupId: null,
                entries: [{ type: 'm.room.member', stateKey: '@a:hs.test', eventId: '$m' }],
              });
              await tx.setEventStateGroups('$m', { beforeGroupId: g, afterGroupId: g });
              await tx.upsertMembership({ userId: '@a:hs.test', membership: 'join', eventId: '$m' });
              await tx.putIdempotencyRecord('key', '{}', 1);
              await tx.enqueueOutbox(['remote.test'], '$m', 1);
              await tx.putReceivedInvite({
                userId: '@a:hs.test',
                inviteEventJson: '{}',
                roomVersion: '11',
                strippedStateJson: '[]',
                servers: [],
                receivedTs: 1,
              });
              throw failure;
            }),
            (err) => err === failure,
          );
          await s.read(async (r) => {
            assert.equal(await r.getRoom(ROOM), null);
            assert.equal(await r.getEvent('$m'), null);
            assert.equal(await r.maxStreamPosition(), 0);
            assert.deepEqual(await r.getForwardExtremities(ROOM), []);
            assert.deepEqual(await r.getCurrentState(ROOM), []);
            assert.equal(await r.getEventStateGroups('$m'), null);
            assert.equal(await r.getMembership(ROOM, '@a:hs.test'), null);
            assert.equal(await r.getIdempotencyRecord('key'), null);
            assert.equal(await r.getReceivedInvite(ROOM, '@a:hs.test'), null);
          });
          assert.equal((await s.outboxStats(10)).depth, 0);
          // The room is usable afterwards.
          const ok = await s.withRoomTransaction(ROOM, (tx) => tx.insertEvent(memberEvent('$m', '@a:hs.test')));
          assert.equal(ok.inserted, true);
        }),
      );

      it('a transaction handle is dead once its transaction ended', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          let leaked: RoomTx | undefined;
          await s.withRoomTransaction(ROOM, async (tx) => {
            leaked = tx;
          });
          assert.ok(leaked);
          await rejectsWithCode(leaked.getRoom(ROOM), 'TRANSACTION_ENDED');
          await rejectsWithCode(leaked.insertEvent(event('$late')), 'TRANSACTION_ENDED');
          assert.equal(await s.read((r) => r.getEvent('$late')), null);
        }),
      );

      it('refuses nested transactions and reads inside a room transaction', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const outcome = await within(
            10_000,
            'nested calls',
            s.withRoomTransaction(ROOM, async () => {
              const nestedRead = await s.read(async () => 'read').catch((e: unknown) => e);
              const nestedTx = await s.withRoomTransaction(OTHER_ROOM, async () => 'tx').catch((e: unknown) => e);
              return [nestedRead, nestedTx];
            }),
          );
          for (const err of outcome) {
            assert.ok(err instanceof StorageError);
            assert.equal(err.code, 'NESTED_TRANSACTION');
          }
          assert.equal(await s.read(async () => 'fine afterwards'), 'fine afterwards');
        }),
      );

      it('reads see committed data only', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          await whileHolding(
            s,
            ROOM,
            (tx) => tx.insertEvent(event('$pending')).then(() => undefined),
            async () => {
              assert.equal(await within(5_000, 'read', s.read((r) => r.getEvent('$pending'))), null);
            },
          );
          assert.equal((await s.read((r) => r.getEvent('$pending')))?.eventId, '$pending');
        }),
      );

      it('a transaction that fails among others waiting at the same time rolls back alone', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const HELD = '!held:hs.test';
          const release = gate();
          // Everything below queues while the first transaction is held, so
          // an engine that commits waiting transactions together gets them in one batch.
          const held = s.withRoomTransaction(HELD, async (tx) => {
            await tx.insertEvent(event('$held', { roomId: HELD }));
            await release.promise;
          });
          const failing = s.withRoomTransaction(ROOM, async (tx) => {
            await tx.insertEvent(event('$refused'));
            await tx.enqueueOutbox(['remote.test'], '$refused', 1);
            await tx.upsertMembership({ userId: '@a:hs.test', membership: 'join', eventId: '$refused' });
            throw new Error('refused');
          });
          const other = s.withRoomTransaction(OTHER_ROOM, async (tx) => {
            await tx.insertEvent(event('$fine', { roomId: OTHER_ROOM }));
            await tx.enqueueOutbox(['remote.test'], '$fine', 1);
          });
          const sameRoomAfter = s.withRoomTransaction(ROOM, async (tx) => {
            const sawRefused = await tx.getEvent('$refused');
            await tx.insertEvent(event('$after'));
            return sawRefused;
          });
          release.open();
          await within(10_000, 'held transaction', held);
          await assert.rejects(within(10_000, 'failing transaction', failing), /refused/);
          await within(10_000, 'other room', other);
          assert.equal(await within(10_000, 'same room after', sameRoomAfter), null, 'the next transaction of the room does not see the rolled-back one');
          await s.read(async (r) => {
            assert.equal((await r.getEvent('$held'))?.roomId, HELD);
            assert.equal((await r.getEvent('$fine'))?.roomId, OTHER_ROOM);
            assert.equal((await r.getEvent('$after'))?.roomId, ROOM);
            assert.equal(await r.getEvent('$refused'), null);
            assert.equal(await r.getMembership(ROOM, '@a:hs.test'), null);
            assert.deepEqual(await r.countJoinedMembersByServer(ROOM), []);
          });
          const batch = await s.claimOutboxBatch({ destination: 'remote.test', limit: 10, leaseMs: 1_000, now: 10 });
          assert.deepEqual(
            batch?.items.map((i) => i.eventId),
            ['$fine'],
          );
        }),
      );

      it('acknowledges a transaction only once its writes are committed', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          // Many transactions at once, on a few rooms; each one, as soon as it
          // is acknowledged, must be visible to a read (which sees committed data only).
          const rooms = ['!c0:hs.test', '!c1:hs.test', '!c2:hs.test'];
          const outcomes = await within(
            30_000,
            'transactions',
            Promise.all(
              Array.from({ length: 30 }, (_, i) => {
                const roomId = rooms[i % rooms.length] as string;
                return s
                  .withRoomTransaction(roomId, async (tx) => {
                    await tx.insertEvent(event(`$ack${i}`, { roomId }));
                    if (i % 4 === 0) await sleep(2);
                  })
                  .then(() => s.read((r) => r.getEvent(`$ack${i}`)));
              }),
            ),
          );
          outcomes.forEach((stored, i) => assert.equal(stored?.eventId, `$ack${i}`, `transaction ${i} was acknowledged before a read could see it`));
        }),
      );

      it('serializes read-modify-write transactions on one room', TEST_TIMEOUT, () =>
        withStorage(async (s) => {
          const n = 25;
          const seen = await within(
            30_000,
            'counter transactions',
            Promise.all(
              Array.from({ length: n }, (_, i) =>
                s.withRoomTransaction(ROOM, async (tx) => {
                  const value = await readCounter(tx);
                  await sleep(i % 3); // widen the window a lost update would need
                  await writeCounter(tx, value + 1);
                  return value;
                }),
              ),
            ),
          );
          assert.deepEqual(
            [...seen].sort((x, y) => x - y),
            Array.from({ length: n }, (_, i) => i),
          );
          assert.equal(await s.withRoomTransaction(ROOM, readCounter), n);
        }),
      );

      it('serializes one room across two replicas sharing the database', TEST_TIMEOUT, async () => {
        const { storage: a, config } = await open();
        const b = await openStorage(config);
        try {
          const perReplica = 15;
          const increment = (s: Storage, i: number): Promise<void> =>
            s.withRoomTransaction(ROOM, async (tx) => {
              const value = await readCounter(tx);
              await sleep(i % 3);
              await writeCounter(tx, value + 1);
            });
          await within(
            45_000,
            'replica transactions',
            Promise.all(
              Array.from({ length: perReplica * 2 }, (_, i) => increment(i % 2 === 0 ? a : b, i)),
            ),
          );
          assert.equal(await a.withRoomTransaction(ROOM, readCounter), perReplica * 2);
        } finally {
          await a.close();
          await b.close();
        }
      });

      it('a second transaction on the room, from either replica, waits for the first', TEST_TIMEOUT, async () => {
        const { storage: a, config } = await open();
        const b = await openStorage(config);
        try {
          for (const second of [a, b]) {
            const order: string[] = [];
            const [waiting] = await whileHolding(
              a,
              ROOM,
              async () => {
                order.push('first start');
              },
              async () => {
                const started = second.withRoomTransaction(ROOM, async () => {
                  order.push('second start');
                });
                await sleep(150);
                order.push('first end');
                return [started] as const;
              },
            );
            await within(10_000, 'second transaction', waiting);
            assert.deepEqual(order, ['first start', 'first end', 'second start']);
          }
        } finally {
          await a.close();
          await b.close();
        }
      });

      /** Runs a transaction on OTHER_ROOM that writes an event and an outbox row; returns its event ID. */
      const writeOtherRoom = (s: Storage, id: string): Promise<string> =>
        s.withRoomTransaction(OTHER_ROOM, async (tx) => {
          await tx.insertEvent(event(id, { roomId: OTHER_ROOM }));
          await tx.enqueueOutbox(['remote.test'], id, 1);
          return id;
        });

      const holdBody = async (tx: RoomTx): Promise<void> => {
        await tx.getCurrentState(ROOM);
        await tx.setCurrentState([{ type: 'm.room.topic', stateKey: '', eventId: '$t' }]);
      };

      if (harness.parallelRooms) {
        it('transactions on different rooms do not wait for each other, across replicas too', TEST_TIMEOUT, async () => {
          const { storage: a, config } = await open();
          const b = await openStorage(config);
          try {
            for (const [other, id] of [
              [a, '$pa'],
              [b, '$pb'],
            ] as const) {
              await whileHolding(a, ROOM, holdBody, () =>
                within(5_000, 'a transaction on another room while the first room is held', writeOtherRoom(other, id)),
              );
              assert.equal((await a.read((r) => r.getEvent(id)))?.roomId, OTHER_ROOM);
            }
          } finally {
            await a.close();
            await b.close();
          }
        });
      } else {
        it('transactions on different rooms run one at a time (one writer per database)', TEST_TIMEOUT, () =>
          withStorage(async (s) => {
            let otherDone = false;
            const [other] = await whileHolding(s, ROOM, holdBody, async () => {
              const started = writeOtherRoom(s, '$p').then(() => {
                otherDone = true;
              });
              await sleep(150);
              assert.equal(otherDone, false, 'a second writer ran while the first held the database');
              return [started] as const;
            });
            await within(10_000, 'the other room', other);
            assert.equal((await s.read((r) => r.getEvent('$p')))?.roomId, OTHER_ROOM);
          }),
        );
      }

      it('the output stream never skips an event while rooms commit concurrently', TEST_TIMEOUT, async () => {
        const { storage: a, config } = await open();
        const b = await openStorage(config);
        try {
          const rooms = Array.from({ length: 6 }, (_, i) => `!r${i}:hs.test`);
          const perRoom = 8;
          const total = rooms.length * perRoom;
          let writersDone = false;
          const writers = Promise.all(
            rooms.map(async (room, r) => {
              for (let i = 0; i < perRoom; i++) {
                const s = (r + i) % 2 === 0 ? a : b;
                await s.withRoomTransaction(room, async (tx) => {
                  await tx.insertEvent(event(`$${r}_${i}`, { roomId: room }));
                  await sleep((r * 7 + i * 3) % 5); // commit late, in a shuffled order
                });
              }
            }),
          ).finally(() => {
            writersDone = true;
          });
          const received: string[] = [];
          let cursor = 0;
          // Bounded: stops when everything arrived, or after the writers finished and a final pass.
          for (let poll = 0; poll < 5_000 && received.length < total; poll++) {
            const finished = writersDone;
            const page = await a.read((r) => r.eventsSince(cursor, 7));
            for (const e of page) {
              assert.ok(e.position > cursor, 'positions increase');
              cursor = e.position;
              received.push(e.eventId);
            }
            if (page.length === 0) {
              if (finished) break;
              await sleep(1);
            }
          }
          await within(30_000, 'writers', writers);
          assert.equal(new Set(received).size, received.length, 'no event delivered twice');
          assert.equal(received.length, total, 'every event was read while following the stream');
        } finally {
          await a.close();
          await b.close();
        }
      });
    });
  });
}
