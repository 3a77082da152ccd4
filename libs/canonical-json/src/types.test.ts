import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isJsonObject } from './index.js';

describe('isJsonObject', () => {
  it('accepts plain objects, including null-prototype ones and parsed ones', () => {
    assert.equal(isJsonObject({}), true);
    assert.equal(isJsonObject(Object.create(null)), true);
    assert.equal(isJsonObject(JSON.parse('{"__proto__":1}')), true);
  });

  it('refuses arrays, null, scalars and class instances', () => {
    for (const value of [[], null, undefined, 1, 'x', true, new Date(), new Map(), Buffer.from(''), Object.create({})]) {
      assert.equal(isJsonObject(value), false, String(value));
    }
  });
});
