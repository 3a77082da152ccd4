import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScenarioRecord } from './results.js';
import { EMPTY_STORE, indexResults, loadStore, mergeRecords, serializeStore } from './results.js';

function record(id: string, runId: string, ops: number): ScenarioRecord {
  return { id, title: id, issueScenarios: [], size: 'full', runId, machine: 'm', commit: 'c', date: 'd', seconds: 1, results: [{ id: `${id}.fig`, group: 'g', name: 'n', opsPerSecond: ops }] };
}

describe('benchmark result store', () => {
  it('replaces the records of the scenarios that ran, keeps the others, in scenario order', () => {
    const first = mergeRecords(EMPTY_STORE, [record('b', 'r1', 1), record('a', 'r1', 2)], ['a', 'b']);
    assert.deepEqual(first.scenarios.map((r) => r.id), ['a', 'b']);
    const second = mergeRecords(first, [record('b', 'r2', 3)], ['a', 'b']);
    assert.deepEqual(second.scenarios.map((r) => [r.id, r.runId]), [['a', 'r1'], ['b', 'r2']]);
    assert.equal(indexResults(second)('b.fig')?.result.opsPerSecond, 3);
    assert.equal(indexResults(second)('missing'), undefined);
  });

  it('round-trips through JSON, dropping figures that could not be measured', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
    try {
      const file = join(dir, 'results.json');
      const store = mergeRecords(EMPTY_STORE, [{ ...record('a', 'r', 1), results: [{ group: 'g', name: 'n', opsPerSecond: 5, p50Ms: Number.NaN }] }], ['a']);
      writeFileSync(file, serializeStore(store));
      const loaded = loadStore(file);
      assert.deepEqual(loaded.scenarios[0]?.results, [{ group: 'g', name: 'n', opsPerSecond: 5 }]);
      assert.deepEqual(loadStore(join(dir, 'absent.json')), EMPTY_STORE);
      writeFileSync(file, '{"format":2}');
      assert.throws(() => loadStore(file), /not a benchmark result store/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
