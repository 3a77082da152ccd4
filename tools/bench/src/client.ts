// A small Client-Server API client for load: node:http with keep-alive
// sockets (cheaper per request than fetch, which matters when the load
// generator shares two cores with the servers it measures). The same client
// drives our CS gateway and Synapse.
import { Agent, request } from 'node:http';

export interface ClientUser {
  readonly userId: string;
  readonly accessToken: string;
}

export class MatrixClientError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'MatrixClientError';
  }
}

export class CsClient {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(
    readonly label: string,
    baseUrl: string,
    /** Keep-alive sockets at most (the most requests in flight that are useful). */
    maxSockets: number,
  ) {
    this.base = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** POST `/_matrix/client/v3<path>` as `user`; the parsed answer of a 200, else throws. */
  post(user: ClientUser, path: string, body: unknown, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    return this.call('POST', user, path, body, timeoutMs);
  }

  get(user: ClientUser, path: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    return this.call('GET', user, path, undefined, timeoutMs);
  }

  close(): void {
    this.agent.destroy();
  }

  private call(method: string, user: ClientUser, path: string, body: unknown, timeoutMs: number): Promise<Record<string, unknown>> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.base.hostname,
          port: this.base.port,
          method,
          path: `/_matrix/client/v3${path}`,
          headers: {
            authorization: `Bearer ${user.accessToken}`,
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length }),
          },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) {
              reject(new MatrixClientError(`${this.label}: ${method} ${path} as ${user.userId} answered ${String(res.statusCode)}: ${text.slice(0, 300)}`, res.statusCode ?? 0));
              return;
            }
            try {
              resolve(JSON.parse(text) as Record<string, unknown>);
            } catch {
              reject(new Error(`${this.label}: ${method} ${path} answered 200 with a body that is not JSON`));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${this.label}: ${method} ${path} got no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

export function roomPath(roomId: string, verb: string): string {
  return `/rooms/${encodeURIComponent(roomId)}/${verb}`;
}
