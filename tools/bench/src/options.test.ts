import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError, parseBenchOptions, selectScenarios } from './options.js';

const IDS = ['a', 'b', 'c'];

describe('bench command line', () => {
  it('runs everything at full size and writes by default', () => {
    const options = parseBenchOptions([], {}, IDS);
    assert.equal(options.size, 'full');
    assert.equal(options.only, undefined);
    assert.equal(options.write, true);
  });

  it('takes BENCH_SMOKE=1 as the smoke size, and a smoke run never writes', () => {
    const options = parseBenchOptions([], { BENCH_SMOKE: '1' }, IDS);
    assert.equal(options.size, 'smoke');
    assert.equal(options.write, false);
    assert.equal(parseBenchOptions(['--size=medium'], { BENCH_SMOKE: '1' }, IDS).size, 'medium');
  });

  it('selects scenarios with --only and --skip, keeping their order', () => {
    const scenarios = IDS.map((id) => ({ id }));
    assert.deepEqual(selectScenarios(scenarios, parseBenchOptions(['--only=c,a'], {}, IDS)).map((s) => s.id), ['a', 'c']);
    assert.deepEqual(selectScenarios(scenarios, parseBenchOptions(['--skip=b'], {}, IDS)).map((s) => s.id), ['a', 'c']);
    assert.equal(parseBenchOptions(['--no-write'], {}, IDS).write, false);
  });

  it('refuses unknown scenarios, sizes and options, naming them', () => {
    assert.throws(() => parseBenchOptions(['--only=a,zz'], {}, IDS), (err: Error) => err instanceof UsageError && /"zz"/.test(err.message));
    assert.throws(() => parseBenchOptions(['--size=huge'], {}, IDS), /--size must be one of smoke, medium, full/);
    assert.throws(() => parseBenchOptions(['--fast'], {}, IDS), UsageError);
  });
});

describe('bench command line, rendering', () => {
  it('--render redraws without running', () => {
    assert.equal(parseBenchOptions(['--render'], {}, IDS).render, true);
    assert.equal(parseBenchOptions([], {}, IDS).render, false);
  });
});
