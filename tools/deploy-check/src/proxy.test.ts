// deploy/proxy/nginx.conf, run for real when nginx is installed: nginx -t
// accepts it, and requests through it reach the right backend with the
// request URI exactly as the client sent it (%2F and friends untouched).
// Only the upstream addresses, the listen ports and the certificate paths
// are changed for the test, each substitution checked to have happened.
// Without nginx on the machine these tests are skipped, saying why.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './tools.js';

const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((p) => spawnSync(p, ['-v']).status === 0);
const skip = NGINX === undefined ? 'nginx is not installed (apt-get install nginx-light to run these)' : false;

type Backend = 'cs' | 'federation' | 'homeserver';
interface Seen {
  readonly backend: Backend;
  readonly method: string;
  readonly url: string;
  readonly forwardedFor: string | undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function answer(backend: Backend) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    req.on('end', () => {
      const seen: Seen = { backend, method: req.method ?? '', url: req.url ?? '', forwardedFor: req.headers['x-forwarded-for'] as string | undefined };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen));
    });
  };
}

async function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

/** The example config with test addresses, failing if a substitution no longer finds its target. */
function testVariant(text: string, ports: Record<Backend, number>, listenPort: number, cert: string, key: string): string {
  const replacements: [RegExp, string][] = [
    [/server cs-gateway:8008;/, `server 127.0.0.1:${ports.cs};`],
    [/server federation-gateway:8448;/, `server 127.0.0.1:${ports.federation};`],
    [/server synapse:8008;/, `server 127.0.0.1:${ports.homeserver};`],
    [/listen 443 ssl;/, `listen 127.0.0.1:${listenPort} ssl;`],
    [/\n\s*listen \[::\]:443 ssl;/, ''],
    [/\n\s*listen 8448 ssl;/, ''],
    [/\n\s*listen \[::\]:8448 ssl;/, ''],
    [/ssl_certificate \S+;/, `ssl_certificate ${cert};`],
    [/ssl_certificate_key \S+;/, `ssl_certificate_key ${key};`],
  ];
  let out = text;
  for (const [pattern, replacement] of replacements) {
    assert.match(out, pattern, `deploy/proxy/nginx.conf no longer has ${String(pattern)}`);
    out = out.replace(pattern, replacement);
  }
  return out;
}

