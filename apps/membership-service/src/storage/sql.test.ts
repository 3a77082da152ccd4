import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOCK_NAMESPACE, lockKey } from './lock-keys.js';
import { chunks, placeholders, toAnonymousPlaceholders, toBool } from './sql.js';
import { applyChange } from './state-groups.js';
import { serverNameOfUser } from './rows.js';
import { StorageError } from './errors.js';

describe('SQL helpers', () => {
  it('rewrite numbered placeholders for SQLite, repeating reused parameters', () => {
    assert.deepEqual(toAnonymousPlaceholders('SELECT $2, $1 WHERE a = $1 AND b = $10'), {
      sql: 'SELECT ?, ? WHERE a = ? AND b = ?',
      order: [1, 0, 0, 9],
    });
  });

  it('number placeholders after an offset and split long lists', () => {
    assert.equal(placeholders(3, 2), '$3, $4, $5');
    assert.equal(placeholders(0, 0), '');
    assert.deepEqual(chunks([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(chunks([], 2), []);
  });

  it('read booleans as both engines return them', () => {
    assert.deepEqual([true, 1, 't', false, 0, null].map(toBool), [true, true, true, false, false, false]);
  });
});

describe('advisory lock keys', () => {
  it('are signed 32-bit integers, stable, and differ by schema and object', () => {
    const key = lockKey('schema_a', '!room:hs');
    assert.ok(Number.isInteger(key) && key >= -(2 ** 31) && key < 2 ** 31);
    assert.equal(lockKey('schema_a', '!room:hs'), key);
    assert.notEqual(lockKey('schema_b', '!room:hs'), key);
    assert.notEqual(lockKey('schema_a', '!other:hs'), key);
    assert.equal(new Set(Object.values(LOCK_NAMESPACE)).size, 4);
  });
});

describe('state changes', () => {
  it('apply sets and removals to a base snapshot, sorted by type then state key', () => {
    const base = [
      { type: 'm.room.member', stateKey: '@b:hs', eventId: '$b1' },
      { type: 'm.room.create', stateKey: '', eventId: '$c' },
    ];
    const result = applyChange(
      base,
      [
        { type: 'm.room.member', stateKey: '@a:hs', eventId: '$a1' },
        { type: 'm.room.member', stateKey: '@b:hs', eventId: '$b2' },
      ],
      [{ type: 'm.room.create', stateKey: '' }],
    );
    assert.deepEqual(result, [
      { type: 'm.room.member', stateKey: '@a:hs', eventId: '$a1' },
      { type: 'm.room.member', stateKey: '@b:hs', eventId: '$b2' },
    ]);
  });
});

describe('server names of user IDs', () => {
  it('are everything after the first colon', () => {
    assert.equal(serverNameOfUser('@a:hs.test'), 'hs.test');
    assert.equal(serverNameOfUser('@a:[::1]:8448'), '[::1]:8448');
    for (const bad of ['nocolon', ':hs', '@a:']) {
      assert.throws(() => serverNameOfUser(bad), StorageError);
    }
  });
});
