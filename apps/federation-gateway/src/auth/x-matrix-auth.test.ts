import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '@membrane/matrix-errors';
import { generateSigningKey, signRequest } from '@membrane/signing';
import { authenticateRequest, parseXMatrixHeaders } from './x-matrix-auth.js';

const US = 'hs.test';
const ORIGIN = 'remote.test:8448';
const key = generateSigningKey('k1');
const keys = {
  lookups: 0,
  async keyForRequest(serverName: string, keyId: string) {
    this.lookups += 1;
    return serverName === ORIGIN && keyId === key.keyId ? key.publicKey : undefined;
  },
};

const request = { method: 'PUT', uri: '/_matrix/federation/v2/send_leave/%21r%3Ahs.test/%24e?x=1', content: { a: 1, b: ['c'] } };
const signed = (overrides: Partial<Parameters<typeof signRequest>[0]> = {}, signingKey = key): string =>
  signRequest({ ...request, origin: ORIGIN, destination: US, ...overrides }, signingKey);

async function rejection(promise: Promise<unknown>): Promise<{ status: number; errcode: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof MatrixError, String(err));
    return { status: err.status, errcode: err.errcode, message: err.message };
  }
  assert.fail('expected a rejection');
}

describe('X-Matrix request authentication', () => {
  it('accepts a request signed by a current key of the origin and names the origin', async () => {
    assert.equal(await authenticateRequest({ ...request, authorization: [signed()] }, US, keys), ORIGIN);
  });

  it('accepts a header without destination (older servers), verifying with our name as destination', async () => {
    const header = signed().replace(/destination="[^"]*",/, '');
    assert.doesNotMatch(header, /destination/);
    assert.equal(await authenticateRequest({ ...request, authorization: [header] }, US, keys), ORIGIN);
  });

  it('answers 401 M_UNAUTHORIZED without any X-Matrix header', async () => {
    assert.deepEqual(await rejection(authenticateRequest({ ...request, authorization: [] }, US, keys)), { status: 401, errcode: 'M_UNAUTHORIZED', message: 'Missing Authorization headers' });
    assert.equal((await rejection(authenticateRequest({ ...request, authorization: ['Bearer abc'] }, US, keys))).status, 401);
  });

  it('answers 400 M_UNAUTHORIZED for a malformed header, including an origin that is no server name', async () => {
    for (const header of ['X-Matrix origin=', 'X-Matrix origin="a",key="ed25519:k1"', 'X-Matrix origin="not a server",key="ed25519:k1",sig="abc"', 'X-Matrix origin="a",origin="b",key="k",sig="s"']) {
      const error = await rejection(authenticateRequest({ ...request, authorization: [header] }, US, keys));
      assert.equal(error.status, 400, header);
      assert.equal(error.errcode, 'M_UNAUTHORIZED', header);
    }
  });

  it('answers 401 when the destination is another server, before looking up any key', async () => {
    const before = keys.lookups;
    const error = await rejection(authenticateRequest({ ...request, authorization: [signed({ destination: 'other.test' })] }, US, keys));
    assert.deepEqual(error, { status: 401, errcode: 'M_UNAUTHORIZED', message: 'Destination mismatch in auth header' });
    assert.equal(keys.lookups, before);
  });

  it('answers 401 when the key is unknown or the signature does not cover this request', async () => {
    const unknownKey = await rejection(authenticateRequest({ ...request, authorization: [signed({}, generateSigningKey('k2'))] }, US, keys));
    assert.equal(unknownKey.status, 401);
    assert.match(unknownKey.message, /Failed to find any key/);
    for (const tampered of [{ method: 'GET' }, { uri: '/_matrix/federation/v2/send_leave/%21r%3Ahs.test/%24e' }, { content: { a: 2, b: ['c'] } }, { content: undefined }]) {
      const error = await rejection(authenticateRequest({ ...request, ...tampered, authorization: [signed()] }, US, keys));
      assert.deepEqual(error, { status: 401, errcode: 'M_UNAUTHORIZED', message: `Invalid signature for server ${ORIGIN}` }, JSON.stringify(tampered));
    }
    const impostor = generateSigningKey('k1');
    assert.equal((await rejection(authenticateRequest({ ...request, authorization: [signed({}, impostor)] }, US, keys))).status, 401);
  });

  it('skips non-X-Matrix headers and succeeds when any X-Matrix header verifies', async () => {
    const bad = signed({}, generateSigningKey('k1'));
    assert.equal(await authenticateRequest({ ...request, authorization: ['Bearer x', bad, signed()] }, US, keys), ORIGIN);
    assert.equal(parseXMatrixHeaders(['Basic abc']).length, 0);
  });

  it('answers 400 M_BAD_JSON when the body has no canonical JSON form', async () => {
    const error = await rejection(authenticateRequest({ ...request, content: { a: 1.5 }, authorization: [signed({ content: { a: 1 } })] }, US, keys));
    assert.deepEqual([error.status, error.errcode], [400, 'M_BAD_JSON']);
  });
});
