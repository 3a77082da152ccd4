// Sending events, knocking, filters and capabilities through the membership
// service as a real process over real gRPC, on SQLite and on PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Membership, MembershipServiceClient, RoomPreset } from '@membrane/proto';
import type { MembershipServiceService } from '@membrane/proto';
import { createRpcClient } from '@membrane/rpc';
import type { RpcClient } from '@membrane/rpc';
import { MatrixError } from '@membrane/matrix-errors';
import { SUPPORTED_ROOM_VERSIONS } from '@membrane/events';
import { startMembershipService } from '@membrane/testing';

const PG_URL = process.env['MEMBRANE_TEST_PG_URL'] ?? 'postgres://membrane:membrane@127.0.0.1:5432/membrane_test';
const alice = '@alice:hs.test';
const bob = '@bob:hs.test';

type Client = RpcClient<typeof MembershipServiceService>;

interface Service {
  readonly client: Client;
  stop(): Promise<unknown>;
}

async function start(dataDir: string, env: Record<string, string>): Promise<Service> {
  const app = await startMembershipService(dataDir, env);
  const client = createRpcClient(MembershipServiceClient, app.address, { defaultDeadlineMs: 10_000 });
  return {
    client,
    async stop() {
      client.close();
      return app.stop();
    },
  };
}

function isMatrixError(status: number, errcode: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof MatrixError, `expected a MatrixError, got ${String(err)}`);
    assert.deepEqual([err.status, err.errcode], [status, errcode], err.message);
    return true;
  };
}

async function publicRoom(client: Client): Promise<string> {
  const { roomId } = await client.performCreateRoom({ creatorUserId: alice, preset: RoomPreset.PUBLIC_CHAT, visibility: 0, invitees: [] });
  await client.performJoin({ roomIdOrAlias: roomId, userId: bob, serverNames: [] });
  return roomId;
}

