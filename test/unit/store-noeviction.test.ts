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
