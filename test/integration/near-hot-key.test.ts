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
import { InvalidationHub } from '../../src/replication/invalidation.ts';
import { RealTimers } from '../../src/runtime/real.ts';
import { AclStore } from '../../src/security/acl.ts';
import { AuthGuard } from '../../src/security/auth-guard.ts';
import type { HotKeysSource } from '../../src/server/session.ts';
import { startNode } from './client-helpers.ts';
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

test('without +@admin the near cache\'s own hot-key subscription is refused quietly: no error event, reads work', async () => {
  const acl = new AclStore('n1', () => Date.now());
  const hub = new InvalidationHub({ timers: new RealTimers(), partitions: 1024 });
  const hotKeys: HotKeysSource = { report: () => ({ node: 'n1', atMs: 0, alertRate: 0, keys: [], alerts: [] }), subscribe: () => () => {} };
  const node = await startNode({ acl, authGuard: new AuthGuard(() => 0), invalidations: hub, hotKeys });
  assert.equal(acl.setUser('reader', ['on', '>rpw', '~*', '+@read']), null);
  assert.equal(acl.setUser('default', ['resetpass', '>adminpw']), null);
  const client = await connect({ seeds: [node.address], codec: stringCodec, username: 'reader', password: 'rpw', nearCache: { maxEntries: 10 } });
  try {
    // Attached before the subscriptions' replies can arrive (they need socket reads; this runs in a microtask).
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    // Replies on one connection come in order: once these reads answer, the subscriptions' replies are in.
    assert.equal(await client.get('a:1'), null);
    assert.equal(await client.get('a:2'), null);
    assert.deepEqual(errors.map((e) => e.message), []);
  } finally {
    await client.close();
    await node.server.close({ graceMs: 0 });
    hub.stop();
  }
});
