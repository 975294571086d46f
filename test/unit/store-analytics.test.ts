import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AccessRecorder, AnalyticsConfigError, PrefixTable, mergeAnalytics, sizeBucket, ttlBucket, TTL_LABELS } from '../../src/store/analytics.ts';
import type { AccessAnalytics } from '../../src/store/analytics.ts';
import { Store } from '../../src/store/store.ts';
import { decodeRecord, encodeRecord, holdsLiveValue, isDeadAt } from '../../src/replication/record.ts';

const noRemovals = { hits: 0, misses: 0, evictedSize: 0, evictedExpired: 0, evictedExplicit: 0, evictedHandoff: 0, activeExpirations: 0, refusedTooLarge: 0 };

test('size and TTL buckets', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 7, 8, 100, 1024, 2 ** 32].map(sizeBucket), [0, 1, 2, 2, 3, 3, 4, 7, 11, 32]);
  const ttls = [-1, 0, 999, 1000, 9_999, 59_999, 60_000, 599_999, 3_599_999, 86_399_999, 86_400_000];
  assert.deepEqual(ttls.map((t) => TTL_LABELS[ttlBucket(t)]), ['none', '<1s', '<1s', '<10s', '<10s', '<1m', '<10m', '<10m', '<1h', '<1d', 'longer']);
});

test('the prefix table stays bounded with 1M distinct prefixes and still finds the heavy ones', () => {
  const table = new PrefixTable(64);
  for (let i = 0; i < 1_000_000; i++) {
    table.record(`p${i}:`, 2);
    if (i % 5 === 0) table.record('heavy:', 0);
    if (i % 20 === 0) table.record('warm:', 1);
  }
  assert.equal(table.tracked, 64, 'never more counters than the capacity');
  const top = table.top();
  assert.equal(top.length, 64);
  assert.deepEqual(top.slice(0, 2).map((p) => p.prefix), ['heavy:', 'warm:']);
  assert.ok(top[0]!.count >= 200_000 && top[0]!.count - top[0]!.error <= 200_000, 'bounds bracket the true count');
});

test('a recorder with 1M distinct keys keeps O(capacity) state and exact totals', () => {
  const r = new AccessRecorder({ prefixCapacity: 128 });
  r.tick(0, 0, 0);
  for (let i = 0; i < 1_000_000; i++) r.write(`tenant${i}:item`, i % 300, i % 2 === 0 ? -1 : 5_000);
  const s = r.snapshot(noRemovals);
  assert.equal(s.prefixes.length, 128);
  assert.equal(s.totals.writes, 1_000_000);
  assert.equal(s.keySizes.reduce((a, b) => a + b, 0), 1_000_000);
  assert.equal(s.ttls[0], 500_000);
  assert.equal(s.ttls[TTL_LABELS.indexOf('<10s')], 500_000);
  assert.equal(JSON.stringify(s).length < 64_000, true, 'the snapshot stays small');
});

test('prefixes end at the configured delimiter; keys without one count under the empty prefix', () => {
  const r = new AccessRecorder({ prefixDelimiter: '/' });
  assert.equal(r.prefixOf('users/42/name'), 'users/');
  assert.equal(r.prefixOf('plain'), '');
  const off = new AccessRecorder({ prefixDelimiter: '' });
  off.read('a:b', true);
  assert.deepEqual(off.snapshot(noRemovals).prefixes, []);
  assert.throws(() => new AccessRecorder({ bucketMs: 0 }), AnalyticsConfigError);
  assert.throws(() => new PrefixTable(0), AnalyticsConfigError);
  assert.throws(() => new AccessRecorder({ readSample: 3 }), AnalyticsConfigError);
});

test('hit-ratio buckets follow wall time in bucketMs steps and keep only the last N', () => {
  const r = new AccessRecorder({ bucketMs: 1000, buckets: 3 });
  r.tick(10_500, 0, 0);
  r.write('a:1', 1, -1);
  r.tick(10_900, 4, 1); // same bucket: nothing closes
  r.tick(11_000, 6, 2); // closes [10000, 11000): 6 hits, 2 misses, 1 write
  r.tick(12_100, 6, 5);
  r.tick(13_000, 7, 5);
  const s = r.snapshot({ ...noRemovals, hits: 9, misses: 5 });
  assert.deepEqual(s.hitRatio.map((b) => b.startMs), [11_000, 12_000, 13_000]);
  assert.deepEqual(s.hitRatio.map((b) => [b.hits, b.misses]), [[0, 3], [1, 0], [2, 0]]);
});

