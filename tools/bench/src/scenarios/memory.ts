// Scenario 6: resident memory of the three apps, empty and with 100,000
// rooms and 1,000,000 memberships (full size), after a warm-up of reads and
// leaves. A whole homeserver (membership service, federation gateway with
// TLS, CS gateway) starts empty, is measured, stops, is seeded, starts
// again on the same data and ports, warms up, and is measured again.
import { get } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCertificateAuthority, startHomeserverStack } from '@membrane/testing';
import type { HomeserverStack } from '@membrane/testing';
import type { BenchResult, BenchSize, ScenarioContext } from '../harness.js';
import { CsClient, roomPath } from '../client.js';
import type { ClientUser } from '../client.js';
import { runClosedLoop } from '../load.js';
import { processMemory } from '../proc.js';
import { issueTokens, roomIdsOf, seedMembership, seededUserId } from '../stack.js';

interface MemoryPlan {
  readonly rooms: number;
  readonly membersPerRoom: number;
  /** Rooms touched by the warm-up: one leave, one member list, one joined-rooms list each. */
  readonly warmupRooms: number;
}

const PLANS: Readonly<Record<BenchSize, MemoryPlan>> = {
  smoke: { rooms: 20, membersPerRoom: 4, warmupRooms: 5 },
  medium: { rooms: 10_000, membersPerRoom: 10, warmupRooms: 500 },
  full: { rooms: 100_000, membersPerRoom: 10, warmupRooms: 2_000 },
};

const CONCURRENCY = 8;
const GROUP = 'memory';

/** The apps in the order startHomeserverStack starts them. */
const APPS = ['membership-service', 'federation-gateway', 'cs-gateway'] as const;

function memoryRows(stack: HomeserverStack, state: string, detail: string, idSuffix: string): BenchResult[] {
  return stack.processes.map((p, i) => {
    const app = APPS[i] ?? `process ${i}`;
    const pid = p.child.pid;
    if (pid === undefined) throw new Error(`${app} has no pid`);
    const memory = processMemory(pid);
    return { id: `memory.${app}.${idSuffix}`, group: GROUP, name: `${app}, ${state}`, rssMiB: memory.rssMiB, peakRssMiB: memory.peakRssMiB, detail };
  });
}

function total(rows: readonly BenchResult[], state: string, idSuffix: string, detail: string): BenchResult {
  return {
    id: `memory.total.${idSuffix}`,
    group: GROUP,
    name: `all three apps, ${state}`,
    rssMiB: rows.reduce((sum, r) => sum + (r.rssMiB ?? 0), 0),
    peakRssMiB: rows.reduce((sum, r) => sum + (r.peakRssMiB ?? 0), 0),
    detail,
  };
}

/** A request the federation gateway answers without a signature: its server keys. */
function fetchServerKeys(federationUrl: string, caPem: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = get(`${federationUrl}/_matrix/key/v2/server`, { ca: caPem, timeout: 30_000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`key request answered ${String(res.statusCode)}`))));
    });
    req.on('timeout', () => req.destroy(new Error('key request got no answer')));
    req.on('error', reject);
  });
}

export async function benchMemory(context: ScenarioContext): Promise<BenchResult[]> {
  const plan = PLANS[context.size];
  const dir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  try {
    const ca = createTestCertificateAuthority(join(dir, 'ca'));
    const stack = await startHomeserverStack({ dir: join(dir, 'hs'), ca });
    try {
      await fetchServerKeys(stack.federationUrl, ca.caPem);
      const empty = memoryRows(stack, 'empty', 'just started, no rooms', 'empty');
      const results = [...empty, total(empty, 'empty', 'empty', 'sum of the three')];
      await stack.stop();

      const group = { name: 'rooms', rooms: plan.rooms, members: plan.membersPerRoom, userPrefix: 'mem' };
      const seeded = await seedMembership({ dataDir: join(dir, 'hs', 'membership'), serverName: stack.serverName, groups: [group], progress: context.progress, deadlineSeconds: 1_200 });
      const roomIds = roomIdsOf(seeded, group.name);
      const step = Math.max(1, Math.floor(plan.rooms / plan.warmupRooms));
      const touched = Array.from({ length: Math.min(plan.warmupRooms, plan.rooms) }, (_, i) => i * step);
      const leaverOf = (r: number): string => seededUserId(group, r, 1, stack.serverName);
      const readerOf = (r: number): string => seededUserId(group, r, 2 % plan.membersPerRoom, stack.serverName);
      const users = await issueTokens(join(dir, 'hs', 'cs'), stack.serverName, touched.flatMap((r) => [leaverOf(r), readerOf(r)]));
      const user = (id: string): ClientUser => users.get(id) as ClientUser;

      await stack.restart();
      const client = new CsClient('ours', stack.csUrl, CONCURRENCY);
      try {
        const tasks: (() => Promise<unknown>)[] = touched.flatMap((r) => {
          const roomId = roomIds[r] as string;
          return [
            () => client.get(user(readerOf(r)), '/joined_rooms'),
            () => client.get(user(readerOf(r)), roomPath(roomId, 'members')),
            () => client.post(user(leaverOf(r)), roomPath(roomId, 'leave'), {}),
          ];
        });
        const warm = await runClosedLoop({
          count: tasks.length,
          concurrency: CONCURRENCY,
          maxMs: 300_000,
          task: (i) => (tasks[i] as () => Promise<unknown>)(),
          onProgress: (ended, ms) => context.progress(`memory warm-up: ${ended}/${tasks.length} requests, ${(ms / 1000).toFixed(1)} s`),
        });
        if (warm.failed > 0) throw new Error(`${warm.failed} warm-up requests failed: ${warm.errors.join('; ')}`);
        await fetchServerKeys(stack.federationUrl, ca.caPem);
      } finally {
        client.close();
      }
      const state = `${plan.rooms.toLocaleString('en-US')} rooms, ${(plan.rooms * plan.membersPerRoom).toLocaleString('en-US')} memberships`;
      const detail = `after ${touched.length.toLocaleString('en-US')} leaves, member lists and joined-room lists (seeded: ${seeded.events.toLocaleString('en-US')} events in ${seeded.seconds.toFixed(0)} s)`;
      const seededRows = memoryRows(stack, state, detail, 'seeded');
      results.push(...seededRows, total(seededRows, state, 'seeded', 'sum of the three'));
      return results;
    } finally {
      await stack.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
