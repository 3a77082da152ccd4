// The admin CLI as a real process, the way operators and the gateway's tests run it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { UserStore, defaultUserStorePath } from '@membrane/user-store';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function admin(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('admin CLI', () => {
  let dir = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'admin-cli-'));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a user and prints its ID and a token that the store accepts', async () => {
    const run = await admin(['create-user', 'alice', '--password', 'pw', '--data-dir', dir, '--server-name', 'hs.test', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout) as { user_id: string; access_token: string; device_id: string };
    assert.equal(printed.user_id, '@alice:hs.test');
    const store = UserStore.open({ path: defaultUserStorePath(dir) });
    try {
      assert.equal(store.findAccessToken(printed.access_token)?.deviceId, printed.device_id);
      assert.equal((await store.checkPassword('alice', 'pw'))?.userId, '@alice:hs.test');
    } finally {
      store.close();
    }
  });

  it('prints plain text without --json, and keeps the server name of an existing store', async () => {
    const run = await admin(['create-user', 'bob', '--data-dir', dir]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^user_id: @bob:hs\.test\naccess_token: mbt_\S+\ndevice_id: [A-Z]{10}\n$/);
  });

  it('takes the data directory and server name from the gateway environment', async () => {
    const envDir = join(dir, 'from-env');
    const run = await admin(['create-user', 'carol', '--json'], { MEMBRANE_CS_DATA_DIR: envDir, MEMBRANE_CS_SERVER_NAME: 'env.test' });
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { user_id: string }).user_id, '@carol:env.test');
    assert.ok(existsSync(defaultUserStorePath(envDir)));
  });

  it('lists users', async () => {
    const run = await admin(['list-users', '--data-dir', dir, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const users = JSON.parse(run.stdout) as { user_id: string; has_password: boolean }[];
    assert.deepEqual(
      users.map((u) => [u.user_id, u.has_password]),
      [
        ['@alice:hs.test', true],
        ['@bob:hs.test', false],
      ],
    );
  });

  it('issues another token for an existing user on a new device', async () => {
    const run = await admin(['issue-token', '@bob:hs.test', '--data-dir', dir, '--json', '--device-id', 'CLI']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { device_id: string }).device_id, 'CLI');
  });

  it('refuses with exit code 1: an existing user, a wrong server name, a missing store', async () => {
    const exists = await admin(['create-user', 'alice', '--data-dir', dir]);
    assert.equal(exists.code, 1);
    assert.match(exists.stderr, /already exists/);
    const mismatch = await admin(['create-user', 'dave', '--data-dir', dir, '--server-name', 'other.test']);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /belongs to server hs\.test/);
    const missing = await admin(['list-users', '--data-dir', join(dir, 'nowhere')]);
    assert.equal(missing.code, 1);
    assert.equal(existsSync(join(dir, 'nowhere')), false);
  });

  it('answers bad usage with exit code 2 and the usage text', async () => {
    for (const args of [[], ['frobnicate'], ['create-user'], ['create-user', 'a', 'b'], ['list-users', '--bogus']]) {
      const run = await admin([...args, '--data-dir', dir]);
      assert.equal(run.code, 2, args.join(' '));
      assert.match(run.stderr, /Usage: admin/);
    }
    const help = await admin(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /create-user <localpart>/);
  });
});
