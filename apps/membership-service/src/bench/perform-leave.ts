// Benchmark of PerformLeave, in-process (core + storage) and over gRPC (a
// real service process). Run by tools/bench, which parses the JSON lines this
// prints; can also be run alone:
//   node --import tsx apps/membership-service/src/bench/perform-leave.ts [--smoke]
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { generateSigningKey } from '@membrane/signing';
import { MembershipServiceClient, RoomPreset } from '@membrane/proto';
import { createRpcClient } from '@membrane/rpc';
import { runWithConcurrency, startMembershipService, throughputOf } from '@membrane/testing';
import { MembershipCore } from '../membership-core.js';
import { openStorage } from '../storage/index.js';
import type { StorageConfig } from '../storage/index.js';

const SMOKE = process.argv.includes('--smoke');
const USERS = SMOKE ? 20 : 2000;
const ROOMS = SMOKE ? 2 : 20;
const CONCURRENCY = 32;
const SERVER = 'bench.test';

interface Figure {
  readonly id: string;
  readonly group: string;
  readonly name: string;
  readonly opsPerSecond: number;
  readonly detail: string;
}

function emit(figure: Figure): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

interface LeaveTarget {
  readonly roomId: string;
  readonly userId: string;
}

async function prepare(join: (roomId: string, userId: string) => Promise<unknown>, create: (creator: string) => Promise<string>): Promise<LeaveTarget[]> {
  const targets: LeaveTarget[] = [];
  for (let r = 0; r < ROOMS; r++) {
    const roomId = await create(`@creator${r}:${SERVER}`);
    for (let u = 0; u < USERS / ROOMS; u++) targets.push({ roomId, userId: `@u${r}_${u}:${SERVER}` });
  }
  await runWithConcurrency(targets.map((t) => () => join(t.roomId, t.userId)), CONCURRENCY);
  return targets;
}

async function inProcess(engine: 'sqlite'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-leave-'));
  const config: StorageConfig = { engine, path: join(dir, 'bench.sqlite') };
  const storage = await openStorage(config);
  try {
    const core = new MembershipCore({ storage, signer: { serverName: SERVER, key: generateSigningKey() }, defaultRoomVersion: '11' });
    const targets = await prepare(
      (roomId, userId) => core.join({ roomIdOrAlias: roomId, userId }),
      async (creator) => (await core.createRoom({ creator, preset: 'public_chat' })).roomId,
    );
    const run = await runWithConcurrency(targets.map((t) => () => core.leave({ roomId: t.roomId, userId: t.userId })), CONCURRENCY);
    emit({ id: 'in-process.perform-leave', group: 'membership-service', name: `PerformLeave in-process (${engine})`, opsPerSecond: throughputOf(run), detail: `${targets.length} leaves over ${ROOMS} rooms, ${CONCURRENCY} in flight` });
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function overGrpc(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-leave-grpc-'));
  const service = await startMembershipService(dir, { MEMBRANE_MEMBERSHIP_SERVER_NAME: SERVER });
  const client = createRpcClient(MembershipServiceClient, service.address, { defaultDeadlineMs: 30_000 });
  try {
    const targets = await prepare(
      (roomId, userId) => client.performJoin({ roomIdOrAlias: roomId, userId, serverNames: [] }),
      async (creator) => (await client.performCreateRoom({ creatorUserId: creator, preset: RoomPreset.PUBLIC_CHAT, visibility: 0, invitees: [] })).roomId,
    );
    const run = await runWithConcurrency(targets.map((t) => () => client.performLeave({ roomId: t.roomId, userId: t.userId })), CONCURRENCY);
    emit({ id: 'in-process.perform-leave.grpc', group: 'membership-service', name: 'PerformLeave over gRPC (sqlite)', opsPerSecond: throughputOf(run), detail: `${targets.length} leaves over ${ROOMS} rooms, ${CONCURRENCY} in flight, separate process` });
  } finally {
    client.close();
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await inProcess('sqlite');
await overGrpc();