test('merge sums histograms, buckets by start and prefix tables, with Space-Saving floors', () => {
  const a = new AccessRecorder({ bucketMs: 1000, prefixCapacity: 2, readSample: 1 });
  const b = new AccessRecorder({ bucketMs: 1000, prefixCapacity: 2, readSample: 1 });
  a.tick(5000, 0, 0);
  b.tick(5200, 0, 0);
  for (let i = 0; i < 10; i++) a.read('x:1', true);
  for (let i = 0; i < 3; i++) a.read('y:1', false);
  for (let i = 0; i < 6; i++) b.write('x:2', 100, 500);
  for (let i = 0; i < 5; i++) b.write('z:2', 100, -1);
  const sa = a.snapshot({ ...noRemovals, hits: 10, misses: 3, evictedSize: 4 });
  const sb = b.snapshot({ ...noRemovals, evictedExplicit: 2 });
  const m: AccessAnalytics = mergeAnalytics([sa, sb]);
  assert.equal(m.nodes, 2);
  assert.deepEqual(m.hitRatio, [{ startMs: 5000, hits: 10, misses: 3, writes: 11 }]);
  assert.equal(m.valueSizes[sizeBucket(100)], 11);
  assert.equal(m.ttls[0], 5);
  assert.equal(m.ttls[1], 6);
  assert.equal(m.removals.capacity, 4);
  assert.equal(m.removals.deleted, 2);
  const x = m.prefixes.find((p) => p.prefix === 'x:')!;
  assert.equal(x.count, 16);
  assert.equal(x.hits, 10);
  assert.equal(x.writes, 6);
  // y: (3) is in a's full table only; b's floor (5) is added as possible error.
  const y = m.prefixes.find((p) => p.prefix === 'y:');
  assert.equal(m.prefixes.length, 2, 'merged table keeps prefixCapacity entries');
  assert.equal(m.prefixes[0]!.prefix, 'x:');
  assert.ok(y === undefined || y.error >= 5);
  assert.equal(mergeAnalytics([sa]), sa);
});

test('the store feeds analytics: writes, TTLs, deletes, hits, misses, eviction reasons', () => {
  let now = 1_000_000;
  const clock = { wallMs: () => now, monoMs: () => now };
  const store = new Store({ maxEntries: 5, clock, policy: 'lru', analytics: { readSample: 1 } });
  store.set('user:1', new Uint8Array(10), { partition: 0 });
  store.set('sess:1', new Uint8Array(1), { partition: 1, meaning: { valueLength: 40, ttlMs: 120_000, tombstone: false } });
  store.set('sess:2', new Uint8Array(1), { partition: 1, meaning: { valueLength: 0, ttlMs: undefined, tombstone: true } });
  store.get('user:1');
  store.get('user:404');
  store.delete('user:1');
  store.set('x:1', new Uint8Array(1), { partition: 2 });
  store.set('x:2', new Uint8Array(1), { partition: 2 });
  store.set('x:3', new Uint8Array(1), { partition: 2 });
  store.set('user:2', new Uint8Array(300), { partition: 0, expiresAtMs: now + 5_000 }); // 6 entries > 5: sess:1 evicted for capacity
  now += 6_000;
  store.get('user:2'); // expired on read
  store.dropPartition(2);
  store.tick();
  const s = store.analyticsSnapshot()!;
  assert.equal(s.totals.writes, 6);
  assert.equal(s.totals.deletes, 2, 'a client delete and a tombstone write');
  assert.equal(s.totals.hits, 1);
  assert.equal(s.totals.misses, 2);
  assert.equal(s.valueSizes[sizeBucket(300)], 1);
  assert.equal(s.valueSizes[sizeBucket(40)], 1);
  assert.equal(s.ttls[TTL_LABELS.indexOf('<10s')], 1);
  assert.equal(s.ttls[TTL_LABELS.indexOf('<10m')], 1);
  assert.equal(s.ttls[0], 4);
  const user = s.prefixes.find((p) => p.prefix === 'user:')!;
  assert.deepEqual([user.hits, user.misses, user.writes, user.deletes], [1, 2, 2, 1]);
  assert.equal(s.removals.capacity, 1);
  assert.equal(s.removals.expiredOnRead, 1);
  assert.equal(s.removals.deleted, 1);
  assert.equal(s.removals.partitionDropped, 3);
  // F13: a partition handed off is not three deletes in the store's (and /metrics') counts either.
  assert.deepEqual(store.stats().evictions, { size: 1, expired: 1, explicit: 1, handoff: 3 });
  assert.equal(new Store({ maxEntries: 4, clock, analytics: false }).analyticsSnapshot(), null);
});

