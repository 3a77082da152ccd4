// Scenario 4, ours: one user leaves N rooms, then N users leave one room
// (N = 10,000 at full size), through the CS API with a fixed number in
// flight. The rooms are seeded before the service starts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResult, BenchSize, ScenarioContext } from '../harness.js';
import { CsClient } from '../client.js';
import { BENCH_SERVER_NAME, issueTokens, roomIdsOf, seedMembership, seededUserId, startOurStack } from '../stack.js';
import type { LeaveTarget } from './leave-load.js';
import { leaveAll, leaveRunResult, withCpu } from './leave-load.js';

export interface MassLeaveSize {
  readonly n: number;
  readonly concurrency: number;
  /** Time bound of each run. */
  readonly maxMs: number;
}

export const MASS_LEAVE_SIZES: Readonly<Record<BenchSize, MassLeaveSize>> = {
  smoke: { n: 20, concurrency: 4, maxMs: 30_000 },
  medium: { n: 2_000, concurrency: 16, maxMs: 60_000 },
  full: { n: 10_000, concurrency: 16, maxMs: 120_000 },
};

export const MASS_LEAVE_GROUP = 'mass leave';

export async function benchMassLeave(context: ScenarioContext): Promise<BenchResult[]> {
  const size = MASS_LEAVE_SIZES[context.size];
  const dir = mkdtempSync(join(tmpdir(), 'bench-mass-leave-'));
  try {
    // Member 0 creates and stays; member 1 of every room is the same user.
    const oneUser = { name: 'one-user', rooms: size.n, members: 2, userPrefix: 'mu', sharedMembers: true };
    const oneRoom = { name: 'one-room', rooms: 1, members: size.n + 1, userPrefix: 'mr', sharedMembers: true };
    const seeded = await seedMembership({ dataDir: join(dir, 'membership'), serverName: BENCH_SERVER_NAME, groups: [oneUser, oneRoom], progress: context.progress });
    const leaver = seededUserId(oneUser, 0, 1, BENCH_SERVER_NAME);
    const [bigRoom] = roomIdsOf(seeded, oneRoom.name);
    if (bigRoom === undefined) throw new Error('no room seeded');
    const roomLeavers = Array.from({ length: size.n }, (_, i) => seededUserId(oneRoom, 0, i + 1, BENCH_SERVER_NAME));
    const users = await issueTokens(join(dir, 'cs'), BENCH_SERVER_NAME, [leaver, ...roomLeavers], context.progress);
    const user = (id: string): LeaveTarget['user'] => users.get(id) as LeaveTarget['user'];
    const stack = await startOurStack({ dir, serverName: BENCH_SERVER_NAME });
    const client = new CsClient('ours', stack.clientUrl, size.concurrency);
    try {
      const manyRooms = await withCpu(stack.watched, () =>
        leaveAll(
          client,
          roomIdsOf(seeded, oneUser.name).map((roomId) => ({ roomId, user: user(leaver) })),
          size.concurrency,
          size.maxMs,
          'one user leaves many rooms',
          context.progress,
        ),
      );
      const oneRoomRun = await withCpu(stack.watched, () =>
        leaveAll(
          client,
          roomLeavers.map((id) => ({ roomId: bigRoom, user: user(id) })),
          size.concurrency,
          size.maxMs,
          'many users leave one room',
          context.progress,
        ),
      );
      return [
        leaveRunResult(manyRooms.value, {
          cpu: manyRooms.cpu,
          id: 'mass-leave.one-user',
          group: MASS_LEAVE_GROUP,
          name: `ours: one user leaves ${size.n.toLocaleString('en-US')} rooms`,
          setup: `${size.n.toLocaleString('en-US')} rooms of 2 members (seeded)`,
          concurrency: size.concurrency,
        }),
        leaveRunResult(oneRoomRun.value, {
          cpu: oneRoomRun.cpu,
          id: 'mass-leave.one-room',
          group: MASS_LEAVE_GROUP,
          name: `ours: ${size.n.toLocaleString('en-US')} users leave one room`,
          setup: `one room of ${(size.n + 1).toLocaleString('en-US')} members (seeded)`,
          concurrency: size.concurrency,
        }),
      ];
    } finally {
      client.close();
      await stack.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
