// CLI entry: `node --import tsx tools/admin/src/main.ts create-user alice --password s3cret`.
import { runAdmin } from './cli.js';

runAdmin(process.argv.slice(2), {
  env: process.env,
  write: (text) => process.stdout.write(text),
  error: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`admin failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
