// Runs every project's tests with node's own test runner, in one run.
// Usage: node tools/test-runner/run.mjs [path-prefix ...]
// Test files are `*.test.ts` under apps/, libs/ and tools/. The spec reporter
// prints to stdout; a second reporter tallies the results so that the last
// line of output is always `N passed, N failed, N skipped`.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const prefixes = process.argv.slice(2).map((p) => relative(root, join(process.cwd(), p)));

function findTests(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) findTests(full, out);
    else if (entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const files = ['apps', 'libs', 'tools']
  .flatMap((d) => findTests(join(root, d), []))
  .map((f) => relative(root, f))
  .filter((f) => prefixes.length === 0 || prefixes.some((p) => f.startsWith(p)))
  .sort();

if (files.length === 0) {
  console.log('no test files found');
  console.log('0 passed, 0 failed, 0 skipped');
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), 'membrane-tests-'));
const tallyFile = join(scratch, 'tally.json');
const result = spawnSync(
  process.execPath,
  [
    '--import', 'tsx',
    '--test',
    '--test-reporter', 'spec', '--test-reporter-destination', 'stdout',
    '--test-reporter', join(root, 'tools/test-runner/tally-reporter.mjs'),
    '--test-reporter-destination', tallyFile,
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);

let tally = { passed: 0, failed: 0, skipped: 0 };
try {
  tally = JSON.parse(readFileSync(tallyFile, 'utf8'));
} catch {
  tally.failed += 1; // the reporter never finished: count the run as failed
}
rmSync(scratch, { recursive: true, force: true });
const failed = tally.failed + (result.status === 0 ? 0 : tally.failed === 0 ? 1 : 0);
console.log(`${tally.passed} passed, ${failed} failed, ${tally.skipped} skipped`);
process.exit(failed === 0 && result.status === 0 ? 0 : 1);
