/**
 * Store.setMaxMemory: a running store's budget changed (RESP CONFIG SET maxmemory). A smaller
 * budget evicts down to it at once by the policy in force (noeviction deletes nothing and refuses
 * writes instead); a larger one lets more in; the store's other budget-derived figures follow.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store, StoreConfigError, entryCost } from '../../src/store/store.ts';
import type { PolicyName } from '../../src/store/policy.ts';

const clock = { wallMs: () => 0, monoMs: () => 0 };
const VALUE = new Uint8Array(100).fill(7);
const keyOf = (i: number): string => `key:${String(i).padStart(6, '0')}`;
/** What each entry below costs: keys of one length, values of one length. */
const COST = entryCost(keyOf(0), VALUE.length);

function filled(policy: PolicyName, maxMemory: number, entries: number): Store {
  const store = new Store({ maxMemory, policy, clock, hotKeys: false, analytics: false });
  for (let i = 0; i < entries; i++) assert.equal(store.set(keyOf(i), VALUE, { partition: i % 4 }), true);
  return store;
}

for (const policy of ['wtinylfu', 'lru', 'lfu'] as const) {
  test(`${policy}: a smaller budget evicts down to it at once, through the eviction listener; a larger one lets more in`, () => {
    const store = filled(policy, 200 * COST, 200);
    const evicted: string[] = [];
    store.onEviction((key) => evicted.push(key));
    store.setMaxMemory(50 * COST);
    assert.equal(store.maxMemory, 50 * COST);
    assert.equal(store.stats().maxMemory, 50 * COST);
    assert.ok(store.usedBytes <= 50 * COST, `${store.usedBytes} bytes held under a budget of ${50 * COST}`);
    assert.equal(store.size, 50, 'evicts no more than it must');
    assert.equal(store.stats().evictions.size, 150);
    assert.equal(evicted.length, 150);
    assert.equal(store.recountBytes(), store.usedBytes);
    // What is left is intact, and writes keep within the new budget.
    for (let i = 0; i < 200; i++) if (store.has(keyOf(i))) assert.deepEqual(store.peek(keyOf(i)), VALUE);
    for (let i = 200; i < 300; i++) store.set(keyOf(i), VALUE, { partition: 0 });
    assert.ok(store.usedBytes <= 50 * COST);
    // Growing evicts nothing and lets the store fill to the new budget.
    const evictionsBefore = store.stats().evictions.size;
    store.setMaxMemory(400 * COST);
    assert.equal(store.stats().evictions.size, evictionsBefore);
    for (let i = 300; i < 650; i++) store.set(keyOf(i), VALUE, { partition: 0 });
    assert.equal(store.size, 400, 'a grown store holds as many entries as its new budget takes');
    assert.equal(store.recountBytes(), store.usedBytes);
  });
}

test('lru: the shrink evicts the least recently used entries', () => {
  const store = filled('lru', 10 * COST, 10);
  for (const i of [0, 1, 2]) store.get(keyOf(i));
  store.setMaxMemory(3 * COST);
  assert.deepEqual([...Array(10).keys()].filter((i) => store.has(keyOf(i))), [0, 1, 2]);
});

test('noeviction: a smaller budget deletes nothing; writes are refused until deletes bring the store under it', () => {
  const store = filled('noeviction', 20 * COST, 20);
  store.setMaxMemory(10 * COST);
  assert.equal(store.size, 20, 'nothing deleted');
  assert.equal(store.stats().evictions.size, 0);
  assert.equal(store.set('new', VALUE, { partition: 0 }), false, 'over the budget: refused (Redis\'s OOM)');
  assert.equal(store.stats().refusedOverBudget, 1);
  // Over the budget, a write that does not grow its entry is taken (replication deletes by writing
  // a tombstone smaller than the value, and Redis's DEL runs over maxmemory); one that grows it is not.
  assert.equal(store.set(keyOf(0), VALUE.subarray(0, 10), { partition: 0 }), true, 'a smaller value');
  assert.equal(store.set(keyOf(1), VALUE, { partition: 0 }), true, 'the same size');
  assert.equal(store.set(keyOf(2), new Uint8Array(200), { partition: 0 }), false, 'a larger value');
  assert.equal(store.wouldRefuse([keyOf(3), keyOf(4)], [10, 10]), false, 'read-modify-write results that shrink');
  assert.equal(store.wouldRefuse([keyOf(3), 'other'], [10, 10]), true, 'and one that adds an entry');
  for (let i = 0; i < 11; i++) store.delete(keyOf(i));
  assert.equal(store.set('new', VALUE, { partition: 0 }), true, 'under it again: written');
});

test('a budget that is not a positive number of bytes, or on a store counted in entries, is refused and changes nothing', () => {
  const store = filled('wtinylfu', 20 * COST, 20);
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1.5]) {
    assert.throws(() => store.setMaxMemory(bad), (error: unknown) => error instanceof StoreConfigError && /positive whole number of bytes/.test(error.message), String(bad));
  }
  assert.equal(store.maxMemory, 20 * COST);
  assert.equal(store.size, 20);
  const counted = new Store({ maxEntries: 10, clock, hotKeys: false, analytics: false });
  assert.throws(() => counted.setMaxMemory(1 << 20), /counts entries \(maxEntries\), not bytes/);
});

test('the disk tier\'s reserve is held to half of the new budget, as it was to half of the old one', () => {
  const store = new Store({ maxMemory: 100 * COST, policy: 'lru', clock, hotKeys: false, analytics: false });
  // The tier asks for 80 entries' worth: half of 100 is granted.
  store.reserveBytes(80 * COST);
  for (let i = 0; i < 200; i++) store.set(keyOf(i), VALUE, { partition: 0 });
  assert.equal(store.size, 50);
  // With 400 the whole 80 is granted: the store holds 320, not 400 - 50.
  store.setMaxMemory(400 * COST);
  for (let i = 200; i < 800; i++) store.set(keyOf(i), VALUE, { partition: 0 });
  assert.equal(store.size, 320);
  // Back to 100: half again, and the shrink evicts to it.
  store.setMaxMemory(100 * COST);
  assert.equal(store.size, 50);
});

test('W-TinyLFU keeps the window share its tuner chose through a resize', () => {
  const store = new Store({ maxMemory: 256 * COST, clock, hotKeys: false, analytics: false });
  // A hot set every window size holds, a new key a step and a re-read of the key new 100 steps
  // before: only a large window catches those (test/unit/store-window-tuner-first-move.test.ts).
  const read = (key: string): void => {
    if (store.get(key, 0) === undefined) store.set(key, VALUE, { partition: 0 });
  };
  for (let i = 0; store.stats().policyDetails['windowAdaptations']! < 3 && i < 200_000; i++) {
    read(keyOf(i % 32));
    read(keyOf(100_000 + i));
    if (i >= 100) read(keyOf(100_000 + i - 100));
  }
  const share = store.stats().policyDetails['windowFraction']!;
  assert.ok(share >= 0.5, `the tuner chose a window of ${share}`);
  store.setMaxMemory(128 * COST);
  assert.ok(Math.abs(store.stats().policyDetails['windowFraction']! - share) < 0.01, `window ${store.stats().policyDetails['windowFraction']} after the resize, ${share} before`);
});
