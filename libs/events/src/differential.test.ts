// Differential test against independent implementations: Debian's
// python3-canonicaljson, python3-signedjson and PyNaCl check the hashes,
// signatures and reference hashes of events we build in every room version.
// Python only sees our redacted copies (it has no redaction of its own), so
// this covers canonical encoding, hashing and signing, not the redaction rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { JsonObject } from '@membrane/canonical-json';
import { encodeUnpaddedBase64 } from '@membrane/signing';
import { buildPdu } from './builder.js';
import { computeReferenceHash } from './hashes.js';
import { redactEvent } from './redaction.js';
import { getRoomVersion, SUPPORTED_ROOM_VERSIONS } from './room-versions.js';
import { SPEC_SERVER, specKey } from './test-support/vectors.js';

const PYTHON = '/usr/bin/python3';

// For each case: content hash over the full event, signature check over the
// redacted event, reference hash over the redacted event without signatures.
const SCRIPT = `
import sys, json, hashlib, base64
from canonicaljson import encode_canonical_json
from signedjson.key import decode_verify_key_bytes
from signedjson.sign import verify_signed_json, SignatureVerifyException

def b64(data):
    return base64.b64encode(data).decode().rstrip("=")

request = json.load(sys.stdin)
verify_key = decode_verify_key_bytes(request["key_id"], base64.b64decode(request["public_key"] + "=="))
answers = []
for case in request["cases"]:
    event = dict(case["event"])
    for key in ("unsigned", "signatures", "hashes"):
        event.pop(key, None)
    content_hash = b64(hashlib.sha256(encode_canonical_json(event)).digest())
    try:
        verify_signed_json(case["redacted"], request["server"], verify_key)
        signature_ok = True
    except SignatureVerifyException:
        signature_ok = False
    redacted = dict(case["redacted"])
    redacted.pop("signatures", None)
    reference_hash = b64(hashlib.sha256(encode_canonical_json(redacted)).digest())
    answers.append({"content_hash": content_hash, "signature_ok": signature_ok, "reference_hash": reference_hash})
json.dump(answers, sys.stdout)
`;

interface PythonAnswer {
  content_hash: string;
  signature_ok: boolean;
  reference_hash: string;
}

describe('events checked by python-canonicaljson / python-signedjson', () => {
  it('agree on content hash, signature and reference hash in every room version', () => {
    const built = SUPPORTED_ROOM_VERSIONS.map((id) => {
      const version = getRoomVersion(id);
      const legacy = version.eventFormat === 'v1';
      const { event } = buildPdu(
        {
          version,
          proto: {
            type: 'm.room.member',
            sender: '@ünïcode:domain',
            state_key: '@ünïcode:domain',
            room_id: version.roomIdFromCreateEvent ? '!P5-6WTYQ_woy6f4nmleE0XqxjtZcyKGza5_gDN-KAdM' : '!room:domain',
            content: { membership: 'leave', reason: 'au revoir 👋 — "quoted" \\ \u2028', 'ﬁ': 1, '😀': [true, null, -9007199254740991] },
          },
          prevEvents: [{ eventId: legacy ? '$p:domain' : '$p', depth: 41, ...(legacy ? { referenceHash: 'cHJldg' } : {}) }],
          authEvents: [],
          originServerTs: 1_700_000_000_000,
          unsigned: { age: 5 },
        },
        { serverName: SPEC_SERVER, key: specKey },
      );
      return { version, event: event as unknown as JsonObject };
    });
    const request = {
      server: SPEC_SERVER,
      key_id: specKey.keyId,
      public_key: encodeUnpaddedBase64(specKey.publicKey),
      cases: built.map(({ version, event }) => ({ event, redacted: redactEvent(event, version) })),
    };
    const run = spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(request), encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 0, `python failed: ${run.stderr}`);
    const answers = JSON.parse(run.stdout) as PythonAnswer[];
    assert.equal(answers.length, built.length);
    built.forEach(({ version, event }, i) => {
      const answer = answers[i]!;
      assert.equal(answer.content_hash, (event['hashes'] as JsonObject)['sha256'], `v${version.id} content hash`);
      assert.equal(answer.signature_ok, true, `v${version.id} signature`);
      assert.equal(answer.reference_hash, encodeUnpaddedBase64(computeReferenceHash(event, version)), `v${version.id} reference hash`);
    });
  });
});
