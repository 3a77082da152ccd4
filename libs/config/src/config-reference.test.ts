import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { configKeys, envNameOf, envNameToPath, renderConfigReference } from './index.js';

const schema = z.strictObject({
  serverName: z.string().default('localhost'),
  database: z
    .discriminatedUnion('engine', [
      z.strictObject({ engine: z.literal('sqlite'), path: z.string().optional() }),
      z.strictObject({ engine: z.literal('postgres'), url: z.string(), poolSize: z.number().int().optional() }),
    ])
    .default({ engine: 'sqlite' }),
  limits: z.strictObject({ maxBodyBytes: z.number().int().default(65536) }).prefault({}),
  exempt: z.array(z.string()).default([]),
});

describe('configuration reference', () => {
  it('lists every key with its type, default and environment variable', () => {
    assert.deepEqual(configKeys(schema, 'X_'), [
      { path: 'serverName', type: 'string', defaultValue: '"localhost"', env: 'X_SERVER_NAME' },
      { path: 'database.engine', type: '"sqlite" \\| "postgres"', defaultValue: '"sqlite"', env: 'X_DATABASE__ENGINE' },
      { path: 'database.path', type: 'string', env: 'X_DATABASE__PATH' },
      { path: 'database.url', type: 'string', env: 'X_DATABASE__URL' },
      { path: 'database.poolSize', type: 'integer', env: 'X_DATABASE__POOL_SIZE' },
      { path: 'limits.maxBodyBytes', type: 'integer', defaultValue: '65536', env: 'X_LIMITS__MAX_BODY_BYTES' },
      { path: 'exempt', type: 'list of string', defaultValue: '[]', env: 'X_EXEMPT' },
    ]);
  });

  it('names environment variables that the loader maps back to the same key', () => {
    for (const path of [['serverName'], ['database', 'poolSize'], ['keyFetch', 'retryAfterFailureMs']]) {
      const env = envNameOf('P_', path);
      assert.deepEqual(envNameToPath(env.slice(2)), path);
    }
  });

  it('renders a Markdown table headed by the app name', () => {
    const text = renderConfigReference('demo', 'X_', schema);
    assert.match(text, /^## demo\n/);
    assert.match(text, /\| `database.poolSize` \| integer \| {2}\| `X_DATABASE__POOL_SIZE` \|/);
  });
});
