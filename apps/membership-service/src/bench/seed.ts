// CLI: seeds a stopped membership service's database with benchmark rooms.
//   node --import tsx apps/membership-service/src/bench/seed.ts \
//     --data-dir DIR --server-name NAME --spec '{"groups":[...]}' --out result.json \
//     [--pg-url URL --pg-schema NAME] [--deadline-s N] [--workers N]
// The signing key and the SQLite file are where the service with the same
// data directory looks for them (the key is created when missing).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadOrCreateSigningKey } from '@membrane/config';
import { CONFIG_SCHEMA, signingKeyPathOf, sqlitePathOf } from '../config.js';
import { openStorage } from '../storage/index.js';
import type { StorageConfig } from '../storage/index.js';
import { seedRooms } from './seed-rooms.js';
import type { SeedSpec } from './seed-spec.js';

const USAGE = `usage: seed.ts --data-dir DIR --server-name NAME --spec JSON|@FILE --out FILE [--pg-url URL --pg-schema NAME] [--deadline-s N]
Spec: {"roomVersion"?: "11", "groups": [{"name", "rooms", "members", "userPrefix", "sharedMembers"?}]}
Writes {"groups": [{"name", "roomIds"}], "events", "seconds"} to --out; progress on stderr.`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      'server-name': { type: 'string' },
      spec: { type: 'string' },
      out: { type: 'string' },
      'pg-url': { type: 'string' },
      'pg-schema': { type: 'string' },
      'deadline-s': { type: 'string', default: '900' },
      workers: { type: 'string', default: '1' },
    },
  });
  const dataDir = values['data-dir'];
  const serverName = values['server-name'];
  const specText = values.spec;
  const out = values.out;
  const deadlineSeconds = Number(values['deadline-s']);
  const workers = Number(values.workers);
  if (dataDir === undefined || serverName === undefined || specText === undefined || out === undefined || !(deadlineSeconds > 0) || !Number.isInteger(workers) || workers < 0) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const spec = JSON.parse(specText.startsWith('@') ? readFileSync(specText.slice(1), 'utf8') : specText) as SeedSpec;
  const pgUrl = values['pg-url'];
  const config = CONFIG_SCHEMA.parse({
    dataDir,
    serverName,
    database: pgUrl === undefined ? { engine: 'sqlite' } : { engine: 'postgres', url: pgUrl, ...(values['pg-schema'] === undefined ? {} : { schema: values['pg-schema'] }) },
  });
  const { key } = loadOrCreateSigningKey(signingKeyPathOf(config));
  // Seeding needs no fsync per transaction (a crash means seeding again); the
  // file is complete and checkpointed when the storage closes.
  const storageConfig: StorageConfig =
    config.database.engine === 'sqlite'
      ? { engine: 'sqlite', path: sqlitePathOf(config), synchronous: 'normal' }
      : { engine: 'postgres', url: config.database.url, ...(config.database.schema === undefined ? {} : { schema: config.database.schema }) };
  const storage = await openStorage(storageConfig);
  try {
    const result = await seedRooms(storage, { serverName: config.serverName, key }, spec, {
      progress: (line) => process.stderr.write(`  ${line}\n`),
      deadline: Date.now() + deadlineSeconds * 1000,
      workers,
    });
    writeFileSync(out, JSON.stringify(result));
  } finally {
    await storage.close();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
