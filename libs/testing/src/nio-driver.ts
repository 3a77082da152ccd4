// Drives matrix-nio through a Python driver script (e.g. the CS gateway's
// nio_flow.py): one /usr/bin/python3 process, one JSON command per line in,
// one JSON answer per line out. Every call and the whole process are bounded
// in time; a hung or crashed driver fails the test.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { HomeserverUser } from './homeserver-stack.js';

// Debian's python3-matrix-nio loads only under the system interpreter.
const SYSTEM_PYTHON = '/usr/bin/python3';

/** The HTTP request nio sent for one call (the access token removed from the path). */
export interface NioRequest {
  readonly method: string;
  readonly path: string;
  readonly token_in_query: boolean;
  readonly query: Readonly<Record<string, readonly string[]>>;
  readonly content_type: string | null;
  readonly body: unknown;
}

/** What nio made of one answer: its response class and fields, with the raw exchange. */
export interface NioResult {
  readonly id: number;
  /** nio's response class, e.g. `RoomLeaveResponse` or `RoomLeaveError`. */
  readonly class: string;
  /** The answer is one of nio's ErrorResponse classes. */
  readonly error: boolean;
  readonly status: number | null;
  /** The response object's fields; errors carry `status_code` (the errcode) and `message`. */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly request: NioRequest;
  /** The JSON body the server answered. */
  readonly response: unknown;
}

interface Pending {
  resolve(result: NioResult): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export interface NioDriverOptions {
  /** Bound of one call (nio's own bound is shorter). */
  readonly callTimeoutMs?: number;
  /** Bound of the whole process: killed after this. */
  readonly lifetimeMs?: number;
}

export class NioDriver {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stderr = '';
  private exited = false;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly callTimeoutMs: number,
    private readonly lifetime: NodeJS.Timeout,
    /** The matrix-nio version the driver loaded. */
    readonly nioVersion: string,
  ) {}

  /** Starts `script` and hands it the server's base URL and the users it acts as, by name. */
  static async start(script: string, baseUrl: string, users: Readonly<Record<string, HomeserverUser>>, options: NioDriverOptions = {}): Promise<NioDriver> {
    const child = spawn(SYSTEM_PYTHON, [script], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' } });
    const lifetime = setTimeout(() => child.kill('SIGKILL'), options.lifetimeMs ?? 180_000);
    lifetime.unref();
    const lines = createInterface({ input: child.stdout });
    let stderr = '';
    const onStderr = (chunk: Buffer): void => {
      stderr += chunk.toString();
    };
    child.stderr.on('data', onStderr);
    const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nio driver did not start: ${stderr}`)), 30_000);
      child.once('exit', (code) => reject(new Error(`nio driver exited with ${String(code)}: ${stderr}`)));
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line) as Record<string, unknown>);
        } catch {
          reject(new Error(`nio driver said: ${line} ${stderr}`));
        }
      });
      child.stdin.write(`${JSON.stringify({ base_url: baseUrl, users })}\n`);
    }).catch((err: unknown) => {
      clearTimeout(lifetime);
      child.kill('SIGKILL');
      throw err;
    });
    child.stderr.off('data', onStderr);
    const driver = new NioDriver(child, options.callTimeoutMs ?? 30_000, lifetime, String(hello['nio']));
    driver.stderr = stderr;
    child.stderr.on('data', (chunk: Buffer) => {
      driver.stderr += chunk.toString();
    });
    lines.on('line', (line) => driver.receive(line));
    child.on('exit', (code, signal) => driver.fail(new Error(`nio driver exited (${String(code ?? signal)}): ${driver.stderr}`)));
    return driver;
  }

  /** Runs one nio operation (see `operation` in the driver script) as the named user. */
  call(as: string, op: string, args: Readonly<Record<string, unknown>> = {}): Promise<NioResult> {
    if (this.exited) return Promise.reject(new Error(`nio driver has exited: ${this.stderr}`));
    const id = this.nextId++;
    return new Promise<NioResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`nio ${op} as ${as} did not answer within ${this.callTimeoutMs} ms`));
      }, this.callTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin.write(`${JSON.stringify({ id, as, op, args })}\n`);
    });
  }

  /** Ends the input; the driver closes its clients and exits (killed if it does not within the bound). */
  async close(timeoutMs = 10_000): Promise<number | null> {
    clearTimeout(this.lifetime);
    if (this.exited) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.stdin.end('\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  private receive(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not a protocol line
    }
    const id = message['id'];
    const pending = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (pending === undefined || typeof id !== 'number') return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (typeof message['exception'] === 'string') pending.reject(new Error(`nio raised ${message['exception']}`));
    else pending.resolve(message as unknown as NioResult);
  }

  private fail(err: Error): void {
    this.exited = true;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(err);
    }
  }
}
