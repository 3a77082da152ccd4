// What the keys CLI does, as functions: Synapse-format signing keys and
// self-signed TLS certificates, written without overwriting by accident and
// readable only by their owner.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { encodeVerifyKey, formatSigningKeyFile, generateSigningKey, parseSigningKeyFile } from '@membrane/signing';
import type { SigningKey } from '@membrane/signing';

export class KeysError extends Error {}

const OWNER_ONLY = 0o600;

function refuseToOverwrite(path: string, force: boolean): void {
  if (!force && existsSync(path)) throw new KeysError(`${path} exists; pass --force to replace it`);
}

/** Writes through a temporary file, so a reader never sees half a key. */
function writePrivateFile(path: string, contents: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, contents, { mode: OWNER_ONLY, flag: 'wx' });
  renameSync(temporary, path);
}

/** A new key in the `signing.key` format Synapse reads and writes (`ed25519 <version> <seed>`). */
export function newSigningKeyFile(version: string | undefined): { key: SigningKey; text: string } {
  const key = generateSigningKey(version);
  return { key, text: formatSigningKeyFile([key]) };
}

export function writeSigningKey(path: string, options: { version?: string | undefined; force: boolean }): SigningKey {
  refuseToOverwrite(path, options.force);
  const { key, text } = newSigningKeyFile(options.version);
  writePrivateFile(path, text);
  return key;
}

/** `ed25519:<version> <unpadded base64 public key>` for each key of a `signing.key` file. */
export function verifyKeyLines(signingKeyFileText: string): string[] {
  const keys = parseSigningKeyFile(signingKeyFileText);
  if (keys.length === 0) throw new KeysError('the file holds no signing key');
  return keys.map((key) => `${key.keyId} ${encodeVerifyKey(key)}`);
}

export interface TlsCertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** `DNS:` or `IP:` entries of the subjectAltName extension. */
export function subjectAltName(hosts: readonly string[]): string {
  return hosts.map((host) => (isIP(host) === 0 ? `DNS:${host}` : `IP:${host}`)).join(',');
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A self-signed EC P-256 certificate for `hosts` (the first is also its CN), made with the openssl command. */
export function generateTlsCertificate(outDir: string, hosts: readonly string[], options: { days: number; force: boolean }): TlsCertificateFiles {
  if (hosts.length === 0) throw new KeysError('give at least one --host');
  for (const host of hosts) if (isIP(host) === 0 && !HOST.test(host)) throw new KeysError(`not a host name or IP address: ${host}`);
  if (!Number.isInteger(options.days) || options.days < 1) throw new KeysError('--days must be a positive whole number');
  const files = { certFile: join(outDir, 'tls.crt'), keyFile: join(outDir, 'tls.key') };
  refuseToOverwrite(files.certFile, options.force);
  refuseToOverwrite(files.keyFile, options.force);
  mkdirSync(outDir, { recursive: true });
  const workKey = join(outDir, `.tls.key.tmp-${process.pid}`);
  const workCert = join(outDir, `.tls.crt.tmp-${process.pid}`);
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-days', String(options.days), '-subj', `/CN=${hosts[0] ?? ''}`,
        '-addext', `subjectAltName=${subjectAltName(hosts)}`,
        '-addext', 'basicConstraints=critical,CA:FALSE',
        '-addext', 'keyUsage=critical,digitalSignature',
        '-addext', 'extendedKeyUsage=serverAuth',
        '-keyout', workKey, '-out', workCert,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 },
    );
    writePrivateFile(files.keyFile, readFileSync(workKey, 'utf8'));
    writeFileSync(files.certFile, readFileSync(workCert, 'utf8'), { mode: 0o644 });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    if (err instanceof KeysError) throw err;
    throw new KeysError(`openssl failed: ${stderr !== undefined && stderr !== '' ? stderr : String(err)}`);
  } finally {
    rmSync(workKey, { force: true });
    rmSync(workCert, { force: true });
  }
  return files;
}
