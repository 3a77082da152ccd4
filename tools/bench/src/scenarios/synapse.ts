// Scenario 7: scenarios 2 and 4 against a real Synapse (tools/synapse, its
// own SQLite, logging at INFO like ours) on the same machine in the same
// run, driven by the same client code. Synapse builds its rooms through its
// API (nothing can seed it faster), which takes seconds per hundred joins, so
// it gets smaller numbers than ours; the report compares rates, which do not
// depend on N as long as the rooms stay small. One Synapse serves every
// measurement, started once; our stack is stopped meanwhile, so the two never
// share the cores.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT, terminateProcess } from '@membrane/testing';
import type { BenchResult, BenchSize, ScenarioContext } from '../harness.js';
import { CsClient, roomPath } from '../client.js';
import type { ClientUser } from '../client.js';
import { runClosedLoop } from '../load.js';
import { CS_LEAVE_SIZES } from './cs-leave.js';
import type { LeaveTarget, SaturationPlan } from './leave-load.js';
import { interleave, leaveAll, leaveRunResult, measureSaturation, saturationResults } from './leave-load.js';
import { MASS_LEAVE_GROUP, MASS_LEAVE_SIZES } from './mass-leave.js';

const SYNAPSE_MAIN = `${REPO_ROOT}tools/synapse/src/main.ts`;
const ROOM_VERSION = '11';
/** Requests in flight while building rooms (not measured). */
const SETUP_CONCURRENCY = 8;

interface SynapsePlan extends SaturationPlan {
  readonly rooms: number;
  readonly leaversPerRoom: number;
  /** N of scenario 4 for Synapse. */
  readonly massN: number;
}

const PLANS: Readonly<Record<BenchSize, SynapsePlan>> = {
  smoke: { rooms: 2, leaversPerRoom: 4, warmup: 1, saturation: { count: 4, maxMs: 20_000 }, half: { count: 3, maxMs: 20_000 }, concurrency: CS_LEAVE_SIZES.smoke.concurrency, massN: 3 },
  medium: { rooms: 6, leaversPerRoom: 50, warmup: 10, saturation: { count: 150, maxMs: 8_000 }, half: { count: 140, maxMs: 8_000 }, concurrency: CS_LEAVE_SIZES.medium.concurrency, massN: 100 },
  full: { rooms: 10, leaversPerRoom: 50, warmup: 20, saturation: { count: 300, maxMs: 10_000 }, half: { count: 180, maxMs: 10_000 }, concurrency: CS_LEAVE_SIZES.full.concurrency, massN: 200 },
};

interface SynapsePeer {
  readonly version: string;
  readonly clientUrl: string;
  readonly users: readonly ClientUser[];
  stop(): Promise<void>;
}

