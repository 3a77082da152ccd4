// Command line of `npm run bench`.
import { parseArgs } from 'node:util';
import type { BenchSize } from './harness.js';
import { BENCH_SIZES } from './harness.js';

export const USAGE = `usage: npm run bench -- [options]
  --size=smoke|medium|full  how big (default full; BENCH_SMOKE=1 means smoke)
                              smoke: seconds, tiny numbers (what CI runs)
                              medium: a couple of minutes, reduced sizes
                              full: the figures of BENCHMARKS.md (about 15 minutes)
  --only=a,b                run only these scenarios (ids below)
  --skip=a,b                run all but these
  --no-write                print the report, leave BENCHMARKS.md, docs/bench/ alone
                              (smoke runs never write)
  --results=FILE            also write this run's figures as JSON to FILE
  --render                  run nothing: redraw BENCHMARKS.md and the charts from
                              docs/bench/results.json
  --list                    list the scenarios and exit
  -h, --help                show this help
Writing replaces the figures of the scenarios that ran and keeps the others
(each section says when and on which commit it was measured).`;

export interface BenchOptions {
  readonly size: BenchSize;
  readonly only: readonly string[] | undefined;
  readonly skip: readonly string[];
  readonly write: boolean;
  readonly resultsFile: string | undefined;
  readonly list: boolean;
  readonly render: boolean;
  readonly help: boolean;
}

export class UsageError extends Error {}

function idList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function parseBenchOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, knownIds: readonly string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        size: { type: 'string' },
        only: { type: 'string' },
        skip: { type: 'string' },
        'no-write': { type: 'boolean', default: false },
        results: { type: 'string' },
        list: { type: 'boolean', default: false },
        render: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const sizeText = values.size ?? (env['BENCH_SMOKE'] === '1' ? 'smoke' : 'full');
  if (!(BENCH_SIZES as readonly string[]).includes(sizeText)) throw new UsageError(`--size must be one of ${BENCH_SIZES.join(', ')}, got ${sizeText}`);
  const only = idList(values.only);
  const skip = idList(values.skip) ?? [];
  for (const id of [...(only ?? []), ...skip]) {
    if (!knownIds.includes(id)) throw new UsageError(`unknown scenario "${id}"; known: ${knownIds.join(', ')}`);
  }
  const size = sizeText as BenchSize;
  return {
    size,
    only,
    skip,
    write: !values['no-write'] && size !== 'smoke',
    resultsFile: values.results,
    list: values.list,
    render: values.render,
    help: values.help,
  };
}

/** The scenarios to run, in the order given by `ids`. */
export function selectScenarios<T extends { readonly id: string }>(scenarios: readonly T[], options: Pick<BenchOptions, 'only' | 'skip'>): T[] {
  return scenarios.filter((s) => (options.only === undefined || options.only.includes(s.id)) && !options.skip.includes(s.id));
}
