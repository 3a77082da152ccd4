import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@membrane/canonical-json';
import { encodeUnpaddedBase64 } from './base64.js';
import {
  MAX_KEY_VALIDITY_PERIOD_MS,
  ServerKeyError,
  VerifyKeyStore,
  buildServerKeyResponse,
  effectiveValidUntilTs,
  parseServerKeyResponse,
} from './server-keys.js';
import { signJson, verifyJsonSignature } from './sign-json.js';
import { generateSigningKey } from './signing-key.js';

const DAY = 24 * 60 * 60 * 1000;
const NOW = 1_750_000_000_000;
const current = generateSigningKey('current');
const second = generateSigningKey('second');
const retired = generateSigningKey('retired');
const RETIRED_AT = NOW - 30 * DAY;

const document = (validUntilTs = NOW + DAY): JsonObject =>
  buildServerKeyResponse('remote.example', [current], [{ keyId: retired.keyId, publicKey: retired.publicKey, expiredTs: RETIRED_AT }], validUntilTs);

const rejects = (body: unknown, expected: RegExp, serverName = 'remote.example'): void => {
  assert.throws(
    () => parseServerKeyResponse(body, serverName),
    (error: unknown) => error instanceof ServerKeyError && expected.test(error.message),
  );
};

describe('our server key document', () => {
  it('publishes current and old keys and is signed by every current key', () => {
    const built = buildServerKeyResponse('our.example', [current, second], [{ keyId: retired.keyId, publicKey: retired.publicKey, expiredTs: 5 }], NOW + DAY);
    assert.equal(built['server_name'], 'our.example');
    assert.equal(built['valid_until_ts'], NOW + DAY);
    assert.deepEqual(built['verify_keys'], {
      'ed25519:current': { key: encodeUnpaddedBase64(current.publicKey) },
      'ed25519:second': { key: encodeUnpaddedBase64(second.publicKey) },
    });
    assert.deepEqual(built['old_verify_keys'], { 'ed25519:retired': { key: encodeUnpaddedBase64(retired.publicKey), expired_ts: 5 } });
    assert.equal(verifyJsonSignature(built, 'our.example', current.keyId, current.publicKey), true);
    assert.equal(verifyJsonSignature(built, 'our.example', second.keyId, second.publicKey), true);
  });

  it('always carries old_verify_keys, empty when there are none', () => {
    assert.deepEqual(buildServerKeyResponse('our.example', [current], [], NOW)['old_verify_keys'], {});
  });

  it('needs at least one key and integer timestamps', () => {
    assert.throws(() => buildServerKeyResponse('our.example', [], [], NOW), RangeError);
    assert.throws(() => buildServerKeyResponse('our.example', [current], [], 1.5), RangeError);
    assert.throws(() => buildServerKeyResponse('our.example', [current], [{ keyId: 'ed25519:x', publicKey: current.publicKey, expiredTs: -1 }], NOW), RangeError);
  });

  it('passes our own check', () => {
    const parsed = parseServerKeyResponse(document(), 'remote.example');
    assert.equal(parsed.serverName, 'remote.example');
    assert.equal(parsed.validUntilTs, NOW + DAY);
    assert.deepEqual([...parsed.verifyKeys.keys()], ['ed25519:current']);
    assert.deepEqual(parsed.verifyKeys.get('ed25519:current'), current.publicKey);
    assert.deepEqual(parsed.oldVerifyKeys.get('ed25519:retired'), { keyId: 'ed25519:retired', publicKey: retired.publicKey, expiredTs: RETIRED_AT });
  });
});

