import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '@membrane/matrix-errors';
import { extractAccessToken } from './access-token.js';

function missing(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof MatrixError && err.status === 401 && err.errcode === 'M_MISSING_TOKEN' && message.test(err.message));
}

describe('extractAccessToken', () => {
  it('reads a Bearer header, whatever the case of the scheme', () => {
    assert.equal(extractAccessToken('Bearer abc', undefined), 'abc');
    assert.equal(extractAccessToken('bearer  abc', undefined), 'abc');
  });

  it('reads the access_token query parameter (first one wins)', () => {
    assert.equal(extractAccessToken(undefined, 'abc'), 'abc');
    assert.equal(extractAccessToken(undefined, ['abc', 'def']), 'abc');
  });

  it('answers M_MISSING_TOKEN when there is none, or it is malformed, or given twice', () => {
    missing(() => extractAccessToken(undefined, undefined), /Missing access token/);
    missing(() => extractAccessToken(undefined, ''), /Missing access token/);
    missing(() => extractAccessToken('Basic dXNlcjpwdw==', undefined), /Invalid Authorization header/);
    missing(() => extractAccessToken('Bearer', undefined), /Invalid Authorization header/);
    missing(() => extractAccessToken('Bearer a b', undefined), /Invalid Authorization header/);
    missing(() => extractAccessToken('Bearer abc', 'abc'), /Mixing/);
  });
});
