/**
 * Redis client-side caching against a real three-node Shoal cluster: node-redis 6's
 * `clientSideCache` (RESP3, CLIENT TRACKING ON) caches a GET, and a write through another client
 * on another node invalidates it, so the cached value is not served after the invalidation; the
 * tracking replies (TRACKINGINFO, GETREDIR, CACHING, REDIRECT) match what redis-server says where
 * Shoal follows it. Every wait is bounded and driven by events, never by elapsed time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BasicClientSideCache, createClient } from 'redis';
import { freePorts } from '../../src/daemon/ports.ts';
import { TestCluster, until } from './daemon-harness.ts';

test('node-redis clientSideCache: a cached GET is invalidated by a write through another node, and CLIENT TRACKINGINFO / GETREDIR / CACHING answer as Redis', async (t) => {
  const cluster = await TestCluster.create(3);
  t.after(() => cluster.cleanup());
  const respPorts = await freePorts(3);
  // N = 3 on three nodes: every node holds every key, so a plain (non-cluster) client is never
  // redirected. W = 3: a write is on the reader's node before it is acknowledged. With W = 2 its copy
  // there could arrive (or be read-repaired) after the reader's first GET had cached it, and that
  // apply invalidates the entry before the second GET (a CI run on a loaded machine: 0 cache hits).
  cluster.nodes.forEach((node, i) => Object.assign(node.spec, { extra: ['--resp-port', String(respPorts[i]!), '--write-quorum', '3'] }));
  await cluster.startAll();
  await cluster.untilConverged();

  const cache = new BasicClientSideCache({ maxEntries: 1000 });
  const reader = createClient({ socket: { host: '127.0.0.1', port: respPorts[0]! }, RESP: 3, clientSideCache: cache });
  const writer = createClient({ socket: { host: '127.0.0.1', port: respPorts[1]! } });
  for (const c of [reader, writer]) c.on('error', () => {});
  await Promise.all([reader.connect(), writer.connect()]);
  t.after(() => Promise.all([reader.destroy(), writer.destroy()]));

  await writer.set('user:1', 'v1');
  assert.equal(await reader.get('user:1'), 'v1');
  assert.equal(await reader.get('user:1'), 'v1');
  assert.equal(cache.stats().hitCount, 1, 'the second GET was served from the client cache');

  await writer.set('user:1', 'v2');
  // The invalidate push empties the entry; until it arrives the cache may still answer v1.
  await until('the new value read through the cache', async () => ((await reader.get('user:1')) === 'v2' ? true : undefined), 10_000, 10);
  const missesBefore = cache.stats().missCount;
  assert.equal(await reader.get('user:1'), 'v2');
  assert.equal(cache.stats().missCount, missesBefore, 'v2 is cached in turn');

  // The tracking commands, on a plain RESP3 connection of their own.
  const plain = createClient({ socket: { host: '127.0.0.1', port: respPorts[2]! }, RESP: 3 });
  plain.on('error', () => {});
  await plain.connect();
  t.after(() => plain.destroy());
  assert.equal(await plain.sendCommand(['CLIENT', 'GETREDIR']), -1);
  // redis-server 7.0 answers the same (flags a RESP3 set, which node-redis reads as an array).
  assert.deepEqual(await plain.sendCommand(['CLIENT', 'TRACKINGINFO']), { flags: ['off'], redirect: -1, prefixes: [] });
  assert.equal(await plain.sendCommand(['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'user:', 'NOLOOP']), 'OK');
  assert.deepEqual(await plain.sendCommand(['CLIENT', 'TRACKINGINFO']), { flags: ['on', 'bcast', 'noloop'], redirect: 0, prefixes: ['user:'] });
  assert.equal(await plain.sendCommand(['CLIENT', 'GETREDIR']), 0);
  // Tracking is on (BCAST), so Redis 7.0 names the mode YES needs (its tracking-off text is for tracking off).
  await assert.rejects(plain.sendCommand(['CLIENT', 'CACHING', 'yes']), /CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode\./);
  await assert.rejects(plain.sendCommand(['CLIENT', 'TRACKING', 'ON', 'PREFIX', 'x']), /PREFIX option requires BCAST mode to be enabled/);
  // While BCAST is on, leaving it is refused first (Redis checks that before OPTIN/OPTOUT).
  await assert.rejects(plain.sendCommand(['CLIENT', 'TRACKING', 'ON', 'OPTIN', 'OPTOUT']), /You can't switch BCAST mode on\/off before disabling tracking/);
  assert.equal(await plain.sendCommand(['CLIENT', 'TRACKING', 'OFF']), 'OK');
  await assert.rejects(plain.sendCommand(['CLIENT', 'TRACKING', 'ON', 'OPTIN', 'OPTOUT']), /You can't specify both OPTIN mode and OPTOUT mode/);
});
