import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeHttpServer } from './close-http-server.js';

/** A server whose requests answer only when `release` is called. */
async function startSlowServer(): Promise<{ server: ReturnType<typeof createServer>; port: number; release: () => void; arrived: Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let arrive!: () => void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const server = createServer((_req, res) => {
    arrive();
    void released.then(() => res.end('done'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, release, arrived };
}

function get(port: number): Promise<{ status: number | undefined; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

describe('closeHttpServer', () => {
  it('lets a request in flight finish when it ends within the grace period', async () => {
    const slow = await startSlowServer();
    const answer = get(slow.port);
    await slow.arrived;
    const closing = closeHttpServer(slow.server, 10_000);
    slow.release();
    assert.equal(await closing, 'drained');
    assert.deepEqual(await answer, { status: 200, body: 'done' });
  });

  it('cuts off a request still running when the grace period ends', async () => {
    const slow = await startSlowServer();
    const answer = get(slow.port);
    await slow.arrived;
    assert.equal(await closeHttpServer(slow.server, 50), 'cut-off');
    assert.ok('error' in (await answer), 'the client sees its connection closed');
    slow.release();
  });

  it('closes an idle server at once', async () => {
    const slow = await startSlowServer();
    assert.equal(await closeHttpServer(slow.server, 10_000), 'drained');
    assert.equal(slow.server.listening, false);
  });
});
