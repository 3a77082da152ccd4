import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCanonicalJson } from '@membrane/canonical-json';
import type { JsonObject } from '@membrane/canonical-json';
import { encodeUnpaddedBase64Url } from '@membrane/signing';
import { computeEventId, createEventIdFromRoomId, EventIdError, roomIdFromCreateEventId } from './event-id.js';
import { checkContentHash, computeContentHash, computeReferenceHash, sha256 } from './hashes.js';
import { redactEvent } from './redaction.js';
import { getRoomVersion, SUPPORTED_ROOM_VERSIONS } from './room-versions.js';
import { DERIVED_EVENT_VECTORS, EVENT_SIGNING_VECTORS, SPEC_EVENT_1_DERIVED, SYNAPSE_EVENT, SYNAPSE_EVENT_IDS } from './test-support/vectors.js';

const v = getRoomVersion;

describe('computeContentHash', () => {
  for (const vector of EVENT_SIGNING_VECTORS) {
    it(`matches the published hash: ${vector.name}`, () => {
      assert.equal(computeContentHash(vector.input), vector.contentHash);
    });
  }

  it('matches the hash Synapse put on a real event (V7)', () => {
    assert.equal(computeContentHash(SYNAPSE_EVENT), (SYNAPSE_EVENT['hashes'] as JsonObject)['sha256']);
  });

  it('ignores unsigned, signatures and hashes but covers every other key', () => {
    const base = EVENT_SIGNING_VECTORS[0]!.input;
    const hash = computeContentHash(base);
    assert.equal(computeContentHash({ ...base, unsigned: { x: 1 }, signatures: { a: { b: 'c' } }, hashes: { sha256: 'x' } }), hash);
    assert.notEqual(computeContentHash({ ...base, extra: 1 }), hash);
    assert.notEqual(computeContentHash({ ...base, content: { body: 'changed' } }), hash);
  });
});

describe('checkContentHash', () => {
  it('is true for matching hashes, padded or not', () => {
    assert.equal(checkContentHash(SYNAPSE_EVENT), true);
    const padded = { ...SYNAPSE_EVENT, hashes: { sha256: `${(SYNAPSE_EVENT['hashes'] as JsonObject)['sha256'] as string}=` } };
    assert.equal(checkContentHash(padded), true);
  });

  it('is false for a changed content, a missing hash or malformed hashes', () => {
    assert.equal(checkContentHash({ ...SYNAPSE_EVENT, content: { body: 'tampered' } }), false);
    const { hashes: _hashes, ...withoutHashes } = SYNAPSE_EVENT;
    assert.equal(checkContentHash(withoutHashes), false);
    assert.equal(checkContentHash({ ...SYNAPSE_EVENT, hashes: 'x' }), false);
    assert.equal(checkContentHash({ ...SYNAPSE_EVENT, hashes: { sha256: 5 } }), false);
    assert.equal(checkContentHash({ ...SYNAPSE_EVENT, content: { float: 1.5 } }), false, 'no canonical form');
  });
});