test('analytics travel in a status reply and bad ones are refused', async () => {
  const { decodeServerFrame, encodeServerFrame, FrameDecodeError } = await import('../../src/protocol/index.ts');
  const r = new AccessRecorder();
  r.tick(20_000, 0, 0);
  r.write('a:1', 12, 3_000);
  r.read('a:1', true);
  const analytics = r.snapshot({ ...noRemovals, hits: 1 });
  const status = { node: 'n1', cluster: 'c', zone: 'z', version: '1', ringVersion: 'v', uptimeMs: 1, partitions: 8, replicas: 1, readQuorum: 1, writeQuorum: 1, held: 8, catchingUp: 0, toHandOff: 0, clientConnections: 0, joined: true, joining: null, members: [], analytics };
  const bytes = encodeServerFrame({ type: 'replies', replies: [{ id: 1, ok: true, result: { kind: 'status', status } }] });
  const frame = decodeServerFrame(bytes);
  const reply = frame.type === 'replies' ? frame.replies[0] : undefined;
  assert.ok(reply?.ok && reply.result.kind === 'status');
  assert.deepEqual(reply.result.status.analytics, analytics);
  const bad = encodeServerFrame({ type: 'replies', replies: [{ id: 1, ok: true, result: { kind: 'status', status: { ...status, analytics: { ...analytics, ttls: ['x'] } } as never } }] });
  assert.throws(() => decodeServerFrame(bad), FrameDecodeError);
});

test('reads reach the prefix table sampled, weighted so the counts estimate every read', () => {
  const r = new AccessRecorder();
  // Two prefixes in strict alternation: a sampler in step with the workload would see only one.
  for (let i = 0; i < 80_000; i++) r.read(i % 2 === 0 ? 'even:1' : 'odd:1', i % 4 < 2);
  const table = new Map(r.snapshot(noRemovals).prefixes.map((p) => [p.prefix, p]));
  for (const prefix of ['even:', 'odd:']) {
    const p = table.get(prefix)!;
    assert.ok(Math.abs(p.hits + p.misses - 40_000) < 4_000, `${prefix} ${p.hits + p.misses}`);
    assert.ok(Math.abs(p.hits - 20_000) < 3_000, `${prefix} hits ${p.hits}`);
  }
});

test('a copy from another replica (SetOptions.copy) is stored but counts as no write and no hot-key access', () => {
  const clock = { wallMs: () => 1_000, monoMs: () => 1_000 };
  const store = new Store({ maxEntries: 100, clock, hotKeys: { sampleInterval: 1 } });
  for (let i = 0; i < 10; i++) store.set(`copied:${i}`, new Uint8Array(4), { partition: 0, copy: true });
  assert.equal(store.stats().entries, 10);
  assert.equal(store.analyticsSnapshot()!.totals.writes, 0);
  assert.deepEqual(store.hotKeys(), []);
  store.set('client:1', new Uint8Array(4), { partition: 0 });
  assert.equal(store.analyticsSnapshot()!.totals.writes, 1);
  assert.deepEqual(store.hotKeys().map((h) => h.key), ['client:1']);
});

test('a read that found a tombstone or an expired record is moved to the misses (Store.recountAsMiss), and holdsLiveValue agrees with decoding', () => {
  let now = 1_000;
  const clock = { wallMs: () => now, monoMs: () => now };
  // Replication's records: a tombstone, a value expired at 2_000 (kept for the grace), a live value.
  const record = (tombstone: boolean, expiresAtMs: number) => encodeRecord({ tombstone, expiresAtMs, version: { wallMs: 1, logical: 0, node: 1 }, value: tombstone ? new Uint8Array(0) : new Uint8Array(3) });
  const store = new Store({ maxEntries: 100, clock });
  store.set('k:deleted', record(true, 0), { partition: 3 });
  store.set('k:expiring', record(false, 2_000), { partition: 3 });
  store.set('k:live', record(false, 0), { partition: 3 });
  // What PartitionReplica.read does with each read.
  const read = (key: string) => {
    const stored = store.get(key, 3);
    if (stored !== undefined && !holdsLiveValue(stored, now)) store.recountAsMiss(3, key);
    return stored;
  };
  assert.ok(read('k:expiring') && read('k:live'));
  now = 2_000;
  for (const key of ['k:deleted', 'k:expiring', 'k:live']) assert.ok(read(key), `${key} is still held and returned`);
  assert.equal(read('k:absent'), undefined);
  assert.deepEqual([store.stats().hits, store.stats().misses], [3, 3], 'before 2_000 two hits, then one; a tombstone, an expired record and an absent key miss');
  assert.deepEqual([store.partitionStats(3).hits, store.partitionStats(3).misses], [3, 3]);
  store.recountAsMiss(9, 'k:live');
  assert.deepEqual([store.stats().hits, store.stats().misses], [3, 3], 'a partition the store never saw moves nothing');
  // The header check agrees with decoding the record.
  for (const [tombstone, expiresAtMs] of [[true, 0], [true, 5_000], [false, 0], [false, 1_999], [false, 2_000], [false, 2_001]] as const) {
    const bytes = record(tombstone, expiresAtMs);
    assert.equal(holdsLiveValue(bytes, now), !isDeadAt(decodeRecord(bytes), now), `${tombstone} ${expiresAtMs}`);
  }
});
