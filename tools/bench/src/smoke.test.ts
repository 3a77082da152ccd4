// A seconds-long run of every benchmark scenario at its smoke size, so the
// harness keeps working. It checks that figures come out and that no
// operation failed, never how fast anything was.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './harness.js';
import type { ResultStore } from './results.js';
import { loadStore } from './results.js';
import { scenarios } from './scenarios/index.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const FIGURES: readonly (keyof BenchResult)[] = ['opsPerSecond', 'seconds', 'p50Ms', 'p99Ms', 'rssMiB', 'peakRssMiB'];

describe('benchmark smoke run', () => {
  let dir: string;
  let output = '';
  let store: ResultStore;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
    const resultsFile = join(dir, 'results.json');
    const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--size=smoke', '--no-write', `--results=${resultsFile}`], {
      encoding: 'utf8',
      timeout: 600_000,
      maxBuffer: 64 * 2 ** 20,
    });
    output = `${run.stdout}\n${run.stderr}`;
    store = loadStore(resultsFile);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const scenario of scenarios) {
    it(`${scenario.id}: gives figures, none failed`, () => {
      const record = store.scenarios.find((r) => r.id === scenario.id);
      assert.ok(record !== undefined, `no figures from ${scenario.id}:\n${output.slice(-6000)}`);
      assert.ok(record.results.length > 0);
      assert.equal(record.size, 'smoke');
      for (const result of record.results) {
        assert.ok(
          FIGURES.some((f) => typeof result[f] === 'number' && (result[f] as number) > 0),
          `no positive figure in ${JSON.stringify(result)}`,
        );
        assert.ok((result.failures ?? 0) === 0, `failures in ${JSON.stringify(result)}`);
      }
    });
  }

  it('prints a table per scenario and no failure', () => {
    assert.doesNotMatch(output, /FAILED|failed scenarios/);
    for (const scenario of scenarios) assert.ok(output.includes(`### ${scenario.title}`), `no table for ${scenario.id}`);
  });
});