async function startSynapsePeer(userCount: number, progress: (line: string) => void): Promise<SynapsePeer> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-synapse-'));
  const child = spawn(process.execPath, ['--import', 'tsx', SYNAPSE_MAIN, 'start', '--json', '--dir', dir, '--users', String(userCount)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const stop = async (): Promise<void> => {
    await terminateProcess(child, 30_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const lines: Record<string, unknown>[] = [];
    await new Promise<void>((resolve, reject) => {
      // A cold install (about half a minute), the start, and the registrations.
      const timer = setTimeout(() => reject(new Error(`Synapse peer not ready within 10 minutes: ${stderr}`)), 600_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Synapse peer exited with ${String(code)}: ${stderr}`));
      });
      let registered = 0;
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (!line.startsWith('{')) return;
        const record = JSON.parse(line) as Record<string, unknown>;
        lines.push(record);
        if (record['kind'] === 'synapse') progress(`Synapse ${String(record['version'])} started in ${Number(record['startSeconds']).toFixed(1)} s; registering ${userCount} users`);
        if (record['kind'] === 'user' && ++registered % 100 === 0) progress(`Synapse: ${registered}/${userCount} users registered`);
        if (record['kind'] === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const info = lines.find((l) => l['kind'] === 'synapse') ?? {};
    const users = lines.filter((l) => l['kind'] === 'user').map((l) => ({ userId: String(l['userId']), accessToken: String(l['accessToken']) }));
    return { version: String(info['version']), clientUrl: String(info['clientUrl']), users, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs setup requests (not measured), failing on the first error. */
async function setup(tasks: readonly (() => Promise<unknown>)[], label: string, progress: (line: string) => void): Promise<void> {
  const run = await runClosedLoop({
    count: tasks.length,
    concurrency: SETUP_CONCURRENCY,
    maxMs: 600_000,
    task: (i) => (tasks[i] as () => Promise<unknown>)(),
    onProgress: (ended, ms) => progress(`Synapse setup, ${label}: ${ended}/${tasks.length}, ${(ms / 1000).toFixed(0)} s`),
  });
  if (run.failed > 0 || run.stoppedBy === 'time') throw new Error(`Synapse setup (${label}): ${run.failed} failed, ${run.stoppedBy}: ${run.errors.join('; ')}`);
}

async function createRooms(client: CsClient, creator: ClientUser, count: number, label: string, progress: (line: string) => void): Promise<string[]> {
  const ids: string[] = [];
  await setup(
    Array.from({ length: count }, () => async () => {
      const created = await client.post(creator, '/createRoom', { preset: 'public_chat', room_version: ROOM_VERSION });
      ids.push(String(created['room_id']));
    }),
    label,
    progress,
  );
  return ids;
}

function joins(client: CsClient, pairs: readonly LeaveTarget[]): (() => Promise<unknown>)[] {
  return pairs.map(({ user, roomId }) => () => client.post(user, roomPath(roomId, 'join'), {}));
}

export async function benchSynapse(context: ScenarioContext): Promise<BenchResult[]> {
  const plan = PLANS[context.size];
  const mass = MASS_LEAVE_SIZES[context.size];
  const pool = plan.rooms * plan.leaversPerRoom;
  const peer = await startSynapsePeer(pool + 1, context.progress);
  const client = new CsClient('Synapse', peer.clientUrl, plan.concurrency * 4);
  try {
    const [creator, ...users] = peer.users;
    if (creator === undefined || users.length < Math.max(pool, plan.massN)) throw new Error(`Synapse registered ${peer.users.length} users, ${pool + 1} needed`);

    // Scenario 2 on Synapse: rooms of 51 members, each leave a different member.
    const rooms = await createRooms(client, creator, plan.rooms, 'rooms for scenario 2', context.progress);
    const perRoom = rooms.map((roomId, r) => users.slice(r * plan.leaversPerRoom, (r + 1) * plan.leaversPerRoom).map((user) => ({ roomId, user })));
    const targets = interleave(perRoom);
    await setup(joins(client, targets), 'joins for scenario 2', context.progress);
    const saturation = await measureSaturation(client, targets, plan, 'Synapse cs-leave', context.progress);

    // Scenario 4 on Synapse: one user leaves N rooms; N users leave one room.
    const leaver = users[0] as ClientUser;
    const manyRooms = await createRooms(client, creator, plan.massN, 'rooms for one user', context.progress);
    const oneUserTargets = manyRooms.map((roomId) => ({ roomId, user: leaver }));
    await setup(joins(client, oneUserTargets), 'one user joins the rooms', context.progress);
    const oneUserRun = await leaveAll(client, oneUserTargets, mass.concurrency, mass.maxMs, 'Synapse: one user leaves many rooms', context.progress);

    const [bigRoom] = await createRooms(client, creator, 1, 'one room', context.progress);
    const oneRoomTargets = users.slice(0, plan.massN).map((user) => ({ roomId: bigRoom as string, user }));
    await setup(joins(client, oneRoomTargets), 'users join one room', context.progress);
    const oneRoomRun = await leaveAll(client, oneRoomTargets, mass.concurrency, mass.maxMs, 'Synapse: many users leave one room', context.progress);

    const n = plan.massN.toLocaleString('en-US');
    return [
      ...saturationResults(
        saturation,
        { saturation: 'synapse.cs-leave.saturation', half: 'synapse.cs-leave.half' },
        'CS /leave, Synapse',
        `CS /leave, Synapse ${peer.version} (SQLite)`,
        `${plan.rooms} rooms of ${plan.leaversPerRoom + 1} members (joined through the API), each leave a different member, rooms interleaved`,
        plan.concurrency,
      ),
      leaveRunResult(oneUserRun, {
        id: 'synapse.mass-leave.one-user',
        group: MASS_LEAVE_GROUP,
        name: `Synapse ${peer.version}: one user leaves ${n} rooms`,
        setup: `${n} rooms of 2 members (N smaller than ours: Synapse builds rooms through its API; compare rates)`,
        concurrency: mass.concurrency,
      }),
      leaveRunResult(oneRoomRun, {
        id: 'synapse.mass-leave.one-room',
        group: MASS_LEAVE_GROUP,
        name: `Synapse ${peer.version}: ${n} users leave one room`,
        setup: `one room of ${(plan.massN + 1).toLocaleString('en-US')} members (N smaller than ours; compare rates)`,
        concurrency: mass.concurrency,
      }),
    ];
  } finally {
    client.close();
    await peer.stop();
  }
}
