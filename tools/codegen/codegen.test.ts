// CI guard for the gRPC contracts: proto/ passes buf lint and buf format, and
// the committed libs/proto/src/gen/ is exactly what proto/ generates.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const buf = fileURLToPath(new URL('../../node_modules/.bin/buf', import.meta.url));

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('gRPC contracts in proto/', () => {
  it('pass buf lint', () => {
    const { status, output } = run(buf, ['lint', 'proto']);
    assert.equal(status, 0, output);
  });

  it('are formatted as buf format writes them', () => {
    const { status, output } = run(buf, ['format', '--diff', '--exit-code', 'proto']);
    assert.equal(status, 0, output);
  });

  it('match the committed generated code (run node tools/codegen/generate.mjs after changing them)', () => {
    const { status, output } = run(process.execPath, ['tools/codegen/generate.mjs', '--check']);
    assert.equal(status, 0, output);
    assert.match(output, /is up to date/);
  });
});
