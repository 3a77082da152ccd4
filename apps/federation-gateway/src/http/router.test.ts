import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '@membrane/matrix-errors';
import { Router } from './router.js';
import type { Route } from './router.js';

const reply = async () => ({ status: 200, body: {} });
const routes: Route[] = [
  { method: 'GET', path: '/_matrix/federation/v1/make_leave/{roomId}/{userId}', auth: 'x-matrix', handle: reply },
  { method: 'PUT', path: '/_matrix/federation/v2/send_leave/{roomId}/{eventId}', auth: 'x-matrix', handle: reply },
  { method: 'GET', path: '/_matrix/federation/v1/version', auth: 'none', handle: reply },
];
const router = new Router(routes);

function failure(method: string, path: string): MatrixError {
  try {
    router.match(method, path);
  } catch (err) {
    assert.ok(err instanceof MatrixError);
    return err;
  }
  assert.fail('expected no match');
}

describe('federation router', () => {
  it('matches templates and decodes parameters after splitting, so %2F stays inside a parameter', () => {
    const match = router.match('GET', '/_matrix/federation/v1/make_leave/%21room%3Ahs.test/%40a%2Fb%3Aremote.test');
    assert.equal(match.route, routes[0]);
    assert.deepEqual(match.params, { roomId: '!room:hs.test', userId: '@a/b:remote.test' });
  });

  it('answers 404 M_UNRECOGNIZED for unknown paths and 405 M_UNRECOGNIZED for a known path with another method', () => {
    const unknown = failure('PUT', '/_matrix/federation/v3/send_leave/a/b');
    assert.deepEqual([unknown.status, unknown.errcode], [404, 'M_UNRECOGNIZED']);
    const wrongMethod = failure('POST', '/_matrix/federation/v2/send_leave/a/b');
    assert.deepEqual([wrongMethod.status, wrongMethod.errcode], [405, 'M_UNRECOGNIZED']);
    assert.equal(failure('GET', '/_matrix/federation/v1/make_leave/a').status, 404);
    assert.equal(failure('GET', '/_matrix/federation/v1/make_leave//b').status, 404, 'an empty parameter does not match');
  });

  it('answers 400 M_INVALID_PARAM for malformed percent-encoding', () => {
    const error = failure('GET', '/_matrix/federation/v1/make_leave/%E0%A4%A/b');
    assert.deepEqual([error.status, error.errcode], [400, 'M_INVALID_PARAM']);
  });
});
