// Key documents through a notary: believed only when the configured notary
// key signed them, used only when the server itself cannot be reached.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@membrane/canonical-json';
import { buildServerKeyResponse, encodeVerifyKey, generateSigningKey, signJson } from '@membrane/signing';
import { NotaryKeyFetcher, notarisedDocument, notaryQueryBody } from './notary.js';
import type { NotaryConfig } from './notary.js';

const origin = generateSigningKey('o1');
const notaryKey = generateSigningKey('n1');
const notary: NotaryConfig = { serverName: 'notary.test', verifyKeys: { [notaryKey.keyId]: encodeVerifyKey(notaryKey) } };
const originDocument = buildServerKeyResponse('origin.test', [origin], [], Date.now() + 60_000);
const notarised = (document: JsonObject, key = notaryKey): JsonObject => ({ server_keys: [signJson(document, 'notary.test', key)] });

describe('notarisedDocument', () => {
  it('returns the document the configured notary signed, keeping the origin signature', () => {
    const found = notarisedDocument(notarised(originDocument), 'origin.test', notary);
    assert.ok(found);
    assert.deepEqual(Object.keys(found['signatures'] as JsonObject).sort(), ['notary.test', 'origin.test']);
  });

  it('refuses a document signed by another key, one for another server, and malformed answers', () => {
    assert.equal(notarisedDocument(notarised(originDocument, generateSigningKey('n1')), 'origin.test', notary), undefined);
    assert.equal(notarisedDocument(notarised(originDocument), 'other.test', notary), undefined);
    assert.equal(notarisedDocument({ server_keys: [originDocument] }, 'origin.test', notary), undefined);
    for (const answer of [null, 'x', {}, { server_keys: 'x' }, { server_keys: [1] }]) {
      assert.equal(notarisedDocument(answer, 'origin.test', notary), undefined);
    }
  });

  it('asks for every key of the server', () => {
    assert.deepEqual(notaryQueryBody('origin.test'), { server_keys: { 'origin.test': {} } });
  });
});

describe('NotaryKeyFetcher', () => {
  const calls: string[] = [];
  const transport = {
    async requestJson(serverName: string, method: string, path: string, body?: unknown) {
      calls.push(`${method} ${serverName}${path} ${JSON.stringify(body)}`);
      if (serverName === 'down-notary.test') throw new Error('unreachable');
      return notarised(originDocument);
    },
  };
  const unreachable = { fetchServerKeys: async () => Promise.reject(new Error('origin unreachable')) };

  it('uses the server itself when it answers', async () => {
    calls.length = 0;
    const fetcher = new NotaryKeyFetcher({ fetchServerKeys: async () => originDocument }, transport, [notary]);
    assert.deepEqual(await fetcher.fetchServerKeys('origin.test'), originDocument);
    assert.deepEqual(calls, []);
  });

  it('falls back to the notaries in order, skipping one that fails', async () => {
    calls.length = 0;
    const fetcher = new NotaryKeyFetcher(unreachable, transport, [{ ...notary, serverName: 'down-notary.test' }, notary]);
    const document = (await fetcher.fetchServerKeys('origin.test')) as JsonObject;
    assert.equal(document['server_name'], 'origin.test');
    assert.deepEqual(calls.map((c) => c.split(' ').slice(0, 2).join(' ')), ['POST down-notary.test/_matrix/key/v2/query', 'POST notary.test/_matrix/key/v2/query']);
  });

  it('reports the direct failure when no notary helps', async () => {
    const fetcher = new NotaryKeyFetcher(unreachable, transport, [{ ...notary, verifyKeys: { 'ed25519:n1': encodeVerifyKey(generateSigningKey()) } }]);
    await assert.rejects(fetcher.fetchServerKeys('origin.test'), /origin unreachable/);
  });
});
