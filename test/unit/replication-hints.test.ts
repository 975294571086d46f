import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HintStore } from '../../src/replication/hints.ts';
import { makeRecord } from '../../src/replication/partition-replica.ts';

const v = (wallMs: number) => ({ wallMs, logical: 0, node: 1 });
const rec = (wallMs: number, bytes = 10) => makeRecord(v(wallMs), new Uint8Array(bytes), 0);

test('the hint store drops the oldest hint to stay within its count, and counts the drop', () => {
  const hints = new HintStore(3, 1 << 20, 1000);
  for (let i = 0; i < 5; i++) hints.add('n2', 0, `k${i}`, rec(i + 1), 0);
  assert.equal(hints.count, 3);
  assert.equal(hints.stats.droppedForRoom, 2);
  assert.deepEqual(hints.due('n2', 0, 100, 10).due.map((h) => h.key), ['k2', 'k3', 'k4']);
});

test('the hint store stays within its byte bound', () => {
  const hints = new HintStore(1000, 400, 1000);
  for (let i = 0; i < 20; i++) hints.add('n2', 0, `k${i}`, rec(i + 1, 50), 0);
  assert.ok(hints.bytes <= 400, `holds ${hints.bytes} bytes`);
  assert.ok(hints.stats.droppedForRoom > 0);
});

test('a newer hint for the same target and key replaces the older; an older one is ignored', () => {
  const hints = new HintStore(10, 1 << 20, 1000);
  hints.add('n2', 0, 'k', rec(5), 0);
  hints.add('n2', 0, 'k', rec(3), 0);
  hints.add('n2', 0, 'k', rec(8), 0);
  assert.equal(hints.count, 1);
  assert.equal(hints.stats.superseded, 1);
});

test('hints expire after the window, and acknowledged hints are forgotten', () => {
  const hints = new HintStore(10, 1 << 20, 1000);
  hints.add('n2', 0, 'a', rec(1), 0);
  hints.add('n3', 0, 'b', rec(1), 600);
  hints.expire(1000);
  assert.equal(hints.count, 1);
  assert.equal(hints.stats.expired, 1);
  const [hint] = hints.due('n3', 1000, 100, 10).due;
  hints.delivered(hint!.id);
  assert.equal(hints.count, 0);
  assert.equal(hints.stats.delivered, 1);
});

test('delivery is throttled: hints in flight count against the per-target limit until the resend time', () => {
  const hints = new HintStore(100, 1 << 20, 10_000);
  for (let i = 0; i < 10; i++) hints.add('n2', 0, `k${i}`, rec(1), 0);
  const first = hints.due('n2', 0, 500, 4).due;
  for (const h of first) h.sentAtMs = 0;
  assert.equal(first.length, 4);
  assert.equal(hints.due('n2', 100, 500, 4).due.length, 0);
  assert.equal(hints.due('n2', 600, 500, 4).due.length, 4);
});

test('each target sees only its own hints, and a target with none left is no longer listed', () => {
  const hints = new HintStore(100, 1 << 20, 10_000);
  hints.add('n2', 0, 'a', rec(1), 0);
  hints.add('n3', 0, 'b', rec(1), 0);
  hints.add('n2', 0, 'c', rec(1), 0);
  assert.deepEqual(hints.targets(), ['n2', 'n3']);
  assert.deepEqual(hints.due('n2', 0, 500, 10).due.map((h) => h.key), ['a', 'c']);
  const [b] = hints.due('n3', 0, 500, 10).due;
  hints.delivered(b!.id);
  assert.deepEqual(hints.targets(), ['n2']);
  assert.deepEqual(hints.due('n3', 0, 500, 10).due, []);
});

test('the hints for a target that left are taken back whole, and counted per target until then', () => {
  const hints = new HintStore(100, 1 << 20, 10_000);
  hints.add('n2', 0, 'a', rec(1), 0);
  hints.add('n3', 1, 'b', rec(1), 0, true);
  hints.add('n3', 2, 'c', rec(1), 0);
  assert.deepEqual([...hints.countsByTarget()], [['n2', 1], ['n3', 2]]);
  const taken = hints.take('n3');
  assert.deepEqual(taken.map((h) => [h.key, h.fallback]), [['b', true], ['c', false]]);
  assert.equal(hints.count, 1);
  assert.equal(hints.bytes > 0, true);
  assert.deepEqual(hints.targets(), ['n2']);
  assert.deepEqual(hints.take('n3'), []);
  hints.add('n2', 3, 'd', rec(1), 0, true);
  assert.deepEqual(hints.take('n2', true).map((h) => h.key), ['a'], 'ordinary hints only: the stand-in\'s stays');
  assert.deepEqual(hints.targets(), ['n2']);
  // Not delivered: the caller counts what it did with them.
  assert.equal(hints.stats.delivered, 0);
  hints.add('n3', 2, 'c', rec(1), 0);
  assert.equal(hints.count, 2, 'a taken key can be hinted again');
});

test('the hint store counts the stand-in hints it holds, through delivery, replacement, room and take', () => {
  const hints = new HintStore(3, 1 << 20, 10_000);
  hints.add('n2', 0, 'a', rec(1), 0, true);
  hints.add('n2', 0, 'b', rec(1), 0);
  hints.add('n3', 0, 'c', rec(1), 0, true);
  assert.equal(hints.standInCount, 2);
  hints.add('n2', 0, 'a', rec(2), 0); // a newer ordinary hint replaces the stand-in's
  assert.equal(hints.standInCount, 1);
  hints.add('n4', 0, 'd', rec(1), 0, true); // over the count: the oldest (b) goes
  assert.equal(hints.standInCount, 2);
  hints.delivered(hints.due('n3', 0, 500, 10).due[0]!.id);
  assert.equal(hints.standInCount, 1);
  hints.take('n4');
  assert.equal(hints.standInCount, 0);
});
