import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@membrane/canonical-json';
import { encodeUnpaddedBase64 } from '@membrane/signing';
import {
  buildMembershipTemplate,
  buildPdu,
  checkMembershipTemplate,
  depthAfter,
  generateLegacyEventId,
  PduBuildError,
  signMembershipTemplate,
} from './builder.js';
import type { BuiltPdu, CitedEvent, PrevEvent } from './builder.js';
import { computeEventId, roomIdFromCreateEventId } from './event-id.js';
import { verifyEventSignatures } from './event-signing.js';
import { checkContentHash, computeReferenceHash } from './hashes.js';
import { getRoomVersion, SUPPORTED_ROOM_VERSIONS } from './room-versions.js';
import type { RoomVersion } from './room-versions.js';
import type { Pdu } from './types.js';
import { validatePdu } from './validation.js';
import { DERIVED_EVENT_VECTORS, SPEC_SERVER, specKey } from './test-support/vectors.js';

const v = getRoomVersion;
const signer = { serverName: SPEC_SERVER, key: specKey };
const lookup = (server: string, keyId: string): Uint8Array | undefined =>
  server === SPEC_SERVER && keyId === specKey.keyId ? specKey.publicKey : undefined;

/** How another event cites a built one in `version`. */
function cite(built: BuiltPdu, version: RoomVersion): PrevEvent {
  return {
    eventId: built.eventId,
    depth: built.event.depth,
    ...(version.eventFormat === 'v1' ? { referenceHash: encodeUnpaddedBase64(computeReferenceHash(built.event, version)) } : {}),
  };
}

function buildCreate(version: RoomVersion): { create: BuiltPdu; roomId: string } {
  const create = buildPdu(
    {
      version,
      proto: {
        type: 'm.room.create',
        sender: '@a:domain',
        state_key: '',
        content: { room_version: version.id, ...(version.creatorIsCreateSender ? {} : { creator: '@a:domain' }) },
        ...(version.roomIdFromCreateEvent ? {} : { room_id: '!room:domain' }),
      },
      prevEvents: [],
      authEvents: [],
      originServerTs: 1_000_000,
    },
    signer,
  );
  return { create, roomId: version.roomIdFromCreateEvent ? roomIdFromCreateEventId(create.eventId) : '!room:domain' };
}

function assertSound(built: BuiltPdu, version: RoomVersion): void {
  const validation = validatePdu(built.event, version);
  assert.equal(validation.ok, true, `v${version.id}: ${JSON.stringify(validation)}`);
  assert.equal(verifyEventSignatures(built.event, version, lookup).ok, true, `v${version.id}: signatures`);
  assert.equal(checkContentHash(built.event), true, `v${version.id}: content hash`);
  assert.equal(computeEventId(built.event, version), built.eventId, `v${version.id}: event ID`);
  // The same after a trip through the wire format.
  const wire = JSON.parse(JSON.stringify(built.event)) as Pdu;
  assert.equal(validatePdu(wire, version).ok, true);
  assert.equal(computeEventId(wire, version), built.eventId);
}

describe('buildPdu: round trip in every room version', () => {
  for (const id of SUPPORTED_ROOM_VERSIONS) {
    it(`v${id}: create and leave build, validate, verify and keep their IDs`, () => {
      const version = v(id);
      const { create, roomId } = buildCreate(version);
      assertSound(create, version);
      assert.equal(create.event.depth, 1);
      assert.equal('room_id' in create.event, !version.roomIdFromCreateEvent);

      const authEvents: CitedEvent[] = version.createEventInAuthEvents ? [cite(create, version)] : [];
      const leave = buildPdu(
        {
          version,
          proto: { type: 'm.room.member', sender: '@a:domain', state_key: '@a:domain', room_id: roomId, content: { membership: 'leave', reason: 'bye' } },
          prevEvents: [cite(create, version)],
          authEvents,
          originServerTs: 1_000_002,
        },
        signer,
      );
      assertSound(leave, version);
      assert.equal(leave.event.depth, 2);
      assert.equal(leave.event.room_id, roomId);
      assert.deepEqual(leave.event.content, { membership: 'leave', reason: 'bye' });

      if (version.eventFormat === 'v1') {
        assert.match(leave.eventId, /^\$[A-Za-z0-9]{18}:domain$/);
        assert.equal(leave.event.event_id, leave.eventId);
        assert.deepEqual(leave.event.prev_events, [[create.eventId, { sha256: cite(create, version).referenceHash }]]);
      } else {
        assert.equal(leave.event.event_id, undefined);
        assert.deepEqual(leave.event.prev_events, [create.eventId]);
        assert.deepEqual(leave.event.auth_events, authEvents.map((e) => e.eventId));
      }
    });
  }

  it('reproduces the derived v12 vectors', () => {
    const [createVector, leaveVector] = DERIVED_EVENT_VECTORS as [(typeof DERIVED_EVENT_VECTORS)[0], (typeof DERIVED_EVENT_VECTORS)[0]];
    const create = buildPdu(
      { version: v('12'), proto: { type: 'm.room.create', sender: '@a:domain', state_key: '', content: { room_version: '12' } }, prevEvents: [], authEvents: [], originServerTs: 1000000 },
      signer,
    );
    assert.deepEqual(create.event, createVector.signedEvent);
    const leave = buildPdu(
      {
        version: v('12'),
        proto: { type: 'm.room.member', sender: '@a:domain', state_key: '@a:domain', room_id: roomIdFromCreateEventId(create.eventId), content: { membership: 'leave', reason: 'bye' } },
        prevEvents: [{ eventId: create.eventId, depth: 1 }],
        authEvents: [],
        depth: 3, // the vector's depth, as if an event sat between
        originServerTs: 1000002,
      },
      signer,
    );
    assert.deepEqual(leave.event, leaveVector.signedEvent);
    assert.equal(leave.eventId, leaveVector.eventIds['12']);
  });
});

