// A raw HTTP client for black-box tests of the gateway: full control over
// headers and bytes (no Content-Type unless asked), and every answer checked
// against docs/openapi/cs-gateway.yaml before the test sees it.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { OpenApiDocument } from './openapi.js';

const OPENAPI = fileURLToPath(new URL('../../../../docs/openapi/cs-gateway.yaml', import.meta.url));
const ADMIN = fileURLToPath(new URL('../../../../tools/admin/src/main.ts', import.meta.url));

export const openApi = OpenApiDocument.load(OPENAPI);

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: Record<string, unknown>;
}

export interface CallOptions {
  /** Sent as `Authorization: Bearer`. */
  readonly token?: string;
  /** Sent as `?access_token=`. */
  readonly queryToken?: string;
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  /** A JSON value (sent with Content-Type: application/json) … */
  readonly json?: unknown;
  /** … or raw bytes, with only the headers given. */
  readonly raw?: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  /** Skip the OpenAPI check (for answers outside the document, e.g. OPTIONS). */
  readonly unchecked?: boolean;
}

export class GatewayClient {
  constructor(readonly baseUrl: string) {}

  async call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
    const url = new URL(this.baseUrl);
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query ?? {})) {
      for (const v of typeof value === 'string' ? [value] : value) params.append(key, v);
    }
    if (options.queryToken !== undefined) params.append('access_token', options.queryToken);
    const search = params.size > 0 ? `?${params.toString()}` : '';
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    let payload: string | Buffer | undefined = options.raw;
    if (options.json !== undefined) {
      payload = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));

    const answer = await new Promise<{ status: number; headers: Headers; text: string }>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method, path: path + search, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const h = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) h.set(name, Array.isArray(value) ? value.join(', ') : value);
          resolve({ status: res.statusCode ?? 0, headers: h, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(20_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.end(payload);
    });
    const body = answer.text === '' ? {} : (JSON.parse(answer.text) as Record<string, unknown>);
    if (options.unchecked !== true) this.conform(method, path, answer.status, answer.headers, body);
    return { ...answer, body };
  }

  /** Answers of documented operations must match the document; any other answer must be a Matrix error. */
  private conform(method: string, path: string, status: number, headers: Headers, body: unknown): void {
    const problems =
      openApi.findOperation(method, path) === undefined
        ? openApi.validate({ $ref: '#/components/schemas/Error' }, body, `${method} ${path} ${status}`)
        : openApi.checkResponse(method, path, status, headers, body);
    assert.deepEqual(problems, [], `answer does not conform to docs/openapi/cs-gateway.yaml: ${JSON.stringify(body)}`);
  }
}

export interface CreatedUser {
  readonly user_id: string;
  readonly access_token: string;
  readonly device_id: string;
}

/** Runs the admin CLI as a real process: `create-user <localpart> --json`. */
export function createUserWithCli(dataDir: string, localpart: string, extra: readonly string[] = []): Promise<CreatedUser> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', ADMIN, 'create-user', localpart, '--data-dir', dataDir, '--server-name', 'hs.test', '--json', ...extra],
      { timeout: 30_000 },
      (err, stdout, stderr) => (err === null ? resolve(JSON.parse(stdout) as CreatedUser) : reject(new Error(`admin create-user ${localpart} failed: ${stderr}`))),
    );
  });
}

/** The member event of `userId` in a /members answer. */
export function memberEvents(answer: Answer, userId: string): Record<string, unknown>[] {
  const chunk = answer.body['chunk'] as Record<string, unknown>[];
  return chunk.filter((e) => e['state_key'] === userId);
}
