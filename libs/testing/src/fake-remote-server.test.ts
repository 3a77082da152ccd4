import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRoomVersion, verifyEventSignatures } from '@membrane/events';
import { parseServerKeyResponse, parseXMatrixHeader, verifyRequestSignature } from '@membrane/signing';
import { startFakeRemoteServer } from './fake-remote-server.js';
import type { FakeRemoteServer } from './fake-remote-server.js';
import { createTestCertificateAuthority } from './test-ca.js';
import type { TestCertificateAuthority } from './test-ca.js';

function getJson(url: string, ca: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    get(url, { ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown));
    }).on('error', reject);
  });
}

describe('test CA and fake remote server', () => {
  let dir = '';
  let ca: TestCertificateAuthority;
  let remote: FakeRemoteServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fake-remote-'));
    ca = createTestCertificateAuthority(join(dir, 'ca'));
    remote = await startFakeRemoteServer({ ca, routes: { 'PUT /_matrix/echo': (body) => ({ status: 200, body: { got: body ?? null } }) } });
  });

  after(async () => {
    await remote?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('issues certificates for the named hosts, signed by the CA', () => {
    const issued = ca.issue('leaf', ['127.0.0.1', 'hs.test']);
    const certificate = new X509Certificate(issued.cert);
    assert.equal(certificate.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(certificate.checkHost('hs.test'), 'hs.test');
    assert.equal(certificate.verify(new X509Certificate(ca.caPem).publicKey), true);
  });

  it('is named 127.0.0.1:<port> and serves its self-signed key document over HTTPS trusted through the CA', async () => {
    assert.match(remote.serverName, /^127\.0\.0\.1:\d+$/);
    const keys = parseServerKeyResponse(await getJson(`${remote.url}/_matrix/key/v2/server`, ca.caPem), remote.serverName);
    assert.deepEqual(keys.verifyKeys.get(remote.key.keyId), remote.key.publicKey);
    assert.ok(keys.validUntilTs > Date.now());
    remote.setKeyDocumentOptions({ validForMs: -1000 });
    const expired = parseServerKeyResponse(await getJson(`${remote.url}/_matrix/key/v2/server`, ca.caPem), remote.serverName);
    assert.ok(expired.validUntilTs < Date.now());
    remote.setKeyDocument(() => ({ forged: true }));
    assert.deepEqual(await getJson(`${remote.url}/_matrix/key/v2/server`, ca.caPem), { forged: true });
    remote.setKeyDocument(undefined);
    remote.setKeyDocumentOptions({});
    assert.equal(remote.keyRequests, 3);
  });

  it('signs requests with X-Matrix so that a receiver verifies them, and can bend every part', async () => {
    // Certificates are checked against the destination's server name (sent as Host), as between real servers.
    const certificate = ca.issue('receiver', ['127.0.0.1', 'dest.test']);
    const seen: { authorization: string[]; url: string }[] = [];
    const receiver = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
      seen.push({ authorization: req.headersDistinct['authorization'] ?? [], url: req.url ?? '' });
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const peer = { url: `https://127.0.0.1:${(receiver.address() as AddressInfo).port}`, serverName: 'dest.test' };
      const body = { a: 1 };
      await remote.request(peer, { method: 'PUT', path: '/_matrix/x?y=1', body });
      const [header] = seen[0]?.authorization ?? [];
      assert.ok(header !== undefined);
      const auth = parseXMatrixHeader(header);
      assert.deepEqual([auth.origin, auth.destination, auth.key], [remote.serverName, 'dest.test', remote.key.keyId]);
      assert.equal(seen[0]?.url, '/_matrix/x?y=1');
      assert.equal(verifyRequestSignature({ method: 'PUT', uri: '/_matrix/x?y=1', destination: 'dest.test', content: body }, auth, remote.key.publicKey), true);

      await remote.request(peer, { method: 'PUT', path: '/_matrix/x', body, signedContent: { a: 2 } });
      const bent = parseXMatrixHeader(seen[1]?.authorization[0] ?? '');
      assert.equal(verifyRequestSignature({ method: 'PUT', uri: '/_matrix/x', destination: 'dest.test', content: body }, bent, remote.key.publicKey), false);

      await remote.request(peer, { method: 'GET', path: '/_matrix/x', authorization: null });
      assert.deepEqual(seen[2]?.authorization, []);
      await remote.request(peer, { method: 'GET', path: '/_matrix/x', authorization: ['X-Matrix a', 'X-Matrix b'] });
      assert.deepEqual(seen[3]?.authorization, ['X-Matrix a', 'X-Matrix b']);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('answers configured routes, and signs events and templates as itself', async () => {
    const echo = await remote.request({ url: remote.url, serverName: remote.serverName }, { method: 'PUT', path: '/_matrix/echo', body: { x: 'y' } });
    assert.deepEqual([echo.status, echo.body], [200, { got: { x: 'y' } }]);
    const version = getRoomVersion('11');
    const template = {
      type: 'm.room.member',
      room_id: '!r:hs.test',
      sender: remote.userId('u'),
      state_key: remote.userId('u'),
      content: { membership: 'leave' },
      depth: 3,
      prev_events: ['$p'],
      auth_events: ['$a'],
      origin_server_ts: 1,
    };
    const built = remote.signTemplate(template, version, { reason: 'bye' });
    assert.deepEqual(built.event.content, { membership: 'leave', reason: 'bye' });
    const keys = (server: string, keyId: string): Uint8Array | undefined => (server === remote.serverName && keyId === remote.key.keyId ? remote.key.publicKey : undefined);
    assert.equal(verifyEventSignatures(built.event, version, keys).ok, true);
    assert.equal(verifyEventSignatures(remote.signEvent(template, version), version, keys).ok, true);
  });
});