describe('deploy/proxy/nginx.conf', { skip }, () => {
  let dir = '';
  let nginx: ChildProcess | undefined;
  let proxyPort = 0;
  let caPem = '';
  let nginxLog = '';
  const servers: Server[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-proxy-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', key, '-out', cert],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(made.status, 0, made.stderr);
    caPem = readFileSync(cert, 'utf8');
    const tls = { cert: caPem, key: readFileSync(key, 'utf8') };
    const cs = createHttpServer(answer('cs'));
    const federation = createHttpsServer(tls, answer('federation'));
    const homeserver = createHttpServer(answer('homeserver'));
    servers.push(cs, federation, homeserver);
    const ports = { cs: await listen(cs), federation: await listen(federation), homeserver: await listen(homeserver) };
    proxyPort = await freePort();
    const site = testVariant(readFileSync(join(REPO_ROOT, 'deploy/proxy/nginx.conf'), 'utf8'), ports, proxyPort, cert, key);
    writeFileSync(join(dir, 'membrane.conf'), site);
    // The example belongs in the http block; this is the smallest main file around it.
    writeFileSync(
      join(dir, 'nginx.conf'),
      [
        'daemon off;',
        'worker_processes 1;',
        `pid ${join(dir, 'nginx.pid')};`,
        'error_log stderr warn;',
        'events { worker_connections 64; }',
        'http {',
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, `${t}_temp`)};`),
        `  include ${join(dir, 'membrane.conf')};`,
        '}',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    if (nginx !== undefined && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx?.once('exit', resolve));
      nginx.kill('SIGTERM'); // fast shutdown: do not wait for idle keep-alive connections
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      if (nginx.exitCode === null) nginx.kill('SIGKILL');
    }
    for (const server of servers) server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is accepted by nginx -t', () => {
    const result = spawnSync(NGINX ?? 'nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /test is successful/);
  });

  async function get(method: string, path: string): Promise<Seen> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: proxyPort, method, path, ca: caPem, servername: 'localhost', timeout: 5_000, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as Seen) : reject(new Error(`${res.statusCode ?? 0}: ${body}`))));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(method === 'GET' ? undefined : '{}');
    });
  }

  it('routes our paths to the gateways and every other path to the homeserver, passing the URI unchanged', { timeout: 60_000 }, async () => {
    nginx = spawn(NGINX ?? 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    nginx.stderr?.on('data', (chunk: Buffer) => (nginxLog += chunk.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const up = await get('GET', '/_matrix/client/versions').then(
        () => true,
        () => false,
      );
      if (up) break;
      assert.ok(Date.now() < deadline && nginx.exitCode === null, `nginx did not come up:\n${nginxLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const cases: [string, string, Backend][] = [
      ['POST', '/_matrix/client/v3/rooms/%21room%3Aexample.org/leave', 'cs'],
      ['POST', '/_matrix/client/r0/rooms/!room:example.org/forget?access_token=a%2Fb', 'cs'],
      ['POST', '/_matrix/client/v3/rooms/!r:example.org/join', 'cs'],
      ['POST', '/_matrix/client/v3/rooms/!r:example.org/invite', 'cs'],
      ['POST', '/_matrix/client/v3/rooms/!r:example.org/kick', 'cs'],
      ['POST', '/_matrix/client/v3/rooms/!r:example.org/ban', 'cs'],
      ['POST', '/_matrix/client/v3/rooms/!r:example.org/unban', 'cs'],
      ['GET', '/_matrix/client/v3/rooms/!r:example.org/members', 'cs'],
      ['PUT', '/_matrix/client/v3/rooms/!r:example.org/state/m.room.member/%40alice%3Aexample.org', 'cs'],
      ['POST', '/_matrix/client/v3/join/%23lobby%3Aexample.org', 'cs'],
      ['POST', '/_matrix/client/v3/createRoom', 'cs'],
      ['GET', '/_matrix/client/v3/joined_rooms', 'cs'],
      ['GET', '/_matrix/client/v3/sync?since=s1', 'homeserver'],
      ['GET', '/_matrix/client/v3/rooms/!r:example.org/messages', 'homeserver'],
      ['PUT', '/_matrix/client/v3/rooms/!r:example.org/state/m.room.topic/', 'homeserver'],
      ['PUT', '/_matrix/client/v3/rooms/!r:example.org/state/m.room.member.x/a', 'homeserver'],
      ['GET', '/_matrix/client/v3/rooms/!r:example.org/leave/extra', 'homeserver'],
      ['POST', '/_matrix/client/v3/login', 'homeserver'],
      ['GET', '/_matrix/federation/v1/make_leave/%21r%3Aexample.org/%40bob%3Aother.org', 'federation'],
      ['GET', '/_matrix/federation/v1/make_join/!r:example.org/@bob:other.org?ver=10&ver=12', 'federation'],
      // Room version 3 event IDs are standard base64: "/" and "+" arrive escaped and must stay so.
      ['PUT', '/_matrix/federation/v2/send_leave/%21r%3Aexample.org/%24ab%2Fcd%2Bef', 'federation'],
      ['PUT', '/_matrix/federation/v1/send_leave/!r:example.org/$ab%2Fcd', 'federation'],
      ['PUT', '/_matrix/federation/v1/send_join/!r:example.org/$e', 'federation'],
      ['PUT', '/_matrix/federation/v2/send_join/!r:example.org/$e?omit_members=true', 'federation'],
      ['PUT', '/_matrix/federation/v1/invite/!r:example.org/$e', 'federation'],
      ['PUT', '/_matrix/federation/v2/invite/!r:example.org/$e', 'federation'],
      ['GET', '/_matrix/key/v2/server', 'federation'],
      ['GET', '/_matrix/key/v2/server/ed25519%3Aa_1', 'federation'],
      ['POST', '/_matrix/key/v2/query', 'homeserver'],
      ['PUT', '/_matrix/federation/v1/send/txn1', 'homeserver'],
      ['GET', '/_matrix/federation/v1/version', 'homeserver'],
      ['GET', '/_matrix/federation/v1/make_knock/!r:example.org/@bob:other.org', 'homeserver'],
      ['GET', '/.well-known/matrix/server', 'homeserver'],
      ['GET', '/_matrix/client/v3/rooms/%21r%3Aexample.org/event/%24ab%2Fcd%2Bef', 'homeserver'],
    ];
    for (const [method, path, backend] of cases) {
      const seen = await get(method, path);
      assert.equal(seen.backend, backend, `${method} ${path}`);
      assert.equal(seen.url, path, `${method} ${path} reached ${backend} re-encoded`);
      assert.equal(seen.method, method);
      assert.equal(seen.forwardedFor, '127.0.0.1');
    }
  });
});
