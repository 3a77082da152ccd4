// CLI: `install` fills the cached virtualenv; `start` runs a Synapse peer
// until SIGINT/SIGTERM and prints where it listens.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { installSynapse, SYNAPSE_VERSION } from './install.js';
import { startSynapse } from './synapse.js';

const USAGE = `usage: node --import tsx tools/synapse/src/main.ts <command> [options]
  install                 install matrix-synapse ${SYNAPSE_VERSION} into the cached virtualenv
  start                   start a Synapse peer on loopback until interrupted
Options (start): --dir D (default: a new temporary directory), --client-port N,
  --federation-port N (0: free port), --user NAME (repeatable: register users),
  --users N (register user1..userN), --trust-ca FILE (repeatable: more CAs Synapse
  trusts for outbound federation; its own certificate's CA is printed as caFile),
  --log-level INFO|WARNING, --json
With --json every line is one JSON object with a "kind": "synapse" (where it listens),
"user" (one per registered user), then "ready".
Exit codes: 0 done, 1 failed, 2 bad usage.`;

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        dir: { type: 'string' },
        'client-port': { type: 'string', default: '0' },
        'federation-port': { type: 'string', default: '0' },
        user: { type: 'string', multiple: true, default: [] },
        users: { type: 'string', default: '0' },
        'trust-ca': { type: 'string', multiple: true, default: [] },
        'log-level': { type: 'string', default: 'INFO' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || command === undefined) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const print = (record: Record<string, unknown>, text: string): void => {
    console.log(values.json ? JSON.stringify(record) : text);
  };

  if (command === 'install') {
    const installed = await installSynapse();
    print({ ...installed }, `matrix-synapse ${installed.version} ${installed.installed ? 'installed' : 'already installed'} in ${installed.seconds.toFixed(1)} s: ${installed.python}`);
    return 0;
  }
  if (command !== 'start') {
    console.error(`unknown command ${command}\n${USAGE}`);
    return 2;
  }
  const clientPort = Number(values['client-port']);
  const federationPort = Number(values['federation-port']);
  const userCount = Number(values.users);
  const logLevel = values['log-level'];
  if (![clientPort, federationPort, userCount].every((n) => Number.isInteger(n) && n >= 0) || (logLevel !== 'INFO' && logLevel !== 'WARNING')) {
    console.error(`ports and --users must be integers; --log-level INFO or WARNING\n${USAGE}`);
    return 2;
  }
  const dir = values.dir === undefined ? mkdtempSync(join(tmpdir(), 'membrane-synapse-')) : resolve(values.dir);
  const synapse = await startSynapse({ dir, clientPort, federationPort, logLevel, extraCaFiles: values['trust-ca'].map((file) => resolve(file)) });
  print(
    { kind: 'synapse', version: synapse.version, clientUrl: synapse.clientUrl, federationUrl: synapse.federationUrl, serverName: synapse.serverName, caFile: synapse.caFile, logFile: synapse.logFile, dir, startSeconds: synapse.startSeconds },
    `Synapse ${synapse.version} ready in ${synapse.startSeconds.toFixed(1)} s\n  server name ${synapse.serverName}\n  client      ${synapse.clientUrl}\n  federation  ${synapse.federationUrl} (CA ${synapse.caFile})\n  log         ${synapse.logFile}`,
  );
  const names = [...values.user, ...Array.from({ length: userCount }, (_, i) => `user${i + 1}`)];
  // A few at a time: registration and login are each one request.
  for (let i = 0; i < names.length; i += 8) {
    const users = await Promise.all(names.slice(i, i + 8).map((name) => synapse.registerUser(name)));
    for (const user of users) print({ kind: 'user', ...user }, `  user ${user.userId} password ${user.password} access_token ${user.accessToken}`);
  }
  print({ kind: 'ready' }, 'ready (Ctrl-C stops it)');
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    synapse.process.once('exit', done);
  });
  await synapse.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
