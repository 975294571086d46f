// Keys the eviction shadow forgot (its bound): the filter of forgotten keys answers "evicted at or
// below W" for them, so neither a read nor an incoming record takes an older copy for the newest
// (restart-probe F5; src/replication/forgotten-keys.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EvictionShadow, MAX_EVICTION_SHADOW_ENTRIES } from '../../src/replication/eviction-shadow.ts';
import { FORGOTTEN_KEY_GENERATIONS, ForgottenKeys } from '../../src/replication/forgotten-keys.ts';
import { compareVersions, type Version } from '../../src/replication/hlc.ts';
import { makeRecord, PartitionReplica } from '../../src/replication/partition-replica.ts';
import { versionOfEncoded } from '../../src/replication/record.ts';
import { Store } from '../../src/store/index.ts';

const v = (wallMs: number, logical = 0, node = 1): Version => ({ wallMs, logical, node });
const P = 3;

/** A shadow of `capacity` keys that has forgotten `k` (evicted at v(100)) and `other-0` (v(200)) behind keys evicted later. */
function shadowThatForgot(capacity: number): EvictionShadow {
  const shadow = new EvictionShadow(capacity);
  shadow.record(P, 'k', v(100));
  for (let i = 0; i <= capacity; i++) shadow.record(P, `other-${i}`, v(200 + i));
  assert.equal(shadow.versionOf(P, 'k'), undefined, 'the bound made the shadow forget k');
  return shadow;
}

test('a key the shadow forgot is answered with the watermark of its generation, at or above its version', () => {
  const shadow = shadowThatForgot(4);
  // The watermark is the newest version forgotten in that generation and partition: k's and other-0's.
  assert.deepEqual(shadow.evictionBound(P, 'k'), { version: v(200), exact: false }, 'inexact: at or below the watermark');
  assert.equal(shadow.forgottenBound(P, 'k', v(50)), true, 'a copy older than the watermark may be older than the eviction');
  assert.equal(shadow.forgottenBound(P, 'k', v(200)), true);
  assert.equal(shadow.forgottenBound(P, 'k', v(201)), false, 'a record newer than the watermark is news');
  assert.equal(shadow.evictionBound(P + 1, 'k'), undefined, 'another partition has no watermark');
  assert.equal(shadow.evictionBound(P, 'never-evicted'), undefined);
});

test('an own eviction after the key was forgotten is exact again; a refused or learnt version is not', () => {
  const shadow = shadowThatForgot(4);
  shadow.recordRefused(P, 'k', v(60));
  assert.deepEqual(shadow.versionOf(P, 'k'), v(60), 'sync lists the refused version, so its sender stops pushing it');
  assert.ok(compareVersions(shadow.evictionBound(P, 'k')!.version, v(200)) >= 0, 'a read still answers the watermark');
  assert.equal(shadow.evictionBound(P, 'k')!.exact, false);
  assert.equal(shadow.forgottenBound(P, 'k', v(70)), true);
  shadow.record(P, 'k', v(80), true);
  assert.ok(compareVersions(shadow.evictionBound(P, 'k')!.version, v(200)) >= 0, 'a learnt version says nothing of what this store evicted');
  assert.equal(shadow.evictionBound(P, 'k')!.exact, false);
  shadow.record(P, 'k', v(90));
  assert.deepEqual(shadow.evictionBound(P, 'k'), { version: v(90), exact: true }, 'the store evicted v(90) itself: that is the newest it had');
  assert.equal(shadow.forgottenBound(P, 'k', v(95)), false);
});

test('only a watermark answer is inexact, and forgottenAnswers counts exactly those', () => {
  const shadow = shadowThatForgot(4);
  assert.equal(shadow.evictionBound(P, 'other-4')!.exact, true, 'a key the shadow remembers is exact');
  assert.equal(shadow.counts.forgottenAnswers, 0);
  assert.equal(shadow.evictionBound(P, 'k')!.exact, false);
  assert.equal(shadow.counts.forgottenAnswers, 1);
  // A version learnt from a sync source newer than the watermark: some node held it, so it is passed on as exact.
  shadow.record(P, 'k', v(300), true);
  assert.deepEqual(shadow.evictionBound(P, 'k'), { version: v(300), exact: true });
  assert.equal(shadow.counts.forgottenAnswers, 1);
});

