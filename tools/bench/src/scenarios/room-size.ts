// Scenario 5: CS /leave latency in rooms of 10 to 100,000 members, at a
// modest concurrency. Each size has rooms of its own, seeded before the
// service starts; at most a tenth of a room's members leave, so its size
// stays about what the row says.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResult, BenchSize, ScenarioContext } from '../harness.js';
import { CsClient } from '../client.js';
import { BENCH_SERVER_NAME, issueTokens, roomIdsOf, seedMembership, seededUserId, startOurStack } from '../stack.js';
import type { SeedGroup } from '../stack.js';
import type { LeaveTarget } from './leave-load.js';
import { interleave, leaveAll, leaveRunResult, withCpu } from './leave-load.js';

interface RoomSizePlan {
  readonly sizes: readonly number[];
  /** Leaves measured per size. */
  readonly leaves: number;
  readonly concurrency: number;
  /** Time bound per size. */
  readonly maxMs: number;
}

const PLANS: Readonly<Record<BenchSize, RoomSizePlan>> = {
  smoke: { sizes: [10, 50], leaves: 6, concurrency: 2, maxMs: 30_000 },
  medium: { sizes: [10, 1_000, 10_000], leaves: 100, concurrency: 4, maxMs: 60_000 },
  full: { sizes: [10, 1_000, 10_000, 100_000], leaves: 300, concurrency: 4, maxMs: 90_000 },
};

/** Rooms of `members` so that `leaves` leaves take at most a tenth of each (at least one per room). */
export function roomsForSize(members: number, leaves: number): { rooms: number; leaversPerRoom: number } {
  const leaversPerRoom = Math.min(leaves, Math.max(1, Math.floor((members - 1) / 10)));
  return { rooms: Math.ceil(leaves / leaversPerRoom), leaversPerRoom };
}

export async function benchRoomSize(context: ScenarioContext): Promise<BenchResult[]> {
  const plan = PLANS[context.size];
  const dir = mkdtempSync(join(tmpdir(), 'bench-room-size-'));
  try {
    const groups: (SeedGroup & { leaversPerRoom: number })[] = plan.sizes.map((members) => ({
      name: `size-${members}`,
      members,
      userPrefix: `rs${members}-`,
      ...roomsForSize(members, plan.leaves),
    }));
    // Rooms of their own for a warm-up, so the first size does not pay for the JIT.
    const warmupGroup = { name: 'warm-up', rooms: 10, members: 2, userPrefix: 'rsw' };
    const seeded = await seedMembership({ dataDir: join(dir, 'membership'), serverName: BENCH_SERVER_NAME, groups: [warmupGroup, ...groups], progress: context.progress });
    const warmup = roomIdsOf(seeded, warmupGroup.name).map((roomId, r) => ({ roomId, userId: seededUserId(warmupGroup, r, 1, BENCH_SERVER_NAME) }));
    const perSize = groups.map((group) => {
      const perRoom = roomIdsOf(seeded, group.name).map((roomId, r) =>
        Array.from({ length: group.leaversPerRoom }, (_, m) => ({ roomId, userId: seededUserId(group, r, m + 1, BENCH_SERVER_NAME) })),
      );
      return { group, leaves: interleave(perRoom).slice(0, plan.leaves) };
    });
    const users = await issueTokens(join(dir, 'cs'), BENCH_SERVER_NAME, [...warmup, ...perSize.flatMap((s) => s.leaves)].map((l) => l.userId));
    const stack = await startOurStack({ dir, serverName: BENCH_SERVER_NAME });
    const client = new CsClient('ours', stack.clientUrl, plan.concurrency);
    try {
      await leaveAll(client, warmup.map((l) => ({ roomId: l.roomId, user: users.get(l.userId) as LeaveTarget['user'] })), 1, 30_000, 'warm-up', context.progress);
      const results: BenchResult[] = [];
      for (const { group, leaves } of perSize) {
        const targets = leaves.map((l) => ({ roomId: l.roomId, user: users.get(l.userId) as LeaveTarget['user'] }));
        const run = await withCpu(stack.watched, () => leaveAll(client, targets, plan.concurrency, plan.maxMs, `rooms of ${group.members.toLocaleString('en-US')}`, context.progress));
        results.push(
          leaveRunResult(run.value, {
            cpu: run.cpu,
            id: `room-size.${group.members}`,
            group: 'room size',
            name: `CS /leave in rooms of ${group.members.toLocaleString('en-US')} members`,
            members: group.members,
            setup: `${group.rooms.toLocaleString('en-US')} room${group.rooms === 1 ? '' : 's'} (seeded), ${group.leaversPerRoom.toLocaleString('en-US')} leaving each`,
            concurrency: plan.concurrency,
          }),
        );
      }
      return results;
    } finally {
      client.close();
      await stack.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
