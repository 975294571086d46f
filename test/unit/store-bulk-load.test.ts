/**
 * Issue 19: after a write-only bulk load of 5x the budget, the default policy keeps the newest keys
 * (as LRU does), so reading recent keys back hits; TinyLFU's admission alone would keep the oldest.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../../src/store/store.ts';

const clock = { wallMs: () => 0, monoMs: () => 0 };
const value = new Uint8Array(10);

test('a write-only load of 5x the budget keeps the newest keys under the default policy, as under LRU', () => {
  for (const policy of ['wtinylfu', 'lru'] as const) {
    const store = new Store({ maxEntries: 2000, policy, clock, hotKeys: false, analytics: false });
    for (let i = 0; i < 10_000; i++) store.set(`k${i}`, value, { partition: 0 });
    let hits = 0;
    for (let i = 9000; i < 10_000; i++) if (store.getView(`k${i}`) !== undefined) hits++;
    assert.ok(hits >= 950, `${policy}: ${hits} of the newest 1000 keys read back`);
  }
});
