import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCanonicalJsonBytes } from '@membrane/canonical-json';
import type { JsonObject, JsonValue } from '@membrane/canonical-json';
import { MAX_PDU_BYTES } from './limits.js';
import { getRoomVersion, SUPPORTED_ROOM_VERSIONS } from './room-versions.js';
import type { RoomVersion } from './room-versions.js';
import { validatePdu } from './validation.js';
import type { PduValidationResult } from './validation.js';

const v = getRoomVersion;
const V12_ROOM = '!P5-6WTYQ_woy6f4nmleE0XqxjtZcyKGza5_gDN-KAdM';

/** A well-formed leave in `version`'s format (signatures are not checked here). */
function leaveFor(version: RoomVersion): JsonObject {
  const legacy = version.eventFormat === 'v1';
  return {
    type: 'm.room.member',
    room_id: version.roomIdFromCreateEvent ? V12_ROOM : '!room:domain',
    sender: '@a:domain',
    state_key: '@a:domain',
    content: { membership: 'leave' },
    depth: 3,
    origin_server_ts: 1000002,
    prev_events: legacy ? [['$p:domain', { sha256: 'aGFzaA' }]] : ['$p'],
    auth_events: legacy ? [['$c:domain', { sha256: 'aGFzaA' }]] : ['$c'],
    hashes: { sha256: 'aGFzaA' },
    signatures: { domain: { 'ed25519:1': 'c2ln' } },
    ...(legacy ? { event_id: '$leave:domain' } : {}),
  };
}

function without(event: JsonObject, key: string): JsonObject {
  const { [key]: _dropped, ...rest } = event;
  return rest;
}

function assertRejected(result: PduValidationResult, errcode: string, field?: string, label = ''): void {
  assert.equal(result.ok, false, `${label} should be rejected`);
  if (result.ok) return;
  assert.equal(result.errcode, errcode, `${label}: ${result.error}`);
  assert.equal(result.status, errcode === 'M_TOO_LARGE' ? 413 : 400);
  if (field !== undefined) assert.equal(result.field, field, `${label}: ${result.error}`);
  assert.ok(result.error.length > 0);
}

describe('validatePdu: well-formed PDUs', () => {
  it('accepts a leave in every room version and returns it', () => {
    for (const id of SUPPORTED_ROOM_VERSIONS) {
      const event = leaveFor(v(id));
      const result = validatePdu(event, v(id));
      assert.equal(result.ok, true, `v${id}: ${JSON.stringify(result)}`);
      assert.equal(result.ok && result.event, event);
      assert.deepEqual(result.ok && result.overByteLimit, []);
    }
  });

  it('accepts unknown top-level keys, and an ignored event_id from v3', () => {
    assert.equal(validatePdu({ ...leaveFor(v('11')), origin: 'domain', 'org.example.custom': [1, { a: null }] }, v('11')).ok, true);
    assert.equal(validatePdu({ ...leaveFor(v('4')), event_id: 5 }, v('4')).ok, true);
  });

  it('accepts a PDU without hashes or signatures (those fail later checks, not the format)', () => {
    assert.equal(validatePdu(without(leaveFor(v('11')), 'hashes'), v('11')).ok, true);
    assert.equal(validatePdu(without(leaveFor(v('11')), 'signatures'), v('11')).ok, true);
    assert.equal(validatePdu({ ...leaveFor(v('1')), hashes: {} }, v('1')).ok, true);
  });

  it('accepts a v12 create without room_id, and exactly 20 prev_events and 10 auth_events', () => {
    const create = { ...without(leaveFor(v('12')), 'room_id'), type: 'm.room.create', state_key: '', content: { room_version: '12' } };
    assert.equal(validatePdu(create, v('12')).ok, true);
    const full = { ...leaveFor(v('11')), prev_events: Array.from({ length: 20 }, (_, i) => `$p${i}`), auth_events: Array.from({ length: 10 }, (_, i) => `$a${i}`) };
    assert.equal(validatePdu(full, v('11')).ok, true);
  });

  it('accepts depth 0 and the version maximum', () => {
    assert.equal(validatePdu({ ...leaveFor(v('11')), depth: 0 }, v('11')).ok, true);
    assert.equal(validatePdu({ ...leaveFor(v('11')), depth: Number.MAX_SAFE_INTEGER }, v('11')).ok, true);
  });
});

