import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateSigningKey, parseServerKeyResponse } from '@membrane/signing';
import { OwnKeyDocument } from './own-key-document.js';

const HOUR = 60 * 60 * 1000;

describe('our key document', () => {
  it('publishes the current key, signed by it, with old keys and valid_until_ts = now + the period', () => {
    const now = { ms: 10 * HOUR };
    const key = generateSigningKey('cur');
    const old = generateSigningKey('old');
    const document = new OwnKeyDocument({
      serverName: 'hs.test',
      keys: [key],
      oldKeys: [{ keyId: old.keyId, publicKey: old.publicKey, expiredTs: 1234 }],
      validityPeriodMs: 24 * HOUR,
      clock: () => now.ms,
    }).current();
    const parsed = parseServerKeyResponse(document, 'hs.test');
    assert.equal(parsed.validUntilTs, now.ms + 24 * HOUR);
    assert.deepEqual([...parsed.verifyKeys.keys()], [key.keyId]);
    assert.deepEqual(parsed.oldVerifyKeys.get(old.keyId)?.expiredTs, 1234);
    assert.deepEqual(Object.keys((document['signatures'] as Record<string, object>)['hs.test'] ?? {}), [key.keyId]);
  });

  it('is re-signed only after half of its validity', () => {
    const now = { ms: 10 * HOUR };
    const document = new OwnKeyDocument({ serverName: 'hs.test', keys: [generateSigningKey()], oldKeys: [], validityPeriodMs: 2 * HOUR, clock: () => now.ms });
    const first = document.current();
    now.ms += HOUR - 1;
    assert.equal(document.current(), first);
    now.ms += 1;
    const second = document.current();
    assert.notEqual(second, first);
    assert.equal(second['valid_until_ts'], now.ms + 2 * HOUR);
  });
});
