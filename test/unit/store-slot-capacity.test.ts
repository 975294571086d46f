/**
 * The tables the store sizes by slot (rows, the partition lists' links, the policy's and the timer
 * wheel's) cost 32 bytes or more per slot, so their slack after a growth is memory per entry: grown
 * by doubling, a store just past a power of two held twice the slots it needed, up to 32 bytes an
 * entry more than redis-server's (docs/STORE.md, "Memory at several sizes"). They grow by an eighth.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../../src/store/store.ts';

const clock = { wallMs: () => 1_000, monoMs: () => 0 };
/** Slots 0-2 hold the policy's list sentinels (RESERVED_SLOTS in store.ts). */
const RESERVED = 3;

/** Fills `store` with `n` entries, checking each growth of the slot capacity; returns how many growths. */
function fillWatchingCapacity(store: Store, n: number, expiresAtMs?: number): number {
  let capacity = store.slotCapacity;
  let growths = 0;
  for (let i = 0; i < n; i++) {
    store.set(`key:${i}`, new Uint8Array([i & 0xff]), { partition: i % 7, ...(expiresAtMs === undefined ? {} : { expiresAtMs }) });
    if (store.slotCapacity === capacity) continue;
    assert.ok(store.slotCapacity <= Math.ceil(capacity * 1.125), `grew from ${capacity} to ${store.slotCapacity} at ${store.size} entries`);
    assert.ok(store.slotCapacity >= store.size + RESERVED);
    capacity = store.slotCapacity;
    growths++;
  }
  return growths;
}

test('the slot capacity grows by an eighth at a time, and the store keeps every entry through it', () => {
  const store = new Store({ maxEntries: 1_000_000, clock, seed: 5 });
  const growths = fillWatchingCapacity(store, 5000);
  assert.ok(growths >= 10, `${growths} growths`);
  for (let i = 0; i < 5000; i++) assert.deepEqual(store.get(`key:${i}`), new Uint8Array([i & 0xff]), `key:${i}`);
  assert.equal(store.partitionKeys(3).length, Math.floor(5000 / 7));
});

test('wide rows (entries with deadlines) grow by an eighth too and keep their deadlines', () => {
  const store = new Store({ maxMemory: 64 << 20, clock, seed: 5 });
  fillWatchingCapacity(store, 3000, 60_000);
  for (let i = 0; i < 3000; i += 97) assert.equal(store.expiresAt(`key:${i}`), 60_000, `key:${i}`);
  assert.equal(store.recountBytes(), store.usedBytes);
});