describe('buildPdu: format details', () => {
  const proto = { type: 'm.room.redaction', sender: '@a:domain', room_id: '!room:domain', content: { reason: 'spam' }, redacts: '$target' };

  it('puts redacts at top level before v11 and in the content from v11', () => {
    const v10 = buildPdu({ version: v('10'), proto, prevEvents: [], authEvents: [], originServerTs: 1 }, signer).event;
    assert.equal(v10.redacts, '$target');
    assert.deepEqual(v10.content, { reason: 'spam' });
    const v11 = buildPdu({ version: v('11'), proto, prevEvents: [], authEvents: [], originServerTs: 1 }, signer).event;
    assert.equal(v11.redacts, undefined);
    assert.deepEqual(v11.content, { reason: 'spam', redacts: '$target' });
  });

  it('uses a given legacy event ID in v1/v2', () => {
    const built = buildPdu({ version: v('2'), proto: { ...proto, type: 'X' }, prevEvents: [], authEvents: [], originServerTs: 1, legacyEventId: '$fixed:domain' }, signer);
    assert.equal(built.eventId, '$fixed:domain');
  });

  it('does not share objects with its input', () => {
    const content = { nested: { a: 1 } };
    const built = buildPdu({ version: v('11'), proto: { ...proto, type: 'X', content }, prevEvents: [], authEvents: [], originServerTs: 1 }, signer);
    (built.event.content['nested'] as JsonObject)['a'] = 2;
    assert.deepEqual(content, { nested: { a: 1 } });
  });

  it('refuses what the format cannot carry', () => {
    const base = { prevEvents: [], authEvents: [], originServerTs: 1 };
    assert.throws(() => buildPdu({ ...base, version: v('12'), proto: { type: 'm.room.create', sender: '@a:domain', room_id: '!x:y', content: {} } }, signer), PduBuildError);
    assert.throws(() => buildPdu({ ...base, version: v('11'), proto: { type: 'X', sender: '@a:domain', content: {} } }, signer), PduBuildError);
    assert.throws(() => buildPdu({ ...base, version: v('1'), proto, authEvents: [{ eventId: '$c:domain' }] }, signer), PduBuildError);
    const many = Array.from({ length: 21 }, (_, i) => ({ eventId: `$${i}`, depth: 1 }));
    assert.throws(() => buildPdu({ ...base, version: v('11'), proto, prevEvents: many }, signer), PduBuildError);
    assert.throws(() => buildPdu({ ...base, version: v('11'), proto, authEvents: many.slice(0, 11) }, signer), PduBuildError);
  });
});

describe('depthAfter', () => {
  it('is one more than the deepest prev event, 1 without any, capped at the version limit', () => {
    assert.equal(depthAfter([], v('11')), 1);
    assert.equal(depthAfter([{ depth: 3 }, { depth: 7 }, { depth: 5 }], v('11')), 8);
    assert.equal(depthAfter([{ depth: v('11').maxDepth }], v('11')), v('11').maxDepth);
    assert.equal(depthAfter([{ depth: v('1').maxDepth - 1 }], v('1')), v('1').maxDepth);
  });
});

