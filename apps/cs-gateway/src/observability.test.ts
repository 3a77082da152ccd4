// Metrics, request IDs and log redaction of the gateway as a real process,
// in front of a small in-process membership service that records what it
// receives over gRPC.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MembershipServiceService } from '@membrane/proto';
import { createRpcServer, unimplemented } from '@membrane/rpc';
import type { RpcServer } from '@membrane/rpc';
import { startApp } from '@membrane/testing';
import type { AppProcess } from '@membrane/testing';
import { GatewayClient, createUserWithCli } from './test-support/gateway-client.js';
import type { CreatedUser } from './test-support/gateway-client.js';

const LEAVE_ROUTE = '/_matrix/client/v3/rooms/:roomId/leave';
const PERFORM_LEAVE = '/matrix.membership.v1.MembershipService/PerformLeave';

let scratch = '';
let fake: RpcServer;
let fakeAddress = '';
/** `x-request-id` of every PerformLeave the fake received. */
const leaveRequestIds: (string | undefined)[] = [];
let alice: CreatedUser;

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'cs-gateway-obs-'));
  fake = createRpcServer({ logger: { error: () => undefined, warn: () => undefined } });
  fake.add(MembershipServiceService, {
    ...unimplemented(MembershipServiceService),
    async performLeave(_request, context) {
      leaveRequestIds.push(context.requestId);
      return { eventId: '$leave', eventCreated: true };
    },
  });
  fakeAddress = `127.0.0.1:${await fake.start('127.0.0.1:0')}`;
  alice = await createUserWithCli(join(scratch, 'gateway'), 'alice');
});

after(async () => {
  await fake?.shutdown(1000);
  rmSync(scratch, { recursive: true, force: true });
});

function startGateway(env: Record<string, string> = {}): Promise<AppProcess> {
  return startApp('cs-gateway', {
    readyMessage: 'cs gateway listening',
    env: {
      MEMBRANE_CS_DATA_DIR: join(scratch, 'gateway'),
      MEMBRANE_CS_SERVER_NAME: 'hs.test',
      MEMBRANE_CS_LISTEN__PORT: '0',
      MEMBRANE_CS_MEMBERSHIP__ADDRESS: fakeAddress,
      MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__PER_SECOND: '1000',
      MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__BURST: '1000',
      ...env,
    },
  });
}

/** The value of the first sample of `name` whose labels include all of `labels`; 0 when there is none. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

async function scrape(url: string): Promise<string> {
  const answer = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(answer.status, 200);
  assert.match(answer.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return answer.text();
}

describe('cs-gateway observability', () => {
  let gateway: AppProcess;
  let http: GatewayClient;
  let metricsUrl = '';

  before(async () => {
    gateway = await startGateway();
    http = new GatewayClient(String(gateway.ready['url']));
    metricsUrl = String(gateway.ready['metricsUrl']);
  });

  after(async () => {
    await gateway?.stop();
  });

  it('announces /metrics on the client port by default', () => {
    assert.equal(metricsUrl, `${String(gateway.ready['url'])}/metrics`);
  });

  it('echoes the client request ID and passes it to the membership service in gRPC metadata', async () => {
    const answer = await http.call('POST', '/_matrix/client/v3/rooms/!room1:hs.test/leave', {
      token: alice.access_token,
      json: {},
      headers: { 'x-request-id': 'client-trace-42' },
    });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.headers.get('x-request-id'), 'client-trace-42');
    assert.equal(leaveRequestIds.at(-1), 'client-trace-42');
  });

  it('generates a request ID when the client sent none, and uses the same one downstream', async () => {
    const answer = await http.call('POST', '/_matrix/client/v3/rooms/!room2:hs.test/leave', { token: alice.access_token, json: {} });
    assert.equal(answer.status, 200, answer.text);
    const generated = answer.headers.get('x-request-id') ?? '';
    assert.match(generated, /^[0-9a-f-]{36}$/);
    assert.equal(leaveRequestIds.at(-1), generated);
  });

  it('counts requests by route template and gRPC calls by method and code', async () => {
    const before = await scrape(metricsUrl);
    const leavesBefore = sample(before, 'http_requests_total', { method: 'POST', route: LEAVE_ROUTE, status: '200' });
    const grpcBefore = sample(before, 'grpc_client_calls_total', { method: PERFORM_LEAVE, code: 'OK' });
    for (const room of ['!a:hs.test', '!b:hs.test', '!c:hs.test']) {
      const answer = await http.call('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/leave`, { token: alice.access_token, json: {} });
      assert.equal(answer.status, 200, answer.text);
    }
    const unauthenticated = await http.call('POST', '/_matrix/client/v3/rooms/!a:hs.test/leave', { json: {} });
    assert.equal(unauthenticated.status, 401);
    const text = await scrape(metricsUrl);
    assert.equal(sample(text, 'http_requests_total', { method: 'POST', route: LEAVE_ROUTE, status: '200' }), leavesBefore + 3);
    assert.equal(sample(text, 'http_requests_total', { method: 'POST', route: LEAVE_ROUTE, status: '401' }), 1);
    assert.equal(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: LEAVE_ROUTE, status: '200' }), leavesBefore + 3);
    assert.equal(sample(text, 'grpc_client_calls_total', { method: PERFORM_LEAVE, code: 'OK' }), grpcBefore + 3);
    assert.match(text, /^process_resident_memory_bytes\{app="cs-gateway"\} \d+/m);
    assert.ok(!text.includes('hs.test'), 'no room or user IDs in label values');
  });

  it('never logs the access token, whether sent as a header or in the query string', async () => {
    await http.call('POST', '/_matrix/client/v3/rooms/!q:hs.test/leave', { queryToken: alice.access_token, json: {}, headers: { 'x-request-id': 'query-token' } });
    await http.call('POST', '/_matrix/client/v3/rooms/!h:hs.test/leave', { token: alice.access_token, json: {} });
    const line = gateway.logs.find((l) => l['requestId'] === 'query-token');
    assert.ok(line !== undefined, 'the access log line carries the request ID');
    assert.equal(line['status'], 200);
    const logged = JSON.stringify(gateway.logs);
    assert.ok(!logged.includes(alice.access_token), 'the token appears in the logs');
  });
});

describe('cs-gateway metrics on a separate port', () => {
  it('serves /metrics only on metrics.port', async () => {
    const gateway = await startGateway({ MEMBRANE_CS_METRICS__PORT: '0' });
    try {
      const url = String(gateway.ready['url']);
      const metricsUrl = String(gateway.ready['metricsUrl']);
      assert.notEqual(new URL(metricsUrl).port, new URL(url).port);
      assert.match(await scrape(metricsUrl), /http_requests_total|process_cpu_user_seconds_total/);
      const onClientPort = await fetch(`${url}/metrics`);
      assert.equal(onClientPort.status, 404);
    } finally {
      assert.equal(await gateway.stop(), 0);
    }
  });
});
