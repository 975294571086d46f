/**
 * Hot keys go near with the SDK against a real three-node cluster (--hot-key-alert-rate 20): a
 * client whose near cache covers only `user:` reads `hot:item` until a node's alert names it; its
 * reads of the key are then served near (it was not in the prefixes), and a write through another
 * client invalidates the near copy (the key's stream was subscribed). Every wait is bounded and
 * driven by events or counters.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, stringCodec } from '../../src/client/index.ts';
import { TestCluster, until } from './daemon-harness.ts';

test('a hot key outside the near cache\'s prefixes is cached near and invalidated by another client\'s write', async (t) => {
  const cluster = await TestCluster.create(3, ['--hot-key-alert-rate', '20']);
  t.after(() => cluster.cleanup());
  await cluster.startAll();
  await cluster.untilConverged();

  const near = await connect({ seeds: cluster.clientAddresses, codec: stringCodec, nearCache: { maxEntries: 100, prefixes: ['user:'] } });
  t.after(() => near.close());
  const other = await connect({ seeds: cluster.clientAddresses, codec: stringCodec });
  t.after(() => other.close());
  const alerts: string[] = [];
  near.on('hotkey', (alert) => alerts.push(alert.key));
  const invalidated: string[] = [];
  near.on('invalidate', (key) => invalidated.push(new TextDecoder().decode(key)));

  await other.set('hot:item', 'v1');
  // Reads in bursts until a node alerts and the client serves the key near.
  await until(
    'the hot key served from the near cache',
    async () => {
      await Promise.all(Array.from({ length: 50 }, async () => assert.equal(await near.get('hot:item'), 'v1')));
      return (near.nearCacheStats()?.hits ?? 0) > 0 ? true : undefined;
    },
    60_000,
    0,
  );
  assert.ok(alerts.includes('hot:item'), `alerts: ${alerts.join(', ')}`);

  await other.set('hot:item', 'v2');
  await until('the write invalidating the near copy', async () => {
    if (invalidated.includes('hot:item')) return true;
    // The near copy lives at most a second: keep it filled while the invalidation is on its way.
    await near.get('hot:item');
    return undefined;
  }, 20_000, 20);
  assert.equal(await near.get('hot:item'), 'v2', 'the next read sees the new value');
});
