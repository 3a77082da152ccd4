// Entry point: opens a storage for the configured engine, migrating its
// schema first.

import { openPostgresEngine } from './postgres-engine.js';
import { openSqliteEngine } from './sqlite-engine.js';
import { SqlStorage } from './storage-core.js';
import type { Storage, StorageConfig } from './types.js';

export async function openStorage(config: StorageConfig): Promise<Storage> {
  const engine = config.engine === 'sqlite' ? openSqliteEngine(config) : await openPostgresEngine(config);
  return new SqlStorage(engine);
}
