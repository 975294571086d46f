/**
 * W-TinyLFU keeps its list links and region byte in the store's rows (PolicyRows, docs/STORE.md
 * "Issue 19, sixth pass"), and on its own arrays in the trace tool and the window tuner's
 * miniature caches. Both layouts must make the same decisions, through everything that moves or
 * reuses the store's rows: growth, the widening at the first deadline, freed slots, and a policy
 * switch that leaves the previous policy's links behind.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { CountMinSketch } from '../../src/store/count-min.ts';
import type { PolicyHost } from '../../src/store/policy.ts';
import { WTinyLfuPolicy } from '../../src/store/policy-wtinylfu.ts';
import { SlotLists } from '../../src/store/slot-lists.ts';
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

test('a W-TinyLFU on a sketch its owner feeds, with no tuner (a mini), never asks its host for a hash on insert or hit', () => {
  // The minis run the store's policy code: calls they make for nothing train V8's feedback for the store's hit path.
  const host: PolicyHost = {
    hashOf: () => {
      throw new Error('hashOf called by a policy with nothing to record');
    },
    weightOf: () => 1,
    overBudget: () => false,
    evictForSize: () => {},
  };
  const sharedSketch = new CountMinSketch({ expectedEntries: 16 });
  const policy = new WTinyLfuPolicy(host, 16, { random: SeededRandom.mulberry32(1), expectedEntries: 16, adaptation: 'static', sharedSketch });
  policy.setMaximum(16);
  policy.onInsert(5);
  policy.onAccess(5);
  policy.onUpdate(5);
  assert.equal(sharedSketch.frequency(0x1234), 0);
});

/** The slots of `list`, front to back. */
function slotsOf(lists: SlotLists, list: number): number[] {
  const out: number[] = [];
  for (let slot = lists.first(list); slot !== -1; slot = lists.after(slot)) out.push(slot);
  return out;
}

test('SlotLists.moveToBack moves within a list, across lists and from no list, in both layouts', () => {
  const words = new Int32Array(4 * 10);
  const rows = { words, bytes: new Uint8Array(words.buffer), stride: 4, linkWord: 1, policyByte: 0, reservedSlots: 2 };
  for (const lists of [new SlotLists(2, 10), new SlotLists(2, 10, () => rows)]) {
    // Slots from 2: in the rows layout, rows 0 and 1 hold the two lists' sentinels.
    const [a, b, c, d] = [2, 3, 4, 5];
    for (const slot of [a, b, c]) lists.pushBack(0, slot);
    lists.moveToBack(0, a);
    assert.deepEqual(slotsOf(lists, 0), [b, c, a], 'front to back');
    lists.moveToBack(0, c);
    assert.deepEqual(slotsOf(lists, 0), [b, a, c], 'middle to back');
    lists.moveToBack(0, c);
    assert.deepEqual(slotsOf(lists, 0), [b, a, c], 'already last');
    lists.moveToBack(1, a);
    assert.deepEqual([slotsOf(lists, 0), slotsOf(lists, 1)], [[b, c], [a]], 'to an empty list');
    lists.moveToBack(1, d);
    assert.deepEqual(slotsOf(lists, 1), [a, d], 'an unlinked slot is appended');
    lists.moveToBack(0, a);
    lists.moveToBack(0, d);
    assert.deepEqual([slotsOf(lists, 0), slotsOf(lists, 1)], [[b, c, a, d], []], 'a list emptied');
    assert.equal(lists.last(0), d);
  }
});
