import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import { UserStore, UserStoreError, defaultUserStorePath, hashAccessToken, hashPassword, verifyPassword, isValidLocalpart, localpartOf } from './index.js';

const CHEAP = { n: 1024, r: 8, p: 1 };

describe('password hashes', () => {
  it('verify the password they were made from and nothing else', async () => {
    const hash = await hashPassword('correct horse', CHEAP);
    assert.match(hash, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    assert.equal(await verifyPassword('correct horse', hash), true);
    assert.equal(await verifyPassword('correct horsE', hash), false);
  });

  it('are salted, so one password gives different hashes', async () => {
    assert.notEqual(await hashPassword('same', CHEAP), await hashPassword('same', CHEAP));
  });

  it('reject malformed stored hashes instead of throwing', async () => {
    for (const stored of ['', 'scrypt$', 'bcrypt$1$2$3$a$b', 'scrypt$0$8$1$AAAA$AAAA', 'scrypt$1024$8$1$AAAA$']) {
      assert.equal(await verifyPassword('x', stored), false, stored);
    }
  });
});

describe('localparts', () => {
  it('follow the grammar of new user IDs', () => {
    assert.equal(isValidLocalpart('alice.smith_1=/+-', 'hs.test'), true);
    for (const bad of ['', 'Alice', 'al ice', 'al:ice', 'é']) assert.equal(isValidLocalpart(bad, 'hs.test'), false, bad);
    assert.equal(isValidLocalpart('a'.repeat(246), 'hs.test'), true);
    assert.equal(isValidLocalpart('a'.repeat(247), 'hs.test'), false);
  });

  it('are read from full user IDs of this server only, case-folded', () => {
    assert.equal(localpartOf('@Alice:hs.test', 'hs.test'), 'alice');
    assert.equal(localpartOf('Bob', 'hs.test'), 'bob');
    assert.equal(localpartOf('@alice:other.test', 'hs.test'), undefined);
  });
});

describe('UserStore', () => {
  let dir = '';
  let store: UserStore;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'user-store-'));
    store = UserStore.open({ path: defaultUserStorePath(dir), serverName: 'hs.test' });
  });

  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates users once and lists them in order', async () => {
    const bob = await store.createUser('bob', { password: 'pw-bob' });
    assert.equal(bob.userId, '@bob:hs.test');
    assert.equal(bob.hasPassword, true);
    await store.createUser('@alice:hs.test');
    await assert.rejects(store.createUser('bob'), (err: unknown) => err instanceof UserStoreError && err.code === 'USER_EXISTS');
    await assert.rejects(store.createUser('Not Valid'), (err: unknown) => err instanceof UserStoreError && err.code === 'INVALID_LOCALPART');
    await assert.rejects(store.createUser('@eve:other.test'), (err: unknown) => err instanceof UserStoreError && err.code === 'SERVER_NAME_MISMATCH');
    assert.deepEqual(
      store.listUsers().map((u) => [u.userId, u.hasPassword]),
      [
        ['@alice:hs.test', false],
        ['@bob:hs.test', true],
      ],
    );
  });

  it('checks passwords, and users without one can never log in with one', async () => {
    assert.equal((await store.checkPassword('bob', 'pw-bob'))?.userId, '@bob:hs.test');
    assert.equal((await store.checkPassword('@BOB:hs.test', 'pw-bob'))?.userId, '@bob:hs.test');
    assert.equal(await store.checkPassword('bob', 'wrong'), undefined);
    assert.equal(await store.checkPassword('alice', ''), undefined);
    assert.equal(await store.checkPassword('nobody', 'pw-bob'), undefined);
    assert.equal(await store.checkPassword('@bob:other.test', 'pw-bob'), undefined);
  });

  it('issues tokens that resolve to their owner and device, and keeps only their hash', () => {
    const issued = store.issueAccessToken('bob', { displayName: 'laptop' });
    assert.match(issued.accessToken, /^mbt_[A-Za-z0-9_-]{43}$/);
    assert.match(issued.deviceId, /^[A-Z]{10}$/);
    assert.deepEqual(store.findAccessToken(issued.accessToken), { userId: '@bob:hs.test', localpart: 'bob', deviceId: issued.deviceId });
    assert.equal(store.findAccessToken(`${issued.accessToken}x`), undefined);

    const raw = new Database(defaultUserStorePath(dir), { readonly: true });
    const values = raw.prepare('SELECT token_hash FROM access_tokens').all() as { token_hash: string }[];
    raw.close();
    assert.ok(values.some((v) => v.token_hash === hashAccessToken(issued.accessToken)));
    assert.ok(values.every((v) => !v.token_hash.includes(issued.accessToken)));
  });

  it('reuses a named device and removes its tokens with it', () => {
    const first = store.issueAccessToken('alice', { deviceId: 'PHONE' });
    const second = store.issueAccessToken('alice', { deviceId: 'PHONE' });
    const other = store.issueAccessToken('alice');
    assert.equal(second.deviceId, 'PHONE');
    store.removeDevice('alice', 'PHONE');
    assert.equal(store.findAccessToken(first.accessToken), undefined);
    assert.equal(store.findAccessToken(second.accessToken), undefined);
    assert.equal(store.findAccessToken(other.accessToken)?.deviceId, other.deviceId);
    store.removeAllDevices('alice');
    assert.equal(store.findAccessToken(other.accessToken), undefined);
  });

  it('refuses tokens for unknown users', () => {
    assert.throws(() => store.issueAccessToken('ghost'), (err: unknown) => err instanceof UserStoreError && err.code === 'UNKNOWN_USER');
  });

  it('belongs to the server name it was created with', () => {
    const reopened = UserStore.open({ path: defaultUserStorePath(dir) });
    assert.equal(reopened.serverName, 'hs.test');
    reopened.close();
    assert.throws(
      () => UserStore.open({ path: defaultUserStorePath(dir), serverName: 'other.test' }),
      (err: unknown) => err instanceof UserStoreError && err.code === 'SERVER_NAME_MISMATCH' && /hs\.test/.test(err.message),
    );
    assert.throws(() => UserStore.open({ path: join(dir, 'fresh.sqlite') }), (err: unknown) => err instanceof UserStoreError && err.code === 'SERVER_NAME_REQUIRED');
  });

  it('sees what another connection wrote (the admin CLI beside a running gateway)', async () => {
    const second = UserStore.open({ path: defaultUserStorePath(dir), serverName: 'hs.test' });
    try {
      await second.createUser('carol');
      const token = second.issueAccessToken('carol');
      assert.equal(store.getUser('carol')?.userId, '@carol:hs.test');
      assert.equal(store.findAccessToken(token.accessToken)?.userId, '@carol:hs.test');
    } finally {
      second.close();
    }
  });
});
