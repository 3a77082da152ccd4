import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, JsonValue } from '@membrane/canonical-json';
import { nodeCryptoBackend, tweetnaclBackend } from './backends.js';
import { decodeBase64, encodeUnpaddedBase64 } from './base64.js';
import { computeJsonSignature, signJson, signatureKeyIds, signedBytesOf, verifyJsonSignature } from './sign-json.js';
import { generateSigningKey, parseSigningKeyFile, signingKeyFromSeed } from './signing-key.js';
import { SPEC_JSON_SIGNING, SPEC_KEY } from './test-support/vectors.js';

const specKey = signingKeyFromSeed(SPEC_KEY.version, decodeBase64(SPEC_KEY.seedBase64));
const specPublicKey = decodeBase64(SPEC_KEY.publicKeyBase64);
const backends = [nodeCryptoBackend, tweetnaclBackend];

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

const event = (): JsonObject => ({
  type: 'm.room.member',
  room_id: '!room:example.org',
  sender: '@alice:example.org',
  state_key: '@alice:example.org',
  content: { membership: 'leave', reason: 'bye ☃ 🎉' },
  origin_server_ts: 1_700_000_000_000,
  depth: 12,
  unsigned: { age: 4 },
  signatures: { 'other.example': { 'ed25519:x': 'c2ln' } },
});

describe('JSON signing', () => {
  for (const backend of backends) {
    it(`reproduces the spec signed objects (${backend.name})`, () => {
      for (const vector of SPEC_JSON_SIGNING) {
        const signed = signJson(vector.input as JsonObject, SPEC_KEY.serverName, specKey, backend);
        assert.deepEqual(signed, { ...vector.input, signatures: { domain: { 'ed25519:1': vector.signature } } });
        assert.equal(verifyJsonSignature(signed, 'domain', 'ed25519:1', specPublicKey, backend), true);
      }
    });
  }

  it('signs the canonical JSON without signatures and unsigned', () => {
    assert.equal(new TextDecoder().decode(signedBytesOf({ two: 'Two', one: 1, unsigned: { a: 1 }, signatures: {} })), SPEC_JSON_SIGNING[1].signedBytes);
    assert.equal(computeJsonSignature({ two: 'Two', one: 1, unsigned: { age: 3 } }, specKey), SPEC_JSON_SIGNING[1].signature);
  });

  it('returns a new object and leaves the input untouched', () => {
    const input = deepFreeze(event());
    const before = JSON.stringify(input);
    const signed = signJson(input, 'example.org', specKey);
    assert.notEqual(signed, input);
    assert.equal(JSON.stringify(input), before);
  });

  it('keeps other signatures and unsigned, and adds beside an existing key of the same signer', () => {
    const secondKey = generateSigningKey('second');
    const once = signJson(event(), 'example.org', specKey);
    const twice = signJson(once, 'example.org', secondKey);
    assert.deepEqual(twice['unsigned'], { age: 4 });
    assert.deepEqual(Object.keys(twice['signatures'] as JsonObject).sort(), ['example.org', 'other.example']);
    assert.deepEqual(signatureKeyIds(twice, 'example.org').sort(), ['ed25519:1', 'ed25519:second']);
    assert.equal(verifyJsonSignature(twice, 'example.org', 'ed25519:1', specKey.publicKey), true);
    assert.equal(verifyJsonSignature(twice, 'example.org', 'ed25519:second', secondKey.publicKey), true);
  });

  it('replaces its own earlier signature by the same key', () => {
    const stale = { ...event(), signatures: { 'example.org': { 'ed25519:1': 'c3RhbGU' } } };
    const signed = signJson(stale, 'example.org', specKey);
    assert.equal(verifyJsonSignature(signed, 'example.org', 'ed25519:1', specKey.publicKey), true);
  });

  it('refuses to sign what has no canonical JSON form', () => {
    assert.throws(() => signJson({ ratio: 1.5 }, 'a', specKey));
    assert.throws(() => computeJsonSignature({ n: Number.NaN }, specKey));
  });

  it('refuses to sign over a signatures member that is not an object', () => {
    assert.throws(() => signJson({ signatures: 'x' }, 'a', specKey), TypeError);
    assert.throws(() => signJson({ signatures: { a: [] } }, 'a', specKey), TypeError);
  });

  it('gives the same signature with a key read from a padded or an unpadded signing.key line', () => {
    const [unpadded] = parseSigningKeyFile(`ed25519 1 ${SPEC_KEY.seedBase64}`);
    const [padded] = parseSigningKeyFile(`ed25519 1 ${SPEC_KEY.seedBase64}=`);
    assert.ok(unpadded && padded);
    const value = { one: 1, two: 'Two' };
    assert.equal(computeJsonSignature(value, padded), SPEC_JSON_SIGNING[1].signature);
    assert.equal(computeJsonSignature(value, unpadded), SPEC_JSON_SIGNING[1].signature);
  });

  it('verifies a padded signature and a public key decoded from padded Base64', () => {
    const signed = { one: 1, two: 'Two', signatures: { domain: { 'ed25519:1': `${SPEC_JSON_SIGNING[1].signature}==` } } };
    assert.equal(verifyJsonSignature(signed, 'domain', 'ed25519:1', decodeBase64(`${SPEC_KEY.publicKeyBase64}=`)), true);
  });
});

