// Renders the recorded figures as Markdown and splices them into
// BENCHMARKS.md between two markers; the text around them (the introduction
// and "Reading the figures") is written by hand and kept.
import type { BenchResult } from './harness.js';
import type { ResultStore, ScenarioRecord } from './results.js';
import { indexResults } from './results.js';
import { evaluateTargets } from './targets.js';

export const BEGIN_MARKER = '<!-- figures: written by `npm run bench` from docs/bench/results.json; edit outside these markers -->';
export const END_MARKER = '<!-- end of figures -->';

export interface ChartLink {
  readonly title: string;
  /** Relative to the repository root. */
  readonly path: string;
}

export function formatOps(opsPerSecond: number): string {
  if (opsPerSecond >= 100) return Math.round(opsPerSecond).toLocaleString('en-US');
  return opsPerSecond.toPrecision(3);
}

function formatMs(ms: number): string {
  return ms >= 100 ? Math.round(ms).toLocaleString('en-US') : ms.toPrecision(3);
}

interface Column {
  readonly field: keyof BenchResult;
  readonly title: string;
  readonly format: (value: number) => string;
}

const COLUMNS: readonly Column[] = [
  { field: 'members', title: 'members', format: (v) => v.toLocaleString('en-US') },
  { field: 'opsPerSecond', title: 'ops/s', format: formatOps },
  { field: 'count', title: 'N', format: (v) => v.toLocaleString('en-US') },
  { field: 'seconds', title: 's', format: (v) => v.toFixed(v < 10 ? 2 : 1) },
  { field: 'p50Ms', title: 'p50 ms', format: formatMs },
  { field: 'p99Ms', title: 'p99 ms', format: formatMs },
  { field: 'rssMiB', title: 'RSS MiB', format: (v) => v.toFixed(0) },
  { field: 'peakRssMiB', title: 'peak RSS MiB', format: (v) => v.toFixed(0) },
  { field: 'failures', title: 'failed', format: (v) => v.toLocaleString('en-US') },
];

function cell(result: BenchResult, column: Column): string {
  const value = result[column.field];
  return typeof value === 'number' && Number.isFinite(value) ? column.format(value) : '';
}

/** One scenario's table: only the columns some of its figures have. */
export function renderRecord(record: ScenarioRecord): string {
  const columns = COLUMNS.filter((c) => record.results.some((r) => typeof r[c.field] === 'number'));
  const issue = record.issueScenarios.length === 0 ? 'Library figures' : `Scenario ${record.issueScenarios.join(' and ')} of the benchmark issue`;
  const size = record.size === 'full' ? '' : record.size === 'smoke' ? ' Smoke size: the figures mean nothing.' : ' Medium size: smaller numbers than the full run.';
  const lines = [
    `### ${record.title}`,
    '',
    `${issue}. ${record.machine}. Commit \`${record.commit}\`, ${record.date}; the scenario took ${Math.round(record.seconds)} s.${size}`,
    '',
    `| group | what | ${columns.map((c) => c.title).join(' | ')} | detail |`,
    `|---|---|${columns.map(() => '---:|').join('')}---|`,
    ...record.results.map((r) => `| ${r.group} | ${r.name} | ${columns.map((c) => cell(r, c)).join(' | ')} | ${r.detail ?? ''} |`),
    '',
  ];
  return lines.join('\n');
}

export function renderFigures(store: ResultStore, charts: readonly ChartLink[]): string {
  const targets = evaluateTargets(indexResults(store));
  const lines = [
    BEGIN_MARKER,
    '',
    '## Targets',
    '',
    'Goals of the benchmark issue for the design, checked against the figures below (recorded, never asserted).',
    '',
    '| scenario | target | measured | met |',
    '|---|---|---|---|',
    ...targets.map((t) => `| ${t.scenario} | ${t.target} | ${t.measured} | ${t.met} |`),
    '',
    '## Charts',
    '',
    ...charts.map((c) => `![${c.title}](${c.path})`),
    '',
    '## Figures',
    '',
    ...store.scenarios.map(renderRecord),
    END_MARKER,
  ];
  return lines.join('\n');
}

const DEFAULT_INTRO = '# Benchmarks\n\nFigures written by `npm run bench` (see `npm run bench -- --help`); never asserted by tests.\n';

/** Replaces the text between the markers, or builds the document around the figures. */
export function spliceFigures(document: string, figures: string): string {
  const begin = document.indexOf(BEGIN_MARKER);
  const end = document.indexOf(END_MARKER);
  if (begin !== -1 && end > begin) return `${document.slice(0, begin)}${figures}${document.slice(end + END_MARKER.length)}`;
  // No markers yet: keep the hand-written "Reading the figures" section, if any.
  const reading = document.indexOf('## Reading the figures');
  const tail = reading === -1 ? '' : `\n\n${document.slice(reading).trimEnd()}\n`;
  return `${DEFAULT_INTRO}\n${figures}${tail === '' ? '\n' : tail}`;
}
