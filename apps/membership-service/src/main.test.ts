// The membership service as a real process, called over real gRPC, on SQLite
// and on PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Membership, MembershipServiceClient, RoomPreset } from '@membrane/proto';
import type { WatchRoomEventsResponse } from '@membrane/proto';
import { createRpcClient } from '@membrane/rpc';
import type { RpcClient } from '@membrane/rpc';
import { MatrixError } from '@membrane/matrix-errors';
import { startMembershipService } from '@membrane/testing';
import type { MembershipServiceService } from '@membrane/proto';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const PG_URL = process.env['MEMBRANE_TEST_PG_URL'] ?? 'postgres://membrane:membrane@127.0.0.1:5432/membrane_test';

interface ServiceProcess {
  readonly address: string;
  readonly client: RpcClient<typeof MembershipServiceService>;
  stop(): Promise<number | null>;
}

async function startService(dataDir: string, env: Record<string, string>): Promise<ServiceProcess> {
  const app = await startMembershipService(dataDir, env);
  return { address: app.address, stop: () => app.stop(), client: createRpcClient(MembershipServiceClient, app.address, { defaultDeadlineMs: 10_000 }) };
}

function behavesLikeAMembershipService(engine: 'sqlite' | 'postgres'): void {
  describe(`membership-service process on ${engine}`, () => {
    let dataDir = '';
    let service: ServiceProcess;
    const schema = `ms_${process.pid}_${Date.now()}`;

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), `membership-${engine}-`));
      const env: Record<string, string> =
        engine === 'sqlite'
          ? {}
          : { MEMBRANE_MEMBERSHIP_DATABASE__ENGINE: 'postgres', MEMBRANE_MEMBERSHIP_DATABASE__URL: PG_URL, MEMBRANE_MEMBERSHIP_DATABASE__SCHEMA: schema };
      service = await startService(dataDir, env);
    });

    after(async () => {
      if (service !== undefined) await service.stop().catch(() => undefined);
      if (engine === 'postgres') {
        const { default: pg } = await import('pg');
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('creates a room, lets a user join and leave once, and reports the membership', async () => {
      const { roomId, roomVersion } = await service.client.performCreateRoom({
        creatorUserId: '@alice:hs.test',
        preset: RoomPreset.PUBLIC_CHAT,
        visibility: 0,
        invitees: [],
      });
      assert.equal(roomVersion, '11');
      assert.match(roomId, /^!.+:hs\.test$/);
      await service.client.performJoin({ roomIdOrAlias: roomId, userId: '@bob:hs.test', serverNames: [] });
      const leave = await service.client.performLeave({ roomId, userId: '@bob:hs.test', reason: 'bye' });
      assert.equal(leave.eventCreated, true);
      const again = await service.client.performLeave({ roomId, userId: '@bob:hs.test', reason: 'bye' });
      assert.deepEqual(again, { eventId: leave.eventId, eventCreated: false });
      const membership = await service.client.queryMembership({ roomId, userId: '@bob:hs.test' });
      assert.equal(membership.membership, Membership.LEAVE);
      assert.equal(membership.eventId, leave.eventId);
    });

    it('carries Matrix errors across gRPC exactly', async () => {
      const { roomId } = await service.client.performCreateRoom({ creatorUserId: '@alice:hs.test', preset: 0, visibility: 0, invitees: [] });
      await assert.rejects(service.client.performLeave({ roomId, userId: '@nobody:hs.test' }), (err: unknown) => {
        assert.ok(err instanceof MatrixError);
        assert.equal(err.status, 403);
        assert.equal(err.errcode, 'M_FORBIDDEN');
        return true;
      });
      await assert.rejects(service.client.performForget({ roomId, userId: '@alice:hs.test' }), (err: unknown) => err instanceof MatrixError && err.status === 400 && err.errcode === 'M_UNKNOWN');
      await assert.rejects(service.client.performLeave({ roomId: '!missing:hs.test', userId: '@alice:hs.test' }), (err: unknown) => err instanceof MatrixError && err.status === 404);
      await assert.rejects(
        service.client.performCreateRoom({ creatorUserId: '@alice:hs.test', preset: 0, visibility: 0, invitees: [], roomVersion: '99' }),
        (err: unknown) => err instanceof MatrixError && err.errcode === 'M_UNSUPPORTED_ROOM_VERSION' && err.extra['room_version'] === '99',
      );
    });

    it('streams room events in order and resumes from a position', async () => {
      const { roomId } = await service.client.performCreateRoom({ creatorUserId: '@alice:hs.test', preset: RoomPreset.PUBLIC_CHAT, visibility: 0, invitees: [] });
      await service.client.performJoin({ roomIdOrAlias: roomId, userId: '@carol:hs.test', serverNames: [] });
      const seen: WatchRoomEventsResponse[] = [];
      const controller = new AbortController();
      const stream = service.client.watchRoomEvents({ fromPosition: 0, roomIds: [roomId], startAtEnd: false }, { signal: controller.signal, deadlineMs: 15_000 });
      const leaveLater = setTimeout(() => void service.client.performLeave({ roomId, userId: '@carol:hs.test' }), 100);
      try {
        for await (const item of stream) {
          seen.push(item);
          if (item.membershipChange?.current === Membership.LEAVE) break;
        }
      } finally {
        clearTimeout(leaveLater);
        controller.abort();
      }
      const positions = seen.map((s) => s.position);
      assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
      const last = seen.at(-1);
      assert.equal(last?.membershipChange?.userId, '@carol:hs.test');
      assert.equal(last?.membershipChange?.previous, Membership.JOIN);
      const resumed = service.client.watchRoomEvents({ fromPosition: seen[2]?.position ?? 0, roomIds: [roomId], startAtEnd: false }, { deadlineMs: 15_000 });
      for await (const item of resumed) {
        assert.equal(item.position, seen[3]?.position);
        break;
      }
    });

    it('reports SERVING on grpc.health.v1 and stops with exit code 0 on SIGTERM', async () => {
      const health = new grpc.Client(service.address, grpc.credentials.createInsecure());
      const status = await new Promise<Buffer>((resolve, reject) => {
        health.makeUnaryRequest(
          '/grpc.health.v1.Health/Check',
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          { deadline: Date.now() + 5000 },
          (err, value) => (err !== null || value === undefined ? reject(err) : resolve(value)),
        );
      });
      health.close();
      // HealthCheckResponse { status = 1 (SERVING) }: field 1, varint 1.
      assert.deepEqual([...status], [0x08, 0x01]);
      assert.equal(await service.stop(), 0);
    });
  });
}

