// PerformLeave in-process and over gRPC. The measurement lives beside the
// service (apps may not be imported by tools), so it runs as a child process
// that prints one JSON figure per line.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from '../harness.js';
import { SMOKE } from '../harness.js';

const SCRIPT = fileURLToPath(new URL('../../../../apps/membership-service/src/bench/perform-leave.ts', import.meta.url));

export function benchMembershipService(): BenchResult[] {
  const output = execFileSync(process.execPath, ['--import', 'tsx', SCRIPT, ...(SMOKE ? ['--smoke'] : [])], {
    encoding: 'utf8',
    timeout: 600_000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as BenchResult);
}
