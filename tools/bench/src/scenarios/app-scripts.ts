// Benchmarks that live beside the apps (tools may not import apps) run as
// child processes that print one JSON figure per line.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchResult, ScenarioContext } from '../harness.js';

async function runAppScript(relativePath: string, context: ScenarioContext): Promise<BenchResult[]> {
  const script = fileURLToPath(new URL(`../../../../${relativePath}`, import.meta.url));
  const output = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', script, ...(context.size === 'smoke' ? ['--smoke'] : [])],
      { encoding: 'utf8', timeout: 600_000, maxBuffer: 16 * 2 ** 20 },
      (err, stdout) => (err === null ? resolve(stdout) : reject(err)),
    );
    child.stderr?.on('data', (chunk: string) => process.stderr.write(chunk));
  });
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as BenchResult);
}

/** Scenario 1: PerformLeave in-process (core + storage), and over gRPC. */
export function benchMembershipService(context: ScenarioContext): Promise<BenchResult[]> {
  return runAppScript('apps/membership-service/src/bench/perform-leave.ts', context);
}

/** Scenario 3: authenticated send_leave v2 end to end over HTTPS. */
export function benchFederationSendLeave(context: ScenarioContext): Promise<BenchResult[]> {
  return runAppScript('apps/federation-gateway/src/bench/send-leave.ts', context);
}