describe('checking a remote key document', () => {
  it('rejects the spec example, whose keys and signature are placeholders (MATRIX_FACTS V11)', () => {
    const specExample = {
      server_name: 'example.org',
      verify_keys: { 'ed25519:abc123': { key: 'VGhpcyBzaG91bGQgYmUgYSByZWFsIGVkMjU1MTkgcGF5bG9hZA' } },
      old_verify_keys: { 'ed25519:0ldk3y': { expired_ts: 1532645052628, key: 'VGhpcyBzaG91bGQgYmUgeW91ciBvbGQga2V5J3MgZWQyNTUxOSBwYXlsb2FkLg' } },
      signatures: { 'example.org': { 'ed25519:auto2': 'VGhpcyBzaG91bGQgYWN0dWFsbHkgYmUgYSBzaWduYXR1cmU' } },
      valid_until_ts: 1652262000000,
    };
    rejects(specExample, /verify_keys\.ed25519:abc123\.key must be 32 bytes/, 'example.org');
  });

  it('rejects a document for another server', () => {
    rejects(document(), /server_name is "remote.example"/, 'other.example');
  });

  it('rejects a document without a valid self-signature', () => {
    const { signatures: _signatures, ...unsigned } = document();
    rejects(unsigned, /not signed by any of its verify_keys/);
    rejects({ ...document(), valid_until_ts: NOW + 2 * DAY }, /signature by ed25519:current does not verify/);
    rejects({ ...unsigned, signatures: { 'remote.example': { 'ed25519:current': 'AAAA' } } }, /does not verify/);
  });

  it('rejects a document signed only by a key it does not list as current', () => {
    const base = { server_name: 'remote.example', valid_until_ts: NOW, verify_keys: { [current.keyId]: { key: encodeUnpaddedBase64(current.publicKey) } } };
    rejects(signJson(base, 'remote.example', retired), /not signed by any of its verify_keys/);
    rejects(signJson(base, 'someone.else', current), /not signed by any of its verify_keys/);
  });

  it('rejects a bad signature even beside a good one, as Synapse does', () => {
    const built = buildServerKeyResponse('remote.example', [current, second], [], NOW);
    const signatures = built['signatures'] as Record<string, Record<string, string>>;
    const tampered = { ...built, signatures: { 'remote.example': { ...signatures['remote.example'], 'ed25519:second': signatures['remote.example']?.['ed25519:current'] ?? '' } } };
    rejects(tampered, /signature by ed25519:second does not verify/);
  });

  it('accepts a notary copy that carries the notary signature too', () => {
    const notaryKey = generateSigningKey('notary');
    const notarised = signJson(document(), 'notary.example', notaryKey);
    assert.equal(parseServerKeyResponse(notarised, 'remote.example').serverName, 'remote.example');
  });

  it('ignores keys of unknown algorithms and lets a current key win over an old entry with the same id', () => {
    const body = signJson(
      {
        server_name: 'remote.example',
        valid_until_ts: NOW,
        verify_keys: { [current.keyId]: { key: encodeUnpaddedBase64(current.publicKey) }, 'curve25519:x': { key: 'whatever' } },
        old_verify_keys: { [current.keyId]: { key: encodeUnpaddedBase64(retired.publicKey), expired_ts: 1 }, 'rsa:y': 7 },
      },
      'remote.example',
      current,
    );
    const parsed = parseServerKeyResponse(body, 'remote.example');
    assert.deepEqual([...parsed.verifyKeys.keys()], [current.keyId]);
    assert.equal(parsed.oldVerifyKeys.size, 0);
  });

  it('rejects malformed members with a message naming them', () => {
    const valid = document();
    rejects('not an object', /not a JSON object/);
    rejects([], /not a JSON object/);
    rejects({ ...valid, server_name: 5 }, /server_name is missing/);
    rejects({ ...valid, valid_until_ts: '1' }, /valid_until_ts must be a non-negative integer/);
    rejects({ ...valid, valid_until_ts: 1.5 }, /valid_until_ts/);
    const { valid_until_ts: _v, ...withoutValidUntil } = valid;
    rejects(withoutValidUntil, /valid_until_ts/);
    rejects({ ...valid, verify_keys: [] }, /verify_keys must be an object/);
    rejects({ ...valid, verify_keys: { 'ed25519:a': 'x' } }, /verify_keys\.ed25519:a must be an object/);
    rejects({ ...valid, verify_keys: { 'ed25519:a': { key: 1 } } }, /verify_keys\.ed25519:a\.key must be a string/);
    rejects({ ...valid, verify_keys: { 'ed25519:a': { key: '!!' } } }, /verify_keys\.ed25519:a\.key is not valid base64/);
    rejects({ ...valid, old_verify_keys: 'x' }, /old_verify_keys must be an object/);
    rejects({ ...valid, old_verify_keys: { 'ed25519:o': { key: encodeUnpaddedBase64(retired.publicKey) } } }, /old_verify_keys\.ed25519:o\.expired_ts/);
  });
});

