// Starts one of the project's apps as a real process for tests, waits for its
// "listening" log line (pino JSON on stdout), and stops it with SIGTERM.
// Apps are referenced by path, never imported: tests talk to them over the wire.
import { spawn } from 'node:child_process';
import type { ChildProcess, ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export type AppName = 'membership-service' | 'cs-gateway' | 'federation-gateway';

export interface AppProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Fields of the log line that announced readiness (e.g. `address`, `url`). */
  readonly ready: Readonly<Record<string, unknown>>;
  /** Every log line so far, parsed. */
  readonly logs: readonly Record<string, unknown>[];
  /** SIGTERM, then waits (bounded) for the exit code; SIGKILL after the bound. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface StartAppOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly args?: readonly string[];
  /** The `msg` of the log line that means "ready". */
  readonly readyMessage: string;
  readonly timeoutMs?: number;
}

export async function startApp(app: AppName, options: StartAppOptions): Promise<AppProcess> {
  const main = `${REPO_ROOT}apps/${app}/src/main.ts`;
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const timer = setTimeout(() => reject(new Error(`${app} did not become ready within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${app} exited with ${String(code)} before it was ready: ${stderr}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(record);
      if (record['msg'] === options.readyMessage) {
        clearTimeout(timer);
        resolve(record);
      }
    });
  });
  return {
    child,
    ready,
    logs,
    async stop(timeoutMs = 15_000) {
      const outcome = await terminateProcess(child, timeoutMs);
      if (outcome.killed) throw new Error(`${app} did not stop within ${timeoutMs} ms of SIGTERM`);
      return outcome.exitCode;
    },
  };
}

/**
 * SIGTERM, then waits up to `timeoutMs` for the exit; SIGKILL (and waits for
 * that exit) after the bound. `killed` says whether SIGKILL was needed.
 */
export async function terminateProcess(child: ChildProcess, timeoutMs: number): Promise<{ readonly exitCode: number | null; readonly killed: boolean }> {
  if (child.exitCode !== null || child.signalCode !== null) return { exitCode: child.exitCode, killed: false };
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([exited, bound]);
  clearTimeout(timer);
  if (result !== 'timeout') return { exitCode: result, killed: false };
  child.kill('SIGKILL');
  return { exitCode: await exited, killed: true };
}

/** The membership service on a fresh data directory, gRPC on a free loopback port. */
export async function startMembershipService(dataDir: string, env: Readonly<Record<string, string>> = {}): Promise<AppProcess & { readonly address: string }> {
  const app = await startApp('membership-service', {
    readyMessage: 'membership service listening',
    env: {
      MEMBRANE_MEMBERSHIP_DATA_DIR: dataDir,
      MEMBRANE_MEMBERSHIP_GRPC__LISTEN: '127.0.0.1:0',
      MEMBRANE_MEMBERSHIP_SERVER_NAME: 'hs.test',
      ...env,
    },
  });
  return { ...app, address: String(app.ready['address']) };
}
