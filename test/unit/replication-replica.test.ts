import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../../src/runtime/env.ts';
import type { Version } from '../../src/replication/hlc.ts';
import { entryHash, makeRecord, PartitionReplica } from '../../src/replication/partition-replica.ts';
import { Store } from '../../src/store/index.ts';
import { EvictionShadow, MIN_EVICTION_SHADOW_ENTRIES, evictionShadowCapacity } from '../../src/replication/eviction-shadow.ts';
import { versionOfEncoded } from '../../src/replication/record.ts';

const GRACE_MS = 10_000;

function clockAt(start: number): Clock & { now: number } {
  const c = { now: start, wallMs: () => c.now, monoMs: () => c.now };
  return c;
}

const v = (wallMs: number, logical = 0, node = 1): Version => ({ wallMs, logical, node });
const bytes = (s: string) => new TextEncoder().encode(s);

function setup(maxMemory = 1024 * 1024) {
  const clock = clockAt(1_000_000);
  const store = new Store({ maxMemory, clock, seed: 1 });
  // Wired as ReplicaHost wires it.
  const shadow = new EvictionShadow(MIN_EVICTION_SHADOW_ENTRIES);
  store.onEviction((key, value, partition) => shadow.record(partition, key, versionOfEncoded(value)));
  return { clock, store, shadow, replica: new PartitionReplica(3, store, clock, GRACE_MS, shadow) };
}

test('last writer wins: an older or equal version is stale, a newer one replaces the record', () => {
  const { replica } = setup();
  assert.equal(replica.apply('k', makeRecord(v(10), bytes('a'), 0)), 'applied');
  assert.equal(replica.apply('k', makeRecord(v(9), bytes('old'), 0)), 'stale');
  assert.equal(replica.apply('k', makeRecord(v(10), bytes('same'), 0)), 'stale');
  assert.equal(replica.apply('k', makeRecord(v(11), bytes('b'), 0)), 'applied');
  assert.deepEqual(replica.versionOf('k'), v(11));
  assert.deepEqual(replica.entries(), [['k', v(11)]]);
});

test('the digest is the XOR of what the store holds, also after the store evicted behind the replica', () => {
  // A budget for a handful of entries, so later writes evict earlier ones.
  const { store, replica } = setup(4 * 1024);
  for (let i = 0; i < 40; i++) {
    replica.apply(`key-${i}`, makeRecord(v(100 + i), bytes('x'.repeat(64)), 0));
    void replica.digest; // keep the cached digest live, so the test exercises its invalidation
  }
  assert.ok(store.stats().evictions.size > 0, 'the budget should have forced evictions');
  // Held or evicted, every write is known: the digest covers all 40, so a replica that evicted
  // differently from its peers does not look different to anti-entropy.
  let expected = 0;
  for (let i = 0; i < 40; i++) expected ^= entryHash(`key-${i}`, v(100 + i));
  assert.equal(replica.digest, expected);
  assert.equal(replica.knownEntries().length, 40);
  assert.ok(replica.entries().length < 40);
});

test('an evicted version counts as held: an equal or older copy arriving later (hint, sync) is stale', () => {
  const { clock, store, shadow, replica } = setup(4 * 1024);
  const deletedAt = v(clock.now);
  assert.equal(replica.apply('victim', makeRecord(deletedAt, null, 0)), 'applied'); // a delete's tombstone
  for (let i = 0; replica.peek('victim') && i < 200; i++) replica.apply(`filler-${i}`, makeRecord(v(600 + i), bytes('x'.repeat(64)), 0));
  assert.equal(replica.peek('victim'), null, 'the tombstone should have been evicted');
  assert.deepEqual(shadow.versionOf(3, 'victim'), deletedAt);
  assert.deepEqual(replica.knownVersionOf('victim'), deletedAt);
  // The deleted value, late, and the tombstone itself, copied back: neither is stored.
  assert.equal(replica.apply('victim', makeRecord(v(clock.now - 100), bytes('deleted value'), 0)), 'stale');
  assert.equal(replica.apply('victim', makeRecord(deletedAt, null, 0)), 'stale');
  assert.equal(store.has('victim'), false);
  // A newer write is news.
  assert.equal(replica.apply('victim', makeRecord(v(clock.now + 10), bytes('new'), 0)), 'applied');
});

