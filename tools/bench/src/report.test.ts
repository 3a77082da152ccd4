import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BEGIN_MARKER, END_MARKER, formatOps, renderFigures, renderRecord, spliceFigures } from './report.js';
import type { ScenarioRecord } from './results.js';
import { EMPTY_STORE, mergeRecords } from './results.js';

function record(id: string, results: ScenarioRecord['results'], extra: Partial<ScenarioRecord> = {}): ScenarioRecord {
  return { id, title: `Title ${id}`, issueScenarios: [2], size: 'full', runId: 'run-1', machine: 'm', commit: 'abc', date: '2026-01-01', seconds: 12.4, results, ...extra };
}

describe('benchmark report', () => {
  it('renders a table per scenario with only the columns its figures have', () => {
    const text = renderRecord(record('cs-leave', [{ group: 'g', name: 'n', opsPerSecond: 12345.6, p99Ms: 4.567, detail: 'd' }]));
    assert.match(text, /^### Title cs-leave\n/);
    assert.match(text, /Scenario 2 of the benchmark issue\. m\. Commit `abc`, 2026-01-01; the scenario took 12 s\./);
    assert.match(text, /\| group \| what \| ops\/s \| p99 ms \| detail \|/);
    assert.match(text, /\| g \| n \| 12,346 \| 4\.57 \| d \|/);
    assert.equal(formatOps(1.23456), '1.23');
  });

  it('says when figures come from a smaller run', () => {
    assert.match(renderRecord(record('x', [], { size: 'smoke' })), /Smoke size: the figures mean nothing\./);
    assert.match(renderRecord(record('x', [], { size: 'medium' })), /Medium size/);
  });

  it('puts the targets, the charts and every scenario between the markers', () => {
    const store = mergeRecords(EMPTY_STORE, [record('cs-leave', [{ id: 'cs-leave.sqlite.saturation', group: 'g', name: 'n', opsPerSecond: 6000 }])], ['cs-leave']);
    const text = renderFigures(store, [{ title: 'A chart', path: 'docs/bench/a.svg' }]);
    assert.ok(text.startsWith(BEGIN_MARKER) && text.endsWith(END_MARKER));
    assert.match(text, /\| 2 \| CS \/leave ≥ 5,000 leaves\/s \(SQLite, saturation\) \| 6,000 leaves\/s \| yes \|/);
    assert.match(text, /!\[A chart\]\(docs\/bench\/a\.svg\)/);
    assert.match(text, /### Title cs-leave/);
  });

  it('replaces only the text between the markers', () => {
    const doc = `# B\n\nintro\n\n${BEGIN_MARKER}\nold\n${END_MARKER}\n\n## Reading the figures\n\nkept\n`;
    const out = spliceFigures(doc, `${BEGIN_MARKER}\nnew\n${END_MARKER}`);
    assert.equal(out, `# B\n\nintro\n\n${BEGIN_MARKER}\nnew\n${END_MARKER}\n\n## Reading the figures\n\nkept\n`);
  });

  it('builds a document around the figures, keeping a "Reading the figures" section of an older one', () => {
    const out = spliceFigures('# Benchmarks\n\n## Old table\n\nx\n\n## Reading the figures\n\nwhy\n', `${BEGIN_MARKER}\nnew\n${END_MARKER}`);
    assert.ok(out.startsWith('# Benchmarks\n'));
    assert.ok(!out.includes('Old table'));
    assert.ok(out.includes(`${BEGIN_MARKER}\nnew\n${END_MARKER}\n\n## Reading the figures\n\nwhy\n`));
    assert.ok(spliceFigures('', 'F').includes('F'));
  });
});
