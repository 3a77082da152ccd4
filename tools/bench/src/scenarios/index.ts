// Every benchmark scenario, in the order they run.
import type { BenchResult } from '../harness.js';

export interface Scenario {
  readonly name: string;
  run(): BenchResult[] | Promise<BenchResult[]>;
}

export const scenarios: readonly Scenario[] = [];
