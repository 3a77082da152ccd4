// Runs the micro-benchmarks and writes their figures to BENCHMARKS.md.
// Usage: npm run bench            (full run, about a minute)
//        BENCH_SMOKE=1 npm run bench -- --no-write   (seconds; proves the harness works)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, totalmem, platform, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './harness.js';
import { SMOKE } from './harness.js';
import { scenarios } from './scenarios/index.js';
import { renderSection, replaceSection } from './report.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const write = !process.argv.includes('--no-write');

function commitOf(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const results: BenchResult[] = [];
for (const scenario of scenarios) {
  process.stdout.write(`running ${scenario.name} ...\n`);
  const started = performance.now();
  const figures = await scenario.run();
  for (const r of figures) {
    process.stdout.write(`  ${r.group} | ${r.name}: ${Math.round(r.opsPerSecond).toLocaleString('en-US')} ops/s\n`);
  }
  process.stdout.write(`  (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  results.push(...figures);
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
// The load average says whether other work shared the machine during the run.
const machine = `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}, Node ${process.version}; load average at the end ${loadavg()[0]?.toFixed(1) ?? '?'}`;
const section = renderSection({
  title: 'Libraries and end to end',
  machine,
  commit: commitOf(),
  date: new Date().toISOString().slice(0, 10),
  smoke: SMOKE,
  results,
});

if (write && !SMOKE) {
  const file = `${root}/BENCHMARKS.md`;
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nFigures written by `npm run bench`; never asserted by tests.\n';
  writeFileSync(file, replaceSection(before, 'Libraries and end to end', section));
  process.stdout.write(`wrote ${file}\n`);
} else {
  process.stdout.write(section);
}
