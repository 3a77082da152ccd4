// A seconds-long run of every benchmark scenario, so the harness keeps
// working. It checks that figures come out, never how fast they are.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { scenarios } from './scenarios/index.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('benchmark smoke run', () => {
  it('runs every scenario and prints a positive figure for each', () => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', MAIN, '--no-write'], {
      encoding: 'utf8',
      timeout: 180_000,
      env: { ...process.env, BENCH_SMOKE: '1' },
    });
    for (const scenario of scenarios) assert.match(output, new RegExp(`running ${scenario.name} \\.\\.\\.`));
    const rows = output.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| group') );
    assert.ok(rows.length >= scenarios.length, output);
    for (const row of rows) {
      const figure = Number(row.split('|')[3]?.trim().replace(/,/g, ''));
      assert.ok(figure > 0, `no positive figure in ${row}`);
    }
  });
});
