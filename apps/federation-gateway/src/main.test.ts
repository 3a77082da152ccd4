// The gateway's command line and serving modes as a real process: help, bad
// configuration, a generated self-signed certificate, plain HTTP behind a
// proxy, certificate verification of peers, and SIGTERM.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseServerKeyResponse } from '@membrane/signing';
import { createTestCertificateAuthority, startApp, startFakeRemoteServer } from '@membrane/testing';
import type { TestCertificateAuthority } from '@membrane/testing';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

function httpsGetJson(url: string, ca: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    get(url, { ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
    }).on('error', reject);
  });
}

async function startGateway(dataDir: string, env: Record<string, string>) {
  const app = await startApp('federation-gateway', {
    readyMessage: 'federation gateway listening',
    env: {
      MEMBRANE_FED_SERVER_NAME: 'hs.test',
      MEMBRANE_FED_LISTEN: '127.0.0.1:0',
      MEMBRANE_FED_GRPC__LISTEN: '127.0.0.1:0',
      MEMBRANE_FED_DATA_DIR: dataDir,
      // Never contacted by these tests (so the transaction sender is off).
      MEMBRANE_FED_MEMBERSHIP__ADDRESS: '127.0.0.1:1',
      MEMBRANE_FED_SENDER__ENABLED: 'false',
      ...env,
    },
  });
  return { ...app, url: String(app.ready['url']) };
}

describe('federation-gateway process', () => {
  let dir = '';
  let ca: TestCertificateAuthority;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fed-main-'));
    ca = createTestCertificateAuthority(join(dir, 'ca'));
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints help', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--help'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 0);
    assert.match(result.stdout, /Usage: federation-gateway/);
    assert.match(result.stdout, /MEMBRANE_FED_/);
  });

  it('refuses a bad configuration with exit code 2 and names the bad key', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'serverName: "not a server name!"\nlisten: 127.0.0.1:0\n');
    const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--config', file], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /serverName/);
    const missingCert = spawnSync(process.execPath, ['--import', 'tsx', MAIN], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, MEMBRANE_FED_LISTEN: '127.0.0.1:0', MEMBRANE_FED_DATA_DIR: join(dir, 'm'), MEMBRANE_FED_TLS__CERT_FILE: join(dir, 'none.crt'), MEMBRANE_FED_TLS__KEY_FILE: join(dir, 'none.key') },
    });
    assert.equal(missingCert.status, 2);
    assert.match(missingCert.stderr, /tls\.certFile: cannot read/);
  });

  it('generates a self-signed certificate and a signing key when none are configured, serves HTTPS, and stops on SIGTERM', async () => {
    const dataDir = join(dir, 'self-signed');
    const gateway = await startGateway(dataDir, {});
    try {
      assert.match(gateway.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const certificate = readFileSync(join(dataDir, 'tls', 'selfsigned.crt'), 'utf8');
      const answer = await httpsGetJson(`${gateway.url}/_matrix/key/v2/server`, certificate);
      assert.equal(answer.status, 200);
      const keys = parseServerKeyResponse(answer.body, 'hs.test');
      assert.equal(keys.verifyKeys.size, 1);
      assert.match(readFileSync(join(dataDir, 'signing.key'), 'utf8'), new RegExp(`^ed25519 ${[...keys.verifyKeys.keys()][0]?.slice(8)} `));
      await assert.rejects(httpsGetJson(`${gateway.url}/_matrix/key/v2/server`, ca.caPem), /self[- ]signed|unable to verify/i);
    } finally {
      assert.equal(await gateway.stop(), 0);
    }
  });

  it('serves plain HTTP when TLS is terminated by a proxy', async () => {
    const gateway = await startGateway(join(dir, 'plain'), { MEMBRANE_FED_TLS__ENABLED: 'false' });
    try {
      assert.match(gateway.url, /^http:\/\//);
      const answer = await fetch(`${gateway.url}/_matrix/federation/v1/version`, { headers: { 'x-request-id': 'peer-req-7' } });
      assert.equal(answer.status, 200);
      assert.deepEqual(await answer.json(), { server: { name: 'membrane-federation-gateway', version: '0.1.0' } });
      assert.equal(answer.headers.get('x-request-id'), 'peer-req-7', 'the request ID is echoed');
      assert.match((await fetch(`${gateway.url}/healthz`)).headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, 'one is made when the peer sends none');
    } finally {
      await gateway.stop();
    }
  });

  it('answers liveness always and readiness only while the membership service answers', async () => {
    const gateway = await startGateway(join(dir, 'probes'), { MEMBRANE_FED_TLS__ENABLED: 'false' });
    try {
      const live = await fetch(`${gateway.url}/healthz`);
      assert.equal(live.status, 200);
      assert.deepEqual(await live.json(), { status: 'ok' });
      // These tests point the gateway at a membership address where nothing listens.
      const ready = await fetch(`${gateway.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(((await ready.json()) as { errcode: string }).errcode, 'M_UNKNOWN');
    } finally {
      await gateway.stop();
    }
  });

  it('serves Prometheus metrics by route template when a metrics port is set', async () => {
    const gateway = await startGateway(join(dir, 'metrics'), { MEMBRANE_FED_TLS__ENABLED: 'false', MEMBRANE_FED_METRICS__PORT: '0' });
    try {
      const metricsUrl = String(gateway.ready['metricsUrl']);
      assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+/);
      assert.equal((await fetch(`${gateway.url}/_matrix/federation/v1/version`)).status, 200);
      assert.equal((await fetch(`${gateway.url}/_matrix/federation/v1/make_leave/!r:hs.test/@u:hs.test`)).status, 401);
      const text = await (await fetch(metricsUrl.endsWith('/metrics') ? metricsUrl : `${metricsUrl}/metrics`)).text();
      assert.match(text, /http_requests_total\{[^}]*route="\/_matrix\/federation\/v1\/version"[^}]*status="200"[^}]*\} 1/);
      assert.match(text, /http_requests_total\{[^}]*route="\/_matrix\/federation\/v1\/make_leave\/\{roomId\}\/\{userId\}"[^}]*status="401"[^}]*\} 1/);
      assert.ok(!text.includes('!r:hs.test'), 'raw IDs never become label values');
    } finally {
      await gateway.stop();
    }
  });

  it('verifies peer certificates: without the peer CA in tls.caFile, its keys cannot be fetched (401)', async () => {
    const certificate = ca.issue('untrusting', ['127.0.0.1', 'hs.test']);
    const gateway = await startGateway(join(dir, 'untrusting'), { MEMBRANE_FED_TLS__CERT_FILE: certificate.certFile, MEMBRANE_FED_TLS__KEY_FILE: certificate.keyFile });
    const remote = await startFakeRemoteServer({ ca });
    try {
      const answer = await remote.request({ url: gateway.url, serverName: 'hs.test' }, { method: 'GET', path: '/_matrix/federation/v1/make_leave/%21r%3Ahs.test/%40u%3A127.0.0.1' });
      assert.equal(answer.status, 401);
      assert.equal((answer.body as { errcode: string }).errcode, 'M_UNAUTHORIZED');
      assert.equal(remote.keyRequests, 0, 'the TLS handshake failed before any request');
      // The log line may arrive on stdout just after the answer: wait for it, bounded.
      const logged = (): boolean => gateway.logs.some((line) => line['msg'] === 'could not get the keys of a server' && /certificate/i.test(String(line['err'])));
      for (let waited = 0; !logged() && waited < 5_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      assert.ok(logged());
    } finally {
      await remote.stop();
      await gateway.stop();
    }
  });
});
