import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '@membrane/matrix-errors';
import { joinServers, optionalString, parseJsonObjectBody, requiredUserId, roomIdOrAliasParam, roomIdParam } from './request-input.js';

function rejectsWith(fn: () => unknown, status: number, errcode: string): void {
  assert.throws(fn, (err: unknown) => err instanceof MatrixError && err.status === status && err.errcode === errcode);
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('parseJsonObjectBody', () => {
  it('reads no body, an empty body and whitespace as {}', () => {
    assert.deepEqual(parseJsonObjectBody(undefined), {});
    assert.deepEqual(parseJsonObjectBody(new Uint8Array()), {});
    assert.deepEqual(parseJsonObjectBody(bytes(' \n\t')), {});
  });

  it('reads JSON objects', () => {
    assert.deepEqual(parseJsonObjectBody(bytes('{"reason":"bye"}')), { reason: 'bye' });
    assert.deepEqual(parseJsonObjectBody(bytes('\uFEFF{}')), {});
  });

  it('refuses text that is not JSON with M_NOT_JSON, and JSON that is not an object with M_BAD_JSON', () => {
    for (const text of ['nope', '{"a":']) rejectsWith(() => parseJsonObjectBody(bytes(text)), 400, 'M_NOT_JSON');
    for (const text of ['[]', '[{}]', '"text"', '42', 'null', 'true']) rejectsWith(() => parseJsonObjectBody(bytes(text)), 400, 'M_BAD_JSON');
    rejectsWith(() => parseJsonObjectBody(new Uint8Array([0x7b, 0xff, 0x7d])), 400, 'M_NOT_JSON');
  });
});

describe('fields', () => {
  it('take an optional string or refuse another type with M_BAD_JSON', () => {
    assert.equal(optionalString({}, 'reason'), undefined);
    assert.equal(optionalString({ reason: '' }, 'reason'), '');
    for (const reason of [42, null, false, ['x'], { a: 1 }]) rejectsWith(() => optionalString({ reason }, 'reason'), 400, 'M_BAD_JSON');
  });

  it('need a valid user_id where one is required', () => {
    assert.equal(requiredUserId({ user_id: '@bob:hs.test' }, 'user_id'), '@bob:hs.test');
    rejectsWith(() => requiredUserId({}, 'user_id'), 400, 'M_MISSING_PARAM');
    rejectsWith(() => requiredUserId({ user_id: 7 }, 'user_id'), 400, 'M_BAD_JSON');
    rejectsWith(() => requiredUserId({ user_id: 'bob' }, 'user_id'), 400, 'M_INVALID_PARAM');
    rejectsWith(() => requiredUserId({ user_id: `@${'b'.repeat(250)}:hs.test` }, 'user_id'), 400, 'M_INVALID_PARAM');
  });
});

describe('path identifiers', () => {
  it('accept room IDs of every version and refuse the rest', () => {
    assert.equal(roomIdParam('!abc:hs.test'), '!abc:hs.test');
    assert.equal(roomIdParam('!' + 'A'.repeat(43)), '!' + 'A'.repeat(43));
    for (const bad of ['', '!', 'abc:hs.test', '#alias:hs.test', '%21abc%3Ahs.test', `!${'a'.repeat(255)}`]) {
      rejectsWith(() => roomIdParam(bad), 400, 'M_INVALID_PARAM');
    }
  });

  it('accept aliases where a room may be named either way', () => {
    assert.equal(roomIdOrAliasParam('#room:hs.test'), '#room:hs.test');
    assert.equal(roomIdOrAliasParam('!room:hs.test'), '!room:hs.test');
    rejectsWith(() => roomIdOrAliasParam('room'), 400, 'M_INVALID_PARAM');
  });
});

describe('joinServers', () => {
  it('prefers via, falls back to server_name, and drops repeats', () => {
    assert.deepEqual(joinServers({ via: ['a.test', 'b.test:8448', 'a.test'], server_name: 'c.test' }), ['a.test', 'b.test:8448']);
    assert.deepEqual(joinServers({ server_name: 'c.test' }), ['c.test']);
    assert.deepEqual(joinServers({}), []);
  });

  it('refuses what is not a server name', () => {
    rejectsWith(() => joinServers({ via: 'not a server' }), 400, 'M_INVALID_PARAM');
  });
});
