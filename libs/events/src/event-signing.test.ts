import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCanonicalJson } from '@membrane/canonical-json';
import type { JsonObject } from '@membrane/canonical-json';
import { decodeBase64, signingKeyFromSeed, tweetnaclBackend } from '@membrane/signing';
import { applyContentHashCheck, hashAndSignEvent, verifyEventSignatures, verifyEventSignaturesAsync } from './event-signing.js';
import type { VerifyKeyLookup } from './event-signing.js';
import { redactEvent } from './redaction.js';
import { getRoomVersion, SUPPORTED_ROOM_VERSIONS } from './room-versions.js';
import type { Pdu } from './types.js';
import { DERIVED_EVENT_VECTORS, EVENT_SIGNING_VECTORS, SPEC_EVENT_1_DERIVED, SPEC_KEY_ID, SPEC_PUBLIC_KEY_B64, SPEC_SERVER, specKey } from './test-support/vectors.js';

const v = getRoomVersion;
const otherKey = signingKeyFromSeed('2', new Uint8Array(32).fill(7));

/** A key directory: server → key ID → key. */
function lookupFrom(directory: Record<string, Record<string, Uint8Array>>): VerifyKeyLookup {
  return (server, keyId) => directory[server]?.[keyId];
}
const specLookup = lookupFrom({ [SPEC_SERVER]: { [SPEC_KEY_ID]: decodeBase64(SPEC_PUBLIC_KEY_B64) } });

function signaturesOf(event: JsonObject): Record<string, Record<string, string>> {
  return event['signatures'] as Record<string, Record<string, string>>;
}

describe('hashAndSignEvent: spec and Synapse vectors (V6, v1…v10 redaction)', () => {
  for (const vector of EVENT_SIGNING_VECTORS) {
    it(vector.name, () => {
      const signed = hashAndSignEvent(vector.input, SPEC_SERVER, specKey, v('1'));
      assert.deepEqual(signed.hashes, { sha256: vector.contentHash });
      assert.equal(signed.signatures[SPEC_SERVER]?.[SPEC_KEY_ID], vector.signature);
      const { signatures: _s, ...covered } = redactEvent(signed, v('1'));
      assert.equal(encodeCanonicalJson(covered), vector.signedBytes);
    });
  }

  it('signs the same bytes in v1 through v10', () => {
    const vector = EVENT_SIGNING_VECTORS[0]!;
    for (const id of SUPPORTED_ROOM_VERSIONS.filter((x) => Number(x) <= 10)) {
      assert.equal(hashAndSignEvent(vector.input, SPEC_SERVER, specKey, v(id)).signatures[SPEC_SERVER]?.[SPEC_KEY_ID], vector.signature, `v${id}`);
    }
  });

  it('signs without origin under v11 rules [derived]', () => {
    for (const id of ['11', '12']) {
      const signed = hashAndSignEvent(EVENT_SIGNING_VECTORS[0]!.input, SPEC_SERVER, specKey, v(id));
      assert.equal(signed.signatures[SPEC_SERVER]?.[SPEC_KEY_ID], SPEC_EVENT_1_DERIVED.v11.signature, `v${id}`);
      const { signatures: _s, ...covered } = redactEvent(signed, v(id));
      assert.equal(encodeCanonicalJson(covered), SPEC_EVENT_1_DERIVED.v11.signedBytes);
    }
  });

  it('gives the same result with the tweetnacl backend', () => {
    const vector = EVENT_SIGNING_VECTORS[1]!;
    assert.equal(hashAndSignEvent(vector.input, SPEC_SERVER, specKey, v('1'), tweetnaclBackend).signatures[SPEC_SERVER]?.[SPEC_KEY_ID], vector.signature);
  });
});

describe('hashAndSignEvent: derived leave and create events (V8)', () => {
  for (const vector of DERIVED_EVENT_VECTORS) {
    it(vector.name, () => {
      for (const id of vector.versions) assert.deepEqual(hashAndSignEvent(vector.unsignedInput, SPEC_SERVER, specKey, v(id)), vector.signedEvent, `v${id}`);
    });
  }
});