test('dropping the partition or a flush floor over the watermark ends the bound', () => {
  const dropped = shadowThatForgot(4);
  dropped.dropPartition(P);
  assert.equal(dropped.evictionBound(P, 'k'), undefined, 'a partition gained again starts from what it is sent');
  const flushed = shadowThatForgot(4);
  flushed.forgetUpTo(P, v(199));
  assert.deepEqual(flushed.evictionBound(P, 'k'), { version: v(200), exact: false }, 'a floor below the watermark covers only some of it');
  flushed.forgetUpTo(P, v(200));
  assert.equal(flushed.evictionBound(P, 'k'), undefined, 'the floor answers for every version at or below it');
});

test('memory is fixed: after GENERATIONS full generations the oldest keys are forgotten for good', () => {
  const forgotten = new ForgottenKeys(100);
  // The other keys in another partition: a false positive in a later generation cannot answer for P.
  forgotten.add(P, 'first', v(1));
  for (let i = 1; i < 100 * FORGOTTEN_KEY_GENERATIONS; i++) forgotten.add(P + 1, `k${i}`, v(1 + i));
  assert.deepEqual(forgotten.bound(P, 'first'), v(1), 'remembered while every generation is filling');
  forgotten.add(P + 1, 'one-more', v(1_000));
  assert.equal(forgotten.bound(P, 'first'), undefined, 'its generation was cleared for the newest');
  // The largest shadow's filter: 4 generations of 2 x 65,536 keys at 0.25%.
  const bytes = new EvictionShadow(MAX_EVICTION_SHADOW_ENTRIES).forgotten.byteSize;
  assert.ok(bytes < 1_000_000, `${bytes} bytes`);
});

test('a key never forgotten is taken for one at most about 1% of the time, every generation full', () => {
  const perGeneration = 10_000;
  const forgotten = new ForgottenKeys(perGeneration);
  for (let i = 0; i < perGeneration * FORGOTTEN_KEY_GENERATIONS; i++) forgotten.add(P, `evicted-${i}`, v(1 + i));
  let falsePositives = 0;
  const probes = 100_000;
  for (let i = 0; i < probes; i++) if (forgotten.bound(P, `never-${i}`) !== undefined) falsePositives++;
  assert.ok(falsePositives / probes < 0.012, `${falsePositives} of ${probes}`);
});

test('a replica refuses a copy at or below the watermark of a key it evicted and forgot, and takes a newer one', () => {
  const clock = { wallMs: () => 1_000_000, monoMs: () => 0 };
  const store = new Store({ maxMemory: 1024 * 1024, clock, seed: 1 });
  const shadow = shadowThatForgot(4);
  store.onEviction((key, value, partition) => shadow.record(partition, key, versionOfEncoded(value)));
  const replica = new PartitionReplica(P, store, clock, 10_000, shadow);
  const before = replica.digest;
  assert.equal(replica.apply('k', makeRecord(v(50), new Uint8Array([1]), 0)), 'stale', 'older than the watermark: maybe older than what was evicted');
  assert.equal(replica.holds('k'), false);
  assert.deepEqual(replica.knownVersionOf('k'), v(50), 'listed at the refused version, so sync does not push it again');
  assert.notEqual(replica.digest, before, 'and the digest counts it, as the sender\'s does');
  assert.equal(replica.apply('k', makeRecord(v(50), new Uint8Array([1]), 0)), 'stale');
  assert.equal(replica.apply('k', makeRecord(v(300), new Uint8Array([2]), 0)), 'applied', 'newer than the watermark');
  assert.equal(replica.apply('fresh', makeRecord(v(50), new Uint8Array([3]), 0)), 'applied', 'a key never forgotten (not a false positive here)');
});

test('the forgetting horizon is the newest version a partition forgot, kept when the generations rotate', () => {
  const keys = new ForgottenKeys(4);
  assert.equal(keys.horizon(P), undefined, 'nothing forgotten: no horizon');
  keys.add(P, 'a', v(300));
  keys.add(P, 'b', v(100));
  assert.deepEqual(keys.horizon(P), v(300), 'the newest, not the last');
  assert.equal(keys.horizon(P + 1), undefined, 'per partition');
  // Enough keys of another partition to rotate every generation out: the filter forgets P, the horizon does not.
  for (let i = 0; i < 64 * FORGOTTEN_KEY_GENERATIONS; i++) keys.add(P + 1, `other-${i}`, v(400 + i));
  assert.equal(keys.bound(P, 'a'), undefined, 'the generations holding a rotated out');
  assert.deepEqual(keys.horizon(P), v(300));
  keys.dropPartition(P);
  assert.equal(keys.horizon(P), undefined, 'a partition gained again starts from what it is sent');
});
