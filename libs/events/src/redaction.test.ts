import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JsonObject, JsonValue } from '@membrane/canonical-json';
import { redactEvent } from './redaction.js';
import { getRoomVersion, SUPPORTED_ROOM_VERSIONS } from './room-versions.js';

const versions = (from: number, to: number): string[] => SUPPORTED_ROOM_VERSIONS.filter((id) => Number(id) >= from && Number(id) <= to);
const redactIn = (id: string, event: JsonObject): JsonObject => redactEvent(event, getRoomVersion(id));

// Vectors V9 of MATRIX_FACTS.md (Synapse rust/src/events/utils.rs and tests/events/test_utils.py).
describe('redactEvent: Synapse vectors (V9)', () => {
  const memberInput: JsonObject = {
    type: 'm.room.member',
    content: {
      unknown_key: 'unknown_value',
      membership: 'join',
      join_authorised_via_users_server: 'server',
      third_party_invite: { signed: {} },
    },
  };

  it('keeps only membership of a member event in v1–v8', () => {
    for (const id of versions(1, 8)) {
      assert.deepEqual(redactIn(id, memberInput), { type: 'm.room.member', content: { membership: 'join' } }, `v${id}`);
    }
  });

  it('also keeps join_authorised_via_users_server in v9–v10', () => {
    for (const id of versions(9, 10)) {
      assert.deepEqual(
        redactIn(id, memberInput),
        { type: 'm.room.member', content: { membership: 'join', join_authorised_via_users_server: 'server' } },
        `v${id}`,
      );
    }
  });

  it('also keeps third_party_invite.signed in v11–v12', () => {
    for (const id of versions(11, 12)) {
      assert.deepEqual(
        redactIn(id, memberInput),
        {
          type: 'm.room.member',
          content: { membership: 'join', join_authorised_via_users_server: 'server', third_party_invite: { signed: {} } },
        },
        `v${id}`,
      );
    }
  });

  it('reduces a v11 third_party_invite to its signed block', () => {
    const signed = {
      mxid: '@alice:example.org',
      signatures: {
        'magic.forest': {
          'ed25519:3': 'fQpGIW1Snz+pwLZu6sTy2aHy/DYWWTspTJRPyNp0PKkymfIsNffysMl6ObMMFdIJhk6g6pwlIqZ54rxo8SLmAg',
        },
      },
      token: 'abc123',
    };
    const event = {
      type: 'm.room.member',
      content: { membership: 'invite', third_party_invite: { display_name: 'alice', signed }, other_key: 'stripped' },
    };
    assert.deepEqual(redactIn('11', event).content, { membership: 'invite', third_party_invite: { signed } });
  });

  it('keeps an empty v11 third_party_invite as {} and drops a non-object one', () => {
    const empty = { type: 'm.room.member', content: { membership: 'invite', third_party_invite: {}, other_key: 'stripped' } };
    assert.deepEqual(redactIn('11', empty).content, { membership: 'invite', third_party_invite: {} });
    const text = { type: 'm.room.member', content: { membership: 'invite', third_party_invite: 'stripped', other_key: 'stripped' } };
    assert.deepEqual(redactIn('11', text).content, { membership: 'invite' });
  });

  it('drops prev_state, membership and origin at top level from v11 only', () => {
    const event = { type: 'A', prev_state: 'prev_state', membership: 'join', origin: 'domain' };
    assert.deepEqual(redactIn('11', event), { type: 'A', content: {} });
    assert.deepEqual(redactIn('12', event), { type: 'A', content: {} });
    assert.deepEqual(redactIn('10', event), { ...event, content: {} });
  });

  it('keeps creator of a create event before v11, all content from v11, and no room_id in v12', () => {
    const create = { type: 'm.room.create', room_id: '!roomid', content: { unknown_key: 'unknown_value', other_key: 'value', creator: 'user' } };
    for (const id of versions(1, 10)) {
      assert.deepEqual(redactIn(id, create), { type: 'm.room.create', room_id: '!roomid', content: { creator: 'user' } }, `v${id}`);
    }
    assert.deepEqual(redactIn('11', create), create);
    assert.deepEqual(redactIn('12', create), { type: 'm.room.create', content: create.content });
  });

  it('keeps the room_id of non-create events in v12', () => {
    assert.deepEqual(redactIn('12', { type: 'X', room_id: '!r', content: { a: 1 } }), { type: 'X', room_id: '!r', content: {} });
  });

  it('keeps the power-level keys, adding invite from v11', () => {
    const content = {
      ban: 1,
      events: { 'm.room.name': 100 },
      events_default: 2,
      invite: 3,
      kick: 4,
      redact: 5,
      state_default: 6,
      users: { '@admin:domain': 100 },
      users_default: 7,
      other_key: 8,
    };
    const { invite: _invite, other_key: _other, ...v1Expected } = content;
    const { other_key: _other2, ...v11Expected } = content;
    for (const id of versions(1, 10)) assert.deepEqual(redactIn(id, { type: 'm.room.power_levels', content }).content, v1Expected, `v${id}`);
    for (const id of versions(11, 12)) assert.deepEqual(redactIn(id, { type: 'm.room.power_levels', content }).content, v11Expected, `v${id}`);
  });

  it('keeps join_rule, and allow from v8', () => {
    const content = { join_rule: 'invite', allow: [], other_key: 'stripped' };
    for (const id of versions(1, 7)) assert.deepEqual(redactIn(id, { type: 'm.room.join_rules', content }).content, { join_rule: 'invite' }, `v${id}`);
    for (const id of versions(8, 12)) {
      assert.deepEqual(redactIn(id, { type: 'm.room.join_rules', content }).content, { join_rule: 'invite', allow: [] }, `v${id}`);
    }
  });

  it('keeps the redacts of a redaction event in its content from v11', () => {
    const event = { type: 'm.room.redaction', content: { redacts: '$test2:domain' }, redacts: '$test2:domain' };
    assert.deepEqual(redactIn('6', event), { type: 'm.room.redaction', content: {} });
    assert.deepEqual(redactIn('11', event), { type: 'm.room.redaction', content: { redacts: '$test2:domain' } });
  });

  it('keeps aliases of m.room.aliases only in v1–v5', () => {
    const event = { type: 'm.room.aliases', content: { aliases: ['test'] } };
    for (const id of versions(1, 5)) assert.deepEqual(redactIn(id, event).content, { aliases: ['test'] }, `v${id}`);
    for (const id of versions(6, 12)) assert.deepEqual(redactIn(id, event).content, {}, `v${id}`);
  });

  it('keeps history_visibility in every version', () => {
    for (const id of SUPPORTED_ROOM_VERSIONS) {
      const event = { type: 'm.room.history_visibility', content: { history_visibility: 'shared', x: 1 } };
      assert.deepEqual(redactIn(id, event).content, { history_visibility: 'shared' }, `v${id}`);
    }
  });
});