describe('hashAndSignEvent: behaviour', () => {
  const input = DERIVED_EVENT_VECTORS[2]!.unsignedInput;

  it('keeps other servers’ signatures and other keys of the same server, and unsigned', () => {
    const withOthers = { ...input, signatures: { 'other.org': { 'ed25519:x': 'sig' }, [SPEC_SERVER]: { 'ed25519:old': 'old' } }, unsigned: { age: 5 } };
    const signed = hashAndSignEvent(withOthers, SPEC_SERVER, specKey, v('11'));
    assert.deepEqual(Object.keys(signed.signatures).sort(), ['domain', 'other.org']);
    assert.equal(signed.signatures['other.org']?.['ed25519:x'], 'sig');
    assert.equal(signed.signatures[SPEC_SERVER]?.['ed25519:old'], 'old');
    assert.equal(signed.signatures[SPEC_SERVER]?.[SPEC_KEY_ID], signaturesOf(DERIVED_EVENT_VECTORS[2]!.signedEvent)[SPEC_SERVER]?.[SPEC_KEY_ID]);
    assert.deepEqual(signed['unsigned'], { age: 5 });
  });

  it('replaces a stale content hash and does not modify its input', () => {
    const stale = { ...input, hashes: { sha256: 'stale', md5: 'x' } };
    const before = structuredClone(stale);
    const signed = hashAndSignEvent(stale, SPEC_SERVER, specKey, v('11'));
    assert.deepEqual(signed.hashes, { sha256: 'Yb0xFJdQ6lzwzcTd6Z7TFxUpnOIQjDhc8gfXqWm2crg' });
    assert.deepEqual(stale, before);
  });
});

