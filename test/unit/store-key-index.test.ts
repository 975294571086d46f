// The store's open-addressing key index (src/store/key-index.ts) against a Map, through probe
// runs that wrap around the table's end and are shifted back on delete, and slot growth that
// narrows the tags; and the store's rows, narrow until the first deadline and wide from then on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyIndex, isLatin1, keyHash } from '../../src/store/key-index.ts';
import { fmix32 } from '../../src/protocol/hash.ts';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { Store } from '../../src/store/store.ts';

function model() {
  // One element per slot of capacity, which starts small and grows by an eighth as slots are used,
  // a new array each time, as the store's keys array does.
  let keys: (string | undefined)[] = Array.from({ length: 16 }, () => undefined);
  let used = 0;
  const index = new KeyIndex(keys);
  const expected = new Map<string, number>();
  const free: number[] = [];
  return {
    index,
    expected,
    add(key: string): void {
      const slot = free.pop() ?? used++;
      if (slot === keys.length) index.setKeys((keys = keys.concat(Array.from({ length: Math.ceil(keys.length * 0.125) }, () => undefined))));
      keys[slot] = key;
      index.insert(slot, key);
      expected.set(key, slot);
    },
    remove(key: string): void {
      const slot = expected.get(key)!;
      index.remove(slot, key);
      keys[slot] = undefined;
      free.push(slot);
      expected.delete(key);
    },
    check(universe: string[]): void {
      assert.equal(index.size, expected.size);
      for (const key of universe) assert.equal(index.find(key), expected.get(key) ?? -1, key);
    },
  };
}

test('finds what was inserted and nothing removed, through probe runs, wrap-around, tag narrowing and growth', () => {
  // Wide (two-byte) keys and odd lengths too, so every branch of keyHash is used.
  const universe = Array.from({ length: 1500 }, (_, i) => (i % 3 === 0 ? `k${i}` : i % 3 === 1 ? `key:${i}\u0101` : `${i}`));
  const m = model();
  const random = SeededRandom.mulberry32(7);
  for (let step = 0; step < 12_000; step++) {
    const key = universe[random.int(universe.length)]!;
    if (m.expected.has(key)) m.remove(key);
    else m.add(key);
    if (step % 1000 === 0) m.check(universe);
  }
  m.check(universe);
  assert.ok(3 * m.index.byteSize >= 4 * 4 * m.index.size, 'the table stays at most three quarters full');
  // Removing what is not indexed changes nothing.
  m.index.remove(99_999, 'absent');
  m.check(universe);
});

test('the table grows by half when three quarters full: between a half and three quarters full from its first growth on', () => {
  // 5.3 to 8 bytes of table per key (4 per bucket) instead of the 8 to 16 that doubling at
  // half full gave (docs/STORE.md, "Memory at several sizes").
  const m = model();
  let buckets = m.index.byteSize / 4;
  let growths = 0;
  for (let i = 0; i < 50_000; i++) {
    m.add(`key:${i}`);
    const now = m.index.byteSize / 4;
    if (now !== buckets) {
      assert.equal(now, Math.ceil(buckets * 1.5), `grown from ${buckets} at ${m.index.size} keys`);
      buckets = now;
      growths++;
    }
    assert.ok(4 * m.index.size <= 3 * buckets, `${m.index.size} keys in ${buckets} buckets`);
    if (growths > 0) assert.ok(2 * m.index.size >= buckets, `${m.index.size} keys in ${buckets} buckets`);
  }
  m.check(Array.from({ length: 50_000 }, (_, i) => `key:${i}`));
});

test('keyHash spreads similar keys over buckets and tags', () => {
  const buckets = new Set<number>();
  const tags = new Set<number>();
  for (let i = 0; i < 1024; i++) {
    const h = keyHash(`key:${String(i).padStart(12, '0')}`);
    buckets.add(h & 1023);
    tags.add(h >>> 21);
  }
  assert.ok(buckets.size > 600, `${buckets.size} of 1024 buckets`);
  assert.ok(tags.size > 600, `${tags.size} of 2048 tags`);
});

test('keyHash is the same for a key whatever kind of V8 string holds it (flat, concatenated, sliced, internalised, two-byte)', () => {
  // The reference: the same formula through key.charCodeAt, as keyHash read characters before.
  const reference = (key: string): number => {
    let h = key.length;
    let i = 0;
    for (; i + 1 < key.length; i += 2) h = Math.imul(((h << 5) | (h >>> 27)) ^ (key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16)), 0x9e3779b9);
    if (i < key.length) h = Math.imul(((h << 5) | (h >>> 27)) ^ key.charCodeAt(i), 0x9e3779b9);
    return fmix32(h) | 0;
  };
  const asProperty: Record<string, number> = {};
  for (let i = 0; i < 300; i++) {
    const text = i % 2 === 0 ? `key:${String(i).padStart(12, '0')}` : `ключ:${i}`;
    const concatenated = text.slice(0, 5) + text.slice(5);
    const sliced = `##${text}########################`.slice(2, 2 + text.length);
    const internalised = Object.keys({ [text]: 1 })[0]!;
    asProperty[concatenated] = i;
    for (const kind of [text, concatenated, sliced, internalised]) {
      assert.equal(kind, text);
      assert.equal(keyHash(kind), reference(text), `${JSON.stringify(text)}`);
    }
  }
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

test('isLatin1 tells one-byte keys from two-byte ones, and entryCost charges two bytes a character for the latter', () => {
  assert.equal(isLatin1(''), true);
  assert.equal(isLatin1('user:42'), true);
  assert.equal(isLatin1('caf\u00e9'), true, 'U+00E9 still fits a byte');
  assert.equal(isLatin1('caf\u0101'), false);
  assert.equal(isLatin1('ok\u{1f600}'), false, 'a surrogate pair');
  const store = new Store({ maxMemory: 1 << 20, clock: { wallMs: () => 0, monoMs: () => 0 } });
  // 9 one-byte characters round to 16 bytes; as two-byte, 18 round to 24.
  assert.equal(store.entryCost('\u0101abcdefgh', 0) - store.entryCost('aabcdefgh', 0), 8);
});
