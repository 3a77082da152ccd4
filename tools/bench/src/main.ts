// Runs the benchmark scenarios and writes their figures to BENCHMARKS.md,
// docs/bench/results.json and the charts in docs/bench/.
//   npm run bench                          full run (about 15 minutes; see BENCHMARKS.md)
//   npm run bench -- --only=mass-leave     one scenario; the others keep their figures
//   BENCH_SMOKE=1 npm run bench -- --no-write   seconds; proves the harness works (CI)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCharts } from './charts.js';
import type { BenchResult } from './harness.js';
import { setBenchSize } from './harness.js';
import { USAGE, UsageError, parseBenchOptions, selectScenarios } from './options.js';
import { renderFigures, renderRecord, spliceFigures } from './report.js';
import type { ResultStore, ScenarioRecord } from './results.js';
import { loadStore, mergeRecords, serializeStore } from './results.js';
import { scenarios } from './scenarios/index.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const RESULTS_FILE = join(root, 'docs/bench/results.json');
const BENCHMARKS_FILE = join(root, 'BENCHMARKS.md');

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function commitOf(): string {
  const commit = git(['rev-parse', '--short', 'HEAD']) ?? 'unknown';
  // Figures of a working tree with changes are not those of the commit alone.
  const dirty = (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '';
  return dirty ? `${commit}+changes` : commit;
}

function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  // The load average says whether other work shared the machine during the run.
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}, Node ${process.version}; load average at the end ${loadavg()[0]?.toFixed(1) ?? '?'}`;
}

function summary(r: BenchResult): string {
  const parts = [
    r.opsPerSecond === undefined ? undefined : `${Math.round(r.opsPerSecond).toLocaleString('en-US')} ops/s`,
    r.seconds === undefined ? undefined : `${r.seconds.toFixed(2)} s`,
    r.p50Ms === undefined ? undefined : `p50 ${r.p50Ms.toFixed(1)} ms`,
    r.p99Ms === undefined ? undefined : `p99 ${r.p99Ms.toFixed(1)} ms`,
    r.rssMiB === undefined ? undefined : `RSS ${r.rssMiB.toFixed(0)} MiB`,
    r.failures ? `${r.failures} failed` : undefined,
  ].filter((p) => p !== undefined);
  return `  ${r.group} | ${r.name}: ${parts.join(', ')}\n`;
}

/** BENCHMARKS.md and the charts from the recorded figures. */
function render(store: ResultStore): void {
  const charts = buildCharts(store);
  for (const chart of charts) writeFileSync(join(root, chart.file), chart.svg);
  const before = existsSync(BENCHMARKS_FILE) ? readFileSync(BENCHMARKS_FILE, 'utf8') : '';
  writeFileSync(BENCHMARKS_FILE, spliceFigures(before, renderFigures(store, charts.map((c) => ({ title: c.title, path: c.file })))));
  process.stdout.write(`wrote ${BENCHMARKS_FILE} and ${charts.length} charts (figures: ${RESULTS_FILE})\n`);
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseBenchOptions(process.argv.slice(2), process.env, scenarios.map((s) => s.id));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.list) {
    for (const s of scenarios) process.stdout.write(`${s.id.padEnd(16)} ${s.issueScenarios.length === 0 ? '   ' : `${s.issueScenarios.join(',').padEnd(3)}`} ${s.title}\n`);
    return 0;
  }
  if (options.render) {
    render(loadStore(RESULTS_FILE));
    return 0;
  }
  setBenchSize(options.size);
  const selected = selectScenarios(scenarios, options);
  const runId = new Date().toISOString();
  const records: ScenarioRecord[] = [];
  const failed: string[] = [];
  const runStarted = performance.now();
  for (const scenario of selected) {
    process.stdout.write(`running ${scenario.id} (${scenario.title}, ${options.size}) ...\n`);
    const started = performance.now();
    try {
      const results = await scenario.run({ size: options.size, progress: (line) => process.stderr.write(`  … ${line}\n`) });
      for (const r of results) process.stdout.write(summary(r));
      records.push({
        id: scenario.id,
        title: scenario.title,
        issueScenarios: scenario.issueScenarios,
        size: options.size,
        runId,
        machine: machine(),
        commit: commitOf(),
        date: new Date().toISOString().slice(0, 10),
        seconds: (performance.now() - started) / 1000,
        results,
      });
    } catch (err) {
      failed.push(scenario.id);
      process.stdout.write(`  FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.stdout.write(`  (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  }
  process.stdout.write(`all scenarios: ${((performance.now() - runStarted) / 1000).toFixed(0)} s\n`);

  if (options.resultsFile !== undefined) writeFileSync(options.resultsFile, serializeStore({ format: 1, scenarios: records }));
  if (options.write && records.length > 0) {
    const store = mergeRecords(loadStore(RESULTS_FILE), records, scenarios.map((s) => s.id));
    mkdirSync(dirname(RESULTS_FILE), { recursive: true });
    writeFileSync(RESULTS_FILE, serializeStore(store));
    render(store);
  } else {
    for (const record of records) process.stdout.write(`\n${renderRecord(record)}`);
  }
  if (failed.length > 0) process.stdout.write(`failed scenarios: ${failed.join(', ')}\n`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