behavesLikeAMembershipService('sqlite');
behavesLikeAMembershipService('postgres');

describe('membership-service command line', () => {
  it('prints help', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--help'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 0);
    assert.match(result.stdout, /Usage: membership-service/);
  });

  it('refuses a bad configuration with exit code 2 and names the bad key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'membership-config-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, 'serverName: "not a server name!"\ngrpc:\n  listen: 127.0.0.1:0\n');
      const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--config', file], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(result.status, 2);
      assert.match(result.stderr, /serverName/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('membership-service metrics', () => {
  it('serves Prometheus metrics with gRPC call counts and the outbox depth when a metrics port is set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'membership-metrics-'));
    const app = await startMembershipService(dir, { MEMBRANE_MEMBERSHIP_METRICS__PORT: '0' });
    try {
      const metricsUrl = String(app.ready['metricsUrl']);
      assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+/);
      const client = createRpcClient(MembershipServiceClient, app.address, { defaultDeadlineMs: 10_000 });
      await client.performCreateRoom({ creatorUserId: '@alice:hs.test', preset: 0, visibility: 0, invitees: [] });
      client.close();
      const text = await (await fetch(metricsUrl.endsWith('/metrics') ? metricsUrl : `${metricsUrl}/metrics`)).text();
      assert.match(text, /grpc_server_calls_total\{[^}]*method="\/matrix\.membership\.v1\.MembershipService\/PerformCreateRoom"[^}]*\} 1/);
      assert.match(text, /membership_outbox_depth\{[^}]*\} 0/);
    } finally {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
