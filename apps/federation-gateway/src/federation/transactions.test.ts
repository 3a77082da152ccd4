import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TransactionReplayCache, mayEndLocalMembership, pdusWithNonCanonicalNumbers } from './transactions.js';
import type { TransactionResponse } from './transactions.js';

describe('transaction replay cache', () => {
  it('answers a repeated (origin, txnId) with the first answer without running again; other origins run', async () => {
    const cache = new TransactionReplayCache();
    let runs = 0;
    const run = async (): Promise<TransactionResponse> => ({ pdus: { [`$${++runs}`]: {} } });
    const first = await cache.answer('a.test', 't1', run);
    assert.deepEqual(await cache.answer('a.test', 't1', run), first);
    assert.equal(runs, 1);
    assert.notDeepEqual(await cache.answer('b.test', 't1', run), first);
    assert.equal(runs, 2);
  });

  it('shares a transaction in flight and forgets one that failed', async () => {
    const cache = new TransactionReplayCache();
    let release: (value: TransactionResponse) => void = () => undefined;
    const pending = new Promise<TransactionResponse>((resolve) => (release = resolve));
    let runs = 0;
    const a = cache.answer('a.test', 't', () => (runs++, pending));
    const b = cache.answer('a.test', 't', () => (runs++, pending));
    release({ pdus: {} });
    assert.equal(await a, await b);
    assert.equal(runs, 1);
    await assert.rejects(cache.answer('a.test', 'bad', () => Promise.reject(new Error('boom'))));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await cache.answer('a.test', 'bad', async () => ({ pdus: { $ok: {} } })), { pdus: { $ok: {} } });
  });

  it('forgets the oldest transactions beyond its size', async () => {
    const cache = new TransactionReplayCache(2);
    let runs = 0;
    const run = async (): Promise<TransactionResponse> => (runs++, { pdus: {} });
    await cache.answer('a', '1', run);
    await cache.answer('a', '2', run);
    await cache.answer('a', '3', run);
    await cache.answer('a', '3', run);
    assert.equal(runs, 3);
    await cache.answer('a', '1', run);
    assert.equal(runs, 4);
  });
});

describe('PDUs with non-canonical numbers', () => {
  it('finds every PDU whose text has a fraction, exponent, -0 or out-of-range integer', () => {
    const text = '{"origin":"x","pdus":[{"a":1},{"a":1.0},{"b":[2,3e2]},{"c":-0},{"d":9007199254740992},{"e":"1.0"}],"edus":[{"x":1.5}]}';
    assert.deepEqual([...pdusWithNonCanonicalNumbers(text)].sort(), [1, 2, 3, 4]);
    assert.deepEqual([...pdusWithNonCanonicalNumbers('{"pdus":[{"a":1}]}')], []);
  });

  it('finds them all in one pass over the body, however many there are', () => {
    const text = `{"pdus":[${Array.from({ length: 50 }, () => `{"a":[${Array.from({ length: 200 }, () => '1.0').join(',')}]}`).join(',')}]}`;
    assert.equal(pdusWithNonCanonicalNumbers(text).size, 50);
  });

  it('still finds a later PDU behind many non-canonical numbers in an earlier PDU or in the EDUs', () => {
    const floats = (n: number): string => Array.from({ length: n }, () => '1.5').join(',');
    // A sender cannot hide a float in PDU 1 by putting enough of them first.
    const afterPdu = `{"pdus":[{"junk":[${floats(150)}]},{"n":1.0}]}`;
    assert.deepEqual([...pdusWithNonCanonicalNumbers(afterPdu)].sort(), [0, 1]);
    // Synapse sends its body in canonical key order: "edus" before "pdus", and EDUs may hold floats.
    const afterEdus = `{"edus":[{"content":{"f":[${floats(150)}]}}],"origin":"x","pdus":[{"n":1},{"n":2e3}]}`;
    assert.deepEqual([...pdusWithNonCanonicalNumbers(afterEdus)], [1]);
  });
});

describe('PDUs of a room we are not in', () => {
  const member = (stateKey: unknown, membership: unknown) => ({ type: 'm.room.member', state_key: stateKey, content: { membership } }) as never;
  it('only a leave or ban of one of our users may matter', () => {
    assert.equal(mayEndLocalMembership(member('@carol:us.test', 'leave'), 'us.test'), true);
    assert.equal(mayEndLocalMembership(member('@carol:us.test', 'ban'), 'us.test'), true);
    assert.equal(mayEndLocalMembership(member('@carol:us.test', 'join'), 'us.test'), false);
    assert.equal(mayEndLocalMembership(member('@carol:us.test', 'invite'), 'us.test'), false);
    assert.equal(mayEndLocalMembership(member('@dave:them.test', 'leave'), 'us.test'), false);
    assert.equal(mayEndLocalMembership(member(7, 'leave'), 'us.test'), false);
    assert.equal(mayEndLocalMembership({ type: 'm.room.member', state_key: '@carol:us.test', content: 'leave' }, 'us.test'), false);
    assert.equal(mayEndLocalMembership({ type: 'm.room.message', state_key: '@carol:us.test', content: { membership: 'leave' } }, 'us.test'), false);
  });
});
