import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../../src/store/store.ts';

const clock = { wallMs: () => 0, monoMs: () => 0 };
const value = new Uint8Array(10);

test('noeviction refuses writes past the budget and keeps everything already stored', () => {
  const store = new Store({ maxEntries: 3, policy: 'noeviction', clock, hotKeys: false, analytics: false });
  for (const k of ['a', 'b', 'c']) assert.equal(store.set(k, value, { partition: 0 }), true);
  assert.equal(store.set('d', value, { partition: 0 }), false);
  assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => store.has(k)), [true, true, true, false]);
  assert.equal(store.stats().refusedOverBudget, 1);
  // A delete makes room for the next write.
  store.delete('a');
  assert.equal(store.set('d', value, { partition: 0 }), true);
  assert.equal(store.size, 3);
});

test('the other policies evict instead of refusing', () => {
  for (const policy of ['wtinylfu', 'lru', 'lfu'] as const) {
    const store = new Store({ maxEntries: 3, policy, clock, hotKeys: false, analytics: false });
    for (const k of ['a', 'b', 'c', 'd']) store.set(k, value, { partition: 0 });
    assert.equal(store.size, 3, policy);
    assert.equal(store.stats().refusedOverBudget, 0, policy);
  }
});

test('--eviction-policy reaches the daemon config; a wrong value is a clear error', async () => {
  const { loadConfig } = await import('../../src/cli/start.ts');
  assert.equal(loadConfig([], {}).evictionPolicy, 'default');
  assert.equal(loadConfig(['--eviction-policy', 'noeviction'], {}).evictionPolicy, 'noeviction');
  assert.equal(loadConfig([], { SHOAL_EVICTION_POLICY: 'lru' }).evictionPolicy, 'lru');
  assert.throws(() => loadConfig(['--eviction-policy', 'allkeys-lru'], {}), /^.*--eviction-policy must be one of default, lru, lfu, noeviction, not "allkeys-lru"$/);
});

test('a noeviction refusal leaves the older value of the key in place, as Redis answers OOM and changes nothing', () => {
  const store = new Store({ maxMemory: 1024, policy: 'noeviction', clock, hotKeys: false, analytics: false });
  const small = new Uint8Array(8).fill(1);
  assert.equal(store.set('a', small, { partition: 0 }), true);
  let n = 0;
  while (store.set(`k${n}`, small, { partition: 0 })) n++;
  assert.ok(n > 0 && n < 100, `filled ${n}`);
  const before = store.stats();
  assert.equal(store.set('a', new Uint8Array(200).fill(2), { partition: 0 }), false);
  assert.deepEqual(store.get('a'), small);
  assert.equal(store.stats().refusedOverBudget, before.refusedOverBudget! + 1);
  assert.equal(store.stats().evictions.size, 0);
  assert.equal(store.usedBytes, before.bytes);
});

test('setPolicy switches a running store: every held entry is kept and the new policy evicts from then on', () => {
  const store = new Store({ maxEntries: 4, clock, hotKeys: false, analytics: false });
  for (const k of ['a', 'b', 'c', 'd']) store.set(k, value, { partition: 0 });
  store.setPolicy('noeviction');
  assert.equal(store.policyName, 'noeviction');
  assert.equal(store.set('e', value, { partition: 0 }), false);
  assert.equal(store.size, 4);
  store.setPolicy('lru');
  assert.equal(store.stats().policy, 'lru');
  store.get('a');
  assert.equal(store.set('e', value, { partition: 0 }), true);
  // LRU learnt its order from the switch (slot order) and the read since: b is the oldest now.
  assert.deepEqual(['a', 'b', 'c', 'd', 'e'].map((k) => store.has(k)), [true, false, true, true, true]);
  store.setPolicy('wtinylfu');
  for (let i = 0; i < 20; i++) store.set(`x${i}`, value, { partition: 0 });
  assert.equal(store.size, 4);
  assert.throws(() => store.setPolicy('random' as never), /unknown policy "random"/);
});
