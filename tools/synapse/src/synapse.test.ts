// A real Synapse from the package index, started on loopback: users are
// registered with the shared secret, and a leave with a reason goes through
// its Client-Server API as any client would see it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHomeserverConfig, IP_RANGE_BLOCKLIST_WITHOUT_LOOPBACK } from './config.js';
import { registrationMac, startSynapse } from './synapse.js';
import type { RunningSynapse, SynapseUser } from './synapse.js';

function getOverTls(url: string, ca: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { ca, timeout: 10_000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

describe('registrationMac', () => {
  it('is the hex HMAC-SHA1 of nonce, user, password and admin flag joined by NUL', () => {
    const expected = createHmac('sha1', 'secret').update('n1\0alice\0pw\0notadmin').digest('hex');
    assert.equal(registrationMac('secret', 'n1', 'alice', 'pw', false), expected);
    assert.notEqual(registrationMac('secret', 'n1', 'alice', 'pw', true), expected);
  });
});

describe('buildHomeserverConfig', () => {
  const config = buildHomeserverConfig({
    serverName: '127.0.0.1:8448',
    host: '127.0.0.1',
    clientPort: 8008,
    federationPort: 8448,
    dataDir: '/d',
    tlsCertificatePath: '/d/c.crt',
    tlsPrivateKeyPath: '/d/c.key',
    federationCaFiles: ['/d/ca.crt'],
    registrationSharedSecret: 's',
    macaroonSecretKey: 'm',
    formSecret: 'f',
    logConfigPath: '/d/log.config',
  });

  it('lets federation reach loopback and keeps blocking private ranges', () => {
    const blocklist = config['ip_range_blacklist'] as string[];
    assert.ok(!blocklist.includes('127.0.0.0/8'));
    assert.ok(!blocklist.includes('::1/128'));
    assert.ok(blocklist.includes('10.0.0.0/8'));
    assert.deepEqual(blocklist, [...IP_RANGE_BLOCKLIST_WITHOUT_LOOPBACK]);
  });

  it('serves federation over TLS on the server name port and trusts the test CA', () => {
    const listeners = config['listeners'] as { port: number; tls: boolean; resources: { names: string[] }[] }[];
    const federation = listeners.find((l) => l.resources.some((r) => r.names.includes('federation')));
    assert.equal(federation?.port, 8448);
    assert.equal(federation?.tls, true);
    assert.deepEqual(config['federation_custom_ca_list'], ['/d/ca.crt']);
    assert.deepEqual(config['trusted_key_servers'], []);
    assert.equal(config['federation_verify_certificates'], true);
  });
});

describe('a Synapse peer on loopback', { timeout: 300_000 }, () => {
  let dir: string;
  let synapse: RunningSynapse;
  let alice: SynapseUser;
  let bob: SynapseUser;

  const api = async (user: SynapseUser, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const response = await fetch(`${synapse.clientUrl}/_matrix/client/v3${path}`, {
      method,
      headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'membrane-synapse-test-'));
    synapse = await startSynapse({ dir });
    alice = await synapse.registerUser('alice');
    bob = await synapse.registerUser('bob');
  }, { timeout: 280_000 });

  after(async () => {
    await synapse?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names itself by its loopback IP and federation port, and serves its keys over TLS from the test CA', async () => {
    assert.match(synapse.serverName, /^127\.0\.0\.1:\d+$/);
    assert.equal(alice.userId, `@alice:${synapse.serverName}`);
    const config = JSON.parse(readFileSync(join(dir, 'homeserver.yaml'), 'utf8')) as Record<string, unknown>;
    assert.equal(config['server_name'], synapse.serverName);
    const keys = await getOverTls(`${synapse.federationUrl}/_matrix/key/v2/server`, readFileSync(synapse.caFile, 'utf8'));
    assert.equal(keys['server_name'], synapse.serverName);
    assert.ok(Object.keys(keys['verify_keys'] as object).some((id) => id.startsWith('ed25519:')));
  });

  it('invites, joins, leaves with a reason, shows the leave in /members, and forgets', async () => {
    const created = await api(alice, 'POST', '/createRoom', { preset: 'private_chat', name: 'leave check' });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const roomId = String(created.json['room_id']);
    const room = encodeURIComponent(roomId);

    assert.equal((await api(alice, 'POST', `/rooms/${room}/invite`, { user_id: bob.userId })).status, 200);
    assert.equal((await api(bob, 'POST', `/rooms/${room}/join`, {})).status, 200);
    const left = await api(bob, 'POST', `/rooms/${room}/leave`, { reason: 'Thanks, bye' });
    assert.equal(left.status, 200, JSON.stringify(left.json));
    assert.deepEqual(left.json, {});

    const members = await api(alice, 'GET', `/rooms/${room}/members`);
    assert.equal(members.status, 200);
    const chunk = members.json['chunk'] as { state_key: string; content: { membership: string; reason?: string } }[];
    const bobMember = chunk.find((event) => event.state_key === bob.userId);
    assert.equal(bobMember?.content.membership, 'leave');
    assert.equal(bobMember?.content.reason, 'Thanks, bye');

    assert.equal((await api(bob, 'POST', `/rooms/${room}/forget`, {})).status, 200);
    // After forgetting, Synapse no longer lets bob read the room's members.
    const afterForget = await api(bob, 'GET', `/rooms/${room}/members`);
    assert.equal(afterForget.status, 403);
    assert.equal(afterForget.json['errcode'], 'M_FORBIDDEN');
  });
});
