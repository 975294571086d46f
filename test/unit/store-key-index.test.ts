// The store's open-addressing key index (src/store/key-index.ts) against a Map, with hashes forced
// to collide so probe runs are long, wrap around the table's end and are shifted back on delete.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyIndex } from '../../src/store/key-index.ts';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';

function model(hashOfKey: (key: string) => number) {
  const keys: (string | undefined)[] = [];
  const hashes: number[] = [];
  const index = new KeyIndex({ hashOf: (slot) => hashes[slot]!, keyOf: (slot) => keys[slot] });
  const expected = new Map<string, number>();
  const free: number[] = [];
  return {
    index,
    expected,
    add(key: string): void {
      const slot = free.pop() ?? keys.length;
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
  // 16 distinct hashes for 600 keys, some near the top of every table size so runs wrap.
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
