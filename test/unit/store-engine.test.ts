import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../../src/runtime/env.ts';
import { ConcurrentModificationError, Store, StoreConfigError } from '../../src/store/store.ts';
import type { StoreOptions } from '../../src/store/store.ts';

class FakeClock implements Clock {
  constructor(public now = 1_700_000_000_000) {}
  wallMs(): number {
    return this.now;
  }
  monoMs(): number {
    return this.now;
  }
}

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const make = (options: Partial<StoreOptions> = {}, clock = new FakeClock()): Store =>
  new Store({ maxMemory: 1_000_000, clock, hotKeys: false, ...options });

test('set, get, peek, has, delete', () => {
  const store = make();
  assert.equal(store.set('a', bytes(1, 2, 3), { partition: 1 }), true);
  assert.deepEqual(store.get('a'), bytes(1, 2, 3));
  assert.deepEqual(store.peek('a'), bytes(1, 2, 3));
  assert.deepEqual(store.peekView('a'), bytes(1, 2, 3));
  assert.equal(store.peekView('missing'), undefined);
  assert.equal(store.has('a'), true);
  assert.equal(store.get('missing'), undefined);
  assert.equal(store.delete('a'), true);
  assert.equal(store.delete('a'), false);
  assert.equal(store.has('a'), false);
  const s = store.stats();
  assert.equal(s.hits, 1);
  assert.equal(s.misses, 1);
  assert.equal(s.evictions.explicit, 1);
  assert.equal(s.entries, 0);
  assert.equal(s.bytes, 0);
});

test('get returns a copy: later writes never change a value already returned', () => {
  const store = make();
  store.set('a', bytes(1, 1, 1), { partition: 0 });
  const got = store.get('a')!;
  store.delete('a');
  store.set('b', bytes(9, 9, 9), { partition: 0 });
  assert.deepEqual(got, bytes(1, 1, 1));
});

test('pooled copies are independent of the store and of each other, across pool refills', () => {
  const store = make({ maxMemory: 10_000_000 });
  const value = (i: number): Uint8Array => Uint8Array.from({ length: 100 }, (_, j) => (i + j) & 0xff);
  for (let i = 0; i < 500; i++) store.set(`k${i}`, value(i), { partition: 0 });
  // More copies than one pool holds, all kept: none may be overwritten by a later one.
  const copies = Array.from({ length: 500 }, (_, i) => store.get(`k${i}`)!);
  copies.forEach((c, i) => assert.deepEqual(c, value(i)));
  copies[7]!.fill(0);
  assert.deepEqual(store.get('k7'), value(7), 'writing into a copy never reaches the store');
  assert.deepEqual(copies[8], value(8), 'nor a neighbouring copy');
});

test('a caller transferring a copy\'s buffer does not break later reads', () => {
  const store = make();
  store.set('a', bytes(1, 2, 3), { partition: 0 });
  const got = store.get('a')!;
  structuredClone(got.buffer, { transfer: [got.buffer as ArrayBuffer] });
  assert.equal(got.length, 0, 'the transfer detached the pool');
  assert.deepEqual(store.get('a'), bytes(1, 2, 3));
  assert.deepEqual(store.peek('a'), bytes(1, 2, 3));
});

test('values of every size class round-trip, including empty and large ones', () => {
  const store = make({ maxMemory: 10_000_000 });
  const sizes = [0, 1, 7, 8, 9, 100, 511, 512, 513, 4000, 65_536, 65_537, 300_000];
  sizes.forEach((n, i) => store.set(`k${i}`, Uint8Array.from({ length: n }, (_, j) => (j * 31 + i) & 0xff), { partition: 0 }));
  sizes.forEach((n, i) => assert.deepEqual(store.get(`k${i}`), Uint8Array.from({ length: n }, (_, j) => (j * 31 + i) & 0xff)));
});

test('overwrite replaces value, cost and partition', () => {
  const store = make();
  store.set('k', new Uint8Array(10), { partition: 1 });
  const small = store.usedBytes;
  store.set('k', new Uint8Array(1000), { partition: 2 });
  assert.ok(store.usedBytes > small);
  assert.deepEqual(store.partitionKeys(1), []);
  assert.deepEqual(store.partitionKeys(2), ['k']);
  assert.equal(store.partitionStats(1).bytes, 0);
  assert.equal(store.partitionStats(2).bytes, store.usedBytes);
});

test('an entry larger than the whole budget is refused and any old value removed', () => {
  const store = make({ maxMemory: 2000 });
  store.set('k', bytes(1), { partition: 0 });
  assert.equal(store.set('k', new Uint8Array(5000), { partition: 0 }), false);
  assert.equal(store.get('k'), undefined);
  assert.equal(store.stats().refusedTooLarge, 1);
  assert.ok(store.entryCost('k', 5000) > 2000);
});

