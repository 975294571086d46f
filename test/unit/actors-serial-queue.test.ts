// The serial queue (src/actors/serial-queue.ts): asynchronous operations one at a time, bounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialQueue } from '../../src/actors/index.ts';

/** Starts each operation at once, with a shared context. */
function queue(capacity: number, context: { value: number }) {
  return new SerialQueue<{ value: number }>(capacity, (op, done) => {
    op.run(context, done);
    return true;
  });
}

test('an operation starts only after the one before called done', () => {
  const ctx = { value: 0 };
  const q = queue(4, ctx);
  const finish: (() => void)[] = [];
  // Read, then write later (as a replicated write would): interleaved, one increment would be lost.
  const incr = () =>
    q.offer((c, done) => {
      const read = c.value;
      finish.push(() => {
        c.value = read + 1;
        done();
      });
    });
  assert.equal(incr(), true);
  assert.equal(incr(), true);
  assert.equal(incr(), true);
  assert.equal(finish.length, 1, 'only the first runs');
  assert.equal(q.size, 2);
  while (finish.length > 0) finish.shift()!();
  assert.equal(ctx.value, 3);
  assert.equal(q.busy, false);
});

test('a full queue refuses, and stopping drops the waiting operations', () => {
  const q = queue(1, { value: 0 });
  const dropped: number[] = [];
  assert.equal(q.offer(() => {}), true, 'runs, never finishes');
  assert.equal(q.offer(() => {}, () => dropped.push(1)), true);
  assert.equal(q.offer(() => {}, () => dropped.push(2)), false, 'one waits already');
  q.stop();
  assert.deepEqual(dropped, [1]);
  assert.equal(q.offer(() => {}), false);
});

test('done twice is a bug and says so', () => {
  const q = queue(1, { value: 0 });
  q.offer((_c, done) => {
    done();
    assert.throws(() => done(), /twice/);
  });
});
