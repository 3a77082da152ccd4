// What a refused verb must look like to its caller: a MatrixError with the
// status and errcode the gateways pass on to clients and servers.
import assert from 'node:assert/strict';
import { MatrixError } from '@membrane/matrix-errors';

/** `promise` rejects with a MatrixError of this status and errcode (and a message matching `message`, if given). */
export async function rejectsWith(promise: Promise<unknown>, status: number, errcode: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof MatrixError, `expected a MatrixError, got ${String(err)}`);
    assert.equal(err.status, status, err.message);
    assert.equal(err.errcode, errcode, err.message);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}
