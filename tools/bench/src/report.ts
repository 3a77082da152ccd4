// Renders benchmark results as a Markdown section and splices it into
// BENCHMARKS.md, replacing only the section with the same title.
import type { BenchResult } from './harness.js';

export interface SectionInput {
  readonly title: string;
  readonly machine: string;
  readonly commit: string;
  readonly date: string;
  readonly smoke: boolean;
  readonly results: readonly BenchResult[];
}

export function formatOps(opsPerSecond: number): string {
  if (opsPerSecond >= 100) return Math.round(opsPerSecond).toLocaleString('en-US');
  return opsPerSecond.toPrecision(3);
}

export function renderSection(input: SectionInput): string {
  const lines = [
    `## ${input.title}`,
    '',
    `Machine: ${input.machine}. Commit \`${input.commit}\`, ${input.date}${input.smoke ? ' (smoke run: figures meaningless)' : ''}.`,
    '',
    '| group | what | ops/s | detail |',
    '|---|---|---:|---|',
    ...input.results.map((r) => `| ${r.group} | ${r.name} | ${formatOps(r.opsPerSecond)} | ${r.detail ?? ''} |`),
    '',
  ];
  return lines.join('\n');
}

/** Replaces `## <title>` up to the next `## ` heading (or the end), or appends the section. */
export function replaceSection(document: string, title: string, section: string): string {
  const heading = `## ${title}`;
  const start = document.indexOf(`${heading}\n`);
  if (start === -1) return `${document.trimEnd()}\n\n${section}`;
  const next = document.indexOf('\n## ', start + heading.length);
  const end = next === -1 ? document.length : next + 1;
  return `${document.slice(0, start)}${section}${next === -1 ? '' : '\n'}${document.slice(end)}`.replace(/\n{3,}/g, '\n\n');
}
