import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrCode, MatrixError, isMatrixError, matrixErrorFromBody } from './index.js';

describe('MatrixError', () => {
  it('serialises to the standard error body with extra fields', () => {
    const err = MatrixError.limitExceeded(1500);
    assert.equal(err.status, 429);
    assert.deepEqual(err.toJSON(), { errcode: 'M_LIMIT_EXCEEDED', error: 'Too many requests', retry_after_ms: 1500 });
  });

  it('never lets an extra field override errcode or error', () => {
    const err = new MatrixError(403, ErrCode.FORBIDDEN, 'no', { errcode: 'M_X', error: 'y' });
    assert.deepEqual(err.toJSON(), { errcode: 'M_FORBIDDEN', error: 'no' });
  });

  it('is recognised by isMatrixError and is an Error', () => {
    const err = MatrixError.forbidden('nope');
    assert.ok(isMatrixError(err));
    assert.ok(err instanceof Error);
    assert.ok(!isMatrixError(new Error('plain')));
  });
});

describe('matrixErrorFromBody', () => {
  it('rebuilds a peer error with its extra scalar fields', () => {
    const err = matrixErrorFromBody(400, { errcode: 'M_INCOMPATIBLE_ROOM_VERSION', error: 'v', room_version: '12', nested: { a: 1 } });
    assert.ok(err);
    assert.equal(err.status, 400);
    assert.equal(err.errcode, 'M_INCOMPATIBLE_ROOM_VERSION');
    assert.deepEqual(err.extra, { room_version: '12' });
  });

  it('returns undefined for bodies that are not Matrix errors', () => {
    for (const body of [null, 'text', [], {}, { error: 'x' }, { errcode: 5 }]) {
      assert.equal(matrixErrorFromBody(404, body), undefined);
    }
  });
});
