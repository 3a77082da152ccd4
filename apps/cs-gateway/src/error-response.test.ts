import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '@membrane/matrix-errors';
import { errorResponse } from './error-response.js';

describe('errorResponse', () => {
  it('passes Matrix errors through with their status and extra fields', () => {
    const answer = errorResponse(new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', 'nope', { room_version: '99' }));
    assert.deepEqual(answer, { status: 400, body: { room_version: '99', errcode: 'M_UNSUPPORTED_ROOM_VERSION', error: 'nope' }, headers: {}, unexpected: false });
  });

  it('adds Retry-After (whole seconds, rounded up) to 429s', () => {
    const answer = errorResponse(MatrixError.limitExceeded(2_001));
    assert.equal(answer.status, 429);
    assert.deepEqual(answer.headers, { 'Retry-After': '3' });
    assert.equal(answer.body['retry_after_ms'], 2_001);
  });

  it('maps errors of the HTTP layer to Matrix codes', () => {
    assert.equal(errorResponse(Object.assign(new Error('too big'), { status: 413, type: 'entity.too.large' })).body['errcode'], 'M_TOO_LARGE');
    const decode = Object.assign(new URIError("Failed to decode param '%E0%A4%A'"), { status: 400 });
    assert.deepEqual(errorResponse(decode).body, { errcode: 'M_INVALID_PARAM', error: 'The request path has invalid percent-encoding' });
    assert.equal(errorResponse(Object.assign(new Error('x'), { status: 415, type: 'encoding.unsupported' })).status, 415);
  });

  it('hides anything unexpected behind a 500', () => {
    const answer = errorResponse(new TypeError('secret detail'));
    assert.deepEqual(answer.body, { errcode: 'M_UNKNOWN', error: 'Internal server error' });
    assert.equal(answer.status, 500);
    assert.equal(answer.unexpected, true);
  });
});
