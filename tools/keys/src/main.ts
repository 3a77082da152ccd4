// CLI: signing keys and TLS certificates for the apps.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SigningKeyError, encodeVerifyKey } from '@membrane/signing';
import { KeysError, generateTlsCertificate, newSigningKeyFile, verifyKeyLines, writeSigningKey } from './keys.js';

const HELP = `Usage:
  keys generate-signing-key [--out FILE] [--version V] [--force]
      A new ed25519 signing key in Synapse's signing.key format (so an
      existing server's key file can be used as is, and this one by Synapse).
      Without --out the key is printed on stdout. The file is created with
      mode 0600 and is never overwritten without --force. The version is
      random (a_XXXX) unless given ([A-Za-z0-9_]).
  keys show-verify-key FILE
      Prints "ed25519:<version> <public key>" for each key of a signing.key
      file: what /_matrix/key/v2/server publishes.
  keys generate-tls-cert --out-dir DIR --host NAME [--host NAME ...] [--days N] [--force]
      A self-signed EC P-256 certificate (DIR/tls.crt) and its key
      (DIR/tls.key, mode 0600) naming every host (DNS names or IP
      addresses). Needs the openssl command. Default 365 days.

Options:
  -h, --help   show this help
`;

class UsageError extends Error {}

function run(argv: string[]): void {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      version: { type: 'string' },
      force: { type: 'boolean' },
      'out-dir': { type: 'string' },
      host: { type: 'string', multiple: true },
      days: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help === true || command === undefined) {
    process.stdout.write(HELP);
    if (command === undefined && values.help !== true) throw new UsageError('give a command');
    return;
  }
  const force = values.force === true;
  switch (command) {
    case 'generate-signing-key': {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0] ?? ''}`);
      if (values.out === undefined) {
        process.stdout.write(newSigningKeyFile(values.version).text);
        return;
      }
      const key = writeSigningKey(values.out, { version: values.version, force });
      process.stderr.write(`wrote ${key.keyId} to ${values.out} (mode 0600)\nverify key: ${key.keyId} ${encodeVerifyKey(key)}\n`);
      return;
    }
    case 'show-verify-key': {
      const [file, ...extra] = rest;
      if (file === undefined || extra.length > 0) throw new UsageError('give exactly one FILE');
      for (const line of verifyKeyLines(readFileSync(file, 'utf8'))) process.stdout.write(`${line}\n`);
      return;
    }
    case 'generate-tls-cert': {
      if (values['out-dir'] === undefined) throw new UsageError('give --out-dir');
      const days = values.days === undefined ? 365 : Number(values.days);
      process.stderr.write('generating an EC P-256 key and certificate with openssl…\n');
      const files = generateTlsCertificate(values['out-dir'], values.host ?? [], { days, force });
      process.stdout.write(`${files.certFile}\n${files.keyFile}\n`);
      return;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

try {
  run(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError || String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
    process.exitCode = 2;
  } else if (err instanceof KeysError || err instanceof SigningKeyError || (err as NodeJS.ErrnoException).code !== undefined) {
    process.stderr.write(`keys: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
