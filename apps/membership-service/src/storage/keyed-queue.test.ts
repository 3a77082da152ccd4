import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedQueue } from './keyed-queue.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('KeyedQueue', () => {
  it('runs tasks of one key one at a time, in arrival order', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const task = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      await tick();
      log.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([queue.run('a', task('1')), queue.run('a', task('2')), queue.run('a', task('3'))]);
    assert.deepEqual(results, ['1', '2', '3']);
    assert.deepEqual(log, ['1 start', '1 end', '2 start', '2 end', '3 start', '3 end']);
  });

  it('runs tasks of different keys concurrently', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    let releaseA!: () => void;
    const a = queue.run('a', async () => {
      log.push('a start');
      await new Promise<void>((resolve) => {
        releaseA = resolve;
      });
      log.push('a end');
    });
    await queue.run('b', async () => {
      log.push('b ran');
    });
    assert.deepEqual(log, ['a start', 'b ran']);
    releaseA();
    await a;
  });

  it('keeps going after a task fails, and passes the failure to its caller only', async () => {
    const queue = new KeyedQueue();
    const failing = queue.run('a', async () => {
      throw new Error('boom');
    });
    const next = queue.run('a', async () => 'next');
    await assert.rejects(failing, /boom/);
    assert.equal(await next, 'next');
  });

  it('forgets a key once its work is done', async () => {
    const queue = new KeyedQueue();
    await Promise.all([queue.run('a', async () => 1), queue.run('b', async () => 2)]);
    await tick();
    assert.equal(queue.activeKeys, 0);
  });
});