describe('redactEvent: edge cases', () => {
  it('always yields a content object, even when the input has none or a non-object one', () => {
    assert.deepEqual(redactIn('1', { type: 'X' }), { type: 'X', content: {} });
    assert.deepEqual(redactIn('11', { type: 'm.room.member', content: 'nope' }), { type: 'm.room.member', content: {} });
  });

  it('drops unsigned and unknown top-level keys', () => {
    assert.deepEqual(redactIn('4', { type: 'X', unsigned: { age_ts: 1 }, custom: true, content: {} }), { type: 'X', content: {} });
  });

  it('does not treat Object.prototype names as event types', () => {
    assert.deepEqual(redactIn('11', { type: 'constructor', content: { a: 1 } }).content, {});
    assert.deepEqual(redactIn('11', { type: '__proto__', content: { a: 1 } }).content, {});
  });

  it('returns a result that shares no objects with the input', () => {
    const event = { type: 'm.room.create', content: { nested: { a: 1 } }, signatures: { s: { k: 'v' } } };
    const redacted = redactIn('11', event);
    (redacted['content'] as JsonObject)['nested'] = 'changed';
    ((redacted['signatures'] as JsonObject)['s'] as JsonObject)['k'] = 'changed';
    assert.deepEqual(event, { type: 'm.room.create', content: { nested: { a: 1 } }, signatures: { s: { k: 'v' } } });
  });
});

// Property tests: what each version keeps, for arbitrary events.
const TOP_V1 = ['event_id', 'type', 'room_id', 'sender', 'state_key', 'content', 'hashes', 'signatures', 'depth', 'prev_events', 'prev_state', 'auth_events', 'origin', 'origin_server_ts', 'membership'];
const TOP_V11 = TOP_V1.filter((k) => !['origin', 'membership', 'prev_state'].includes(k));
const EVENT_TYPES = ['m.room.member', 'm.room.create', 'm.room.join_rules', 'm.room.power_levels', 'm.room.history_visibility', 'm.room.aliases', 'm.room.redaction', 'm.room.message', 'X'];
const CONTENT_KEYS = ['membership', 'join_authorised_via_users_server', 'third_party_invite', 'creator', 'join_rule', 'allow', 'ban', 'invite', 'users', 'history_visibility', 'aliases', 'redacts', 'body', 'other'];

