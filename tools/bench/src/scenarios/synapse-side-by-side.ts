// Side by side with a real Synapse on the same machine in the same run: N
// users join one public room, then all leave through the Client-Server API
// (`POST /rooms/{id}/leave`) with a fixed number in flight. The same client
// code drives both servers over loopback; only the base URL and tokens differ.
//
// Synapse runs from its CLI in tools/synapse (a child process: tools do not
// import each other); our stack is the membership service and the CS gateway
// as real processes, with users written straight into the gateway's user store
// (the store the admin CLI writes; one process instead of N CLI runs).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { percentile, runWithConcurrency, startApp, startMembershipService, throughputOf } from '@membrane/testing';
import { UserStore } from '@membrane/user-store';
import type { BenchResult } from '../harness.js';
import { SMOKE } from '../harness.js';

// BENCH_SIDE_BY_SIDE_USERS overrides the room size of a full run.
const USERS = SMOKE ? 4 : positiveInteger(process.env['BENCH_SIDE_BY_SIDE_USERS'] ?? '500', 'BENCH_SIDE_BY_SIDE_USERS');
const IN_FLIGHT = SMOKE ? 2 : 16;
const ROOM_VERSION = '11';
const OUR_SERVER_NAME = 'bench.test';
const GROUP = 'cs leave side by side';
const SYNAPSE_MAIN = fileURLToPath(new URL('../../../synapse/src/main.ts', import.meta.url));

interface ClientUser {
  readonly userId: string;
  readonly accessToken: string;
}

interface Server {
  readonly label: string;
  readonly clientUrl: string;
  readonly creator: ClientUser;
  readonly users: readonly ClientUser[];
  stop(): Promise<void>;
}

export interface LeaveFigures {
  readonly leavesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly leaves: number;
}

function positiveInteger(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${text}`);
  return value;
}

async function call(server: Server, user: ClientUser, path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.clientUrl}/_matrix/client/v3${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${server.label}: POST ${path} as ${user.userId} answered ${response.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Everyone joins one public room (untimed), then everyone leaves (timed). */
async function measureLeaves(server: Server): Promise<LeaveFigures> {
  const created = await call(server, server.creator, '/createRoom', { preset: 'public_chat', room_version: ROOM_VERSION });
  const room = encodeURIComponent(String(created['room_id']));
  await runWithConcurrency(server.users.map((user) => () => call(server, user, `/rooms/${room}/join`, {})), IN_FLIGHT);
  const run = await runWithConcurrency(server.users.map((user) => () => call(server, user, `/rooms/${room}/leave`, { reason: 'bench' })), IN_FLIGHT);
  return { leavesPerSecond: throughputOf(run), p50Ms: percentile(run.latenciesMs, 0.5), p99Ms: percentile(run.latenciesMs, 0.99), leaves: run.latenciesMs.length };
}

async function startSynapsePeer(userCount: number): Promise<Server & { readonly version: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-synapse-'));
  const child = spawn(process.execPath, ['--import', 'tsx', SYNAPSE_MAIN, 'start', '--json', '--dir', dir, '--users', String(userCount + 1)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const lines: Record<string, unknown>[] = [];
    await new Promise<void>((resolve, reject) => {
      // Cold install (about half a minute) plus start and registration.
      const timer = setTimeout(() => reject(new Error(`Synapse peer not ready within 10 minutes: ${stderr}`)), 600_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Synapse peer exited with ${String(code)}: ${stderr}`));
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (!line.startsWith('{')) return;
        const record = JSON.parse(line) as Record<string, unknown>;
        lines.push(record);
        if (record['kind'] === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const info = lines.find((l) => l['kind'] === 'synapse') ?? {};
    const users = lines.filter((l) => l['kind'] === 'user').map((l) => ({ userId: String(l['userId']), accessToken: String(l['accessToken']) }));
    const [creator, ...rest] = users;
    if (creator === undefined) throw new Error('Synapse peer registered no users');
    return { label: 'Synapse', clientUrl: String(info['clientUrl']), creator, users: rest, version: String(info['version']), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startOurStack(userCount: number): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-membrane-'));
  const csDir = join(dir, 'cs');
  const store = UserStore.open({ path: join(csDir, 'users.sqlite'), serverName: OUR_SERVER_NAME });
  const users: ClientUser[] = [];
  try {
    for (let i = 0; i <= userCount; i++) {
      const user = await store.createUser(`user${i + 1}`);
      const token = store.issueAccessToken(user.localpart);
      users.push({ userId: token.userId, accessToken: token.accessToken });
    }
  } finally {
    store.close();
  }
  const service = await startMembershipService(join(dir, 'membership'), { MEMBRANE_MEMBERSHIP_SERVER_NAME: OUR_SERVER_NAME });
  let gateway: Awaited<ReturnType<typeof startApp>> | undefined;
  const stopAll = async (): Promise<void> => {
    await gateway?.stop().catch(() => undefined);
    await service.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    gateway = await startApp('cs-gateway', {
      readyMessage: 'cs gateway listening',
      env: {
        MEMBRANE_CS_SERVER_NAME: OUR_SERVER_NAME,
        MEMBRANE_CS_DATA_DIR: csDir,
        MEMBRANE_CS_LISTEN__HOST: '127.0.0.1',
        MEMBRANE_CS_LISTEN__PORT: '0',
        MEMBRANE_CS_MEMBERSHIP__ADDRESS: service.address,
        // Relaxed like Synapse's rc_* in tools/synapse: the figure is the server, not the limiter.
        MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__PER_SECOND: '100000',
        MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__BURST: '1000000',
      },
    });
  } catch (error) {
    await stopAll();
    throw error;
  }
  const [creator, ...rest] = users;
  if (creator === undefined) throw new Error('no users created');
  return { label: 'ours', clientUrl: String(gateway.ready['url']), creator, users: rest, stop: stopAll };
}

function describeFigures(figures: LeaveFigures): string {
  return `${figures.leaves} leaves of one public room (v${ROOM_VERSION}), ${IN_FLIGHT} in flight; p50 ${figures.p50Ms.toFixed(1)} ms, p99 ${figures.p99Ms.toFixed(1)} ms`;
}

/** CS `/leave` throughput and latency of our stack and of Synapse, measured one after the other. */
export async function benchLeaveSideBySide(): Promise<BenchResult[]> {
  // One server at a time, so neither competes with the other for the two cores.
  const ours = await startOurStack(USERS);
  let oursFigures: LeaveFigures;
  try {
    oursFigures = await measureLeaves(ours);
  } finally {
    await ours.stop();
  }
  const synapse = await startSynapsePeer(USERS);
  let synapseFigures: LeaveFigures;
  try {
    synapseFigures = await measureLeaves(synapse);
  } finally {
    await synapse.stop();
  }
  const ratio = oursFigures.leavesPerSecond / synapseFigures.leavesPerSecond;
  return [
    { group: GROUP, name: 'CS /leave, ours (gateway → gRPC → service → SQLite)', opsPerSecond: oursFigures.leavesPerSecond, detail: `${describeFigures(oursFigures)}; ${ratio.toFixed(1)}× Synapse` },
    { group: GROUP, name: `CS /leave, Synapse ${synapse.version} (SQLite)`, opsPerSecond: synapseFigures.leavesPerSecond, detail: describeFigures(synapseFigures) },
  ];
}
