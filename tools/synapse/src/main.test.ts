// The CLI's usage contract: help, and exit code 2 for bad usage.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('synapse CLI', () => {
  it('prints its usage with --help and exits 0', () => {
    const result = cli('--help');
    assert.equal(result.status, 0);
    assert.match(result.stdout, /install/);
    assert.match(result.stdout, /--trust-ca FILE/);
  });

  it('exits 2 on an unknown command or a bad number, before installing anything', () => {
    const unknown = cli('launch');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command launch/);
    const badPort = cli('start', '--client-port', 'eighty');
    assert.equal(badPort.status, 2);
    assert.match(badPort.stderr, /must be integers/);
  });
});
