// CLI: read-only invariant checks over the membership service's database.
import { parseArgs } from 'node:util';
import { CHECKS, assertMembershipSchema } from './checks.js';
import type { Finding } from './checks.js';
import { openPostgresReadOnly, openSqliteReadOnly, sqlitePathInDataDir } from './database.js';
import type { ReadOnlyDatabase } from './database.js';

const HELP = `Usage: db-check check (--data-dir DIR | --sqlite FILE | --pg-url URL [--pg-schema NAME]) [--quiet]

Checks the invariants of the membership service's database without writing
to it:
${CHECKS.map((c) => `  - ${c.name}: ${c.description}`).join('\n')}

Options:
  --data-dir DIR     the membership service's data directory (SQLite at DIR/membership.sqlite)
  --sqlite FILE      a SQLite database file
  --pg-url URL       a PostgreSQL connection URL
  --pg-schema NAME   the schema the service uses (default: public)
  --quiet            no progress output on stderr
  -h, --help         show this help

Findings go to stdout. Exit status: 0 when every invariant holds, 1 when any
fails, 2 when the database cannot be read.
`;

class UsageError extends Error {}

async function openDatabase(values: { 'data-dir'?: string | undefined; sqlite?: string | undefined; 'pg-url'?: string | undefined; 'pg-schema'?: string | undefined }): Promise<ReadOnlyDatabase> {
  const given = [values['data-dir'], values.sqlite, values['pg-url']].filter((v) => v !== undefined);
  if (given.length !== 1) throw new UsageError('give exactly one of --data-dir, --sqlite, --pg-url');
  if (values['pg-url'] !== undefined) return openPostgresReadOnly(values['pg-url'], values['pg-schema'] ?? 'public');
  return openSqliteReadOnly(values.sqlite ?? sqlitePathInDataDir(values['data-dir'] ?? ''));
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      sqlite: { type: 'string' },
      'pg-url': { type: 'string' },
      'pg-schema': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals[0] !== 'check' || positionals.length !== 1) throw new UsageError('the command is "check"');
  const progress = (line: string): void => {
    if (values.quiet !== true) process.stderr.write(`${line}\n`);
  };
  const db = await openDatabase(values);
  try {
    const version = await assertMembershipSchema(db);
    progress(`checking ${db.description}, schema version ${version}`);
    const findings: Finding[] = [];
    for (const check of CHECKS) {
      let lastReport = 0;
      const found = await check.run(db, (rows) => {
        if (rows - lastReport >= 10_000) {
          lastReport = rows;
          progress(`  ${check.name}: ${rows} rows read`);
        }
      });
      progress(`${found.length === 0 ? 'ok  ' : 'FAIL'} ${check.name} (${found.length} findings)`);
      for (const finding of found) process.stdout.write(`${finding.check}: ${finding.message}\n`);
      findings.push(...found);
    }
    process.stdout.write(findings.length === 0 ? `all ${CHECKS.length} invariants hold\n` : `${findings.length} findings in ${new Set(findings.map((f) => f.check)).size} of ${CHECKS.length} checks\n`);
    return findings.length === 0 ? 0 : 1;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(err instanceof UsageError ? `${message}\n\n${HELP}` : `db-check: ${message}\n`);
    process.exitCode = 2;
  },
);
