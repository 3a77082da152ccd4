// Worker thread of the seeder: builds and signs the rooms of the jobs it is
// sent and posts them back as storage rows. Started by `seed-rooms.ts`.
import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { getRoomVersion } from '@membrane/events';
import { signingKeyFromSeed } from '@membrane/signing';
import { buildSeedRooms } from './seed-builder.js';
import type { SeedRoom } from './seed-builder.js';
import type { SeedJob, SeedSpec } from './seed-spec.js';

export interface SeedWorkerData {
  readonly spec: SeedSpec;
  readonly serverName: string;
  readonly keyVersion: string;
  readonly keySeed: Uint8Array;
}

export type SeedWorkerRequest = { readonly id: number; readonly job: SeedJob };
export type SeedWorkerAnswer = { readonly id: number; readonly rooms: SeedRoom[] } | { readonly id: number; readonly error: string };

const data = workerData as SeedWorkerData;
const port = parentPort;
if (port !== null) {
  const signer = { serverName: data.serverName, key: signingKeyFromSeed(data.keyVersion, data.keySeed) };
  const version = getRoomVersion(data.spec.roomVersion ?? '11');
  port.on('message', ({ id, job }: SeedWorkerRequest) => {
    let answer: SeedWorkerAnswer;
    try {
      answer = { id, rooms: buildSeedRooms(data.spec, job, { version, signer, originServerTs: Date.now(), randomBytes }) };
    } catch (err) {
      answer = { id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    }
    port.postMessage(answer);
  });
}
