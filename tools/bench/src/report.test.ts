import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatOps, renderSection, replaceSection } from './report.js';

describe('benchmark report', () => {
  const section = renderSection({
    title: 'Lib',
    machine: 'm',
    commit: 'abc',
    date: '2026-01-01',
    smoke: false,
    results: [{ group: 'g', name: 'n', opsPerSecond: 12345.6, detail: 'd' }],
  });

  it('renders a table row per result with rounded ops/s', () => {
    assert.match(section, /^## Lib\n/);
    assert.match(section, /\| g \| n \| 12,346 \| d \|/);
    assert.equal(formatOps(1.23456), '1.23');
  });

  it('appends a section that is not there yet', () => {
    assert.equal(replaceSection('# B\n', 'Lib', section), `# B\n\n${section}`);
  });

  it('replaces only the section with the same title', () => {
    const doc = `# B\n\n## Lib\n\nold\n\n## Other\n\nkeep\n`;
    const out = replaceSection(doc, 'Lib', section);
    assert.ok(out.includes('| g | n |'));
    assert.ok(!out.includes('old'));
    assert.ok(out.includes('## Other\n\nkeep'));
  });
});
