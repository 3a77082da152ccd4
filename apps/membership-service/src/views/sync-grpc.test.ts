// QuerySync through the membership service as a real process over real gRPC,
// on SQLite and on PostgreSQL: the sections of an answer, a long-poll that
// an invite made by another call wakes, and errors carried as Matrix errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Membership, MembershipServiceClient, RoomPreset } from '@membrane/proto';
import type { MembershipServiceService, QuerySyncRequest } from '@membrane/proto';
import { createRpcClient } from '@membrane/rpc';
import type { RpcClient } from '@membrane/rpc';
import { MatrixError } from '@membrane/matrix-errors';
import { startMembershipService } from '@membrane/testing';

const PG_URL = process.env['MEMBRANE_TEST_PG_URL'] ?? 'postgres://membrane:membrane@127.0.0.1:5432/membrane_test';
const alice = '@alice:hs.test';
const bob = '@bob:hs.test';

type Client = RpcClient<typeof MembershipServiceService>;

function request(userId: string, fields: Partial<QuerySyncRequest> = {}): QuerySyncRequest {
  return { userId, timeoutMs: 0, fullState: false, filterJson: '', ...fields };
}

function syncOver(engine: 'sqlite' | 'postgres'): void {
  describe(`QuerySync over gRPC on ${engine}`, () => {
    let dir = '';
    const schema = `mss_${process.pid}_${Date.now()}`;
    let client: Client;
    let stop: () => Promise<unknown> = async () => undefined;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `membership-sync-${engine}-`));
      const env: Record<string, string> =
        engine === 'sqlite'
          ? {}
          : { MEMBRANE_MEMBERSHIP_DATABASE__ENGINE: 'postgres', MEMBRANE_MEMBERSHIP_DATABASE__URL: PG_URL, MEMBRANE_MEMBERSHIP_DATABASE__SCHEMA: schema };
      const app = await startMembershipService(dir, env);
      client = createRpcClient(MembershipServiceClient, app.address, { defaultDeadlineMs: 10_000 });
      stop = async () => {
        client.close();
        await app.stop();
      };
    });

    after(async () => {
      await stop();
      if (engine === 'postgres') {
        const { default: pg } = await import('pg');
        const db = new pg.Client({ connectionString: PG_URL });
        await db.connect();
        await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await db.end();
      }
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers an initial sync, then a long-poll that the invite wakes, then the leave', async () => {
      const { roomId: joined } = await client.performCreateRoom({ creatorUserId: bob, preset: RoomPreset.PUBLIC_CHAT, visibility: 0, invitees: [], name: 'Mine' });
      await client.performSendEvent({ roomId: joined, sender: bob, eventType: 'm.room.message', contentJson: '{"msgtype":"m.text","body":"hi"}' });
      const initial = await client.querySync(request(bob));
      assert.deepEqual(
        initial.rooms.map((r) => [r.roomId, r.membership]),
        [[joined, Membership.JOIN]],
      );
      const bodies = initial.rooms[0]?.timeline.map((e) => (JSON.parse(e.eventJson) as { content: { body?: string } }).content.body).filter((b) => b !== undefined);
      assert.deepEqual(bodies, ['hi']);

      const { roomId } = await client.performCreateRoom({ creatorUserId: alice, preset: RoomPreset.PRIVATE_CHAT, visibility: 0, invitees: [] });
      let invited = false;
      const polled = client
        .querySync(request(bob, { sincePosition: initial.nextPosition, timeoutMs: 20_000 }), { deadlineMs: 30_000 })
        .then((answer) => ({ answer, invited }));
      invited = true;
      await client.performInvite({ roomId, sender: alice, invitee: bob });
      const { answer, invited: afterInvite } = await polled;
      assert.equal(afterInvite, true);
      assert.deepEqual(
        answer.rooms.map((r) => [r.roomId, r.membership]),
        [[roomId, Membership.INVITE]],
      );

      const { eventId } = await client.performRejectInvite({ roomId, userId: bob });
      const rejected = await client.querySync(request(bob, { sincePosition: answer.nextPosition, timeoutMs: 20_000 }), { deadlineMs: 30_000 });
      const room = rejected.rooms.find((r) => r.roomId === roomId);
      assert.equal(room?.membership, Membership.LEAVE);
      assert.equal(room?.timeline[room.timeline.length - 1]?.eventId, eventId);
    });

    it('answers an empty long-poll with the position it covers', async () => {
      const first = await client.querySync(request(bob));
      const answer = await client.querySync(request(bob, { sincePosition: first.nextPosition, timeoutMs: 100 }));
      assert.deepEqual(answer.rooms, []);
      assert.equal(answer.nextPosition, first.nextPosition);
    });

    it('carries a bad filter and a missing user as Matrix errors', async () => {
      await assert.rejects(client.querySync(request(bob, { filterJson: '{"room":{"include_leave":"yes"}}' })), (err: unknown) => {
        assert.ok(err instanceof MatrixError);
        assert.deepEqual([err.status, err.errcode], [400, 'M_BAD_JSON']);
        return true;
      });
      await assert.rejects(client.querySync(request('')), (err: unknown) => err instanceof MatrixError && err.status === 400);
    });
  });
}

syncOver('sqlite');
syncOver('postgres');
