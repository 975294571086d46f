import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs';
import { RealTimers, realClock } from '../../src/runtime/real.ts';

test('a zero delay runs after the current turn but before a 1 ms timeout; cancel and cancelAll stop timers', async () => {
  const timers = new RealTimers();
  const order: string[] = [];
  // From an I/O callback, Node's loop reaches immediates before timers: the order below is fixed.
  await new Promise((resolve) => stat('.', resolve));
  // setTimeout(0) is clamped to 1 ms by Node; a zero-delay timer must not wait for that.
  setTimeout(() => order.push('node timeout'), 1);
  timers.setTimer(0, () => order.push('zero'));
  const cancelled = timers.setTimer(0, () => order.push('cancelled zero'));
  const cancelledLater = timers.setTimer(5, () => order.push('cancelled later'));
  timers.setTimer(2, () => order.push('later'));
  timers.cancelTimer(cancelled);
  timers.cancelTimer(cancelledLater);
  order.push('same turn');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(order, ['same turn', 'zero', 'node timeout', 'later']);
  assert.equal(timers.pendingCount, 0);

  timers.setTimer(0, () => order.push('never'));
  timers.setTimer(1, () => order.push('never either'));
  assert.equal(timers.pendingCount, 2);
  timers.cancelAll();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(timers.pendingCount, 0);
  assert.equal(order.length, 4);
});

test('realClock.wallUs: integer microseconds inside Date.now()\'s millisecond, never going back', () => {
  let last = 0;
  const fractions = new Set<number>();
  for (let i = 0; i < 5_000; i++) {
    const before = Date.now();
    const us = realClock.wallUs!();
    const after = Date.now();
    assert.ok(Number.isInteger(us), `${us} is an integer`);
    assert.ok(us >= before * 1000 && us <= after * 1000 + 999, `${us} µs inside [${before}, ${after}] ms`);
    assert.ok(us >= last, `${us} after ${last}`);
    last = us;
    fractions.add(us % 1000);
  }
  assert.ok(fractions.size > 1, 'the microseconds are not all a whole millisecond');
});