describe('validatePdu: malformed PDUs are M_BAD_JSON', () => {
  it('refuses anything but an object', () => {
    for (const json of [null, [], 'x', 1, true, undefined]) assertRejected(validatePdu(json, v('11')), 'M_BAD_JSON', undefined, String(json));
  });

  it('refuses each missing required field', () => {
    for (const id of ['1', '3', '11', '12']) {
      const fields = ['type', 'room_id', 'sender', 'content', 'depth', 'origin_server_ts', 'prev_events', 'auth_events', ...(id === '1' ? ['event_id'] : [])];
      for (const field of fields) assertRejected(validatePdu(without(leaveFor(v(id)), field), v(id)), 'M_BAD_JSON', field, `v${id} without ${field}`);
    }
  });

  it('refuses fields of the wrong type', () => {
    const cases: [string, JsonValue][] = [
      ['type', 5],
      ['room_id', ['!room:domain']],
      ['sender', null],
      ['state_key', 0],
      ['content', []],
      ['content', 'leave'],
      ['depth', '3'],
      ['depth', 1.5],
      ['origin_server_ts', '1000002'],
      ['prev_events', '$p'],
      ['auth_events', {}],
      ['hashes', 'aGFzaA'],
      ['hashes', { sha256: 5 }],
      ['signatures', { domain: 'sig' }],
      ['signatures', { domain: { 'ed25519:1': 5 } }],
      ['unsigned', []],
    ];
    for (const [field, value] of cases) assertRejected(validatePdu({ ...leaveFor(v('11')), [field]: value }, v('11')), 'M_BAD_JSON', field, `${field}=${JSON.stringify(value)}`);
    assertRejected(validatePdu({ ...leaveFor(v('10')), redacts: 5 }, v('10')), 'M_BAD_JSON', 'redacts');
    assert.equal(validatePdu({ ...leaveFor(v('11')), redacts: 5 }, v('11')).ok, true, 'top-level redacts is an unknown key from v11');
  });

  it('refuses a depth outside [0, maxDepth]', () => {
    assertRejected(validatePdu({ ...leaveFor(v('11')), depth: -1 }, v('11')), 'M_BAD_JSON', 'depth');
    assertRejected(validatePdu({ ...leaveFor(v('3')), depth: 2 ** 53 }, v('3')), 'M_BAD_JSON', 'depth');
  });

  it('refuses a sender that is not a user ID on a valid server name', () => {
    for (const sender of ['a:domain', '@a', '@:domain', '@a:bad_name', '@a:domain:99999999', '!a:domain']) {
      assertRejected(validatePdu({ ...leaveFor(v('11')), sender }, v('11')), 'M_BAD_JSON', 'sender', sender);
    }
    assert.equal(validatePdu({ ...leaveFor(v('11')), sender: '@a:[::1]:8448' }, v('11')).ok, true);
  });

  it('refuses room IDs of the wrong form for the version', () => {
    assertRejected(validatePdu({ ...leaveFor(v('11')), room_id: 'room:domain' }, v('11')), 'M_BAD_JSON', 'room_id');
    assertRejected(validatePdu({ ...leaveFor(v('11')), room_id: '!nodomain' }, v('11')), 'M_BAD_JSON', 'room_id');
    assertRejected(validatePdu({ ...leaveFor(v('12')), room_id: '!room:domain' }, v('12')), 'M_BAD_JSON', 'room_id');
    assertRejected(validatePdu({ ...leaveFor(v('12')), room_id: `${V12_ROOM}A` }, v('12')), 'M_BAD_JSON', 'room_id');
    assertRejected(validatePdu({ ...leaveFor(v('12')), room_id: V12_ROOM.replace('-', '+') }, v('12')), 'M_BAD_JSON', 'room_id');
    const createWithRoomId = { ...leaveFor(v('12')), type: 'm.room.create', state_key: '', content: {} };
    assertRejected(validatePdu(createWithRoomId, v('12')), 'M_BAD_JSON', 'room_id');
  });

  it('refuses a v1/v2 event_id without a server name', () => {
    assertRejected(validatePdu({ ...leaveFor(v('2')), event_id: '$opaque' }, v('2')), 'M_BAD_JSON', 'event_id');
    assertRejected(validatePdu({ ...leaveFor(v('2')), event_id: 'leave:domain' }, v('2')), 'M_BAD_JSON', 'event_id');
  });

  it('refuses event references in the other format', () => {
    assertRejected(validatePdu({ ...leaveFor(v('1')), prev_events: ['$p:domain'] }, v('1')), 'M_BAD_JSON', 'prev_events');
    assertRejected(validatePdu({ ...leaveFor(v('1')), auth_events: [['$c:domain']] }, v('1')), 'M_BAD_JSON', 'auth_events');
    assertRejected(validatePdu({ ...leaveFor(v('1')), auth_events: [['c:domain', {}]] }, v('1')), 'M_BAD_JSON', 'auth_events');
    assertRejected(validatePdu({ ...leaveFor(v('4')), prev_events: [['$p', { sha256: 'x' }]] }, v('4')), 'M_BAD_JSON', 'prev_events');
    assertRejected(validatePdu({ ...leaveFor(v('4')), auth_events: ['c'] }, v('4')), 'M_BAD_JSON', 'auth_events');
  });

  it('refuses more than 20 prev_events or 10 auth_events', () => {
    assertRejected(validatePdu({ ...leaveFor(v('11')), prev_events: Array.from({ length: 21 }, (_, i) => `$p${i}`) }, v('11')), 'M_BAD_JSON', 'prev_events');
    assertRejected(validatePdu({ ...leaveFor(v('11')), auth_events: Array.from({ length: 11 }, (_, i) => `$a${i}`) }, v('11')), 'M_BAD_JSON', 'auth_events');
  });

  it('refuses lone surrogates anywhere, in every version', () => {
    for (const id of ['1', '11']) {
      assertRejected(validatePdu({ ...leaveFor(v(id)), content: { membership: 'leave', reason: 'x\ud800' } }, v(id)), 'M_BAD_JSON', 'content');
      assertRejected(validatePdu({ ...leaveFor(v(id)), unknown: { '\udc00': 1 } }, v(id)), 'M_BAD_JSON', 'unknown');
    }
  });
});