describe('verifyEventSignatures', () => {
  const leave = DERIVED_EVENT_VECTORS[2]!.signedEvent;

  it('accepts the vectors’ signatures', () => {
    for (const vector of DERIVED_EVENT_VECTORS) {
      for (const id of vector.versions) assert.deepEqual(verifyEventSignatures(vector.signedEvent, v(id), specLookup), { ok: true, servers: [SPEC_SERVER] });
    }
  });

  it('still accepts after redaction or a changed unsigned (signatures cover the redacted form)', () => {
    assert.equal(verifyEventSignatures(redactEvent(leave, v('11')), v('11'), specLookup).ok, true);
    assert.equal(verifyEventSignatures({ ...leave, unsigned: { age: 1 } }, v('11'), specLookup).ok, true);
    assert.equal(verifyEventSignatures({ ...leave, content: { membership: 'leave', reason: 'changed' } }, v('11'), specLookup).ok, true);
  });

  it('refuses a changed protected field or hash as a bad signature', () => {
    for (const tampered of [
      { ...leave, type: 'm.room.message' },
      { ...leave, hashes: { sha256: 'AAAA' } },
      { ...leave, content: { membership: 'join' } },
      { ...leave, depth: 4 },
    ]) {
      const result = verifyEventSignatures(tampered, v('11'), specLookup);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.reason, 'bad_signature');
      assert.equal(!result.ok && result.server, SPEC_SERVER);
    }
  });

  it('reports a missing signature, an unknown key and an unparseable sender', () => {
    const { signatures: _s, ...unsignedLeave } = leave;
    const missing = verifyEventSignatures(unsignedLeave, v('11'), specLookup);
    assert.deepEqual(!missing.ok && [missing.reason, missing.server, missing.role], ['not_signed', SPEC_SERVER, 'sender']);

    const unknown = verifyEventSignatures(leave, v('11'), () => undefined);
    assert.deepEqual(!unknown.ok && [unknown.reason, unknown.server], ['unknown_key', SPEC_SERVER]);

    const badSender = verifyEventSignatures({ ...leave, sender: 'not-a-user' }, v('11'), specLookup);
    assert.deepEqual(!badSender.ok && [badSender.reason, badSender.role], ['invalid_id', 'sender']);

    const otherAlgorithm = verifyEventSignatures({ ...leave, signatures: { [SPEC_SERVER]: { 'curve25519:1': 'x' } } }, v('11'), specLookup);
    assert.deepEqual(!otherAlgorithm.ok && otherAlgorithm.reason, 'not_signed');
  });

  it('requires the sender’s server, not just any server', () => {
    const moved = { ...leave, sender: '@a:elsewhere.org', state_key: '@a:elsewhere.org' };
    const resigned = hashAndSignEvent(moved, SPEC_SERVER, specKey, v('11'));
    const result = verifyEventSignatures(resigned, v('11'), specLookup);
    assert.deepEqual(!result.ok && [result.reason, result.server], ['not_signed', 'elsewhere.org']);
  });

  it('skips unknown keys but fails on any known key whose signature is wrong', () => {
    const twoKeys = hashAndSignEvent(hashAndSignEvent(DERIVED_EVENT_VECTORS[2]!.unsignedInput, SPEC_SERVER, specKey, v('11')), SPEC_SERVER, otherKey, v('11'));
    assert.equal(verifyEventSignatures(twoKeys, v('11'), specLookup).ok, true);
    const wrongSecondKey = lookupFrom({ [SPEC_SERVER]: { [SPEC_KEY_ID]: specKey.publicKey, [otherKey.keyId]: specKey.publicKey } });
    const result = verifyEventSignatures(twoKeys, v('11'), wrongSecondKey);
    assert.deepEqual(!result.ok && result.reason, 'bad_signature');
  });

  it('asks for keys valid at origin_server_ts from v5, and at any time before', () => {
    const seen: number[] = [];
    const recording: VerifyKeyLookup = (server, keyId, ts) => {
      seen.push(ts);
      return specLookup(server, keyId, ts);
    };
    verifyEventSignatures(leave, v('4'), recording);
    verifyEventSignatures(leave, v('5'), recording);
    assert.deepEqual(seen, [0, 1000002]);
  });

  it('in v1/v2 also requires the server named in event_id', () => {
    const body = { ...DERIVED_EVENT_VECTORS[2]!.unsignedInput, prev_events: [], auth_events: [], event_id: '$abc:origin.org' };
    const bySenderOnly = hashAndSignEvent(body, SPEC_SERVER, specKey, v('1'));
    const result = verifyEventSignatures(bySenderOnly, v('1'), specLookup);
    assert.deepEqual(!result.ok && [result.reason, result.server, result.role], ['not_signed', 'origin.org', 'event_id']);

    const byBoth = hashAndSignEvent(bySenderOnly, 'origin.org', otherKey, v('1'));
    const both = lookupFrom({ [SPEC_SERVER]: { [SPEC_KEY_ID]: specKey.publicKey }, 'origin.org': { [otherKey.keyId]: otherKey.publicKey } });
    assert.deepEqual(verifyEventSignatures(byBoth, v('1'), both), { ok: true, servers: [SPEC_SERVER, 'origin.org'] });
    // v3+ ignores event_id entirely.
    assert.equal(verifyEventSignatures(hashAndSignEvent(body, SPEC_SERVER, specKey, v('3')), v('3'), specLookup).ok, true);
  });

  it('from v8 requires the server of join_authorised_via_users_server on member events', () => {
    const join = { ...DERIVED_EVENT_VECTORS[2]!.unsignedInput, content: { membership: 'join', join_authorised_via_users_server: '@admin:resident.org' } };
    const bySender = hashAndSignEvent(join, SPEC_SERVER, specKey, v('9'));
    const missing = verifyEventSignatures(bySender, v('9'), specLookup);
    assert.deepEqual(!missing.ok && [missing.reason, missing.server, missing.role], ['not_signed', 'resident.org', 'authorising_server']);
    const v7 = hashAndSignEvent(join, SPEC_SERVER, specKey, v('7'));
    assert.equal(verifyEventSignatures(v7, v('7'), specLookup).ok, true, 'not required before v8');

    const both = hashAndSignEvent(bySender, 'resident.org', otherKey, v('9'));
    const keys = lookupFrom({ [SPEC_SERVER]: { [SPEC_KEY_ID]: specKey.publicKey }, 'resident.org': { [otherKey.keyId]: otherKey.publicKey } });
    assert.deepEqual(verifyEventSignatures(both, v('9'), keys), { ok: true, servers: [SPEC_SERVER, 'resident.org'] });
  });

  it('does not require the sender’s server for an invite made from a third-party invite', () => {
    const invite = {
      ...DERIVED_EVENT_VECTORS[2]!.unsignedInput,
      sender: '@inviter:far.org',
      state_key: '@b:domain',
      content: { membership: 'invite', third_party_invite: { signed: { token: 't' } } },
    };
    assert.deepEqual(verifyEventSignatures(hashAndSignEvent(invite, SPEC_SERVER, specKey, v('11')), v('11'), specLookup), { ok: true, servers: [] });
  });

  it('has an async form that looks keys up first', async () => {
    const asyncLookup = async (server: string, keyId: string, ts: number): Promise<Uint8Array | undefined> => specLookup(server, keyId, ts);
    assert.deepEqual(await verifyEventSignaturesAsync(leave, v('11'), asyncLookup), { ok: true, servers: [SPEC_SERVER] });
    const result = await verifyEventSignaturesAsync({ ...leave, type: 'x' }, v('11'), asyncLookup);
    assert.equal(!result.ok && result.reason, 'bad_signature');
  });
});

describe('applyContentHashCheck', () => {
  const leave = DERIVED_EVENT_VECTORS[2]!.signedEvent as unknown as Pdu;

  it('keeps an event whose hash matches', () => {
    const outcome = applyContentHashCheck(leave, v('11'));
    assert.equal(outcome.hashMatches, true);
    assert.equal(outcome.event, leave);
  });

  it('uses the redacted event when the content was changed, which still verifies', () => {
    const tampered = { ...leave, content: { membership: 'leave', reason: 'not what was signed' } };
    const outcome = applyContentHashCheck(tampered, v('11'));
    assert.equal(outcome.hashMatches, false);
    assert.deepEqual(outcome.event.content, { membership: 'leave' });
    assert.equal(verifyEventSignatures(outcome.event, v('11'), specLookup).ok, true);
  });

  it('uses the redacted event when hashes is missing', () => {
    const { hashes: _h, ...withoutHashes } = leave;
    assert.equal(applyContentHashCheck(withoutHashes, v('11')).hashMatches, false);
  });
});
