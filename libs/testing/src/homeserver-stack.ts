// A whole homeserver as processes for federation tests: the membership
// service, the CS gateway and the federation gateway, on loopback. Its
// server name is `127.0.0.1:<federation port>`, so other servers reach it
// without discovery; its TLS certificate comes from the test CA, which it
// also trusts for the servers it talks to. The ports are chosen before the
// start (the server name must be known first) and kept across restarts.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT, startApp } from './app-process.js';
import type { AppProcess } from './app-process.js';
import type { TestCertificateAuthority } from './test-ca.js';

export interface HomeserverUser {
  readonly user_id: string;
  readonly access_token: string;
  readonly device_id: string;
}

export interface HomeserverStackOptions {
  /** Scratch directory of this homeserver (data survives `stop` for a restart). */
  readonly dir: string;
  readonly ca: TestCertificateAuthority;
  /** Extra MEMBRANE_FED_* settings (e.g. short sender retry delays). */
  readonly federationEnv?: Readonly<Record<string, string>>;
}

export interface HomeserverStack {
  readonly serverName: string;
  /** Base URL of the CS API, e.g. `http://127.0.0.1:40123` (changes after a restart). */
  readonly csUrl: string;
  readonly federationUrl: string;
  /** All three processes, in start order. */
  readonly processes: readonly AppProcess[];
  createUser(localpart: string): Promise<HomeserverUser>;
  /** Stops every process (the data stays). */
  stop(): Promise<void>;
  /** Starts every process again on the same ports and data. */
  restart(): Promise<void>;
}

/** A port that was free a moment ago (bind 0, read, close). */
export async function reservePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const ADMIN = `${REPO_ROOT}tools/admin/src/main.ts`;

export async function startHomeserverStack(options: HomeserverStackOptions): Promise<HomeserverStack> {
  const federationPort = await reservePort();
  const remoteGrpcPort = await reservePort();
  const serverName = `127.0.0.1:${federationPort}`;
  const dirs = { membership: join(options.dir, 'membership'), cs: join(options.dir, 'cs'), federation: join(options.dir, 'federation') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const certificate = options.ca.issue(`hs-${federationPort}`, ['127.0.0.1']);
  let processes: AppProcess[] = [];
  let csUrl = '';
  let federationUrl = '';

  async function start(): Promise<void> {
    const started: AppProcess[] = [];
    try {
      const membership = await startApp('membership-service', {
        readyMessage: 'membership service listening',
        env: {
          MEMBRANE_MEMBERSHIP_DATA_DIR: dirs.membership,
          MEMBRANE_MEMBERSHIP_SERVER_NAME: serverName,
          MEMBRANE_MEMBERSHIP_GRPC__LISTEN: '127.0.0.1:0',
          MEMBRANE_MEMBERSHIP_REMOTE__ADDRESS: `127.0.0.1:${remoteGrpcPort}`,
        },
      });
      started.push(membership);
      const membershipAddress = String(membership.ready['address']);
      const federation = await startApp('federation-gateway', {
        readyMessage: 'federation gateway listening',
        env: {
          MEMBRANE_FED_SERVER_NAME: serverName,
          MEMBRANE_FED_LISTEN: serverName,
          MEMBRANE_FED_GRPC__LISTEN: `127.0.0.1:${remoteGrpcPort}`,
          MEMBRANE_FED_DATA_DIR: dirs.federation,
          MEMBRANE_FED_SIGNING_KEY_PATH: join(dirs.membership, 'signing.key'),
          MEMBRANE_FED_MEMBERSHIP__ADDRESS: membershipAddress,
          MEMBRANE_FED_TLS__CERT_FILE: certificate.certFile,
          MEMBRANE_FED_TLS__KEY_FILE: certificate.keyFile,
          MEMBRANE_FED_TLS__CA_FILE: options.ca.caFile,
          MEMBRANE_FED_KEY_FETCH__RETRY_AFTER_FAILURE_MS: '0',
          ...options.federationEnv,
        },
      });
      started.push(federation);
      federationUrl = String(federation.ready['url']);
      const cs = await startApp('cs-gateway', {
        readyMessage: 'cs gateway listening',
        env: {
          MEMBRANE_CS_DATA_DIR: dirs.cs,
          MEMBRANE_CS_SERVER_NAME: serverName,
          MEMBRANE_CS_LISTEN__PORT: '0',
          MEMBRANE_CS_MEMBERSHIP__ADDRESS: membershipAddress,
          MEMBRANE_CS_MEMBERSHIP__DEADLINE_MS: '60000',
          MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__PER_SECOND: '1000',
          MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__BURST: '1000',
        },
      });
      started.push(cs);
      csUrl = String(cs.ready['url']);
      processes = started;
    } catch (err) {
      await Promise.allSettled(started.map((p) => p.stop()));
      throw err;
    }
  }

  await start();
  return {
    serverName,
    get csUrl() {
      return csUrl;
    },
    get federationUrl() {
      return federationUrl;
    },
    get processes() {
      return processes;
    },
    createUser(localpart) {
      return new Promise((resolve, reject) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', ADMIN, 'create-user', localpart, '--data-dir', dirs.cs, '--server-name', serverName, '--json'],
          { timeout: 30_000, cwd: REPO_ROOT },
          (err, stdout, stderr) => (err === null ? resolve(JSON.parse(stdout) as HomeserverUser) : reject(new Error(`create-user ${localpart}: ${stderr}`))),
        );
      });
    },
    async stop() {
      // CS gateway first, membership service last.
      for (const p of [...processes].reverse()) await p.stop().catch(() => undefined);
      processes = [];
    },
    restart: start,
  };
}