describe('validatePdu: canonical JSON from v6 (over the whole event, unknown keys included)', () => {
  const nonCanonical: [string, JsonValue][] = [
    ['float', 1.5],
    ['too big', 2 ** 53],
    ['too small', -(2 ** 53)],
    ['nested float', { deep: [1, { x: 0.1 }] }],
  ];

  it('refuses floats and out-of-range integers in v6 and later', () => {
    for (const id of SUPPORTED_ROOM_VERSIONS.filter((x) => Number(x) >= 6)) {
      for (const [label, value] of nonCanonical) {
        assertRejected(validatePdu({ ...leaveFor(v(id)), content: { membership: 'leave', value } }, v(id)), 'M_BAD_JSON', 'content', `v${id} ${label}`);
        assertRejected(validatePdu({ ...leaveFor(v(id)), custom: value }, v(id)), 'M_BAD_JSON', 'custom', `v${id} ${label} at top level`);
      }
      assertRejected(validatePdu({ ...leaveFor(v(id)), origin_server_ts: 2 ** 53 }, v(id)), 'M_BAD_JSON', 'origin_server_ts');
    }
  });

  it('accepts the boundaries ±(2^53-1) and -0', () => {
    const event = { ...leaveFor(v('11')), content: { membership: 'leave', max: 2 ** 53 - 1, min: -(2 ** 53 - 1), zero: -0 } };
    assert.equal(validatePdu(event, v('11')).ok, true);
  });

  it('refuses them in v1–v5 too, where they cannot be hashed reproducibly (a documented limitation)', () => {
    for (const id of ['1', '3', '5']) {
      for (const [label, value] of nonCanonical) {
        const result = validatePdu({ ...leaveFor(v(id)), content: { membership: 'leave', value } }, v(id));
        assertRejected(result, 'M_BAD_JSON', 'content', `v${id} ${label}`);
        assert.match(!result.ok ? result.error : '', /cannot be hashed reproducibly/);
      }
    }
  });
});

