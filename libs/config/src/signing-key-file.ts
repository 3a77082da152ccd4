// The server's signing key on disk, in Synapse's `signing.key` format so an
// existing server's key can be reused. Generated on first start.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SigningKey } from '@membrane/signing';
import { formatSigningKeyFile, generateSigningKey, parseSigningKeyFile } from '@membrane/signing';
import { ConfigError } from './load-config.js';

export interface LoadedSigningKey {
  readonly key: SigningKey;
  /** True when the file did not exist and a new key was written. */
  readonly generated: boolean;
}

/** Reads the first key of a signing.key file, or writes a new one (mode 0600) when the file is missing. */
export function loadOrCreateSigningKey(path: string): LoadedSigningKey {
  if (!existsSync(path)) {
    const key = generateSigningKey();
    mkdirSync(dirname(path), { recursive: true });
    // Write then rename so a crash never leaves a half-written key behind.
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, formatSigningKeyFile([key]), { mode: 0o600 });
    renameSync(temporary, path);
    return { key, generated: true };
  }
  let keys: SigningKey[];
  try {
    keys = parseSigningKeyFile(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`signing key file ${path} is not usable: ${(err as Error).message}`);
  }
  const [first] = keys;
  if (first === undefined) throw new ConfigError(`signing key file ${path} holds no key`);
  return { key: first, generated: false };
}