describe('computeReferenceHash and computeEventId (V7: a Synapse event)', () => {
  it('hashes the redacted event without signatures and unsigned', () => {
    const redacted = redactEvent(SYNAPSE_EVENT, v('10'));
    const { signatures: _s, ...covered } = redacted;
    assert.equal(encodeCanonicalJson(covered), SYNAPSE_EVENT_IDS.redactedCanonicalBytes);
    assert.deepEqual(computeReferenceHash(SYNAPSE_EVENT, v('10')), sha256(new TextEncoder().encode(SYNAPSE_EVENT_IDS.redactedCanonicalBytes)));
  });

  it('gives the v3 ID in standard base64 and the v4–v10 ID in URL-safe base64', () => {
    assert.equal(computeEventId(SYNAPSE_EVENT, v('3')), SYNAPSE_EVENT_IDS.v3);
    for (const id of ['4', '5', '6', '7', '8', '9', '10']) assert.equal(computeEventId(SYNAPSE_EVENT, v(id)), SYNAPSE_EVENT_IDS.v4ToV10, `v${id}`);
  });

  it('gives another ID under v11 rules, where origin is not protected [derived]', () => {
    assert.equal(computeEventId(SYNAPSE_EVENT, v('11')), SYNAPSE_EVENT_IDS.v11Derived);
  });

  it('gives the same ID for the event after redaction', () => {
    for (const id of ['3', '4', '11', '12']) {
      assert.equal(computeEventId(redactEvent(SYNAPSE_EVENT, v(id)), v(id)), computeEventId(SYNAPSE_EVENT, v(id)), `v${id}`);
    }
  });

  it('ignores a legacy top-level age_ts', () => {
    assert.equal(computeEventId({ ...SYNAPSE_EVENT, age_ts: 5 }, v('10')), SYNAPSE_EVENT_IDS.v4ToV10);
  });

  it('reads the event_id field in v1 and v2 and refuses an event without one', () => {
    for (const id of ['1', '2']) {
      assert.equal(computeEventId({ ...SYNAPSE_EVENT, event_id: '$abc:example.org' }, v(id)), '$abc:example.org');
      assert.throws(() => computeEventId(SYNAPSE_EVENT, v(id)), EventIdError);
    }
  });

  it('gives the derived IDs of spec Event Signing #1 [derived]', () => {
    // The IDs are those of the event once hashed (its `hashes` is `{}` before signing).
    const signed = { ...EVENT_SIGNING_VECTORS[0]!.input, hashes: { sha256: EVENT_SIGNING_VECTORS[0]!.contentHash } };
    assert.equal(computeEventId(signed, v('3')), SPEC_EVENT_1_DERIVED.eventIdV3);
    assert.equal(computeEventId(signed, v('4')), SPEC_EVENT_1_DERIVED.eventIdV4);
    assert.equal(computeEventId(signed, v('11')), SPEC_EVENT_1_DERIVED.v11.eventIdV4);
  });
});

describe('derived leave and create vectors (V8, regression data)', () => {
  for (const vector of DERIVED_EVENT_VECTORS) {
    it(`${vector.name}: content hash, redacted bytes and event ID`, () => {
      const ids = vector.eventIds['3'] === undefined ? vector.versions : ['3', ...vector.versions];
      for (const id of ids) {
        const version = v(id);
        assert.equal(computeContentHash(vector.unsignedInput), (vector.signedEvent['hashes'] as JsonObject)['sha256'], `v${id}`);
        const { signatures: _s, ...covered } = redactEvent(vector.signedEvent, version);
        assert.equal(encodeCanonicalJson(covered), vector.redactedCanonicalBytes, `v${id}`);
        const expected = vector.eventIds[id] ?? vector.eventIds[version.eventFormat === 'v3' ? '3' : '4'];
        assert.equal(computeEventId(vector.signedEvent, version), expected, `v${id}`);
      }
    });
  }
});

describe('v12 room IDs', () => {
  it('are the create event ID with ! instead of $ (MSC4291 example)', () => {
    assert.equal(roomIdFromCreateEventId('$31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM'), '!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM');
    assert.equal(createEventIdFromRoomId('!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM'), '$31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM');
  });

  it('derive from the create event computed without a room_id', () => {
    const create = DERIVED_EVENT_VECTORS[0]!.signedEvent;
    assert.equal(roomIdFromCreateEventId(computeEventId(create, v('12'))), '!P5-6WTYQ_woy6f4nmleE0XqxjtZcyKGza5_gDN-KAdM');
    // A stray room_id on a v12 create is not part of its reference hash.
    assert.equal(computeEventId({ ...create, room_id: '!other:x' }, v('12')), computeEventId(create, v('12')));
  });

  it('refuse inputs without the right sigil', () => {
    assert.throws(() => roomIdFromCreateEventId('!abc'), EventIdError);
    assert.throws(() => roomIdFromCreateEventId('$'), EventIdError);
    assert.throws(() => createEventIdFromRoomId('$abc'), EventIdError);
  });
});

describe('event IDs of every version', () => {
  it('are $ + 43 characters from v3 on, in the alphabet of the format', () => {
    for (const id of SUPPORTED_ROOM_VERSIONS.filter((x) => Number(x) >= 3)) {
      const eventId = computeEventId(SYNAPSE_EVENT, v(id));
      assert.equal(eventId.length, 44, `v${id}`);
      assert.match(eventId, v(id).eventFormat === 'v3' ? /^\$[A-Za-z0-9+/]{43}$/ : /^\$[A-Za-z0-9_-]{43}$/);
      assert.equal(eventId, `$${v(id).eventFormat === 'v3' ? Buffer.from(computeReferenceHash(SYNAPSE_EVENT, v(id))).toString('base64').replace(/=+$/, '') : encodeUnpaddedBase64Url(computeReferenceHash(SYNAPSE_EVENT, v(id)))}`);
    }
  });
});
