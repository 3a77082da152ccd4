// Seeds a membership database with benchmark rooms (see `seed-spec.ts`).
// Events are built and signed in memory, in worker threads
// (`seed-builder.ts`), and written through the storage contract in large
// transactions (`seed-writer.ts`), so 100,000 members take seconds instead
// of one API call each. Run it while the service is stopped: the service may
// keep room state in memory and would not see rows written behind its back.
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { PduSigner } from '@membrane/events';
import { getRoomVersion } from '@membrane/events';
import type { Storage } from '../storage/index.js';
import { buildSeedRooms } from './seed-builder.js';
import type { SeedRoom } from './seed-builder.js';
import { checkSeedSpec, planSeedJobs } from './seed-spec.js';
import type { SeedJob, SeedSpec } from './seed-spec.js';
import type { SeedWorkerAnswer, SeedWorkerData, SeedWorkerRequest } from './seed-worker.js';
import { SeedRoomWriter, snapshotLayoutFor } from './seed-writer.js';

export interface SeedResult {
  /** Room IDs per group, in room order (room r holds the users `seedUserId` names for r). */
  readonly groups: readonly { readonly name: string; readonly roomIds: readonly string[] }[];
  readonly events: number;
  readonly seconds: number;
}

export interface SeedOptions {
  /** Worker threads that build and sign events; 0 builds on this thread. Default 1. */
  readonly workers?: number;
  /** Called every couple of seconds and at the end. */
  readonly progress?: (line: string) => void;
  /** Seeding stops with an error when it has not finished by then (epoch ms). */
  readonly deadline?: number;
  readonly now?: () => number;
}

/** Events per transaction in large rooms; smaller rooms are one transaction each. */
const EVENTS_PER_TRANSACTION = 2_000;
/** Room transactions handed to the storage at once (it may commit them together). */
const ROOMS_IN_FLIGHT = 64;

type BuildJob = (job: SeedJob) => Promise<SeedRoom[]>;

/** Builders in worker threads; jobs go round robin and come back by ID. */
function startWorkers(count: number, data: SeedWorkerData): { build: BuildJob; stop: () => Promise<void> } {
  // Workers do not inherit the TypeScript loader: register it before importing the worker module.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./seed-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  const waiting = new Map<number, { resolve: (rooms: SeedRoom[]) => void; reject: (err: Error) => void }>();
  const workers = Array.from({ length: count }, () => {
    const worker = new Worker(bootstrap, { eval: true, workerData: data });
    worker.on('message', (answer: SeedWorkerAnswer) => {
      const entry = waiting.get(answer.id);
      waiting.delete(answer.id);
      if ('error' in answer) entry?.reject(new Error(`seed worker: ${answer.error}`));
      else entry?.resolve(answer.rooms);
    });
    worker.on('error', (err) => {
      for (const entry of waiting.values()) entry.reject(err);
      waiting.clear();
    });
    return worker;
  });
  let nextId = 0;
  return {
    build(job) {
      const id = nextId++;
      const worker = workers[id % workers.length] as Worker;
      return new Promise<SeedRoom[]>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, job } satisfies SeedWorkerRequest);
      });
    },
    async stop() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

export async function seedRooms(storage: Storage, signer: PduSigner, spec: SeedSpec, options: SeedOptions = {}): Promise<SeedResult> {
  checkSeedSpec(spec);
  const now = options.now ?? Date.now;
  const started = now();
  const version = getRoomVersion(spec.roomVersion ?? '11');
  const totalRooms = spec.groups.reduce((n, g) => n + g.rooms, 0);
  const roomIds = spec.groups.map((g) => new Array<string>(g.rooms).fill(''));
  let roomsDone = 0;
  let events = 0;
  let lastReport = started;
  const report = (force: boolean): void => {
    const t = now();
    if (options.deadline !== undefined && t > options.deadline) throw new Error(`seeding did not finish in time (${roomsDone} of ${totalRooms} rooms, ${events} events)`);
    if (!force && t - lastReport < 2_000) return;
    lastReport = t;
    options.progress?.(`seed: ${roomsDone.toLocaleString('en-US')}/${totalRooms.toLocaleString('en-US')} rooms, ${events.toLocaleString('en-US')} events, ${((t - started) / 1000).toFixed(1)} s`);
  };

  const workerCount = options.workers ?? 1;
  const workers = workerCount > 0 ? startWorkers(workerCount, { spec, serverName: signer.serverName, keyVersion: signer.key.version, keySeed: signer.key.seed }) : undefined;
  const build: BuildJob = workers?.build ?? (async (job) => buildSeedRooms(spec, job, { version, signer, originServerTs: now(), randomBytes }));
  const inFlight = new Set<Promise<void>>();
  try {
    const jobs = planSeedJobs(spec);
    // Build ahead of the writer, but boundedly: each job is a few thousand events.
    const ahead = Math.max(2, 2 * workerCount);
    const built: Promise<SeedRoom[]>[] = [];
    let next = 0;
    const requestMore = (): void => {
      while (built.length < ahead && next < jobs.length) built.push(build(jobs[next++] as SeedJob));
    };
    requestMore();
    while (built.length > 0) {
      const rooms = await (built.shift() as Promise<SeedRoom[]>);
      requestMore();
      for (const room of rooms) {
        const writer = new SeedRoomWriter(room.roomId, version.id, room.createdTs, snapshotLayoutFor(room.rows.length));
        if (room.rows.length <= EVENTS_PER_TRANSACTION) {
          const write = writer.write(storage, room.rows).then(() => {
            events += room.rows.length;
            roomsDone += 1;
          });
          const tracked: Promise<void> = write.finally(() => inFlight.delete(tracked));
          inFlight.add(tracked);
          if (inFlight.size >= ROOMS_IN_FLIGHT) await Promise.race(inFlight);
        } else {
          // A large room's transactions go in order, one at a time.
          for (let i = 0; i < room.rows.length; i += EVENTS_PER_TRANSACTION) {
            await writer.write(storage, room.rows.slice(i, i + EVENTS_PER_TRANSACTION));
            events += Math.min(EVENTS_PER_TRANSACTION, room.rows.length - i);
            report(false);
          }
          roomsDone += 1;
        }
        (roomIds[room.groupIndex] as string[])[room.roomIndex] = room.roomId;
      }
      report(false);
    }
    await Promise.all(inFlight);
  } finally {
    // A failed write must not leave others running against a closing storage.
    await Promise.allSettled(inFlight);
    await workers?.stop();
  }
  report(true);
  return { groups: spec.groups.map((g, i) => ({ name: g.name, roomIds: roomIds[i] ?? [] })), events, seconds: (now() - started) / 1000 };
}
