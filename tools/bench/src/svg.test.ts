import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { barChart, escapeXml, formatTick, lineChart, wrapWords } from './svg.js';

/** Every opened element is closed (a rough well-formedness check without an XML parser). */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing === '/') continue;
    if (closing === '/') assert.equal(stack.pop(), name, `</${String(name)}> closes the wrong element`);
    else stack.push(name as string);
  }
  assert.deepEqual(stack, []);
}

describe('svg charts', () => {
  it('escapes text', () => {
    assert.equal(escapeXml('a < b & "c" > d'), 'a &lt; b &amp; &quot;c&quot; &gt; d');
  });

  it('labels ticks briefly', () => {
    assert.deepEqual([10, 1_500, 100_000, 2_000_000, 0.25].map(formatTick), ['10', '1.5k', '100k', '2M', '0.25']);
  });

  it('draws a line per series with a point per figure, on log axes when asked', () => {
    const svg = lineChart({
      title: 'Latency <by> size',
      xLabel: 'members',
      yLabel: 'ms',
      logX: true,
      logY: true,
      series: [
        { name: 'p50', points: [{ x: 10, y: 2 }, { x: 100_000, y: 30 }, { x: 1_000, y: 3 }] },
        { name: 'p99', points: [{ x: 10, y: 5 }] },
      ],
      guides: [{ y: 3, label: 'target' }],
    });
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
    assertBalanced(svg);
    assert.equal((svg.match(/<polyline/g) ?? []).length, 1, 'one line: the series with several points');
    assert.equal((svg.match(/<circle/g) ?? []).length, 4);
    assert.ok(svg.includes('Latency &lt;by&gt; size'));
    for (const tick of ['10', '100', '1k', '10k', '100k']) assert.ok(svg.includes(`>${tick}</text>`), `x tick ${tick}`);
    assert.ok(svg.includes('stroke-dasharray'), 'the guide line');
  });

  it('draws a bar per value and leaves gaps for missing ones', () => {
    const svg = barChart({
      title: 'Throughput',
      yLabel: 'ops/s',
      categories: ['CS leave', 'mass leave of many rooms'],
      series: [
        { name: 'ours', values: [1_000, 2_000] },
        { name: 'Synapse', values: [30, undefined] },
      ],
      logY: true,
    });
    assertBalanced(svg);
    assert.equal((svg.match(/<rect x=/g) ?? []).length, 3 + 2, 'three bars and two legend keys');
    assert.ok(svg.includes('>Synapse</text>'));
  });

  it('says so when there is nothing to draw', () => {
    assert.match(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] }), /no figures yet/);
    assert.match(barChart({ title: 't', yLabel: 'y', categories: [], series: [] }), /no figures yet/);
  });
});

describe('label wrapping', () => {
  it('fills lines up to the width, gives a long word its own line, and stops at four lines', () => {
    assert.deepEqual(wrapWords('2: CS /leave, SQLite (16.2×)', 12), ['2: CS', '/leave,', 'SQLite', '(16.2×)']);
    assert.deepEqual(wrapWords('a b c', 20), ['a b c']);
    assert.deepEqual(wrapWords('extraordinarily long', 5), ['extraordinarily', 'long']);
    assert.equal(wrapWords('a b c d e f g h', 1).length, 4);
  });
});
