// The store's open-addressing key index (src/store/key-index.ts) against a Map, with hashes forced
// to collide so probe runs are long, wrap around the table's end and are shifted back on delete;
// and the store's rows, narrow until the first deadline and wide from then on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyIndex } from '../../src/store/key-index.ts';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { Store } from '../../src/store/store.ts';

function model(hashOfKey: (key: string) => number) {
  const keys: (string | undefined)[] = [];
  const hashes: number[] = [];
  // Slot capacity starts small and doubles as slots are used, as the store's rows do.
  let capacity = 16;
  const index = new KeyIndex({ hashOf: (slot) => hashes[slot]!, keyOf: (slot) => keys[slot] }, capacity);
  const expected = new Map<string, number>();
  const free: number[] = [];
  return {
    index,
    expected,
    add(key: string): void {
      const slot = free.pop() ?? keys.length;
      if (slot === capacity) index.setSlotCapacity((capacity *= 2));
      keys[slot] = key;
      hashes[slot] = hashOfKey(key);
      index.insert(slot, hashes[slot]!);
      expected.set(key, slot);
    },
    remove(key: string): void {
      const slot = expected.get(key)!;
      index.remove(slot, hashes[slot]!);
      keys[slot] = undefined;
      free.push(slot);
      expected.delete(key);
    },
    check(universe: string[]): void {
      assert.equal(index.size, expected.size);
      for (const key of universe) assert.equal(index.find(key, hashOfKey(key)), expected.get(key) ?? -1, key);
    },
  };
}

test('finds what was inserted and nothing removed, through collisions, wrap-around and growth', () => {
  // 16 distinct hashes for 600 keys, some near the top of every table size so runs wrap, and
  // sharing their top bits (the tags) with other hashes of the same home bucket.
  const hashOf = (key: string) => ((Number(key.slice(1)) % 16) * 0x0fff_ffff) | 0;
  const universe = Array.from({ length: 600 }, (_, i) => `k${i}`);
  const m = model(hashOf);
  const random = SeededRandom.mulberry32(7);
  for (let step = 0; step < 6000; step++) {
    const key = universe[random.int(universe.length)]!;
    if (m.expected.has(key)) m.remove(key);
    else m.add(key);
    if (step % 500 === 0) m.check(universe);
  }
  m.check(universe);
  assert.ok(m.index.byteSize >= 2 * 4 * m.index.size, 'the table stays at most half full');
});

test('a key with the same hash as a held one but different text is not found', () => {
  const m = model(() => 42);
  m.add('a');
  m.add('b');
  assert.equal(m.index.find('c', 42), -1);
  m.remove('a');
  assert.equal(m.index.find('b', 42), m.expected.get('b'));
  // Removing what is not indexed changes nothing.
  m.index.remove(99, 42);
  m.check(['a', 'b', 'c']);
});

test('the store keeps every entry through its rows widening at the first deadline, and through growth', () => {
  let now = 1_000;
  const store = new Store({ maxMemory: 64 << 20, clock: { wallMs: () => now, monoMs: () => now }, seed: 3 });
  const value = (i: number) => new Uint8Array([i & 0xff, (i >> 8) & 0xff, 7]);
  // More than the first row capacity (1024 slots), no deadlines yet: narrow rows, grown twice.
  for (let i = 0; i < 3000; i++) store.set(`k${i}`, value(i), { partition: i % 5 });
  for (let i = 0; i < 3000; i += 2) store.delete(`k${i}`);
  const bytes = store.usedBytes;
  store.set('ttl', value(1), { partition: 9, expiresAtMs: now + 500 });
  assert.equal(store.usedBytes, bytes + store.entryCost('ttl', 3));
  assert.equal(store.recountBytes(), store.usedBytes, 'costs derived from keys and lengths add up');
  for (let i = 1; i < 3000; i += 2) assert.deepEqual(store.get(`k${i}`), value(i), `k${i}`);
  assert.equal(store.get('k0'), undefined);
  assert.equal(store.partitionKeys(1).length, 300);
  assert.equal(store.expiresAt('ttl'), now + 500);
  // Freed slots are reused after widening; more growth with wide rows keeps the deadlines.
  for (let i = 0; i < 4000; i++) store.set(`n${i}`, value(i), { partition: 2, expiresAtMs: i % 2 === 0 ? now + 10_000 : undefined });
  now += 1_000;
  assert.equal(store.get('ttl'), undefined, 'expired');
  assert.equal(store.expiresAt('n0'), 11_000);
  assert.equal(store.expiresAt('n1'), undefined);
  assert.deepEqual(store.get('k2999'), value(2999));
  assert.equal(store.recountBytes(), store.usedBytes);
});
