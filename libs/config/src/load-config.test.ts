import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { z } from 'zod';
import { ConfigError, applyEnvOverrides, envNameToPath, loadConfig } from './index.js';

const schema = z.strictObject({
  serverName: z.string().min(1).default('localhost'),
  database: z
    .strictObject({ engine: z.enum(['sqlite', 'postgres']).default('sqlite'), poolSize: z.number().int().positive().default(4) })
    .prefault({}),
  debug: z.boolean().default(false),
});

describe('loadConfig', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fills every default when there is no file and no environment', () => {
    assert.deepEqual(loadConfig(schema, { env: {} }), { serverName: 'localhost', database: { engine: 'sqlite', poolSize: 4 }, debug: false });
  });

  it('reads YAML and lets the environment override it', () => {
    const file = join(dir, 'a.yaml');
    writeFileSync(file, 'serverName: a.example\ndatabase:\n  engine: postgres\n');
    const config = loadConfig(schema, { file, env: { X_DATABASE__POOL_SIZE: '9', X_DEBUG: 'true', OTHER: '1' }, envPrefix: 'X_' });
    assert.deepEqual(config, { serverName: 'a.example', database: { engine: 'postgres', poolSize: 9 }, debug: true });
  });

  it('names the bad key in the error', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'database:\n  poolSize: -1\n');
    assert.throws(() => loadConfig(schema, { file, env: {} }), (err: unknown) => err instanceof ConfigError && /database\.poolSize/.test(err.message));
  });

  it('rejects unknown keys so typos do not pass silently', () => {
    const file = join(dir, 'typo.yaml');
    writeFileSync(file, 'servername: x\n');
    assert.throws(() => loadConfig(schema, { file, env: {} }), /servername/);
  });

  it('reports a missing file and invalid YAML clearly', () => {
    assert.throws(() => loadConfig(schema, { file: join(dir, 'nope.yaml'), env: {} }), /cannot read config file/);
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'a: [1,\n');
    assert.throws(() => loadConfig(schema, { file, env: {} }), /not valid YAML/);
  });
});

describe('environment overrides', () => {
  it('maps double underscores to levels and single underscores to camelCase', () => {
    assert.deepEqual(envNameToPath('DATABASE__POOL_SIZE'), ['database', 'poolSize']);
  });

  it('does not change the input tree', () => {
    const base = { a: { b: 1 } };
    const out = applyEnvOverrides(base, { P_A__B: '2' }, 'P_');
    assert.deepEqual(base, { a: { b: 1 } });
    assert.deepEqual(out, { a: { b: 2 } });
  });
});

describe('loadOrCreateSigningKey', () => {
  it('generates a key on first use and reads the same key afterwards', async () => {
    const { loadOrCreateSigningKey } = await import('./index.js');
    const { statSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'key-test-'));
    try {
      const path = join(dir, 'nested', 'signing.key');
      const first = loadOrCreateSigningKey(path);
      assert.equal(first.generated, true);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const second = loadOrCreateSigningKey(path);
      assert.equal(second.generated, false);
      assert.equal(second.key.keyId, first.key.keyId);
      assert.deepEqual(second.key.publicKey, first.key.publicKey);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a key written in the Synapse format by someone else', async () => {
    const { loadOrCreateSigningKey } = await import('./index.js');
    const dir = mkdtempSync(join(tmpdir(), 'key-test-'));
    try {
      const path = join(dir, 'signing.key');
      // The spec's test seed (appendices, "Cryptographic Test Vectors").
      writeFileSync(path, 'ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1\n');
      const { key } = loadOrCreateSigningKey(path);
      assert.equal(key.keyId, 'ed25519:1');
      assert.equal(Buffer.from(key.publicKey).toString('base64').replace(/=+$/, ''), 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the file when it is not a key file', async () => {
    const { loadOrCreateSigningKey } = await import('./index.js');
    const dir = mkdtempSync(join(tmpdir(), 'key-test-'));
    try {
      const path = join(dir, 'signing.key');
      writeFileSync(path, 'not a key\n');
      assert.throws(() => loadOrCreateSigningKey(path), (err: unknown) => err instanceof ConfigError && err.message.includes(path));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
