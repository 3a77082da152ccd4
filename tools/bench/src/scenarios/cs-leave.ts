// Scenario 2 (and 8 on PostgreSQL): CS `/leave` end to end, gateway → gRPC →
// service → database. Rooms of 100 members are seeded before the service
// starts; every leave is a different member, rooms interleaved. Saturation
// is the closed-loop rate at a fixed concurrency; latency is measured at
// half of it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { BenchResult, BenchSize, ScenarioContext } from '../harness.js';
import { CsClient } from '../client.js';
import type { BenchDatabase } from '../stack.js';
import { BENCH_SERVER_NAME, issueTokens, roomIdsOf, seedMembership, seededUserId, startOurStack } from '../stack.js';
import type { LeaveTarget, SaturationPlan } from './leave-load.js';
import { interleave, measureSaturation, saturationResults } from './leave-load.js';

interface CsLeaveSize extends SaturationPlan {
  readonly rooms: number;
  /** PostgreSQL is slower to seed and to leave: fewer leavers are enough for the same time bounds. */
  readonly postgresRooms: number;
  /** Members per room, the creator (who stays) included. */
  readonly members: number;
}

export const CS_LEAVE_SIZES: Readonly<Record<BenchSize, CsLeaveSize>> = {
  smoke: { rooms: 2, postgresRooms: 2, members: 21, warmup: 4, saturation: { count: 16, maxMs: 10_000 }, half: { count: 16, maxMs: 10_000 }, concurrency: 4 },
  medium: { rooms: 60, postgresRooms: 30, members: 101, warmup: 200, saturation: { count: 3_000, maxMs: 6_000 }, half: { count: 2_800, maxMs: 6_000 }, concurrency: 64 },
  full: { rooms: 400, postgresRooms: 120, members: 101, warmup: 500, saturation: { count: 20_000, maxMs: 10_000 }, half: { count: 19_500, maxMs: 10_000 }, concurrency: 64 },
};

const GROUP = { name: 'pool', userPrefix: 'cl' } as const;

export const DEFAULT_PG_URL = 'postgres://membrane:membrane@127.0.0.1:5432/membrane_test';

/** A schema of its own for each run, dropped afterwards. */
async function withFreshSchema<T>(fn: (db: BenchDatabase) => Promise<T>): Promise<T> {
  const url = process.env['MEMBRANE_TEST_PG_URL'] ?? DEFAULT_PG_URL;
  const schema = `bench_${Date.now().toString(36)}_${process.pid}`;
  try {
    return await fn({ engine: 'postgres', url, schema });
  } finally {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  }
}

async function measureOn(database: BenchDatabase, context: ScenarioContext): Promise<BenchResult[]> {
  const sizes = CS_LEAVE_SIZES[context.size];
  const size = { ...sizes, rooms: database.engine === 'postgres' ? sizes.postgresRooms : sizes.rooms };
  const dir = mkdtempSync(join(tmpdir(), `bench-cs-leave-${database.engine}-`));
  try {
    const group = { ...GROUP, rooms: size.rooms, members: size.members };
    const seeded = await seedMembership({ dataDir: join(dir, 'membership'), serverName: BENCH_SERVER_NAME, groups: [group], database, progress: context.progress });
    const roomIds = roomIdsOf(seeded, group.name);
    const perRoom = roomIds.map((roomId, r) => Array.from({ length: size.members - 1 }, (_, m) => ({ roomId, userId: seededUserId(group, r, m + 1, BENCH_SERVER_NAME) })));
    const order = interleave(perRoom);
    const users = await issueTokens(join(dir, 'cs'), BENCH_SERVER_NAME, order.map((t) => t.userId), context.progress);
    const targets: LeaveTarget[] = order.map((t) => ({ roomId: t.roomId, user: users.get(t.userId) as LeaveTarget['user'] }));
    const stack = await startOurStack({ dir, serverName: BENCH_SERVER_NAME, database });
    const client = new CsClient('ours', stack.clientUrl, size.concurrency * 4);
    try {
      const figures = await measureSaturation(client, targets, size, `cs-leave ${database.engine}`, context.progress, stack.watched);
      const engine = database.engine === 'sqlite' ? 'SQLite' : 'PostgreSQL';
      return saturationResults(
        figures,
        { saturation: `cs-leave.${database.engine}.saturation`, half: `cs-leave.${database.engine}.half` },
        `CS /leave, ${engine}`,
        `CS /leave, ours on ${engine}`,
        `${size.rooms} rooms of ${size.members} members (seeded), each leave a different member, rooms interleaved`,
        size.concurrency,
      );
    } finally {
      client.close();
      await stack.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Scenario 2. */
export function benchCsLeaveSqlite(context: ScenarioContext): Promise<BenchResult[]> {
  return measureOn({ engine: 'sqlite' }, context);
}

/** Scenario 8: the same on PostgreSQL (MEMBRANE_TEST_PG_URL), in a schema of its own. */
export function benchCsLeavePostgres(context: ScenarioContext): Promise<BenchResult[]> {
  return withFreshSchema((database) => measureOn(database, context));
}
