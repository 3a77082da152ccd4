// Every benchmark scenario, in the order they run.
import type { BenchResult } from '../harness.js';
import { benchCanonicalJson } from './canonical-json.js';
import { benchEvents } from './events.js';
import { benchFederationSendLeave, benchMembershipService } from './app-scripts.js';
import { benchSigning } from './signing.js';
import { benchLeaveSideBySide } from './synapse-side-by-side.js';

export interface Scenario {
  readonly name: string;
  run(): BenchResult[] | Promise<BenchResult[]>;
}

export const scenarios: readonly Scenario[] = [
  { name: 'canonical-json', run: benchCanonicalJson },
  { name: 'signing', run: benchSigning },
  { name: 'events', run: benchEvents },
  { name: 'membership-service', run: benchMembershipService },
  { name: 'federation send_leave', run: benchFederationSendLeave },
  { name: 'synapse side-by-side CS leave', run: benchLeaveSideBySide },
];
