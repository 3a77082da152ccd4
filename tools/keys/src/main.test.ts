// The keys CLI as a real process; keys checked with Debian's python3-signedjson
// (an independent reader of Synapse's format), certificates by a real TLS handshake.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
let scratch = '';

before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'keys-'));
});

after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function keys(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Key IDs and public keys as python3-signedjson reads the files (one spawn for all). */
function signedjsonVerifyKeys(files: readonly string[]): string[][] {
  const script = `
import json, sys
from signedjson.key import read_signing_keys, get_verify_key, encode_verify_key_base64
out = []
for path in json.loads(sys.argv[1]):
    with open(path) as f:
        out.append(["%s:%s %s" % (k.alg, k.version, encode_verify_key_base64(get_verify_key(k))) for k in read_signing_keys(f)])
print(json.dumps(out))
`;
  const result = spawnSync('/usr/bin/python3', ['-c', script, JSON.stringify(files)], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as string[][];
}

describe('generate-signing-key and show-verify-key', () => {
  it('writes a Synapse-format key, mode 0600, whose verify key python3-signedjson agrees with', () => {
    const file = join(scratch, 'signing.key');
    const generated = keys(['generate-signing-key', '--out', file, '--version', 'test_1']);
    assert.equal(generated.status, 0, generated.stderr);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(file, 'utf8'), /^ed25519 test_1 [A-Za-z0-9+/]{43}\n$/);
    const shown = keys(['show-verify-key', file]);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /^ed25519:test_1 [A-Za-z0-9+/]{43}\n$/);
    assert.deepEqual(signedjsonVerifyKeys([file]), [[shown.stdout.trim()]]);
    assert.ok(generated.stderr.includes(shown.stdout.trim()), 'generation also prints the verify key');
  });

  it('reads a key file written by another server (the Synapse format, several keys)', () => {
    const file = join(scratch, 'synapse.key');
    // Two keys made by this tool, joined as Synapse allows; python reads the same file independently.
    const one = keys(['generate-signing-key', '--version', 'a_one']).stdout;
    const two = keys(['generate-signing-key']).stdout;
    writeFileSync(file, one + two);
    const shown = keys(['show-verify-key', file]);
    assert.equal(shown.status, 0, shown.stderr);
    const lines = shown.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[1] ?? '', /^ed25519:a_[A-Za-z0-9]{4} /, 'a random version');
    assert.deepEqual(signedjsonVerifyKeys([file]), [lines]);
  });

  it('refuses to overwrite a key without --force, and replaces it with --force', () => {
    const file = join(scratch, 'keep.key');
    assert.equal(keys(['generate-signing-key', '--out', file]).status, 0);
    const original = readFileSync(file, 'utf8');
    const refused = keys(['generate-signing-key', '--out', file]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /exists; pass --force/);
    assert.equal(readFileSync(file, 'utf8'), original);
    assert.equal(keys(['generate-signing-key', '--out', file, '--force']).status, 0);
    assert.notEqual(readFileSync(file, 'utf8'), original);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('refuses a bad version and a malformed key file with a clear message', () => {
    const badVersion = keys(['generate-signing-key', '--version', 'no spaces']);
    assert.equal(badVersion.status, 1);
    assert.match(badVersion.stderr, /key version/);
    const file = join(scratch, 'broken.key');
    writeFileSync(file, 'ed25519 v1 not-base64!\n');
    const broken = keys(['show-verify-key', file]);
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /line 1/);
  });
});

describe('generate-tls-cert', () => {
  it('makes a certificate for every host that a TLS client trusting it accepts', async () => {
    const dir = join(scratch, 'tls');
    const result = keys(['generate-tls-cert', '--out-dir', dir, '--host', 'localhost', '--host', '127.0.0.1', '--days', '30']);
    assert.equal(result.status, 0, result.stderr);
    const cert = readFileSync(join(dir, 'tls.crt'));
    const key = readFileSync(join(dir, 'tls.key'));
    assert.equal(statSync(join(dir, 'tls.key')).mode & 0o777, 0o600);
    const server = createServer({ cert, key }, (_req, res) => res.end('ok')).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as AddressInfo).port;
      const get = (servername: string): Promise<string> =>
        new Promise((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, servername, ca: cert, path: '/', timeout: 10_000 }, (res) => {
            res.setEncoding('utf8');
            let body = '';
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve(body));
          });
          req.on('error', reject);
          req.end();
        });
      assert.equal(await get('localhost'), 'ok');
      await assert.rejects(get('other.example'), /altnames|Hostname/);
    } finally {
      server.close();
    }
    const refused = keys(['generate-tls-cert', '--out-dir', dir, '--host', 'localhost']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /exists; pass --force/);
    assert.deepEqual(readFileSync(join(dir, 'tls.crt')), cert);
  });

  it('needs hosts, and documents every command in --help', () => {
    const noHost = keys(['generate-tls-cert', '--out-dir', join(scratch, 'none')]);
    assert.equal(noHost.status, 1);
    assert.match(noHost.stderr, /at least one --host/);
    const help = keys(['--help']);
    assert.equal(help.status, 0);
    for (const command of ['generate-signing-key', 'show-verify-key', 'generate-tls-cert']) assert.ok(help.stdout.includes(command));
    assert.equal(keys(['bogus']).status, 2);
  });
});
