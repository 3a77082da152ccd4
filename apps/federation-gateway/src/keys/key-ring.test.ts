import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildServerKeyResponse, generateSigningKey } from '@membrane/signing';
import type { SigningKey } from '@membrane/signing';
import type { ServerKeyFetcher } from './key-fetcher.js';
import { RemoteKeyRing } from './key-ring.js';

const DAY = 24 * 60 * 60 * 1000;
const REMOTE = 'remote.test';

/** A fetcher serving whatever document the test sets, counting calls. */
class ScriptedFetcher implements ServerKeyFetcher {
  calls = 0;
  document: (() => unknown) | undefined;
  failure: Error | undefined;
  async fetchServerKeys(serverName: string): Promise<unknown> {
    this.calls += 1;
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failure !== undefined) throw this.failure;
    assert.equal(serverName, REMOTE);
    return this.document?.();
  }
}

function setup(now: { ms: number }) {
  const fetcher = new ScriptedFetcher();
  const own = generateSigningKey('own1');
  const warnings: string[] = [];
  const ring = new RemoteKeyRing({
    fetcher,
    own: { serverName: 'hs.test', verifyKeys: new Map([[own.keyId, own.publicKey]]), oldVerifyKeys: [] },
    retryAfterFailureMs: 30_000,
    clock: () => now.ms,
    logger: { warn: (_fields, message) => warnings.push(message) },
  });
  return { fetcher, ring, own, warnings };
}

const documentOf = (key: SigningKey, validUntilTs: number, old: { key: SigningKey; expiredTs: number }[] = []) => () =>
  buildServerKeyResponse(REMOTE, [key], old.map((o) => ({ keyId: o.key.keyId, publicKey: o.key.publicKey, expiredTs: o.expiredTs })), validUntilTs);

describe('remote key ring', () => {
  it('fetches a server key once, then answers from its cache', async () => {
    const now = { ms: 1_000_000 };
    const { fetcher, ring } = setup(now);
    const key = generateSigningKey('k1');
    fetcher.document = documentOf(key, now.ms + DAY);
    assert.deepEqual(await ring.keyForRequest(REMOTE, key.keyId), key.publicKey);
    assert.deepEqual(await ring.keyForRequest(REMOTE, key.keyId), key.publicKey);
    assert.equal(fetcher.calls, 1);
  });

  it('shares one fetch between concurrent lookups', async () => {
    const now = { ms: 1_000_000 };
    const { fetcher, ring } = setup(now);
    const key = generateSigningKey('k1');
    fetcher.document = documentOf(key, now.ms + DAY);
    const keys = await Promise.all([ring.keyForRequest(REMOTE, key.keyId), ring.keyForRequest(REMOTE, key.keyId), ring.keyForEvent(REMOTE, key.keyId, 0)]);
    assert.equal(fetcher.calls, 1);
    for (const found of keys) assert.deepEqual(found, key.publicKey);
  });

  it('refuses an expired key for requests and does not refetch within the retry interval', async () => {
    const now = { ms: 1_000_000 };
    const { fetcher, ring } = setup(now);
    const key = generateSigningKey('k1');
    fetcher.document = documentOf(key, now.ms - 1);
    assert.equal(await ring.keyForRequest(REMOTE, key.keyId), undefined);
    assert.equal(await ring.keyForRequest(REMOTE, key.keyId), undefined);
    assert.equal(fetcher.calls, 1);
    now.ms += 30_001;
    fetcher.document = documentOf(key, now.ms + DAY);
    assert.deepEqual(await ring.keyForRequest(REMOTE, key.keyId), key.publicKey);
    assert.equal(fetcher.calls, 2);
  });

  it('refetches in the background after half of the lifetime and keeps answering meanwhile', async () => {
    const now = { ms: 1_000_000 };
    const { fetcher, ring } = setup(now);
    const key = generateSigningKey('k1');
    fetcher.document = documentOf(key, now.ms + DAY);
    await ring.keyForRequest(REMOTE, key.keyId);
    now.ms += DAY / 2 + 1;
    assert.deepEqual(await ring.keyForRequest(REMOTE, key.keyId), key.publicKey);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(fetcher.calls, 2);
  });

  it('does not accept a document whose self-signature is wrong', async () => {
    const now = { ms: 1_000_000 };
    const { fetcher, ring, warnings } = setup(now);
    const key = generateSigningKey('k1');
    const impostor = generateSigningKey('k1');
    fetcher.document = () => {
      const document = documentOf(key, now.ms + DAY)() as Record<string, unknown>;
      return { ...document, verify_keys: { [key.keyId]: { key: Buffer.from(impostor.publicKey).toString('base64').replace(/=+$/, '') } } };
    };
    assert.equal(await ring.keyForRequest(REMOTE, key.keyId), undefined);
    assert.equal(warnings.length, 1);
  });

  it('survives a failing fetch and tries again only after the retry interval', async () => {
    const now = { ms: 1_000_000 };
    const { fetcher, ring, warnings } = setup(now);
    fetcher.failure = new Error('connection refused');
    assert.equal(await ring.keyForRequest(REMOTE, 'ed25519:k1'), undefined);
    assert.equal(await ring.keyForRequest(REMOTE, 'ed25519:k1'), undefined);
    assert.equal(fetcher.calls, 1);
    assert.deepEqual(warnings, ['could not get the keys of a server']);
  });

  it('lets an old key verify events sent before it expired, never requests', async () => {
    const now = { ms: 1_000_000 };
    const { fetcher, ring } = setup(now);
    const current = generateSigningKey('new');
    const old = generateSigningKey('old');
    fetcher.document = documentOf(current, now.ms + DAY, [{ key: old, expiredTs: 500_000 }]);
    assert.deepEqual(await ring.keyForEvent(REMOTE, old.keyId, 400_000), old.publicKey);
    assert.equal(await ring.keyForEvent(REMOTE, old.keyId, 600_000), undefined);
    assert.equal(await ring.keyForRequest(REMOTE, old.keyId), undefined);
  });

  it('in room versions that enforce key validity, refuses a key for events after its valid_until_ts', async () => {
    const now = { ms: 1_000_000 };
    const { fetcher, ring } = setup(now);
    const key = generateSigningKey('k1');
    fetcher.document = documentOf(key, now.ms + 1000);
    assert.deepEqual(await ring.keyForEvent(REMOTE, key.keyId, now.ms), key.publicKey);
    assert.equal(await ring.keyForEvent(REMOTE, key.keyId, now.ms + 2000), undefined);
    assert.deepEqual(await ring.keyForEvent(REMOTE, key.keyId, 0), key.publicKey, 'v1-v4 ignore valid_until_ts');
  });

  it('answers our own keys without fetching', async () => {
    const now = { ms: 1_000_000 };
    const { fetcher, ring, own } = setup(now);
    assert.deepEqual(await ring.keyForRequest('hs.test', own.keyId), own.publicKey);
    assert.deepEqual(await ring.keyForEvent('hs.test', own.keyId, now.ms), own.publicKey);
    assert.equal(await ring.keyForEvent('hs.test', 'ed25519:other', now.ms), undefined);
    assert.equal(fetcher.calls, 0);
  });
});
