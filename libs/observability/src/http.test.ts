// The express middlewares over real HTTP on 127.0.0.1.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { pino } from 'pino';
import {
  appLoggerOptions,
  createMetricsRegistry,
  httpMetricsMiddleware,
  metricsHandler,
  requestIdLocalsOf,
  requestIdMiddleware,
  startMetricsServer,
} from './index.js';

let server: Server;
let base = '';
const logLines: Record<string, unknown>[] = [];
const registry = createMetricsRegistry({ app: 'http-test' });

before(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().trim().split('\n')) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino(appLoggerOptions('http-test'), sink);
  const app = express();
  app.use(httpMetricsMiddleware(registry));
  app.use(requestIdMiddleware(logger));
  app.get('/metrics', metricsHandler(registry));
  const router = express.Router();
  router.post('/rooms/:roomId/leave', (_req, res) => {
    requestIdLocalsOf(res)?.log.info({ req: _req }, 'leaving');
    res.json({});
  });
  router.get('/boom', (_req, res) => {
    res.status(500).json({ errcode: 'M_UNKNOWN' });
  });
  app.use('/_matrix/client/v3', router);
  server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

function sampleValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf('}'));
    const found = Object.fromEntries(labelText.split(',').map((pair) => pair.split('=') as [string, string]).map(([k, v]) => [k, v.replace(/"/g, '')]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('HTTP metrics middleware', () => {
  it('counts requests by route template and status, never by raw path', async () => {
    for (const room of ['!abc:hs.test', '!def:hs.test']) {
      const answer = await fetch(`${base}/_matrix/client/v3/rooms/${encodeURIComponent(room)}/leave`, { method: 'POST' });
      assert.equal(answer.status, 200);
    }
    assert.equal((await fetch(`${base}/_matrix/client/v3/boom`)).status, 500);
    assert.equal((await fetch(`${base}/no/such/path/!xyz:hs.test`)).status, 404);
    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await metrics.text();
    const route = '/_matrix/client/v3/rooms/:roomId/leave';
    assert.equal(sampleValue(text, 'http_requests_total', { method: 'POST', route, status: '200', app: 'http-test' }), 2);
    assert.equal(sampleValue(text, 'http_requests_total', { route: '/_matrix/client/v3/boom', status: '500' }), 1);
    assert.equal(sampleValue(text, 'http_requests_total', { route: 'unmatched', status: '404' }), 1);
    assert.equal(sampleValue(text, 'http_request_duration_seconds_count', { method: 'POST', route, status: '200' }), 2);
    assert.ok(!text.includes('abc') && !text.includes('xyz'), 'no raw IDs in label values');
    assert.match(text, /^process_cpu_user_seconds_total\{app="http-test"\} /m, 'default process metrics');
  });
});

describe('request ID middleware', () => {
  it('echoes a sane client ID and logs it on the child logger, without the request credentials', async () => {
    const token = 'syt_c2VjcmV0_TopSecretToken';
    const answer = await fetch(`${base}/_matrix/client/v3/rooms/!r:hs.test/leave?access_token=${token}`, {
      method: 'POST',
      headers: { 'x-request-id': 'client-chosen.1', authorization: `Bearer ${token}` },
    });
    assert.equal(answer.headers.get('x-request-id'), 'client-chosen.1');
    const line = logLines.find((l) => l['msg'] === 'leaving' && l['requestId'] === 'client-chosen.1');
    assert.ok(line !== undefined);
    const logged = JSON.stringify(line);
    assert.ok(!logged.includes(token), logged);
    assert.match(logged, /"authorization":"\[redacted\]"/);
    assert.match(logged, /access_token=\[redacted\]/);
  });

  it('generates a fresh ID when the client sent none or a malformed one', async () => {
    const none = await fetch(`${base}/_matrix/client/v3/rooms/!r:hs.test/leave`, { method: 'POST' });
    const bad = await fetch(`${base}/_matrix/client/v3/rooms/!r:hs.test/leave`, { method: 'POST', headers: { 'x-request-id': 'has spaces and "quotes"' } });
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    assert.match(none.headers.get('x-request-id') ?? '', uuid);
    assert.match(bad.headers.get('x-request-id') ?? '', uuid);
    assert.notEqual(none.headers.get('x-request-id'), bad.headers.get('x-request-id'));
  });
});

describe('separate metrics server', () => {
  it('serves /metrics on its own port and 404 elsewhere', async () => {
    const metricsServer = await startMetricsServer(registry, '127.0.0.1', 0);
    try {
      const answer = await fetch(metricsServer.url);
      assert.equal(answer.status, 200);
      assert.match(await answer.text(), /http_requests_total/);
      assert.equal((await fetch(metricsServer.url.replace('/metrics', '/other'))).status, 404);
    } finally {
      await metricsServer.close();
    }
  });
});
