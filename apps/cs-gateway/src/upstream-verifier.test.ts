// The upstream verifier against a homeserver stand-in on loopback.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MatrixError } from '@membrane/matrix-errors';
import { UpstreamTokenVerifier } from './upstream-verifier.js';
import type { UpstreamVerifierOptions } from './upstream-verifier.js';

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly delayMs?: number;
}

const ANSWERS: Record<string, Answer> = {
  'Bearer good': { status: 200, body: { user_id: '@dave:hs.test', device_id: 'DEV' } },
  'Bearer nodevice': { status: 200, body: { user_id: '@erin:hs.test' } },
  'Bearer locked': { status: 401, body: { errcode: 'M_USER_LOCKED', error: 'locked', soft_logout: true } },
  'Bearer foreign': { status: 200, body: { user_id: '@mallory:elsewhere.test' } },
  'Bearer broken': { status: 500, body: { errcode: 'M_UNKNOWN', error: 'boom' } },
  'Bearer slow': { status: 200, body: { user_id: '@slow:hs.test' }, delayMs: 2_000 },
};

describe('UpstreamTokenVerifier', () => {
  let server: Server;
  let baseUrl = '';
  const calls: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      const auth = req.headers.authorization ?? '';
      calls.push(`${req.url ?? ''} ${auth}`);
      const answer = ANSWERS[auth] ?? { status: 401, body: { errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid access token passed.', soft_logout: false } };
      setTimeout(() => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body));
      }, answer.delayMs ?? 0);
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  function verifier(overrides: Partial<UpstreamVerifierOptions> = {}): UpstreamTokenVerifier {
    return new UpstreamTokenVerifier({ baseUrl, serverName: 'hs.test', cacheTtlMs: 60_000, negativeCacheTtlMs: 60_000, cacheMaxEntries: 100, timeoutMs: 500, ...overrides });
  }

  function countOf(token: string): number {
    return calls.filter((c) => c.endsWith(` Bearer ${token}`)).length;
  }

  it("asks the homeserver's whoami and caches the answer", async () => {
    const v = verifier();
    assert.deepEqual(await v.verify('good'), { userId: '@dave:hs.test', deviceId: 'DEV' });
    assert.deepEqual(await v.verify('good'), { userId: '@dave:hs.test', deviceId: 'DEV' });
    assert.equal(countOf('good'), 1);
    assert.ok(calls.some((c) => c.startsWith('/_matrix/client/v3/account/whoami ')));
    assert.deepEqual(await v.verify('nodevice'), { userId: '@erin:hs.test' });
  });

  it('asks again once the TTL has passed', async () => {
    let now = 0;
    const v = verifier({ cacheTtlMs: 1_000, clock: () => now });
    const before = countOf('good');
    await v.verify('good');
    now = 999;
    await v.verify('good');
    now = 1_000;
    await v.verify('good');
    assert.equal(countOf('good') - before, 2);
  });

  it('sends one request for many concurrent checks of one token', async () => {
    const v = verifier({ timeoutMs: 5_000 });
    const before = countOf('slow');
    const users = await Promise.all(Array.from({ length: 5 }, () => v.verify('slow')));
    assert.ok(users.every((u) => u.userId === '@slow:hs.test'));
    assert.equal(countOf('slow') - before, 1);
  });

  it("answers unknown tokens with the homeserver's 401, remembered for the negative TTL", async () => {
    const v = verifier();
    for (let i = 0; i < 2; i += 1) {
      await assert.rejects(v.verify('nope'), (err: unknown) => err instanceof MatrixError && err.status === 401 && err.errcode === 'M_UNKNOWN_TOKEN');
    }
    assert.equal(countOf('nope'), 1);
    await assert.rejects(v.verify('locked'), (err: unknown) => err instanceof MatrixError && err.errcode === 'M_USER_LOCKED' && err.extra['soft_logout'] === true);
  });

  it('refuses users of another server', async () => {
    await assert.rejects(verifier().verify('foreign'), (err: unknown) => err instanceof MatrixError && err.status === 403);
  });

  it('answers 503 and caches nothing when the homeserver fails, is slow, or is away', async () => {
    const failures: unknown[] = [];
    const v = verifier({ timeoutMs: 200, onFailure: (d) => failures.push(d) });
    for (const token of ['broken', 'broken', 'slow']) {
      await assert.rejects(v.verify(token), (err: unknown) => err instanceof MatrixError && err.status === 503);
    }
    assert.equal(countOf('broken'), 2);
    await assert.rejects(verifier({ baseUrl: 'http://127.0.0.1:1' }).verify('good'), (err: unknown) => err instanceof MatrixError && err.status === 503);
    assert.equal(failures.length, 3);
  });

  it('keeps the cache bounded', async () => {
    const v = verifier({ cacheMaxEntries: 1 });
    const before = countOf('good');
    await v.verify('good');
    await v.verify('nodevice');
    await v.verify('good');
    assert.equal(countOf('good') - before, 2);
  });
});
