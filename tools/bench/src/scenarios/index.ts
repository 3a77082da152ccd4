// Every benchmark scenario, in the order they run. Scenario numbers are those
// of the benchmark issue (BENCHMARKS.md lists them with their targets).
import type { Scenario } from '../harness.js';
import { benchFederationSendLeave, benchMembershipService } from './app-scripts.js';
import { benchCanonicalJson } from './canonical-json.js';
import { benchCsLeavePostgres, benchCsLeaveSqlite } from './cs-leave.js';
import { benchEvents } from './events.js';
import { benchMassLeave } from './mass-leave.js';
import { benchMemory } from './memory.js';
import { benchRoomSize } from './room-size.js';
import { benchSigning } from './signing.js';
import { benchSynapse } from './synapse.js';

export const scenarios: readonly Scenario[] = [
  { id: 'canonical-json', issueScenarios: [], title: 'Canonical JSON', run: benchCanonicalJson },
  { id: 'signing', issueScenarios: [], title: 'Signing', run: benchSigning },
  { id: 'events', issueScenarios: [], title: 'Events: build, hash, sign, validate', run: benchEvents },
  { id: 'in-process', issueScenarios: [1], title: 'In-process limit: PerformLeave through the core and storage', run: benchMembershipService },
  { id: 'cs-leave', issueScenarios: [2], title: 'CS /leave end to end on SQLite', run: benchCsLeaveSqlite },
  { id: 'postgres', issueScenarios: [8], title: 'CS /leave end to end on PostgreSQL', run: benchCsLeavePostgres },
  { id: 'send-leave', issueScenarios: [3], title: 'Federation send_leave end to end', run: benchFederationSendLeave },
  { id: 'mass-leave', issueScenarios: [4], title: 'Mass leave', run: benchMassLeave },
  { id: 'room-size', issueScenarios: [5], title: 'Leave latency against room size', run: benchRoomSize },
  { id: 'memory', issueScenarios: [6], title: 'Resident memory', run: benchMemory },
  { id: 'synapse', issueScenarios: [7], title: 'Synapse side by side (scenarios 2 and 4)', run: benchSynapse },
];