describe('validatePdu: size limits', () => {
  /** The leave padded through content.reason to exactly `size` bytes of canonical JSON. */
  function leaveOfSize(version: RoomVersion, size: number): JsonObject {
    const base = { ...leaveFor(version), content: { membership: 'leave', reason: '' } };
    const padding = size - encodeCanonicalJsonBytes(base).length;
    const event = { ...base, content: { membership: 'leave', reason: 'x'.repeat(padding) } };
    assert.equal(encodeCanonicalJsonBytes(event).length, size);
    return event;
  }

  it('accepts a PDU of exactly 65,536 bytes and refuses 65,537 with 413 M_TOO_LARGE', () => {
    for (const id of ['1', '11', '12']) {
      assert.equal(validatePdu(leaveOfSize(v(id), MAX_PDU_BYTES), v(id)).ok, true, `v${id}`);
      assertRejected(validatePdu(leaveOfSize(v(id), MAX_PDU_BYTES + 1), v(id)), 'M_TOO_LARGE', undefined, `v${id}`);
    }
  });

  it('counts signatures and unsigned in the PDU size', () => {
    const event = leaveOfSize(v('11'), MAX_PDU_BYTES);
    assertRejected(validatePdu({ ...event, unsigned: { a: 1 } }, v('11')), 'M_TOO_LARGE');
  });

  /** Identifier values of exactly `length` ASCII bytes, valid for their field. */
  const identifierOfLength: Record<string, (length: number) => string> = {
    type: (n) => 't'.repeat(n),
    state_key: (n) => 's'.repeat(n),
    sender: (n) => `@${'a'.repeat(n - 8)}:domain`,
    room_id: (n) => `!${'r'.repeat(n - 8)}:domain`,
    event_id: (n) => `$${'e'.repeat(n - 8)}:domain`,
  };

  it('accepts identifiers of 255 bytes and refuses 256 with M_TOO_LARGE', () => {
    for (const [field, make] of Object.entries(identifierOfLength)) {
      const version = field === 'event_id' ? v('1') : v('11');
      assert.equal(validatePdu({ ...leaveFor(version), [field]: make(255) }, version).ok, true, `${field} 255`);
      assertRejected(validatePdu({ ...leaveFor(version), [field]: make(256) }, version), 'M_TOO_LARGE', field, `${field} 256`);
    }
  });

  it('counts bytes from v11 and code points before (Synapse), reporting the byte overrun', () => {
    const twoByte = 'é'.repeat(128); // 128 code points, 256 bytes
    const v10 = validatePdu({ ...leaveFor(v('10')), type: twoByte }, v('10'));
    assert.equal(v10.ok, true);
    assert.deepEqual(v10.ok && v10.overByteLimit, ['type']);
    assertRejected(validatePdu({ ...leaveFor(v('11')), type: twoByte }, v('11')), 'M_TOO_LARGE', 'type');

    const astral = '😀'.repeat(64); // 64 code points, 128 UTF-16 units, 256 bytes
    const stateKey = validatePdu({ ...leaveFor(v('10')), state_key: astral }, v('10'));
    assert.deepEqual(stateKey.ok && stateKey.overByteLimit, ['state_key']);
    assertRejected(validatePdu({ ...leaveFor(v('12')), state_key: astral }, v('12')), 'M_TOO_LARGE', 'state_key');

    const longCodePoints = 'é'.repeat(256);
    assertRejected(validatePdu({ ...leaveFor(v('10')), type: longCodePoints }, v('10')), 'M_TOO_LARGE', 'type');
    assert.equal(validatePdu({ ...leaveFor(v('11')), type: 'é'.repeat(127) + 'x' }, v('11')).ok, true, '255 bytes');
  });
});
