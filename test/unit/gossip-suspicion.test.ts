import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Awareness } from '../../src/gossip/awareness.ts';
import { LAN_PROFILE } from '../../src/gossip/config.ts';
import { Suspicion, Suspicions, suspicionBounds, suspicionTimeoutMs } from '../../src/gossip/suspicion.ts';
import type { Timers } from '../../src/runtime/env.ts';

test('suspicion bounds grow with log10(n) and Lifeguard widens the maximum', () => {
  const small = suspicionBounds(LAN_PROFILE, 10);
  assert.equal(small.minMs, 4 * 1 * 1000);
  assert.equal(small.maxMs, 6 * small.minMs);
  assert.equal(small.confirmationsWanted, 2);
  const large = suspicionBounds(LAN_PROFILE, 1000);
  assert.equal(large.minMs, 4 * 3 * 1000);
  // Tiny clusters never wait below one log unit, and want no confirmations nobody could give.
  assert.equal(suspicionBounds(LAN_PROFILE, 2).minMs, 4000);
  assert.equal(suspicionBounds(LAN_PROFILE, 3).confirmationsWanted, 0);
  const plain = suspicionBounds({ ...LAN_PROFILE, lifeguard: false }, 100);
  assert.equal(plain.maxMs, plain.minMs);
  assert.equal(plain.confirmationsWanted, 0);
});

test('the suspicion timeout shrinks from max to min as confirmations arrive', () => {
  const b = { minMs: 8000, maxMs: 48000, confirmationsWanted: 2 };
  assert.equal(suspicionTimeoutMs(0, b), 48000);
  const one = suspicionTimeoutMs(1, b);
  assert.ok(one < 48000 && one > 8000, `one confirmation: ${one}`);
  assert.equal(one, Math.floor(48000 - (Math.log(2) / Math.log(3)) * 40000));
  assert.equal(suspicionTimeoutMs(2, b), 8000);
  assert.equal(suspicionTimeoutMs(5, b), 8000);
  assert.equal(suspicionTimeoutMs(0, { ...b, confirmationsWanted: 0 }), 8000);
});

class FakeTimers implements Timers {
  now = 0;
  private next = 1;
  readonly pending = new Map<number, { at: number; fn: () => void }>();
  setTimer(delayMs: number, fn: () => void): number {
    const id = this.next++;
    this.pending.set(id, { at: this.now + delayMs, fn });
    return id;
  }
  cancelTimer(id: number): void {
    this.pending.delete(id);
  }
  advance(to: number): void {
    for (;;) {
      const due = [...this.pending].filter(([, t]) => t.at <= to).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = to;
  }
}

test('a Suspicion counts each accuser once, ignores the first, and fires earlier with confirmations', () => {
  const timers = new FakeTimers();
  let firedAt = -1;
  const s = new Suspicion(timers, () => timers.now, 3, 'a', { minMs: 8000, maxMs: 48000, confirmationsWanted: 2 }, () => (firedAt = timers.now));
  timers.advance(1000);
  assert.equal(s.confirm('a'), false, 'the first accuser is no confirmation');
  assert.equal(s.confirm('b'), true);
  assert.equal(s.confirm('b'), false, 'duplicates do not count');
  assert.equal(s.confirm('c'), true);
  assert.equal(s.confirm('d'), false, 'no news once at the minimum');
  timers.advance(100_000);
  assert.equal(firedAt, 8000, 'fires min after the start, not after the last confirmation');
});

test('a cancelled Suspicion never fires', () => {
  const timers = new FakeTimers();
  let fired = false;
  const s = new Suspicion(timers, () => timers.now, 0, 'a', { minMs: 10, maxMs: 10, confirmationsWanted: 0 }, () => (fired = true));
  s.cancel();
  timers.advance(1000);
  assert.equal(fired, false);
});

test('Suspicions keeps one timer per suspect: the same incarnation keeps it, a newer one replaces it', () => {
  const timers = new FakeTimers();
  const expired: string[] = [];
  const config = { ...LAN_PROFILE, lifeguard: false }; // timeout = min = 4 s for 10 members
  const s = new Suspicions(timers, () => timers.now, config, (name, incarnation) => expired.push(`${name}@${incarnation}`));
  assert.equal(s.start('x', 1, 'a', 10), true);
  timers.advance(3000);
  assert.equal(s.start('x', 1, 'b', 10), false, 'already suspected at this incarnation: its timer runs on');
  assert.equal(s.start('y', 0, 'a', 10), true);
  timers.advance(4000);
  assert.deepEqual(expired, ['x@1'], 'x expired 4 s after its first suspicion');
  assert.equal(s.start('y', 2, 'a', 10), true, 'a newer incarnation restarts the timer');
  timers.advance(7999);
  assert.deepEqual(expired, ['x@1']);
  timers.advance(8000);
  assert.deepEqual(expired, ['x@1', 'y@2'], 'only the newer suspicion of y fired');
});

test('Suspicions: confirmation needs a pending suspicion; cancel and stop silence the timers', () => {
  const timers = new FakeTimers();
  const expired: string[] = [];
  const s = new Suspicions(timers, () => timers.now, LAN_PROFILE, (name) => expired.push(name));
  assert.equal(s.confirm('x', 'b'), false, 'nothing to confirm');
  s.start('x', 0, 'a', 10);
  assert.equal(s.confirm('x', 'b'), true);
  s.start('y', 0, 'a', 10);
  s.cancel('x');
  assert.equal(s.confirm('x', 'c'), false, 'cancelled');
  s.stop();
  timers.advance(1_000_000);
  assert.deepEqual(expired, []);
});

test('awareness stretches timeouts up to the max multiplier and can be switched off', () => {
  const a = new Awareness(8, true);
  assert.equal(a.scale(500), 500);
  a.apply(3);
  assert.equal(a.scale(500), 2000);
  a.apply(100);
  assert.equal(a.score, 7);
  assert.equal(a.scale(1000), 8000);
  a.apply(-100);
  assert.equal(a.score, 0);
  const off = new Awareness(8, false);
  off.apply(5);
  assert.equal(off.scale(1000), 1000);
});
