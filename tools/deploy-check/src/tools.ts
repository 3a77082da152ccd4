// Locates the validators, installing them first when needed
// (tools/deploy-check/install.sh is idempotent and fast once done).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface DeployTools {
  readonly kustomize: string;
  readonly kubernetesValidate: string;
  readonly hadolint: string;
}

export function ensureDeployTools(): DeployTools {
  const result = spawnSync('bash', [join(REPO_ROOT, 'tools/deploy-check/install.sh')], { encoding: 'utf8', timeout: 600_000 });
  const dir = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.status !== 0 || dir === '') {
    throw new Error(`tools/deploy-check/install.sh failed (status ${String(result.status)}):\n${result.stderr}${result.stdout}`);
  }
  return {
    kustomize: join(dir, 'bin/kustomize'),
    kubernetesValidate: join(dir, 'venv/bin/kubernetes-validate'),
    hadolint: join(dir, 'venv/bin/hadolint'),
  };
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (bounded), capturing its output. */
export function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): RunResult {
  const result = spawnSync(command, [...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
