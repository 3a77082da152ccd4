// Differential test against python-signedjson 1.1.1 (Debian), an independent
// implementation of JSON signing: it verifies what we sign and we verify what
// it signs, over a batch of varied objects, in one Python process.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import type { JsonObject, JsonValue } from '@membrane/canonical-json';
import { nodeCryptoBackend, tweetnaclBackend } from './backends.js';
import { encodeUnpaddedBase64 } from './base64.js';
import { signJson, verifyJsonSignature } from './sign-json.js';
import { signingKeyFromSeed } from './signing-key.js';

const PYTHON = '/usr/bin/python3';
const SIGNER = 'oracle.example';

// Reads {seed, version, public_key, ours: [...], theirs: [...]} on stdin.
// Verifies every object in `ours` with verify_signed_json, signs every object
// in `theirs` with sign_json, and prints both results as JSON.
const ORACLE = String.raw`
import json, sys
from signedjson.key import decode_signing_key_base64, decode_verify_key_bytes
from signedjson.sign import sign_json, verify_signed_json, SignatureVerifyException
from unpaddedbase64 import decode_base64

request = json.load(sys.stdin)
signing_key = decode_signing_key_base64("ed25519", request["version"], request["seed"])
verify_key = decode_verify_key_bytes("ed25519:" + request["version"], decode_base64(request["public_key"]))

verified = []
for obj in request["ours"]:
    try:
        verify_signed_json(obj, request["signer"], verify_key)
        verified.append(True)
    except SignatureVerifyException:
        verified.append(False)

signed = [sign_json(obj, request["signer"], signing_key) for obj in request["theirs"]]
json.dump({"verified": verified, "signed": signed}, sys.stdout, ensure_ascii=True)
`;

// Integers only: Matrix rejects floats from room v6, and Debian's canonicaljson
// formats them differently from the spec (DESIGN.md).
const jsonValue: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.string({ unit: 'binary', maxLength: 24 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

const topLevel: fc.Arbitrary<JsonObject> = fc
  .record({
    body: fc.dictionary(fc.string({ unit: 'binary', maxLength: 10 }), jsonValue, { maxKeys: 6 }),
    unsigned: fc.option(fc.dictionary(fc.string({ maxLength: 5 }), jsonValue, { maxKeys: 2 }), { nil: undefined }),
    otherSignature: fc.boolean(),
  })
  .map(({ body, unsigned, otherSignature }) => {
    const value: JsonObject = { ...body };
    delete value['signatures'];
    delete value['unsigned'];
    if (unsigned !== undefined) value['unsigned'] = unsigned;
    if (otherSignature) value['signatures'] = { 'third.example': { 'ed25519:z': 'c2ln' } };
    return value;
  });

const FIXED_CASES: JsonObject[] = [
  {},
  { one: 1, two: 'Two' },
  { 'é': 'ünïcödé ☃ 🎉', '\u0000ctl': '\u0001\u001f\u007f', quote: '"\\/', newline: 'a\nb\tc\r\bd\fe' },
  { big: Number.MAX_SAFE_INTEGER, small: Number.MIN_SAFE_INTEGER, zero: 0, nested: { z: [1, { b: [], a: {} }], a: null } },
  { '\ud83d\ude00': 'astral key', '\u2028': 'line separator', '': 'empty key' },
];

describe('python-signedjson differential', () => {
  const key = signingKeyFromSeed('diff1', Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff));
  const samples = [...FIXED_CASES, ...fc.sample(topLevel, { seed: 1123, numRuns: 200 })];

  it('agrees with signedjson in both directions on a batch of varied objects', () => {
    const ours = samples.map((value, i) => signJson(value, SIGNER, key, i % 2 === 0 ? nodeCryptoBackend : tweetnaclBackend));
    // A few deliberately wrong signatures, which signedjson must refuse too.
    const corrupted = ours.slice(0, 5).map((value) => ({ ...value, tampered: true }));
    const input = JSON.stringify({
      seed: encodeUnpaddedBase64(key.seed),
      version: key.version,
      public_key: encodeUnpaddedBase64(key.publicKey),
      signer: SIGNER,
      ours: [...ours, ...corrupted],
      theirs: samples,
    });
    const run = spawnSync(PYTHON, ['-c', ORACLE], { input, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    assert.equal(run.error, undefined, `could not run ${PYTHON}: ${String(run.error)}`);
    assert.equal(run.status, 0, run.stderr);
    const output = JSON.parse(run.stdout) as { verified: boolean[]; signed: JsonObject[] };

    assert.deepEqual(output.verified, [...ours.map(() => true), ...corrupted.map(() => false)]);
    assert.equal(output.signed.length, samples.length);
    output.signed.forEach((theirs, i) => {
      const mine = ours[i] as JsonObject;
      const backend = i % 2 === 0 ? tweetnaclBackend : nodeCryptoBackend;
      assert.equal(verifyJsonSignature(theirs, SIGNER, key.keyId, key.publicKey, backend), true, `case ${i} (${backend.name})`);
      // Ed25519 is deterministic: equal signed bytes give equal signatures.
      assert.deepEqual(theirs, JSON.parse(JSON.stringify(mine)), `case ${i}: signed objects differ`);
    });
  });
});
