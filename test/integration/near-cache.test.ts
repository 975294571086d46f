/**
 * The SDK's near cache against a real three-node cluster: a value read twice is served from the
 * near cache the second time; a write through another client invalidates it (the 'invalidate'
 * event) and the next read sees the new value; `nearCache: false` reads the cluster; a node that
 * goes away flushes the partitions its connection streamed ('stale-dropped', source-lost). Every
 * wait is bounded and driven by events or counters, never by elapsed time.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { connect, stringCodec } from '../../src/client/index.ts';
import { TestCluster, until } from './daemon-harness.ts';

/** A 3-node cluster, a client with a near cache and one without, and the keys the near cache heard invalidated. */
async function nearCluster(t: TestContext) {
  const cluster = await TestCluster.create(3);
  t.after(() => cluster.cleanup());
  await cluster.startAll();
  await cluster.untilConverged();
  const near = await connect({ seeds: cluster.clientAddresses, codec: stringCodec, nearCache: { maxEntries: 1000, ttlMs: 60_000 } });
  t.after(() => near.close());
  const other = await connect({ seeds: cluster.clientAddresses, codec: stringCodec });
  t.after(() => other.close());
  const invalidated: string[] = [];
  near.on('invalidate', (key) => invalidated.push(new TextDecoder().decode(key)));
  return { cluster, near, other, invalidated };
}

test('near cache: hits after a read, invalidated by another client\'s write, bypassed on request, flushed when a node goes away', async (t) => {
  const { cluster, near, other, invalidated } = await nearCluster(t);
  const dropped: string[] = [];
  near.on('stale-dropped', (_p, reason) => dropped.push(reason));

  await other.set('user:1', 'v1');
  // The cache installs once two of the partition's owners stream it (their first heartbeat, within a second).
  await until(
    'a read served from the near cache',
    async () => {
      assert.equal(await near.get('user:1'), 'v1');
      return (near.nearCacheStats()?.hits ?? 0) > 0 ? true : undefined;
    },
    30_000,
    50,
  );
  const before = near.nearCacheStats()!;
  assert.equal(await near.get('user:1'), 'v1');
  assert.equal(near.nearCacheStats()!.hits, before.hits + 1, 'served near');
  assert.equal(await near.get('user:1', { nearCache: false }), 'v1');
  assert.equal(near.nearCacheStats()!.hits, before.hits + 1, 'nearCache: false reads the cluster');

  await other.set('user:1', 'v2');
  await until('the write invalidating the near copy', () => (invalidated.includes('user:1') ? true : undefined), 10_000, 10);
  assert.equal(await near.get('user:1'), 'v2', 'the next read sees the new value');
  assert.ok(near.nearCacheStats()!.invalidations > 0);

  // A node goes away: what its connection streamed is flushed, and reads still answer.
  const victim = cluster.nodes[2]!;
  const gone = victim.exited();
  victim.kill('SIGKILL');
  await gone;
  await until('the lost connection flushing its partitions', () => (dropped.includes('source-lost') ? true : undefined), 30_000, 20);
  assert.equal(await near.get('user:1'), 'v2');
});

test('near cache: concurrent gets of a key it does not hold share one cluster read', async (t) => {
  const { near, other, invalidated } = await nearCluster(t);

  await other.set('herd:1', 'v1');
  // Its partition streamed: a read of it is served from the near cache.
  await until('a read served from the near cache', async () => ((await near.get('herd:1')) === 'v1' && (near.nearCacheStats()?.hits ?? 0) > 0 ? true : undefined), 30_000, 50);
  await other.set('herd:1', 'v2');
  await until('the write invalidating the near copy', () => (invalidated.includes('herd:1') ? true : undefined), 10_000, 10);

  // A hot key just invalidated (or expired): before, each of these gets sent its own read.
  const before = near.nearCacheStats()!;
  const values = await Promise.all(Array.from({ length: 200 }, () => near.get('herd:1')));
  assert.deepEqual(new Set(values), new Set(['v2']));
  const after = near.nearCacheStats()!;
  assert.equal(after.misses - before.misses, 200);
  // (Whether that read's answer is installed depends on the invalidation's copies from the other
  // owners' streams: one arriving during the read refuses the fill, as for any read.)
  assert.equal(after.sharedMisses - before.sharedMisses, 199, 'one read answered all 200');
  // A get with a signal of its own, or another consistency, sends its own read.
  const own = await Promise.all([near.get('herd:2', { signal: new AbortController().signal }), near.get('herd:2', { consistency: 'one' }), near.get('herd:2')]);
  assert.deepEqual(own, [null, null, null]);
  assert.equal(near.nearCacheStats()!.sharedMisses, after.sharedMisses, 'none of them shared');
});
