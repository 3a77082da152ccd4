// Benchmarks that live beside the apps (tools may not import apps) run as
// child processes that print one JSON figure per line.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from '../harness.js';
import { SMOKE } from '../harness.js';

function runAppScript(relativePath: string): BenchResult[] {
  const script = fileURLToPath(new URL(`../../../../${relativePath}`, import.meta.url));
  const output = execFileSync(process.execPath, ['--import', 'tsx', script, ...(SMOKE ? ['--smoke'] : [])], {
    encoding: 'utf8',
    timeout: 600_000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as BenchResult);
}

/** PerformLeave in-process and over gRPC. */
export function benchMembershipService(): BenchResult[] {
  return runAppScript('apps/membership-service/src/bench/perform-leave.ts');
}

/** Authenticated send_leave v2 end to end over HTTPS. */
export function benchFederationSendLeave(): BenchResult[] {
  return runAppScript('apps/federation-gateway/src/bench/send-leave.ts');
}