test("a version learnt from a sync source's eviction is known, but its value from another owner is taken; an own eviction is not", () => {
  const { store, replica } = setup(4 * 1024);
  // An older record held; a source says it evicted a newer version.
  assert.equal(replica.apply('k', makeRecord(v(10), bytes('old'), 0)), 'applied');
  const digestBefore = replica.digest;
  assert.equal(replica.noteEvicted('k', v(20)), true);
  assert.equal(replica.peek('k'), null, 'the older record is superseded');
  assert.deepEqual(replica.knownVersionOf('k'), v(20));
  assert.notEqual(replica.digest, digestBefore);
  const digestLearnt = replica.digest;
  assert.equal(replica.noteEvicted('k', v(20)), false, 'learnt twice changes nothing');
  // Older copies stay stale; the learnt version's value, from an owner that holds it, is taken.
  assert.equal(replica.apply('k', makeRecord(v(15), bytes('older'), 0)), 'stale');
  assert.equal(replica.apply('k', makeRecord(v(20), bytes('value'), 0)), 'applied');
  assert.equal(replica.digest, digestLearnt, 'same version known: same digest');
  assert.equal(replica.apply('k', makeRecord(v(20), bytes('value'), 0)), 'stale', 'now held');
  // The store evicts it: now its own eviction, and a copy of it is kept out again.
  for (let i = 0; replica.peek('k') && i < 200; i++) replica.apply(`filler-${i}`, makeRecord(v(600 + i), bytes('x'.repeat(64)), 0));
  assert.equal(replica.peek('k'), null, 'k should have been evicted');
  assert.equal(replica.apply('k', makeRecord(v(20), bytes('value'), 0)), 'stale');
  assert.equal(store.has('k'), false);
});

test('the eviction shadow: a learnt version becomes an own eviction when the store evicts that version', () => {
  const shadow = new EvictionShadow(8);
  shadow.record(1, 'a', v(5), true);
  assert.equal(shadow.isLearnt(1, 'a', v(5)), true);
  assert.equal(shadow.isLearnt(1, 'a', v(4)), false, 'only the version remembered');
  shadow.record(1, 'a', v(5));
  assert.equal(shadow.isLearnt(1, 'a', v(5)), false);
  shadow.record(1, 'a', v(5), true);
  assert.equal(shadow.isLearnt(1, 'a', v(5)), false, 'an own eviction is not unlearnt by hearsay');
  shadow.record(1, 'a', v(6), true);
  assert.equal(shadow.isLearnt(1, 'a', v(6)), true, 'a newer version learnt');
  shadow.forget(1, 'a');
  assert.equal(shadow.versionOf(1, 'a'), undefined);
  assert.equal(shadow.size, 0);
});

test('the eviction shadow is sized from the store budget: one key per 4 KiB, within 4,096..65,536', () => {
  assert.equal(evictionShadowCapacity(32 * 1024), 4_096);
  assert.equal(evictionShadowCapacity(64 * 1024 * 1024), 16_384);
  assert.equal(evictionShadowCapacity(1024 ** 3), 65_536);
  assert.equal(evictionShadowCapacity(Number.POSITIVE_INFINITY), 65_536);
});

test('the eviction shadow keeps the newest version per key within its bound, oldest forgotten first', () => {
  const shadow = new EvictionShadow(2);
  shadow.record(1, 'a', v(5));
  shadow.record(1, 'a', v(3)); // older: ignored
  assert.deepEqual(shadow.versionOf(1, 'a'), v(5));
  shadow.record(2, 'b', v(1));
  shadow.record(1, 'c', v(1));
  assert.equal(shadow.size, 2);
  assert.equal(shadow.versionOf(1, 'a'), undefined, 'the oldest entry goes first');
  assert.deepEqual([...shadow.entries(1).keys()], ['c']);
  shadow.dropPartition(2);
  assert.equal(shadow.versionOf(2, 'b'), undefined);
  assert.equal(shadow.size, 1);
});

test('a tombstone is kept (and reported) until its grace has passed, then the store drops it', () => {
  const { clock, replica } = setup();
  replica.apply('k', makeRecord(v(clock.now - 1), bytes('live'), 0));
  assert.equal(replica.apply('k', makeRecord(v(clock.now), null, 0)), 'applied');
  assert.ok(replica.peek('k'), 'the tombstone is held');
  const withTombstone = replica.digest;
  assert.notEqual(withTombstone, 0);
  // An older write arriving late (a hint, a repair) cannot resurrect the key.
  assert.equal(replica.apply('k', makeRecord(v(clock.now - 5), bytes('late'), 0)), 'stale');
  clock.now += GRACE_MS + 1;
  assert.equal(replica.peek('k'), null);
  assert.equal(replica.digest, 0, 'the digest follows the store once the grace passed');
  // A tombstone already past its grace has nothing left to do.
  assert.equal(replica.apply('k', makeRecord(v(clock.now - GRACE_MS - 10), null, 0)), 'stale');
});

test('a value with a TTL stays readable as a record (the coordinator reads it as a miss) until expiry plus grace', () => {
  const { clock, replica } = setup();
  replica.apply('t', makeRecord(v(clock.now), bytes('short'), clock.now + 100));
  clock.now += 200;
  assert.ok(replica.peek('t'), 'kept past its TTL so its version keeps winning');
  clock.now += GRACE_MS;
  assert.equal(replica.peek('t'), null);
});
