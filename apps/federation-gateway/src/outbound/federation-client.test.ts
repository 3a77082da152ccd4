// The outbound client against a real HTTPS server with a certificate from a test CA.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, parseXMatrixHeader, verifyRequestSignature } from '@membrane/signing';
import { createTestCertificateAuthority } from '@membrane/testing';
import type { TestCertificateAuthority } from '@membrane/testing';
import { DestinationBackoff } from './destination-backoff.js';
import { FederationClient, FederationRequestError } from './federation-client.js';

interface Seen {
  method: string;
  url: string;
  host: string;
  authorization: string;
  body: string;
  socket: number;
}

describe('FederationClient over HTTPS', () => {
  let dir = '';
  let ca: TestCertificateAuthority;
  let server: Server;
  let destination = '';
  const seen: Seen[] = [];
  const sockets = new Map<object, number>();
  const key = generateSigningKey();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fed-client-'));
    ca = createTestCertificateAuthority(join(dir, 'ca'));
    const certificate = ca.issue('peer', ['127.0.0.1']);
    server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (!sockets.has(req.socket)) sockets.set(req.socket, sockets.size + 1);
        seen.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', authorization: req.headers.authorization ?? '', body: Buffer.concat(chunks).toString('utf8'), socket: sockets.get(req.socket) ?? 0 });
        if (req.url === '/slow') return; // never answers
        res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
        res.end(req.url === '/missing' ? 'not json' : JSON.stringify({ ok: true }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    destination = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs each request with X-Matrix over method, URI, destination and body, and reuses the connection', async () => {
    const client = new FederationClient({ serverName: 'us.test', signingKey: key, extraCa: ca.caPem });
    try {
      const first = await client.request({ destination, method: 'PUT', path: '/_matrix/federation/v1/send/t1', body: { pdus: [], n: 1 } });
      const second = await client.request({ destination, method: 'GET', path: '/_matrix/federation/v1/version?x=1' });
      assert.deepEqual([first.status, first.body, second.status], [200, { ok: true }, 200]);
      const [put, get] = seen.slice(-2) as [Seen, Seen];
      assert.equal(put.host, destination);
      const auth = parseXMatrixHeader(put.authorization);
      assert.deepEqual([auth.origin, auth.destination, auth.key], ['us.test', destination, key.keyId]);
      assert.ok(verifyRequestSignature({ method: 'PUT', uri: put.url, destination, content: JSON.parse(put.body) as never }, auth, key.publicKey));
      assert.ok(verifyRequestSignature({ method: 'GET', uri: '/_matrix/federation/v1/version?x=1', destination }, parseXMatrixHeader(get.authorization), key.publicKey));
      assert.equal(put.socket, get.socket, 'keep-alive: one connection');
    } finally {
      client.close();
    }
  });

  it('answers non-JSON bodies with body undefined and keeps the status', async () => {
    const client = new FederationClient({ serverName: 'us.test', signingKey: key, extraCa: ca.caPem });
    try {
      const answer = await client.request({ destination, method: 'GET', path: '/missing' });
      assert.deepEqual(answer, { status: 404, body: undefined });
    } finally {
      client.close();
    }
  });

  it('verifies the certificate: without the CA the destination is unreachable', async () => {
    const client = new FederationClient({ serverName: 'us.test', signingKey: key });
    try {
      await assert.rejects(client.request({ destination, method: 'GET', path: '/x' }), (err: unknown) => err instanceof FederationRequestError && err.kind === 'unreachable' && /certificate/i.test(err.message));
    } finally {
      client.close();
    }
  });

  it('bounds a request by its deadline, then backs off from the destination unless told not to', async () => {
    const backoff = new DestinationBackoff({ initialMs: 60_000 });
    const client = new FederationClient({ serverName: 'us.test', signingKey: key, extraCa: ca.caPem, backoff });
    try {
      const started = Date.now();
      await assert.rejects(client.request({ destination, method: 'GET', path: '/slow', timeoutMs: 200 }), (err: unknown) => err instanceof FederationRequestError && err.kind === 'timed-out');
      assert.ok(Date.now() - started < 5_000);
      await assert.rejects(client.request({ destination, method: 'GET', path: '/x' }), (err: unknown) => err instanceof FederationRequestError && err.kind === 'backing-off' && err.retryAtMs !== undefined);
      const forced = await client.request({ destination, method: 'GET', path: '/x', ignoreBackoff: true });
      assert.equal(forced.status, 200);
      assert.equal(backoff.retryAt(destination), undefined, 'an answer ends the backoff');
    } finally {
      client.close();
    }
  });
});
