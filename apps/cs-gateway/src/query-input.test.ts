import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '@membrane/matrix-errors';
import { optionalBooleanQuery, optionalEnumQuery, optionalIntegerQuery, optionalJsonQuery } from './query-input.js';

function rejectsWith(fn: () => unknown, errcode: string): void {
  assert.throws(fn, (err: unknown) => err instanceof MatrixError && err.status === 400 && err.errcode === errcode);
}

describe('query parameters', () => {
  it('reads non-negative integers and nothing else', () => {
    assert.equal(optionalIntegerQuery({}, 'timeout'), undefined);
    assert.equal(optionalIntegerQuery({ timeout: '0' }, 'timeout'), 0);
    assert.equal(optionalIntegerQuery({ timeout: '30000' }, 'timeout'), 30000);
    assert.equal(optionalIntegerQuery({ timeout: ['5', '6'] }, 'timeout'), 5);
    for (const bad of ['', '-1', '1.5', 'abc', '1e3', ' 1', '99999999999999999']) rejectsWith(() => optionalIntegerQuery({ timeout: bad }, 'timeout'), 'M_INVALID_PARAM');
  });

  it('reads booleans as Synapse does: true or false only', () => {
    assert.equal(optionalBooleanQuery({ full_state: 'true' }, 'full_state'), true);
    assert.equal(optionalBooleanQuery({ full_state: 'false' }, 'full_state'), false);
    assert.equal(optionalBooleanQuery({}, 'full_state'), undefined);
    for (const bad of ['1', 'yes', 'True', '']) rejectsWith(() => optionalBooleanQuery({ full_state: bad }, 'full_state'), 'M_INVALID_PARAM');
  });

  it('reads one of a set of values', () => {
    assert.equal(optionalEnumQuery({ dir: 'b' }, 'dir', ['b', 'f']), 'b');
    assert.equal(optionalEnumQuery({}, 'dir', ['b', 'f']), undefined);
    rejectsWith(() => optionalEnumQuery({ dir: 'back' }, 'dir', ['b', 'f']), 'M_INVALID_PARAM');
  });

  it('reads JSON objects, refuses non-JSON with M_NOT_JSON and other JSON with M_BAD_JSON', () => {
    assert.deepEqual(optionalJsonQuery({ filter: '{"limit":5}' }, 'filter'), { limit: 5 });
    assert.equal(optionalJsonQuery({}, 'filter'), undefined);
    rejectsWith(() => optionalJsonQuery({ filter: '{' }, 'filter'), 'M_NOT_JSON');
    for (const bad of ['[1]', '"x"', 'null', '5']) rejectsWith(() => optionalJsonQuery({ filter: bad }, 'filter'), 'M_BAD_JSON');
  });
});