describe('VerifyKeyStore', () => {
  const storeWith = (body: JsonObject, fetchedAtMs: number): VerifyKeyStore => {
    const store = new VerifyKeyStore();
    store.addResponse(body, 'remote.example', fetchedAtMs);
    return store;
  };

  it('trusts valid_until_ts at most 7 days past the fetch', () => {
    assert.equal(effectiveValidUntilTs({ validUntilTs: NOW + DAY, fetchedAtMs: NOW }), NOW + DAY);
    assert.equal(effectiveValidUntilTs({ validUntilTs: NOW + 365 * DAY, fetchedAtMs: NOW }), NOW + MAX_KEY_VALIDITY_PERIOD_MS);
  });

  it('serves a current key for requests until it expires', () => {
    const store = storeWith(document(NOW + DAY), NOW);
    assert.deepEqual(store.keyForRequest('remote.example', current.keyId, NOW)?.publicKey, current.publicKey);
    assert.ok(store.keyForRequest('remote.example', current.keyId, NOW + DAY));
    assert.equal(store.keyForRequest('remote.example', current.keyId, NOW + DAY + 1), undefined);
    assert.equal(store.isExpired('remote.example', current.keyId, NOW + DAY + 1), true);
    assert.equal(store.isExpired('remote.example', current.keyId, NOW), false);
  });

  it('caps request validity at 7 days after the fetch', () => {
    const store = storeWith(document(NOW + 100 * DAY), NOW);
    assert.ok(store.keyForRequest('remote.example', current.keyId, NOW + 7 * DAY));
    assert.equal(store.keyForRequest('remote.example', current.keyId, NOW + 7 * DAY + 1), undefined);
  });

  it('never serves an old key, an unknown key or an unknown server for requests', () => {
    const store = storeWith(document(), NOW);
    assert.equal(store.keyForRequest('remote.example', retired.keyId, RETIRED_AT - 1), undefined);
    assert.equal(store.isExpired('remote.example', retired.keyId, RETIRED_AT - 1), true);
    assert.equal(store.keyForRequest('remote.example', 'ed25519:nope', NOW), undefined);
    assert.equal(store.keyForRequest('elsewhere.example', current.keyId, NOW), undefined);
  });

  it('serves an old key only for events sent no later than its expired_ts, in every room version', () => {
    const store = storeWith(document(), NOW);
    for (const enforceKeyValidity of [false, true]) {
      assert.deepEqual(store.keyForEvent('remote.example', retired.keyId, RETIRED_AT - 1000, { enforceKeyValidity })?.publicKey, retired.publicKey);
      assert.ok(store.keyForEvent('remote.example', retired.keyId, RETIRED_AT, { enforceKeyValidity }));
      assert.equal(store.keyForEvent('remote.example', retired.keyId, RETIRED_AT + 1, { enforceKeyValidity }), undefined);
    }
  });

  it('checks a current key against the event time only when key validity is enforced (room v5+)', () => {
    const store = storeWith(document(NOW + DAY), NOW);
    const late = NOW + 2 * DAY;
    assert.ok(store.keyForEvent('remote.example', current.keyId, late, { enforceKeyValidity: false }));
    assert.equal(store.keyForEvent('remote.example', current.keyId, late, { enforceKeyValidity: true }), undefined);
    assert.ok(store.keyForEvent('remote.example', current.keyId, NOW + DAY, { enforceKeyValidity: true }));
    assert.ok(store.keyForEvent('remote.example', current.keyId, NOW - 300 * DAY, { enforceKeyValidity: true }));
  });

  it('uses min(valid_until_ts, fetched + 7 days) for events in v5+ rooms', () => {
    const store = storeWith(document(NOW + 100 * DAY), NOW);
    assert.ok(store.keyForEvent('remote.example', current.keyId, NOW + 7 * DAY, { enforceKeyValidity: true }));
    assert.equal(store.keyForEvent('remote.example', current.keyId, NOW + 7 * DAY + 1, { enforceKeyValidity: true }), undefined);
    assert.ok(store.keyForEvent('remote.example', current.keyId, NOW + 50 * DAY, { enforceKeyValidity: false }));
  });

  it('asks for a refresh when nothing is known, a key is unknown, or half the lifetime has passed', () => {
    const store = new VerifyKeyStore();
    assert.equal(store.needsRefresh('remote.example', NOW), true);
    store.addResponse(document(NOW + 2 * DAY), 'remote.example', NOW);
    assert.equal(store.needsRefresh('remote.example', NOW), false);
    assert.equal(store.needsRefresh('remote.example', NOW + DAY - 1), false);
    assert.equal(store.needsRefresh('remote.example', NOW + DAY), true);
    assert.equal(store.needsRefresh('remote.example', NOW, current.keyId), false);
    assert.equal(store.needsRefresh('remote.example', NOW, 'ed25519:unknown'), true);
  });

  it('follows a key rotation: the newer document moves the key to old', () => {
    const store = storeWith(buildServerKeyResponse('remote.example', [retired], [], NOW + DAY), NOW);
    assert.ok(store.keyForRequest('remote.example', retired.keyId, NOW));
    const rotated = buildServerKeyResponse('remote.example', [current], [{ keyId: retired.keyId, publicKey: retired.publicKey, expiredTs: NOW + 10 }], NOW + 2 * DAY);
    store.addResponse(rotated, 'remote.example', NOW + 20);
    assert.equal(store.keyForRequest('remote.example', retired.keyId, NOW + 20), undefined);
    assert.ok(store.keyForEvent('remote.example', retired.keyId, NOW + 5, { enforceKeyValidity: true }));
    assert.ok(store.keyForRequest('remote.example', current.keyId, NOW + 20));
    assert.equal(store.latestDocument('remote.example'), rotated);
  });

  it('keeps the entry from the longer-valid document when an older copy arrives later', () => {
    const store = storeWith(document(NOW + 3 * DAY), NOW);
    store.addResponse(document(NOW + DAY), 'remote.example', NOW + 10);
    assert.equal(store.get('remote.example', current.keyId)?.validUntilTs, NOW + 3 * DAY);
    assert.equal(store.latestDocument('remote.example')?.['valid_until_ts'], NOW + 3 * DAY);
  });

  it('keeps keys a newer document no longer lists until they expire', () => {
    const store = storeWith(buildServerKeyResponse('remote.example', [second], [], NOW + DAY), NOW);
    store.addResponse(document(NOW + 2 * DAY), 'remote.example', NOW + 10);
    assert.ok(store.keyForRequest('remote.example', second.keyId, NOW + DAY));
    assert.equal(store.keyForRequest('remote.example', second.keyId, NOW + DAY + 1), undefined);
  });

  it('stores nothing from a document that fails the check', () => {
    const store = new VerifyKeyStore();
    assert.throws(() => store.addResponse(document(), 'other.example', NOW), ServerKeyError);
    assert.equal(store.get('remote.example', current.keyId), undefined);
    assert.equal(store.get('other.example', current.keyId), undefined);
  });

  it('records when and from which document a key was fetched', () => {
    const store = storeWith(document(NOW + DAY), NOW);
    assert.deepEqual(store.get('remote.example', current.keyId), {
      serverName: 'remote.example',
      keyId: current.keyId,
      publicKey: current.publicKey,
      validUntilTs: NOW + DAY,
      fetchedAtMs: NOW,
    });
    assert.equal(store.get('remote.example', retired.keyId)?.expiredTs, RETIRED_AT);
  });
});
