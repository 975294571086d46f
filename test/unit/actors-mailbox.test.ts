import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedQueue } from '../../src/actors/index.ts';

test('a bounded queue is FIFO and refuses pushes at capacity', () => {
  const q = new BoundedQueue<number>(3);
  assert.deepEqual([q.push(1), q.push(2), q.push(3), q.push(4)], [true, true, true, false]);
  assert.equal(q.size, 3);
  assert.equal(q.shift(), 1);
  assert.equal(q.push(5), true);
  assert.deepEqual([q.shift(), q.shift(), q.shift(), q.shift()], [2, 3, 5, undefined]);
});

test('force bypasses the bound and the high-water mark records the deepest point', () => {
  const q = new BoundedQueue<string>(1);
  q.push('a');
  assert.equal(q.push('b'), false);
  assert.equal(q.push('reply', true), true);
  assert.equal(q.highWater, 2);
  assert.deepEqual(q.drain(), ['a', 'reply']);
  assert.equal(q.size, 0);
  assert.equal(q.highWater, 2);
});

test('order survives the internal compaction of long-running queues', () => {
  const q = new BoundedQueue<number>(1000);
  const out: number[] = [];
  let next = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 7; i++) q.push(next++);
    for (let i = 0; i < 5; i++) out.push(q.shift()!);
  }
  out.push(...q.drain());
  assert.deepEqual(out, Array.from({ length: next }, (_, i) => i));
});

test('a queue needs a capacity of at least one', () => {
  assert.throws(() => new BoundedQueue(0), RangeError);
});
