// db-check against PostgreSQL: a schema written by the real membership
// service (server named by MEMBRANE_TEST_PG_URL), checked, then broken.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { MembershipServiceClient, RoomPreset, RoomVisibility } from '@membrane/proto';
import { createRpcClient } from '@membrane/rpc';
import { startMembershipService } from '@membrane/testing';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const PG_URL = process.env['MEMBRANE_TEST_PG_URL'] ?? 'postgres://membrane:membrane@127.0.0.1:5432/membrane_test';
const SCHEMA = `db_check_test_${randomBytes(4).toString('hex')}`;

let scratch = '';
let roomId = '';

async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'db-check-pg-'));
  const service = await startMembershipService(join(scratch, 'membership'), {
    MEMBRANE_MEMBERSHIP_DATABASE__ENGINE: 'postgres',
    MEMBRANE_MEMBERSHIP_DATABASE__URL: PG_URL,
    MEMBRANE_MEMBERSHIP_DATABASE__SCHEMA: SCHEMA,
  });
  const client = createRpcClient(MembershipServiceClient, service.address, { defaultDeadlineMs: 10_000 });
  try {
    roomId = (await client.performCreateRoom({ creatorUserId: '@alice:hs.test', preset: RoomPreset.PUBLIC_CHAT, visibility: RoomVisibility.PRIVATE, invitees: [] })).roomId;
    await client.performJoin({ roomIdOrAlias: roomId, userId: '@bob:hs.test', serverNames: [] });
    await client.performLeave({ roomId, userId: '@bob:hs.test' });
  } finally {
    client.close();
    assert.equal(await service.stop(), 0);
  }
});

after(async () => {
  await withClient((c) => c.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`)).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

describe('db-check on PostgreSQL', () => {
  it('finds every invariant holding in a schema the service wrote', () => {
    const result = runCli(['check', '--pg-url', PG_URL, '--pg-schema', SCHEMA]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /all 6 invariants hold/);
    assert.match(result.stderr, /read-only session/);
    assert.ok(!result.stderr.includes(':membrane@'), 'the password is not printed');
  });

  it('exits 1 when the stored membership disagrees with its event', async () => {
    await withClient((c) => c.query(`UPDATE "${SCHEMA}".memberships SET membership = 'join' WHERE user_id = '@bob:hs.test'`));
    const result = runCli(['check', '--pg-url', PG_URL, '--pg-schema', SCHEMA, '--quiet']);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`^membership-events: room ${roomId.replace(/[.!]/g, '\\$&')} user @bob:hs\\.test .*content\\.membership is leave$`, 'm'));
  });

  it('refuses a schema name that is not a plain identifier', () => {
    const result = runCli(['check', '--pg-url', PG_URL, '--pg-schema', 'x"; DROP TABLE events; --']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /not a plain schema name/);
  });
});