describe('JSON signature verification', () => {
  const signed = signJson(event(), 'example.org', specKey);
  const verify = (value: JsonObject, signer = 'example.org', keyId = 'ed25519:1', publicKey = specKey.publicKey): boolean =>
    verifyJsonSignature(value, signer, keyId, publicKey);
  const withSignature = (signature: JsonValue): JsonObject => ({ ...signed, signatures: { 'example.org': { 'ed25519:1': signature } } });

  it('accepts the signed object with either backend', () => {
    for (const backend of backends) assert.equal(verifyJsonSignature(signed, 'example.org', 'ed25519:1', specKey.publicKey, backend), true);
  });

  it('ignores changes to unsigned and to other signers', () => {
    assert.equal(verify({ ...signed, unsigned: { age: 99, extra: true } }), true);
    const { unsigned: _unsigned, ...withoutUnsigned } = signed;
    assert.equal(verify(withoutUnsigned), true);
    const signatures = signed['signatures'] as JsonObject;
    assert.equal(verify({ ...signed, signatures: { ...signatures, 'third.example': { 'ed25519:z': 'eg' } } }), true);
  });

  it('rejects any change to covered content', () => {
    assert.equal(verify({ ...signed, depth: 13 }), false);
    assert.equal(verify({ ...signed, content: { membership: 'join' } }), false);
    assert.equal(verify({ ...signed, extra: null }), false);
    const { depth: _depth, ...withoutDepth } = signed;
    assert.equal(verify(withoutDepth), false);
  });

  it('rejects every single-character change of the signature', () => {
    const encoded = (signed['signatures'] as Record<string, Record<string, string>>)['example.org']?.['ed25519:1'] ?? '';
    const bytes = decodeBase64(encoded);
    for (let i = 0; i < bytes.length; i++) {
      const tampered = new Uint8Array(bytes);
      tampered[i] = (tampered[i] as number) ^ 0x10;
      assert.equal(verify(withSignature(encodeUnpaddedBase64(tampered))), false, `byte ${i}`);
    }
  });

  it('is false for missing, malformed and undecodable signatures', () => {
    assert.equal(verify({ ...event(), signatures: undefined as unknown as JsonValue }), false);
    const { signatures: _s, ...unsignedEvent } = signed;
    assert.equal(verify(unsignedEvent), false);
    assert.equal(verify({ ...signed, signatures: 'nope' }), false);
    assert.equal(verify({ ...signed, signatures: { 'example.org': 'nope' } }), false);
    assert.equal(verify(signed, 'someone.else'), false);
    assert.equal(verify(signed, 'example.org', 'ed25519:2'), false);
    assert.equal(verify(withSignature(42)), false);
    assert.equal(verify(withSignature('not base64!')), false);
    assert.equal(verify(withSignature('Zm9v')), false);
    assert.equal(verify(withSignature('')), false);
  });

  it('is false for the wrong key, a short key, or an unsupported algorithm', () => {
    assert.equal(verify(signed, 'example.org', 'ed25519:1', generateSigningKey().publicKey), false);
    assert.equal(verify(signed, 'example.org', 'ed25519:1', specKey.publicKey.subarray(1)), false);
    const otherAlgorithm = { ...signed, signatures: { 'example.org': { 'curve25519:1': (signed['signatures'] as Record<string, Record<string, string>>)['example.org']?.['ed25519:1'] ?? '' } } };
    assert.equal(verify(otherAlgorithm, 'example.org', 'curve25519:1'), false);
  });

  it('is false, not an exception, for an object that has no canonical JSON form', () => {
    assert.equal(verify({ ...signed, ratio: 1.5 }), false);
    assert.equal(verify({ ...signed, huge: 2 ** 53 }), false);
  });

  it('does not read signatures from the prototype chain', () => {
    assert.equal(verify(signed, 'constructor'), false);
    assert.equal(verify(signed, 'example.org', '__proto__'), false);
  });

  it('lists only ed25519 key ids of the signer', () => {
    const value = { signatures: { a: { 'ed25519:1': 'x', 'curve25519:2': 'y', 'ed25519:3': 'z' } } };
    assert.deepEqual(signatureKeyIds(value, 'a'), ['ed25519:1', 'ed25519:3']);
    assert.deepEqual(signatureKeyIds(value, 'b'), []);
    assert.deepEqual(signatureKeyIds({}, 'a'), []);
  });
});