function clientWritesOver(engine: 'sqlite' | 'postgres'): void {
  describe(`client writes over gRPC on ${engine}`, () => {
    const dirs: string[] = [];
    const schemas: string[] = [];
    const services: Service[] = [];

    async function startService(extraEnv: Record<string, string> = {}): Promise<Client> {
      const dir = mkdtempSync(join(tmpdir(), `membership-writes-${engine}-`));
      dirs.push(dir);
      const schema = `msw_${process.pid}_${Date.now()}_${schemas.length}`;
      if (engine === 'postgres') schemas.push(schema);
      const env: Record<string, string> =
        engine === 'sqlite'
          ? {}
          : { MEMBRANE_MEMBERSHIP_DATABASE__ENGINE: 'postgres', MEMBRANE_MEMBERSHIP_DATABASE__URL: PG_URL, MEMBRANE_MEMBERSHIP_DATABASE__SCHEMA: schema };
      const service = await start(dir, { ...env, ...extraEnv });
      services.push(service);
      return service.client;
    }

    let client: Client;
    before(async () => {
      client = await startService();
    });

    after(async () => {
      for (const service of services) await service.stop().catch(() => undefined);
      if (schemas.length > 0) {
        const { default: pg } = await import('pg');
        const db = new pg.Client({ connectionString: PG_URL });
        await db.connect();
        for (const schema of schemas) await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await db.end();
      }
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    it('sends a message once per transaction ID, and a state event under the empty state key', async () => {
      const roomId = await publicRoom(client);
      const message = { roomId, sender: bob, eventType: 'm.room.message', contentJson: '{"msgtype":"m.text","body":"hi"}', idempotencyKey: 'dev1/txn1' };
      const first = await client.performSendEvent(message);
      assert.deepEqual(await client.performSendEvent(message), first);
      const sent = JSON.parse((await client.queryEvent({ eventId: first.eventId })).eventJson) as { type: string; state_key?: string; content: unknown };
      assert.deepEqual([sent.type, sent.state_key, sent.content], ['m.room.message', undefined, { msgtype: 'm.text', body: 'hi' }]);

      const topic = await client.performSendEvent({ roomId, sender: alice, eventType: 'm.room.topic', stateKey: '', contentJson: '{"topic":"t"}' });
      const state = await client.queryRoomState({ roomId });
      const topics = state.stateEventsJson.map((j) => JSON.parse(j) as { type: string; event_id?: string }).filter((e) => e.type === 'm.room.topic');
      assert.equal(topics.length, 1);
      const stored = JSON.parse((await client.queryEvent({ eventId: topic.eventId })).eventJson) as { state_key?: string };
      assert.equal(stored.state_key, '');
    });

    it('carries the refusals as Matrix errors', async () => {
      const roomId = await publicRoom(client);
      const send = (fields: Partial<Parameters<Client['performSendEvent']>[0]>) =>
        client.performSendEvent({ roomId, sender: bob, eventType: 'm.room.message', contentJson: '{}', ...fields });
      await assert.rejects(send({ contentJson: 'not json' }), isMatrixError(400, 'M_NOT_JSON'));
      await assert.rejects(send({ contentJson: '[1]' }), isMatrixError(400, 'M_BAD_JSON'));
      await assert.rejects(send({ contentJson: JSON.stringify({ body: 'x'.repeat(66_000) }) }), isMatrixError(413, 'M_TOO_LARGE'));
      await assert.rejects(send({ eventType: 'm.room.member', stateKey: bob, contentJson: '{"membership":"leave"}' }), isMatrixError(400, 'M_INVALID_PARAM'));
      await assert.rejects(send({ roomId: '!unknown:hs.test' }), isMatrixError(404, 'M_NOT_FOUND'));
      await assert.rejects(send({ sender: '@stranger:hs.test' }), isMatrixError(403, 'M_FORBIDDEN'));
    });

    it('knocks, repeats the knock without a new event, and rescinds it by leaving', async () => {
      const { roomId } = await client.performCreateRoom({ creatorUserId: alice, preset: 0, visibility: 0, invitees: [], joinRule: 'knock', roomVersion: '7' });
      const knock = await client.performKnock({ roomIdOrAlias: roomId, userId: bob, serverNames: [], reason: 'hello' });
      assert.equal(knock.roomId, roomId);
      assert.deepEqual(await client.performKnock({ roomIdOrAlias: roomId, userId: bob, serverNames: [] }), knock);
      assert.equal((await client.queryMembership({ roomId, userId: bob })).membership, Membership.KNOCK);
      const leave = await client.performLeave({ roomId, userId: bob });
      assert.equal(leave.eventCreated, true);
      assert.equal((await client.queryMembership({ roomId, userId: bob })).membership, Membership.LEAVE);
      await assert.rejects(client.performKnock({ roomIdOrAlias: '!far:remote.test', userId: bob, serverNames: ['remote.test'] }), isMatrixError(404, 'M_NOT_FOUND'));
    });

    it('stores filters per user and answers 404 for unknown ones', async () => {
      const filterJson = '{"room":{"include_leave":true}}';
      const { filterId } = await client.performPutFilter({ userId: alice, filterJson });
      assert.match(filterId, /^[0-9]+$/);
      assert.deepEqual(await client.queryFilter({ userId: alice, filterId }), { filterJson });
      await assert.rejects(client.queryFilter({ userId: bob, filterId }), isMatrixError(404, 'M_NOT_FOUND'));
    });

    it('tells the truth about forgetting on leave, in both settings', async () => {
      assert.deepEqual(await client.queryCapabilities({}), { defaultRoomVersion: '11', supportedRoomVersions: [...SUPPORTED_ROOM_VERSIONS], forgetForcedUponLeave: false });
      const kept = await publicRoom(client);
      await client.performLeave({ roomId: kept, userId: bob });
      assert.equal((await client.queryMembership({ roomId: kept, userId: bob })).forgotten, false);

      const forgetting = await startService({ MEMBRANE_MEMBERSHIP_FORGET_ROOMS_ON_LEAVE: 'true' });
      assert.equal((await forgetting.queryCapabilities({})).forgetForcedUponLeave, true);
      const forgotten = await publicRoom(forgetting);
      await forgetting.performLeave({ roomId: forgotten, userId: bob });
      const membership = await forgetting.queryMembership({ roomId: forgotten, userId: bob });
      assert.deepEqual([membership.membership, membership.forgotten], [Membership.LEAVE, true]);
    });
  });
}

clientWritesOver('sqlite');
clientWritesOver('postgres');
