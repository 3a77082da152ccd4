// The visible reads over real gRPC, against the membership service as a
// real process on SQLite: requests and answers survive the contract.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { MatrixError } from '@membrane/matrix-errors';
import { Membership, MembershipServiceClient, RoomPreset } from '@membrane/proto';
import type { MembershipServiceService } from '@membrane/proto';
import { createRpcClient } from '@membrane/rpc';
import type { RpcClient } from '@membrane/rpc';
import { startMembershipService } from '@membrane/testing';
import { labels } from './test-support.js';

const alice = '@alice:hs.test';
const bob = '@bob:hs.test';
const carol = '@carol:hs.test';

function isMatrixError(status: number, errcode: string): (err: unknown) => boolean {
  return (err: unknown) => err instanceof MatrixError && err.status === status && err.errcode === errcode;
}

describe('visible reads over gRPC', () => {
  let dataDir = '';
  let stop: () => Promise<unknown> = async () => undefined;
  let client: RpcClient<typeof MembershipServiceService>;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'membrane-views-grpc-'));
    const app = await startMembershipService(dataDir);
    stop = () => app.stop();
    client = createRpcClient(MembershipServiceClient, app.address, { defaultDeadlineMs: 10_000 });
  });
  after(async () => {
    await stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves state, members, messages and one event as the viewer may see them', async () => {
    const { roomId } = await client.performCreateRoom({ creatorUserId: alice, preset: RoomPreset.PUBLIC_CHAT, visibility: 0, invitees: [] });
    await client.performJoin({ roomIdOrAlias: roomId, userId: bob, serverNames: [] });
    const leave = await client.performLeave({ roomId, userId: bob });
    await client.performJoin({ roomIdOrAlias: roomId, userId: carol, serverNames: [] });

    const state = await client.queryVisibleState({ roomId, viewerUserId: bob });
    assert.equal(state.roomVersion, '11');
    assert.ok(!labels(state.events).includes(`join:${carol}`), 'frozen at the leave');
    const [own] = (await client.queryVisibleState({ roomId, viewerUserId: bob, eventType: 'm.room.member', stateKey: bob })).events;
    assert.equal(own?.eventId, leave.eventId);
    await assert.rejects(client.queryVisibleState({ roomId, viewerUserId: bob, eventType: 'm.room.topic', stateKey: '' }), isMatrixError(404, 'M_NOT_FOUND'));

    const joined = await client.queryVisibleMembers({ roomId, viewerUserId: alice, memberships: [Membership.JOIN], notMemberships: [] });
    assert.deepEqual(labels(joined.events), [`join:${alice}`, `join:${carol}`]);
    const notJoined = await client.queryVisibleMembers({ roomId, viewerUserId: alice, memberships: [], notMemberships: [Membership.JOIN] });
    assert.deepEqual(labels(notJoined.events), [`leave:${bob}`]);
    const atLeave = await client.queryVisibleMembers({ roomId, viewerUserId: alice, atPosition: own?.position ?? 0, memberships: [], notMemberships: [] });
    assert.deepEqual(labels(atLeave.events), [`join:${alice}`, `leave:${bob}`]);

    const page = await client.queryMessages({ roomId, viewerUserId: bob, backwards: true, limit: 2, filterJson: '' });
    assert.deepEqual(labels(page.events), [`leave:${bob}`, `join:${bob}`]);
    assert.equal(page.startPosition, own?.position);
    assert.equal(typeof page.endPosition, 'number');
    const rest = await client.queryMessages({ roomId, viewerUserId: bob, backwards: true, limit: 0, filterJson: '{"types":["m.room.create"]}', fromPosition: page.endPosition });
    assert.deepEqual(labels(rest.events), ['m.room.create/']);
    assert.equal(rest.endPosition, undefined);

    const event = await client.queryVisibleEvent({ roomId, eventId: leave.eventId, viewerUserId: bob });
    assert.equal(event.event?.eventId, leave.eventId);
    assert.deepEqual(JSON.parse(event.event?.prevContentJson ?? 'null'), { membership: 'join' });

    await client.performForget({ roomId, userId: bob });
    await assert.rejects(client.queryMessages({ roomId, viewerUserId: bob, backwards: true, limit: 10, filterJson: '' }), isMatrixError(403, 'M_FORBIDDEN'));
    await assert.rejects(client.queryVisibleEvent({ roomId, eventId: leave.eventId, viewerUserId: bob }), isMatrixError(404, 'M_NOT_FOUND'));
    await assert.rejects(client.queryVisibleState({ roomId: '!unknown:hs.test', viewerUserId: alice }), isMatrixError(403, 'M_FORBIDDEN'));
  });
});
