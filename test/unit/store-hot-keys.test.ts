import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotKeyConfigError, HotKeyTracker } from '../../src/store/hot-keys.ts';
import type { HotKeyReport } from '../../src/store/hot-keys.ts';

test('Space-Saving finds the heavy hitters among many light keys', () => {
  const tracker = new HotKeyTracker({ capacity: 16, sampleInterval: 1 });
  for (let i = 0; i < 20_000; i++) {
    tracker.record(`light:${i}`);
    if (i % 4 === 0) tracker.record('heavy:a');
    if (i % 10 === 0) tracker.record('heavy:b');
  }
  const top = tracker.top(2);
  assert.deepEqual(top.map((h) => h.key), ['heavy:a', 'heavy:b']);
  assert.ok(top[0]!.count - top[0]!.error <= 5000 && top[0]!.count >= 5000, 'bounds bracket the true count');
});

test('reports a key once per window when its share passes the threshold, and decays', () => {
  const reports: HotKeyReport[] = [];
  const tracker = new HotKeyTracker({ capacity: 8, shareThreshold: 0.2, windowMs: 1000, minTraffic: 100, decay: 0.5, sampleInterval: 1, onHotKey: (r) => reports.push(r) });
  tracker.tick(0);
  for (let i = 0; i < 1000; i++) tracker.record(i % 3 === 0 ? 'hot' : `cold:${i}`);
  tracker.tick(10);
  tracker.tick(20);
  assert.equal(reports.length, 1, 'reported once within the window');
  assert.equal(reports[0]!.key, 'hot');
  assert.ok(reports[0]!.share >= 0.2);
  const before = tracker.traffic;
  tracker.tick(1500);
  assert.equal(tracker.traffic, before * 0.5, 'the window boundary decays counts');
  assert.equal(reports.length, 2, 'still hot in the next window: reported again');
  for (let i = 0; i < 5000; i++) tracker.record(`cold2:${i}`);
  tracker.tick(3000);
  tracker.tick(4500);
  assert.equal(reports.length, 2, 'no longer hot once traffic moved on');
});

test('sampled by default: heavy hitters are still found, with counts close to the truth', () => {
  const tracker = new HotKeyTracker({ capacity: 16 });
  for (let i = 0; i < 40_000; i++) {
    tracker.record(`light:${i}`);
    if (i % 4 === 0) tracker.record('heavy:a');
    if (i % 10 === 0) tracker.record('heavy:b');
  }
  const total = 40_000 + 10_000 + 4_000;
  assert.ok(Math.abs(tracker.traffic - total) < total * 0.05, `traffic estimate ${tracker.traffic} vs ${total}`);
  const [a, b] = tracker.top(2);
  assert.deepEqual([a!.key, b!.key], ['heavy:a', 'heavy:b']);
  assert.ok(Math.abs(a!.count - 10_000) < 1_500, `heavy:a estimated at ${a!.count}, true 10000`);
  assert.ok(Math.abs(b!.count - 4_000) < 1_000, `heavy:b estimated at ${b!.count}, true 4000`);
});

test('sampling is seeded: the same seed replays the same estimates', () => {
  const run = (seed: number): number[] => {
    const tracker = new HotKeyTracker({ capacity: 8, seed });
    for (let i = 0; i < 5_000; i++) tracker.record(i % 3 === 0 ? 'hot' : `cold:${i % 50}`);
    return tracker.top().map((h) => h.count);
  };
  assert.deepEqual(run(1), run(1));
  assert.notDeepEqual(run(1), run(2));
});

test('quiet nodes report nothing', () => {
  const reports: HotKeyReport[] = [];
  const tracker = new HotKeyTracker({ minTraffic: 1000, onHotKey: (r) => reports.push(r) });
  for (let i = 0; i < 10; i++) tracker.record('only');
  tracker.tick(0);
  assert.equal(reports.length, 0);
});

test('bad configuration is refused', () => {
  assert.throws(() => new HotKeyTracker({ capacity: 0 }), HotKeyConfigError);
  assert.throws(() => new HotKeyTracker({ shareThreshold: 2 }), HotKeyConfigError);
  assert.throws(() => new HotKeyTracker({ sampleInterval: 0 }), /sampleInterval/);
});
