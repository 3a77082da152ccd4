// Our stack for the end-to-end scenarios: the membership service and the CS
// gateway as real processes on loopback, with a database seeded before the
// service starts (by the seeder beside the service: tools may not import
// apps, so it runs as a child process) and access tokens written straight
// into the gateway's user store (the store the admin CLI writes).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT, startApp } from '@membrane/testing';
import type { AppProcess } from '@membrane/testing';
import { UserStore } from '@membrane/user-store';
import type { ClientUser } from './client.js';

export const BENCH_SERVER_NAME = 'bench.test';

const SEEDER = `${REPO_ROOT}apps/membership-service/src/bench/seed.ts`;

export interface SeedGroup {
  readonly name: string;
  readonly rooms: number;
  /** Joined members per room, the creator (member 0) included. */
  readonly members: number;
  readonly userPrefix: string;
  /** The same users in every room of the group. */
  readonly sharedMembers?: boolean;
}

export type BenchDatabase = { readonly engine: 'sqlite' } | { readonly engine: 'postgres'; readonly url: string; readonly schema: string };

export interface SeedOutput {
  readonly groups: readonly { readonly name: string; readonly roomIds: readonly string[] }[];
  readonly events: number;
  readonly seconds: number;
}

/** The seeder's naming rule (apps/membership-service/src/bench/seed-spec.ts). */
export function seededUserId(group: Pick<SeedGroup, 'userPrefix' | 'sharedMembers'>, roomIndex: number, memberIndex: number, serverName: string): string {
  const localpart = group.sharedMembers === true ? `${group.userPrefix}${memberIndex}` : `${group.userPrefix}${roomIndex}_${memberIndex}`;
  return `@${localpart}:${serverName}`;
}

export function roomIdsOf(seeded: SeedOutput, group: string): readonly string[] {
  const found = seeded.groups.find((g) => g.name === group);
  if (found === undefined) throw new Error(`the seeder returned no group ${group}`);
  return found.roomIds;
}

/**
 * Seeds the membership database of `dataDir` (SQLite there, or the given
 * PostgreSQL schema) while the service is stopped. Progress goes to `progress`.
 */
export async function seedMembership(options: {
  readonly dataDir: string;
  readonly serverName: string;
  readonly groups: readonly SeedGroup[];
  readonly database?: BenchDatabase;
  readonly progress: (line: string) => void;
  readonly deadlineSeconds?: number;
}): Promise<SeedOutput> {
  mkdirSync(options.dataDir, { recursive: true });
  const out = join(options.dataDir, 'seeded.json');
  const db = options.database;
  const args = [
    '--import',
    'tsx',
    SEEDER,
    '--data-dir',
    options.dataDir,
    '--server-name',
    options.serverName,
    '--spec',
    JSON.stringify({ groups: options.groups }),
    '--out',
    out,
    '--deadline-s',
    String(options.deadlineSeconds ?? 900),
    ...(db?.engine === 'postgres' ? ['--pg-url', db.url, '--pg-schema', db.schema] : []),
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  createInterface({ input: child.stderr }).on('line', (line) => {
    tail = `${tail}\n${line}`.slice(-4000);
    if (line.trimStart().startsWith('seed:')) options.progress(line.trim());
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`seeding failed (exit ${String(code)}): ${tail}`);
  return JSON.parse(readFileSync(out, 'utf8')) as SeedOutput;
}

/** Access tokens for `userIds` in the CS gateway's user store under `csDir`. */
export async function issueTokens(csDir: string, serverName: string, userIds: readonly string[], progress?: (line: string) => void): Promise<Map<string, ClientUser>> {
  const store = UserStore.open({ path: join(csDir, 'users.sqlite'), serverName });
  const users = new Map<string, ClientUser>();
  try {
    for (const userId of userIds) {
      if (users.has(userId)) continue;
      if (users.size % 10_000 === 0 && users.size > 0) progress?.(`access tokens: ${users.size.toLocaleString('en-US')}/${userIds.length.toLocaleString('en-US')}`);
      const localpart = userId.slice(1, userId.indexOf(':'));
      await store.createUser(localpart);
      const token = store.issueAccessToken(localpart);
      users.set(userId, { userId: token.userId, accessToken: token.accessToken });
    }
  } finally {
    store.close();
  }
  return users;
}

export interface OurStack {
  readonly clientUrl: string;
  readonly membership: AppProcess;
  readonly cs: AppProcess;
  /** The two processes, for CPU figures. */
  readonly watched: readonly { readonly name: string; readonly pid: number }[];
  stop(): Promise<void>;
}

/**
 * The membership service (on `database`) and the CS gateway, with rate
 * limits out of the way and the default logging (one access-log line per
 * request, as Synapse at INFO).
 */
export async function startOurStack(options: { readonly dir: string; readonly serverName: string; readonly database?: BenchDatabase }): Promise<OurStack> {
  const db = options.database ?? { engine: 'sqlite' };
  const membership = await startApp('membership-service', {
    readyMessage: 'membership service listening',
    timeoutMs: 120_000,
    env: {
      MEMBRANE_MEMBERSHIP_DATA_DIR: join(options.dir, 'membership'),
      MEMBRANE_MEMBERSHIP_SERVER_NAME: options.serverName,
      MEMBRANE_MEMBERSHIP_GRPC__LISTEN: '127.0.0.1:0',
      ...(db.engine === 'postgres'
        ? { MEMBRANE_MEMBERSHIP_DATABASE__ENGINE: 'postgres', MEMBRANE_MEMBERSHIP_DATABASE__URL: db.url, MEMBRANE_MEMBERSHIP_DATABASE__SCHEMA: db.schema }
        : {}),
    },
  });
  let cs: AppProcess;
  try {
    cs = await startApp('cs-gateway', {
      readyMessage: 'cs gateway listening',
      env: {
        MEMBRANE_CS_SERVER_NAME: options.serverName,
        MEMBRANE_CS_DATA_DIR: join(options.dir, 'cs'),
        MEMBRANE_CS_LISTEN__HOST: '127.0.0.1',
        MEMBRANE_CS_LISTEN__PORT: '0',
        MEMBRANE_CS_MEMBERSHIP__ADDRESS: String(membership.ready['address']),
        MEMBRANE_CS_MEMBERSHIP__DEADLINE_MS: '60000',
        // Relaxed like Synapse's rc_* in tools/synapse: the figure is the server, not the limiter.
        MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__PER_SECOND: '100000',
        MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__BURST: '1000000',
      },
    });
  } catch (err) {
    await membership.stop().catch(() => undefined);
    throw err;
  }
  return {
    clientUrl: String(cs.ready['url']),
    membership,
    cs,
    watched: [
      { name: 'membership service', pid: membership.child.pid as number },
      { name: 'CS gateway', pid: cs.child.pid as number },
    ],
    async stop() {
      await cs.stop(30_000).catch(() => undefined);
      await membership.stop(30_000).catch(() => undefined);
    },
  };
}