/** The spec's table (MATRIX_FACTS.md §4), restated independently of the implementation. */
function protectedContentKeys(version: number, type: string): readonly string[] | 'all' {
  const powerLevels = ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'];
  switch (type) {
    case 'm.room.member':
      return version >= 11 ? ['membership', 'join_authorised_via_users_server', 'third_party_invite'] : version >= 9 ? ['membership', 'join_authorised_via_users_server'] : ['membership'];
    case 'm.room.create':
      return version >= 11 ? 'all' : ['creator'];
    case 'm.room.join_rules':
      return version >= 8 ? ['join_rule', 'allow'] : ['join_rule'];
    case 'm.room.power_levels':
      return version >= 11 ? [...powerLevels, 'invite'] : powerLevels;
    case 'm.room.history_visibility':
      return ['history_visibility'];
    case 'm.room.aliases':
      return version <= 5 ? ['aliases'] : [];
    case 'm.room.redaction':
      return version >= 11 ? ['redacts'] : [];
    default:
      return [];
  }
}

const jsonLeaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
const jsonValue: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonLeaf,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 3, noNullPrototype: true }),
  ),
})).value;

const arbitraryEvent: fc.Arbitrary<JsonObject> = fc
  .record({
    type: fc.constantFrom(...EVENT_TYPES),
    content: fc.oneof(fc.dictionary(fc.constantFrom(...CONTENT_KEYS), jsonValue, { maxKeys: 6, noNullPrototype: true }), jsonLeaf),
    top: fc.dictionary(fc.constantFrom(...TOP_V1, 'unsigned', 'age_ts', 'custom'), jsonValue, { maxKeys: 8, noNullPrototype: true }),
  })
  .map(({ type, content, top }) => ({ ...top, type, content }));

const arbitraryVersion = fc.constantFrom(...SUPPORTED_ROOM_VERSIONS).map(getRoomVersion);

describe('redactEvent: properties', () => {
  it('is idempotent', () => {
    fc.assert(fc.property(arbitraryEvent, arbitraryVersion, (event, version) => {
      const once = redactEvent(event, version);
      assert.deepEqual(redactEvent(once, version), once);
    }));
  });

  it('keeps exactly the top-level keys its version protects, plus content', () => {
    fc.assert(fc.property(arbitraryEvent, arbitraryVersion, (event, version) => {
      const protectedKeys = version.redaction === 'v11' ? TOP_V11 : TOP_V1;
      let expected = Object.keys(event).filter((k) => protectedKeys.includes(k));
      if (version.roomIdFromCreateEvent && event['type'] === 'm.room.create') expected = expected.filter((k) => k !== 'room_id');
      if (!expected.includes('content')) expected.push('content');
      assert.deepEqual(Object.keys(redactEvent(event, version)).sort(), expected.sort());
    }));
  });

  it('copies protected top-level values unchanged', () => {
    fc.assert(fc.property(arbitraryEvent, arbitraryVersion, (event, version) => {
      const redacted = redactEvent(event, version);
      for (const key of Object.keys(redacted)) if (key !== 'content') assert.deepEqual(redacted[key], event[key]);
    }));
  });

  it('never adds content keys, and keeps kept values unchanged (except v11 third_party_invite)', () => {
    fc.assert(fc.property(arbitraryEvent, arbitraryVersion, (event, version) => {
      const content = redactEvent(event, version)['content'] as JsonObject;
      const original = typeof event['content'] === 'object' && event['content'] !== null && !Array.isArray(event['content']) ? event['content'] : {};
      for (const key of Object.keys(content)) {
        assert.ok(Object.hasOwn(original, key), `added ${key}`);
        if (key !== 'third_party_invite') assert.deepEqual(content[key], original[key]);
      }
    }));
  });

  it('does not mutate its input', () => {
    fc.assert(fc.property(arbitraryEvent, arbitraryVersion, (event, version) => {
      const before = structuredClone(event);
      redactEvent(event, version);
      assert.deepEqual(event, before);
    }));
  });

  it('keeps exactly the content keys its version protects for the event type', () => {
    fc.assert(fc.property(arbitraryEvent, arbitraryVersion, (event, version) => {
      const raw = event['content'];
      const original: JsonObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {};
      const originalKeys = Object.keys(original);
      const allowed = protectedContentKeys(Number(version.id), String(event['type']));
      const expected = allowed === 'all' ? originalKeys : originalKeys.filter((k) => allowed.includes(k));
      const content = redactEvent(event, version)['content'] as JsonObject;
      // A member event's v11 third_party_invite that is not an object is dropped
      // (other types that keep all content, such as a v11 create, keep it as is).
      const tpi = original['third_party_invite'];
      const isMember = event['type'] === 'm.room.member';
      const dropped = isMember && tpi !== undefined && (typeof tpi !== 'object' || tpi === null || Array.isArray(tpi)) ? ['third_party_invite'] : [];
      assert.deepEqual(Object.keys(content).sort(), expected.filter((k) => !dropped.includes(k)).sort());
    }));
  });

  it('keeps every content key of an unknown event type out', () => {
    fc.assert(fc.property(arbitraryEvent, arbitraryVersion, (event, version) => {
      assert.deepEqual(redactEvent({ ...event, type: 'm.room.message' }, version)['content'], {});
    }));
  });
});
