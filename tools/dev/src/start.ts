// `npm start`: the whole stack on one machine, each app its own process on
// loopback, SQLite and generated keys under .data/. Ctrl-C stops everything.
import { resolve } from 'node:path';
import type { AppName, AppProcess } from '@membrane/testing';
import { REPO_ROOT, startApp } from '@membrane/testing';

const dataDir = resolve(process.env['MEMBRANE_DATA_DIR'] ?? `${REPO_ROOT}.data`);
const serverName = process.env['MEMBRANE_SERVER_NAME'] ?? 'localhost:8448';
const grpcAddress = process.env['MEMBRANE_GRPC_ADDRESS'] ?? '127.0.0.1:50051';
const csPort = process.env['MEMBRANE_CS_PORT'] ?? '8008';
const federationListen = process.env['MEMBRANE_FED_LISTEN'] ?? '127.0.0.1:8448';
// The federation gateway's RemoteMembershipService (remote joins and leaves, outbox wake-ups).
const remoteGrpcAddress = process.env['MEMBRANE_FED_GRPC__LISTEN'] ?? '127.0.0.1:50052';

interface Part {
  readonly app: AppName;
  readonly readyMessage: string;
  readonly env: Record<string, string>;
}

const parts: Part[] = [
  {
    app: 'membership-service',
    readyMessage: 'membership service listening',
    env: {
      MEMBRANE_MEMBERSHIP_DATA_DIR: dataDir,
      MEMBRANE_MEMBERSHIP_SERVER_NAME: serverName,
      MEMBRANE_MEMBERSHIP_GRPC__LISTEN: grpcAddress,
      MEMBRANE_MEMBERSHIP_REMOTE__ADDRESS: remoteGrpcAddress,
    },
  },
  {
    app: 'cs-gateway',
    readyMessage: 'cs gateway listening',
    env: {
      MEMBRANE_CS_DATA_DIR: `${dataDir}/cs`,
      MEMBRANE_CS_SERVER_NAME: serverName,
      MEMBRANE_CS_LISTEN__PORT: csPort,
      MEMBRANE_CS_MEMBERSHIP__ADDRESS: grpcAddress,
    },
  },
  {
    app: 'federation-gateway',
    readyMessage: 'federation gateway listening',
    env: {
      MEMBRANE_FED_DATA_DIR: `${dataDir}/federation`,
      MEMBRANE_FED_SERVER_NAME: serverName,
      MEMBRANE_FED_LISTEN: federationListen,
      MEMBRANE_FED_MEMBERSHIP__ADDRESS: grpcAddress,
      MEMBRANE_FED_GRPC__LISTEN: remoteGrpcAddress,
      // The membership service signs events with this key; the gateway publishes it.
      MEMBRANE_FED_SIGNING_KEY_PATH: `${dataDir}/signing.key`,
    },
  },
];

const running: AppProcess[] = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  stopping = true;
  await Promise.allSettled(running.map((p) => p.stop()));
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

for (const part of parts) {
  try {
    const app = await startApp(part.app, { readyMessage: part.readyMessage, env: part.env });
    running.push(app);
    app.child.stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    app.child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    app.child.once('exit', (code) => {
      if (stopping) return;
      process.stderr.write(`${part.app} exited with ${String(code)}; stopping the stack\n`);
      void stopAll(1);
    });
    const where = String(app.ready['url'] ?? app.ready['address'] ?? '');
    process.stdout.write(`\n  ${part.app.padEnd(20)} ${where}\n`);
  } catch (err) {
    process.stderr.write(`${part.app} failed to start: ${(err as Error).message}\n`);
    await stopAll(1);
  }
}

const admin = `node --import tsx tools/admin/src/main.ts create-user alice --data-dir ${dataDir}/cs --server-name ${serverName}`;
const hs = `http://127.0.0.1:${csPort}/_matrix/client/v3`;
process.stdout.write(`
The stack is up (server name ${serverName}, data in ${dataDir}). Ctrl-C stops it.

Create a user (prints an access token):
  ${admin}

Create a room and leave it again:
  TOKEN=<the access token>
  ROOM=$(curl -s -X POST ${hs}/createRoom -H "Authorization: Bearer $TOKEN" -d '{"name":"demo"}' | sed -E 's/.*"room_id":"([^"]+)".*/\\1/')
  curl -s -X POST "${hs}/rooms/$ROOM/leave" -H "Authorization: Bearer $TOKEN" -d '{"reason":"bye"}'
  curl -s -X POST "${hs}/rooms/$ROOM/forget" -H "Authorization: Bearer $TOKEN"
`);