test('the byte budget is never exceeded and evictions are counted', () => {
  for (const policy of ['wtinylfu', 'lru', 'lfu'] as const) {
    const store = make({ maxMemory: 50_000, policy });
    for (let i = 0; i < 2000; i++) {
      store.set(`key:${i}`, new Uint8Array(50 + (i % 200)), { partition: i % 7 });
      assert.ok(store.usedBytes <= 50_000, `${policy} over budget`);
      if (i % 3 === 0) store.get(`key:${i >> 1}`);
    }
    const s = store.stats();
    assert.equal(s.entries + s.evictions.size, 2000, `${policy}: every entry is present or counted as evicted`);
  }
});

test('entry-count mode evicts by count', () => {
  const store = make({ maxMemory: undefined, maxEntries: 10, policy: 'lru' });
  for (let i = 0; i < 15; i++) store.set(`k${i}`, bytes(i), { partition: 0 });
  assert.equal(store.size, 10);
  assert.equal(store.has('k4'), false);
  assert.equal(store.has('k5'), true);
});

test('TTL: expired entries are never returned, and are reclaimed lazily or by tick', () => {
  const clock = new FakeClock();
  const store = make({}, clock);
  store.set('short', bytes(1), { partition: 0, expiresAtMs: clock.now + 1000 });
  store.set('long', bytes(2), { partition: 0, expiresAtMs: clock.now + 60_000 });
  store.set('forever', bytes(3), { partition: 0 });
  assert.equal(store.expiresAt('short'), clock.now + 1000);
  clock.now += 1000;
  assert.equal(store.get('short'), undefined, 'expired at its deadline, before any tick');
  assert.equal(store.peek('long')?.[0], 2);
  clock.now += 60_000;
  assert.equal(store.has('long'), false);
  const result = store.tick();
  assert.equal(result.expired, 1);
  assert.equal(store.size, 1);
  const s = store.stats();
  assert.equal(s.expirations, 2);
  assert.equal(s.activeExpirations, 1);
  assert.equal(store.set('past', bytes(1), { partition: 0, expiresAtMs: clock.now - 1 }), false);
});

test('active expiry is bounded per tick, so a mass expiry is spread out', () => {
  const clock = new FakeClock();
  const store = make({ maxExpirationsPerTick: 100 }, clock);
  for (let i = 0; i < 1000; i++) store.set(`k${i}`, bytes(1), { partition: 0, expiresAtMs: clock.now + 10 });
  clock.now += 5000;
  let ticks = 0;
  for (;;) {
    const r = store.tick();
    assert.ok(r.expired <= 100);
    ticks++;
    if (!r.backlog) break;
  }
  assert.equal(ticks, 10);
  assert.equal(store.size, 0);
});

test('per-partition enumeration, stats and drop touch only that partition', () => {
  const store = make();
  for (let i = 0; i < 30; i++) store.set(`k${i}`, bytes(i), { partition: i % 3 });
  assert.deepEqual(store.partitionKeys(1).sort(), Array.from({ length: 10 }, (_, j) => `k${j * 3 + 1}`).sort());
  const seen: string[] = [];
  store.forEachInPartition(2, (key, value) => {
    assert.equal(value[0], Number(key.slice(1)));
    seen.push(key);
  });
  assert.equal(seen.length, 10);
  assert.throws(() => store.forEachInPartition(2, () => store.delete('k2')), ConcurrentModificationError);
  store.get('k1', 1);
  store.get('nope', 1);
  assert.equal(store.partitionStats(1).hits, 1);
  assert.equal(store.partitionStats(1).misses, 1);
  assert.equal(store.dropPartition(0), 10);
  assert.equal(store.size, 20);
  assert.equal(store.partitionStats(0).entries, 0);
  // Handed off, not deleted (F13): a reason of its own, per partition as per store.
  assert.equal(store.partitionStats(0).evictedHandoff, 10);
  assert.equal(store.partitionStats(0).evictedExplicit, 0);
  assert.equal(store.stats().evictions.handoff, 10);
  assert.equal(store.allPartitionStats().size, 3);
});

test('hot keys are queryable and reported through the callback', () => {
  const clock = new FakeClock();
  const reported: string[] = [];
  const store = new Store({ maxMemory: 1_000_000, clock, hotKeys: { shareThreshold: 0.3, minTraffic: 10, onHotKey: (r) => reported.push(r.key) } });
  store.set('hot', bytes(1), { partition: 0 });
  for (let i = 0; i < 200; i++) {
    store.get('hot');
    store.set(`cold${i}`, bytes(1), { partition: 0 });
  }
  assert.equal(store.hotKeys(1)[0]!.key, 'hot');
  store.tick();
  store.tick();
  assert.deepEqual(reported, ['hot']);
});