describe('generateLegacyEventId', () => {
  it('makes distinct $opaque:server IDs', () => {
    const ids = new Set(Array.from({ length: 100 }, () => generateLegacyEventId('example.org:8448')));
    assert.equal(ids.size, 100);
    for (const id of ids) assert.match(id, /^\$[A-Za-z0-9]{18}:example\.org:8448$/);
  });
});

describe('membership templates (make_join / make_leave)', () => {
  const prevEvents: PrevEvent[] = [{ eventId: '$prev', depth: 9, referenceHash: 'cHJldg' }];
  const authEvents: CitedEvent[] = [{ eventId: '$pl', referenceHash: 'cGw' }, { eventId: '$member', referenceHash: 'bWVtYmVy' }];

  it('has the spec leave shape with DAG fields in the version format, and nothing signed', () => {
    const template = buildMembershipTemplate({ version: v('11'), roomId: '!r:hs', userId: '@u:remote', membership: 'leave', prevEvents, authEvents, originServerTs: 1549041175876 });
    assert.deepEqual(template, {
      type: 'm.room.member',
      room_id: '!r:hs',
      sender: '@u:remote',
      state_key: '@u:remote',
      content: { membership: 'leave' },
      depth: 10,
      prev_events: ['$prev'],
      auth_events: ['$pl', '$member'],
      origin_server_ts: 1549041175876,
    });
    const v1 = buildMembershipTemplate({ version: v('1'), roomId: '!r:hs', userId: '@u:remote', membership: 'join', prevEvents, authEvents, originServerTs: 1 });
    assert.deepEqual(v1['prev_events'], [['$prev', { sha256: 'cHJldg' }]]);
    assert.equal(v1['event_id'], undefined);
    assert.equal(v1['hashes'], undefined);
    assert.equal(v1['signatures'], undefined);
  });

  it('keeps extra content but never lets it override the membership', () => {
    const template = buildMembershipTemplate({
      version: v('9'), roomId: '!r:hs', userId: '@u:remote', membership: 'join',
      content: { membership: 'ban', join_authorised_via_users_server: '@admin:hs' },
      prevEvents, authEvents, originServerTs: 1,
    });
    assert.deepEqual(template['content'], { membership: 'join', join_authorised_via_users_server: '@admin:hs' });
  });

  it('is checked against the room, user and membership asked for', () => {
    const template = buildMembershipTemplate({ version: v('11'), roomId: '!r:hs', userId: '@u:remote', membership: 'leave', prevEvents, authEvents, originServerTs: 1 });
    const expected = { roomId: '!r:hs', userId: '@u:remote', membership: 'leave' } as const;
    assert.equal(checkMembershipTemplate(template, expected), undefined);
    assert.match(checkMembershipTemplate({ ...template, room_id: '!other:hs' }, expected) ?? '', /room_id/);
    assert.match(checkMembershipTemplate({ ...template, sender: '@x:remote' }, expected) ?? '', /sender/);
    assert.match(checkMembershipTemplate({ ...template, state_key: '@x:remote' }, expected) ?? '', /state_key/);
    assert.match(checkMembershipTemplate({ ...template, type: 'm.room.message' }, expected) ?? '', /type/);
    assert.match(checkMembershipTemplate({ ...template, content: { membership: 'join' } }, expected) ?? '', /membership/);
    assert.match(checkMembershipTemplate([], expected) ?? '', /object/);
  });

  for (const id of ['1', '3', '11', '12']) {
    it(`v${id}: a template signed by the joining/leaving server is a sound PDU`, () => {
      const version = v(id);
      const roomId = version.roomIdFromCreateEvent ? '!P5-6WTYQ_woy6f4nmleE0XqxjtZcyKGza5_gDN-KAdM' : '!r:hs';
      const template = buildMembershipTemplate({ version, roomId, userId: '@a:domain', membership: 'leave', prevEvents, authEvents, originServerTs: 5 });
      const claimed = { ...template, event_id: '$theirs:hs', hashes: { sha256: 'x' }, signatures: { hs: { 'ed25519:k': 'y' } } };
      const signed = signMembershipTemplate(claimed, { version, content: { reason: 'bye', membership: 'join' }, originServerTs: 99 }, signer);
      assertSound(signed, version);
      assert.deepEqual(signed.event.content, { membership: 'leave', reason: 'bye' });
      assert.equal(signed.event.origin_server_ts, 5);
      assert.deepEqual(Object.keys(signed.event.signatures ?? {}), [SPEC_SERVER]);
      if (version.eventFormat === 'v1') assert.match(signed.eventId, /:domain$/);
    });
  }
});
