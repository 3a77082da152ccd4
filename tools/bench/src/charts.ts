// The report's charts, drawn from the recorded figures: leave latency against
// room size (scenario 5), and throughput per scenario, ours beside Synapse.
import type { ResultStore } from './results.js';
import { indexResults } from './results.js';
import { barChart, lineChart } from './svg.js';
import { ROOM_SIZE_IDS } from './targets.js';

export interface Chart {
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

/** Bars of the throughput chart: our figure and, where scenario 7 measured it, Synapse's. */
const THROUGHPUT: readonly { readonly label: string; readonly ours: string; readonly synapse?: string }[] = [
  { label: '1: PerformLeave in-process', ours: 'in-process.perform-leave' },
  { label: '2: CS /leave, SQLite', ours: 'cs-leave.sqlite.saturation', synapse: 'synapse.cs-leave.saturation' },
  { label: '8: CS /leave, PostgreSQL', ours: 'cs-leave.postgres.saturation' },
  { label: '3: send_leave v2', ours: 'send-leave.v2' },
  { label: '4: one user, many rooms', ours: 'mass-leave.one-user', synapse: 'synapse.mass-leave.one-user' },
  { label: '4: many users, one room', ours: 'mass-leave.one-room', synapse: 'synapse.mass-leave.one-room' },
];

export function buildCharts(store: ResultStore): Chart[] {
  const lookup = indexResults(store);
  const value = (id: string | undefined, field: 'opsPerSecond' | 'p50Ms' | 'p99Ms'): number | undefined => {
    if (id === undefined) return undefined;
    const v = lookup(id)?.result[field];
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
  };
  const sizes = ROOM_SIZE_IDS.filter(({ id }) => value(id, 'p50Ms') !== undefined);
  const smallest = value('room-size.10', 'p50Ms');
  const latency = lineChart({
    title: 'CS /leave latency against room size (scenario 5)',
    xLabel: 'joined members of the room',
    yLabel: 'latency (ms, log scale)',
    logX: true,
    logY: true,
    series: [
      { name: 'p50', points: sizes.map(({ members, id }) => ({ x: members, y: value(id, 'p50Ms') as number })) },
      { name: 'p99', points: sizes.flatMap(({ members, id }) => (value(id, 'p99Ms') === undefined ? [] : [{ x: members, y: value(id, 'p99Ms') as number }])) },
    ],
    guides: smallest === undefined ? [] : [{ y: 1.5 * smallest, label: 'target: 1.5 × p50 at 10 members' }],
  });
  const bars = THROUGHPUT.filter((b) => value(b.ours, 'opsPerSecond') !== undefined || value(b.synapse, 'opsPerSecond') !== undefined);
  const throughput = barChart({
    title: 'Throughput per scenario (issue scenario numbers), ours and Synapse',
    yLabel: 'operations per second (log scale)',
    logY: true,
    // Where both were measured, the label carries the ratio scenario 7 asks for.
    categories: bars.map((b) => {
      const ours = value(b.ours, 'opsPerSecond');
      const synapse = value(b.synapse, 'opsPerSecond');
      return ours === undefined || synapse === undefined ? b.label : `${b.label} (${(ours / synapse).toFixed(1)}×)`;
    }),
    series: [
      { name: 'ours', values: bars.map((b) => value(b.ours, 'opsPerSecond')) },
      { name: 'Synapse', values: bars.map((b) => value(b.synapse, 'opsPerSecond')) },
    ],
  });
  return [
    { file: 'docs/bench/latency-vs-room-size.svg', title: 'CS /leave latency against room size', svg: latency },
    { file: 'docs/bench/throughput.svg', title: 'Throughput per scenario, ours and Synapse', svg: throughput },
  ];
}
