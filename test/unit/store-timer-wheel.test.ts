import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_DEADLINE, TimerWheel } from '../../src/store/timer-wheel.ts';

function drainDue(wheel: TimerWheel): number[] {
  const out: number[] = [];
  for (let slot = wheel.peekDue(); slot !== -1; slot = wheel.peekDue()) {
    out.push(slot);
    wheel.cancel(slot);
  }
  return out.sort((a, b) => a - b);
}

const START = 1_700_000_000_000;
/** Level-0 bucket width: an entry may become due up to this long after its deadline. */
const SLACK = 1024;

test('entries become due after their deadline, never before, across every level', () => {
  const wheel = new TimerWheel(START, 64);
  // Deadlines from 10 ms to ~300 days: levels 0-3 and the overflow list.
  const offsets = [10, 900, 5_000, 70_000, 4_000_000, 300_000_000, 5_000_000_000, 26_000_000_000];
  offsets.forEach((off, slot) => wheel.schedule(slot, START + off));
  assert.equal(wheel.size, offsets.length);
  let now = START;
  const dueAt = new Map<number, number>();
  // Advance in irregular steps up to past the last deadline.
  const steps = [5, 500, 3_000, 60_000, 3_000_000, 250_000_000, 4_000_000_000, 17_000_000_000, 6_000_000_000];
  for (const step of steps) {
    now += step;
    wheel.advance(now);
    for (const slot of drainDue(wheel)) dueAt.set(slot, now);
  }
  offsets.forEach((off, slot) => {
    const at = dueAt.get(slot);
    assert.ok(at !== undefined, `slot ${slot} (deadline +${off}) never became due`);
    assert.ok(at >= START + off, `slot ${slot} became due early`);
  });
  assert.equal(wheel.size, 0);
});

test('fine-grained advance: each entry is due within one level-0 bucket of its deadline', () => {
  const wheel = new TimerWheel(START, 2000);
  const deadlines: number[] = [];
  for (let slot = 0; slot < 2000; slot++) {
    const d = START + 1 + ((slot * 7919) % 200_000);
    deadlines.push(d);
    wheel.schedule(slot, d);
  }
  for (let now = START; now <= START + 202_000; now += 250) {
    wheel.advance(now);
    for (const slot of drainDue(wheel)) {
      assert.ok(now >= deadlines[slot]!, 'not early');
      assert.ok(now - deadlines[slot]! <= SLACK + 250, `slot ${slot} late by ${now - deadlines[slot]!} ms`);
    }
  }
  assert.equal(wheel.size, 0);
});

test('cancel and reschedule', () => {
  const wheel = new TimerWheel(START, 4);
  wheel.schedule(0, START + 100);
  wheel.schedule(1, START + 100);
  wheel.cancel(0);
  assert.equal(wheel.deadline(0), NO_DEADLINE);
  wheel.schedule(1, START + 100_000);
  wheel.advance(START + 5_000);
  assert.deepEqual(drainDue(wheel), []);
  wheel.advance(START + 102_000);
  assert.deepEqual(drainDue(wheel), [1]);
});

test('a deadline already passed is due immediately', () => {
  const wheel = new TimerWheel(START, 2);
  wheel.schedule(0, START - 5);
  assert.equal(wheel.peekDue(), 0);
});
