// The figures behind BENCHMARKS.md, kept as JSON (docs/bench/results.json):
// one record per scenario, replaced when that scenario runs again, so a run
// of one scenario (`--only`) updates its section and keeps the others.
import { existsSync, readFileSync } from 'node:fs';
import type { BenchResult, BenchSize } from './harness.js';

export interface ScenarioRecord {
  readonly id: string;
  readonly title: string;
  readonly issueScenarios: readonly number[];
  readonly size: BenchSize;
  /** When the run that measured it started (ISO 8601); records of one run share it. */
  readonly runId: string;
  readonly machine: string;
  readonly commit: string;
  /** YYYY-MM-DD */
  readonly date: string;
  /** Wall-clock seconds of the scenario, setup included. */
  readonly seconds: number;
  readonly results: readonly BenchResult[];
}

export interface ResultStore {
  readonly format: 1;
  readonly scenarios: readonly ScenarioRecord[];
}

export const EMPTY_STORE: ResultStore = { format: 1, scenarios: [] };

export function loadStore(file: string): ResultStore {
  if (!existsSync(file)) return EMPTY_STORE;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<ResultStore>;
  if (parsed.format !== 1 || !Array.isArray(parsed.scenarios)) throw new Error(`${file} is not a benchmark result store (format 1)`);
  return { format: 1, scenarios: parsed.scenarios.map((r) => ({ ...r, results: r.results.map(withoutNulls) })) };
}

/** JSON has no NaN: figures that could not be measured are dropped rather than stored as null. */
function withoutNulls(result: BenchResult): BenchResult {
  return Object.fromEntries(Object.entries(result).filter(([, v]) => v !== null && !(typeof v === 'number' && !Number.isFinite(v)))) as unknown as BenchResult;
}

export function serializeStore(store: ResultStore): string {
  return `${JSON.stringify({ format: 1, scenarios: store.scenarios.map((r) => ({ ...r, results: r.results.map(withoutNulls) })) }, null, 1)}\n`;
}

/** `records` replace those with the same id; the result is in `order` (unknown ids last). */
export function mergeRecords(store: ResultStore, records: readonly ScenarioRecord[], order: readonly string[]): ResultStore {
  const byId = new Map(store.scenarios.map((r) => [r.id, r]));
  for (const record of records) byId.set(record.id, record);
  const rank = (id: string): number => {
    const i = order.indexOf(id);
    return i === -1 ? order.length : i;
  };
  return { format: 1, scenarios: [...byId.values()].sort((a, b) => rank(a.id) - rank(b.id)) };
}

export interface FoundResult {
  readonly result: BenchResult;
  readonly record: ScenarioRecord;
}

/** Looks figures up by their stable id. */
export function indexResults(store: ResultStore): (id: string) => FoundResult | undefined {
  const index = new Map<string, FoundResult>();
  for (const record of store.scenarios) for (const result of record.results) if (result.id !== undefined) index.set(result.id, { result, record });
  return (id) => index.get(id);
}
