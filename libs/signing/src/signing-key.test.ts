import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBase64, encodeUnpaddedBase64 } from './base64.js';
import {
  SigningKeyError,
  encodeVerifyKey,
  formatSigningKeyFile,
  generateSigningKey,
  parseSigningKeyFile,
  randomKeyVersion,
  signingKeyFromSeed,
} from './signing-key.js';
import { SPEC_KEY } from './test-support/vectors.js';

const specSeed = decodeBase64(SPEC_KEY.seedBase64);

describe('signing keys', () => {
  it('derive key id and public key from a version and seed', () => {
    const key = signingKeyFromSeed('1', specSeed);
    assert.equal(key.algorithm, 'ed25519');
    assert.equal(key.version, '1');
    assert.equal(key.keyId, 'ed25519:1');
    assert.equal(encodeUnpaddedBase64(key.seed), SPEC_KEY.seedCanonicalBase64);
    assert.equal(encodeVerifyKey(key), SPEC_KEY.publicKeyBase64);
  });

  it('keep their own copy of the seed and cannot be modified', () => {
    const seed = new Uint8Array(specSeed);
    const key = signingKeyFromSeed('1', seed);
    seed.fill(0);
    assert.equal(encodeUnpaddedBase64(key.seed), SPEC_KEY.seedCanonicalBase64);
    assert.ok(Object.isFrozen(key));
  });

  it('refuse versions outside [A-Za-z0-9_] and seeds that are not 32 bytes', () => {
    assert.throws(() => signingKeyFromSeed('', specSeed), SigningKeyError);
    assert.throws(() => signingKeyFromSeed('a:b', specSeed), SigningKeyError);
    assert.throws(() => signingKeyFromSeed('a b', specSeed), SigningKeyError);
    assert.throws(() => signingKeyFromSeed('1', specSeed.subarray(0, 31)), SigningKeyError);
  });

  it('are generated with a fresh random seed and a Synapse-style version', () => {
    const first = generateSigningKey();
    const second = generateSigningKey();
    assert.match(first.version, /^a_[A-Za-z0-9]{4}$/);
    assert.equal(first.keyId, `ed25519:${first.version}`);
    assert.equal(first.seed.length, 32);
    assert.notDeepEqual(first.seed, second.seed);
    assert.equal(generateSigningKey('auto').keyId, 'ed25519:auto');
  });

  it('get varied random versions', () => {
    const versions = new Set(Array.from({ length: 50 }, () => randomKeyVersion()));
    assert.ok(versions.size > 45);
  });
});

describe('signing.key files', () => {
  it('read one key per line in the Synapse format', () => {
    const [key, ...rest] = parseSigningKeyFile(`ed25519 1 ${SPEC_KEY.seedBase64}\n`);
    assert.equal(rest.length, 0);
    assert.ok(key);
    assert.equal(key.keyId, 'ed25519:1');
    assert.equal(encodeVerifyKey(key), SPEC_KEY.publicKeyBase64);
  });

  it('accept a padded seed and give the same key as the unpadded one', () => {
    const [padded] = parseSigningKeyFile(`ed25519 1 ${SPEC_KEY.seedBase64}=`);
    assert.ok(padded);
    assert.deepEqual(padded.seed, specSeed);
    assert.deepEqual(padded.publicKey, decodeBase64(SPEC_KEY.publicKeyBase64));
  });

  it('read several keys, skipping blank lines and tolerating CRLF and extra spaces', () => {
    const other = generateSigningKey('a_Obwu');
    const text = `\ned25519 1 ${SPEC_KEY.seedBase64}\r\n  \ned25519\ta_Obwu   ${encodeUnpaddedBase64(other.seed)}  \n\n`;
    const keys = parseSigningKeyFile(text);
    assert.deepEqual(
      keys.map((key) => key.keyId),
      ['ed25519:1', 'ed25519:a_Obwu'],
    );
    assert.deepEqual(keys[1]?.publicKey, other.publicKey);
  });

  it('round-trip through format and parse', () => {
    const keys = [generateSigningKey(), generateSigningKey('old_1'), signingKeyFromSeed('1', specSeed)];
    const text = formatSigningKeyFile(keys);
    assert.equal(text.split('\n').length, 4);
    assert.ok(text.endsWith('\n'));
    assert.ok(text.includes(`ed25519 1 ${SPEC_KEY.seedCanonicalBase64}\n`));
    assert.deepEqual(parseSigningKeyFile(text), keys);
  });

  it('name the bad line and never echo the seed in errors', () => {
    const cases: ReadonlyArray<readonly [string, RegExp]> = [
      [`ed25519 1 ${SPEC_KEY.seedBase64}\ned25519 2\n`, /line 2: expected "ed25519 <version> <base64 seed>", found 2 field/],
      [`curve25519 1 ${SPEC_KEY.seedBase64}`, /line 1: unsupported algorithm "curve25519"/],
      [`\n\ned25519 1 ${SPEC_KEY.seedBase64}!`, /line 3: seed is not valid base64/],
      [`ed25519 1 ${SPEC_KEY.seedBase64.slice(0, 40)}`, /line 1: an ed25519 seed must be 32 bytes/],
      [`ed25519 a-b ${SPEC_KEY.seedBase64}`, /line 1: key version "a-b"/],
      [`ed25519 1 ${SPEC_KEY.seedBase64} extra`, /line 1: .*found 4 field/],
    ];
    for (const [text, expected] of cases) {
      assert.throws(
        () => parseSigningKeyFile(text),
        (error: unknown) => {
          assert.ok(error instanceof SigningKeyError);
          assert.match(error.message, expected);
          assert.ok(!error.message.includes(SPEC_KEY.seedBase64.slice(0, 20)), 'seed leaked into the error');
          return true;
        },
      );
    }
  });

  it('of no keys are empty', () => {
    assert.deepEqual(parseSigningKeyFile(''), []);
    assert.equal(formatSigningKeyFile([]), '');
  });
});
