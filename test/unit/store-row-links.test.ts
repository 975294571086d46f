/**
 * W-TinyLFU keeps its list links and region byte in the store's rows (PolicyRows, docs/research/store-speed.md
 * "Issue 19, sixth pass"), and on its own arrays in the trace tool and the window tuner's
 * miniature caches. Both layouts must make the same decisions, through everything that moves or
 * reuses the store's rows: growth, the widening at the first deadline, freed slots, and a policy
 * switch that leaves the previous policy's links behind.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../../src/store/store.ts';
import { keyHashes, policyHits } from '../../src/store/trace/policy-sim.ts';
import { TurnedAway } from '../../src/store/turned-away.ts';

const clock = { wallMs: () => 0, monoMs: () => 0 };
const value = new Uint8Array(0);

/** A skewed request stream (a few hot ids, a long tail, and a scan in the middle), deterministic. */
function requests(n: number, uniqueKeys: number): Int32Array {
  const out = new Int32Array(n);
  let x = 0x2545f491;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const r = (x >>> 0) / 2 ** 32;
    if (i > n / 3 && i < n / 3 + uniqueKeys / 2) out[i] = uniqueKeys - 1 - (i % (uniqueKeys / 2));
    else out[i] = Math.floor(uniqueKeys * r * r * r);
  }
  return out;
}

/** Hits of a store holding `capacity` entries on `ids`; from request `widenAt` on, writes carry a deadline (which never passes). */
function storeHits(store: Store, ids: Int32Array, widenAt: number): number {
  let hits = 0;
  for (let i = 0; i < ids.length; i++) {
    const key = String(ids[i]!);
    if (store.getView(key) !== undefined) hits++;
    else store.set(key, value, { partition: 0, ...(i >= widenAt ? { expiresAtMs: 1e15 } : {}) });
  }
  return hits;
}

test('W-TinyLFU in the store rows decides as on its own arrays, through growth, widening and slot reuse', () => {
  const uniqueKeys = 20_000;
  const ids = requests(60_000, uniqueKeys);
  const hashes = keyHashes(uniqueKeys);
  for (const capacity of [100, 3000]) {
    const expected = policyHits(ids, capacity, hashes, 'wtinylfu');
    for (const widenAt of [0, ids.length / 2, ids.length]) {
      const store = new Store({ maxEntries: capacity, clock, hotKeys: false, analytics: false });
      assert.equal(storeHits(store, ids, widenAt), expected, `capacity ${capacity}, deadlines from request ${widenAt}`);
      assert.equal(store.size, capacity);
    }
  }
});

test('W-TinyLFU in the store rows decides as on its own arrays through the cold fill and its unread keys', () => {
  // Keys seen once until 2,000 requests in, then a sweep back down (zigzag) or the same keys again
  // (scan): the fill admits every candidate, and the unread keys it kept leave probation's front
  // by reads, evictions and (zigzag) the window's growth (policy-wtinylfu.ts, `fillEnd`).
  const capacity = 500;
  const keys = 2000;
  const zigzag = Int32Array.from({ length: 4 * keys }, (_, i) => (Math.floor(i / keys) % 2 === 0 ? i % keys : keys - 1 - (i % keys)));
  const scan = Int32Array.from({ length: 4 * keys }, (_, i) => i % keys);
  const hashes = keyHashes(keys);
  for (const ids of [zigzag, scan]) {
    const store = new Store({ maxEntries: capacity, clock, hotKeys: false, analytics: false });
    assert.equal(storeHits(store, ids, ids.length), policyHits(ids, capacity, hashes, 'wtinylfu'));
  }
});

test('W-TinyLFU over rows another W-TinyLFU linked (setPolicy there and back) starts clean and evicts in order', () => {
  const capacity = 1500;
  const ids = requests(30_000, 10_000);
  const store = new Store({ maxEntries: capacity, clock, hotKeys: false, analytics: false });
  storeHits(store, ids.subarray(0, 10_000), 5000);
  store.setPolicy('lru');
  storeHits(store, ids.subarray(10_000, 20_000), 0);
  store.setPolicy('wtinylfu');
  // Every held entry was handed to the new policy; it evicts exactly down to the bound from then on.
  assert.equal(store.stats().entries, capacity);
  const before = store.stats().evictions.size;
  const hits = storeHits(store, ids.subarray(20_000), 0);
  const misses = 10_000 - hits;
  assert.equal(store.size, capacity);
  assert.equal(store.stats().evictions.size - before, misses);
  // The window holds its share and the protected segment at most its cap: the regions' weights were rebuilt from the inserts.
  const details = store.stats().policyDetails;
  assert.ok(details.windowWeight! <= details.windowMaxWeight! && details.protectedWeight! <= 0.8 * capacity, JSON.stringify(details));
});

test('the store hands policies int32 hashes: the turned-away table matches a hash whatever its sign', () => {
  const hash = 0xdeadbeef;
  const turnedAway = new TurnedAway(1000);
  turnedAway.facing(5, 42);
  turnedAway.turnAway(hash, 3);
  // Same victim, same tenure: the candidate came back first, given as a uint32 or as an int32.
  assert.equal(turnedAway.cameBackFirst(hash | 0, 0, 3), true);
  assert.equal(turnedAway.cameBackFirst(hash, 0, 3), true);
  assert.equal(turnedAway.cameBackFirst((hash + 1) | 0, 0, 3), false);
});