test('bad configuration fails with a clear error', () => {
  const clock = new FakeClock();
  assert.throws(() => new Store({ clock }), StoreConfigError);
  assert.throws(() => new Store({ clock, maxMemory: -1 }), StoreConfigError);
  assert.throws(() => new Store({ clock, maxEntries: 1.5 }), StoreConfigError);
  assert.throws(() => new Store({ clock, maxMemory: 10, policy: 'fifo' as never }), /unknown policy/);
});

test('W-TinyLFU keeps a frequently used working set through a scan of 5x its size (LRU does not)', () => {
  const survivors = (policy: 'wtinylfu' | 'lru'): number => {
  const store = make({ maxMemory: undefined, maxEntries: 100, policy });
  for (let round = 0; round < 20; round++) for (let i = 0; i < 50; i++) if (!store.getView(`hot${i}`)) store.set(`hot${i}`, bytes(1), { partition: 0 });
  for (let i = 0; i < 500; i++) if (!store.getView(`scan${i}`)) store.set(`scan${i}`, bytes(1), { partition: 0 });
  let kept = 0;
  for (let i = 0; i < 50; i++) if (store.has(`hot${i}`)) kept++;
  return kept;
  };
  assert.ok(survivors('wtinylfu') >= 45, `only ${survivors('wtinylfu')} of 50 hot keys survived a scan`);
  assert.equal(survivors('lru'), 0);
});

test('W-TinyLFU counts the candidates that lose the admission duel (policyDetails.admissionRejections)', () => {
  const store = new Store({ maxEntries: 100, clock: { wallMs: () => 0, monoMs: () => 0 }, hotKeys: false, analytics: false });
  const value = new Uint8Array(1);
  // A frequent working set, then a scan of one-off keys: the scan's keys lose to the frequent ones.
  for (let round = 0; round < 5; round++) for (let i = 0; i < 100; i++) if (store.get(`hot${i}`) === undefined) store.set(`hot${i}`, value, { partition: 0 });
  assert.equal(store.stats().policyDetails['admissionRejections'], 0);
  for (let i = 0; i < 1000; i++) store.set(`scan${i}`, value, { partition: 0 });
  const rejected = store.stats().policyDetails['admissionRejections']!;
  assert.ok(rejected > 500, `${rejected} of 1000 scan keys refused admission`);
  assert.ok(store.stats().evictions.size >= rejected);
});

test('accessFrequency: what the policy counts of a key, without counting a use (OBJECT FREQ)', () => {
  for (const policy of ['wtinylfu', 'lfu'] as const) {
    const store = make({ policy });
    store.set('a', bytes(1), { partition: 1 });
    const stored = store.accessFrequency('a')!;
    assert.equal(store.accessFrequency('a'), stored, `${policy}: asking counts no use`);
    for (let i = 0; i < 5; i++) store.get('a', 1);
    assert.equal(store.accessFrequency('a'), stored + 5, `${policy}: five reads`);
    assert.equal(store.accessFrequency('never-seen'), 0, policy);
  }
  for (const policy of ['lru', 'noeviction'] as const) assert.equal(make({ policy }).accessFrequency('a'), null, `${policy} counts no frequency`);
});

// Replication asks before it takes a read repair of a key it may have evicted and forgotten
// (PartitionReplica.declinesRepair): a copy is kept if it fits, or if the key is clearly more
// wanted than the value it would push out.
test('admitsCopy: a copy that fits is kept; over the budget only a key wanted clearly more often than the next victim', () => {
  const store = make({ maxMemory: undefined, maxEntries: 100 });
  for (let i = 0; i < 99; i++) store.set(`held${i}`, bytes(i), { partition: 0 });
  assert.equal(store.admitsCopy('offered', 1), true, 'room for one more');
  store.set('held99', bytes(99), { partition: 0 });
  assert.equal(store.admitsCopy('offered', 1), false, 'full, and the key never seen');
  store.noteWanted('offered');
  assert.equal(store.admitsCopy('offered', 1), false, 'one read, as in a scan: no more wanted than a value written once');
  store.noteWanted('offered');
  store.noteWanted('offered');
  assert.equal(store.admitsCopy('offered', 1), true, 'read three times');
  assert.equal(store.size, 100, 'asking changes nothing');
  const lru = make({ maxMemory: undefined, maxEntries: 2, policy: 'lru' });
  lru.set('a', bytes(1), { partition: 0 });
  lru.set('b', bytes(2), { partition: 0 });
  assert.equal(lru.admitsCopy('offered', 1), true, 'a policy without an admission duel takes every newcomer');
});
