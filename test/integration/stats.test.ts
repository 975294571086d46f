/**
 * `shoal stats` on a real 2-node cluster: known traffic (prefixes, value sizes, TTLs, hits, misses,
 * deletes) through the SDK, then `shoal stats --json` (a real process) and the /stats admin route
 * report it. With two nodes every key has both as replicas, and every call uses consistency
 * `all`, so each write is applied and each read served on both stores before it returns.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bytesCodec, connect, type ShoalClient } from '../../src/client/index.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import type { ClusterStats } from '../../src/cli/stats.ts';
import { sizeBucket, TTL_LABELS } from '../../src/store/index.ts';
import { runShoal, sleep, TestCluster } from './daemon-harness.ts';

let cluster: TestCluster;
let client: ShoalClient<Uint8Array>;
let adminPort: number;

before(async () => {
  cluster = await TestCluster.create(2, ['--stats-prefix-delimiter', '/']);
  [adminPort] = (await freePorts(1)) as [number];
  cluster.nodes[0]!.spec.adminPort = adminPort;
  await cluster.startAll();
  await cluster.untilConverged();
  client = await connect({ seeds: cluster.clientAddresses[0]!, codec: bytesCodec });
});

after(async () => {
  await client?.close();
  await cluster?.cleanup();
});

const USERS = 40;
const SESSIONS = 20;
const EXPIRING = 8;
const all = { consistency: 'all' } as const;

test('shoal stats --json and /stats report the traffic driven', async () => {
  for (let i = 0; i < USERS; i++) await client.set(`user/${i}`, new Uint8Array(1000), all);
  for (let i = 0; i < SESSIONS; i++) await client.set(`sess/${i}`, new Uint8Array(10), { ...all, ttlMs: 30_000 });
  // Reads reach the prefix table sampled (1 in 8, weighted by 8: src/store/analytics.ts), so
  // enough of them that the estimates below hold but for a chance under one in a million.
  for (let i = 0; i < 240; i++) assert.ok(await client.get(`user/${i % 30}`, all));
  for (let i = 0; i < 240; i++) assert.equal(await client.get(`miss/${i % 10}`, all), null);
  for (let i = 0; i < 5; i++) await client.delete(`sess/${i}`, all);
  // Reads that find a delete's tombstone or an expired value (both kept for the tombstone grace)
  // answer nil: misses, here as for the client (probe-cli F3), not hits.
  for (let i = 0; i < EXPIRING; i++) await client.set(`exp/${i}`, new Uint8Array(1), { ...all, ttlMs: 200 });
  await sleep(1_000);
  for (let i = 0; i < 5; i++) assert.equal(await client.get(`sess/${i}`, all), null);
  for (let i = 0; i < EXPIRING; i++) assert.equal(await client.get(`exp/${i}`, all), null);

  const run = await runShoal(['stats', '--json', '--node', cluster.clientAddresses[1]!]);
  assert.equal(run.status, 0, run.stderr);
  const stats = JSON.parse(run.stdout) as ClusterStats;
  assert.deepEqual(Object.keys(stats.nodes).sort(), ['n1', 'n2'], 'every member answered');
  assert.deepEqual(stats.missing, []);
  const a = stats.cluster!;
  assert.equal(a.nodes, 2);
  assert.equal(a.prefixDelimiter, '/');
  const prefix = (p: string) => a.prefixes.find((x) => x.prefix === p);
  // Each write lands on both replicas; a sync might re-apply nothing (LWW refuses known versions).
  assert.equal(prefix('user/')!.writes, 2 * USERS);
  assert.equal(prefix('sess/')!.writes, 2 * SESSIONS);
  assert.equal(prefix('sess/')!.deletes, 2 * 5, 'deletes are counted as deletes, not writes');
  assert.ok(prefix('user/')!.hits >= 120 && prefix('user/')!.misses === 0, JSON.stringify(prefix('user/')));
  assert.ok(prefix('miss/')!.misses >= 80 && prefix('miss/')!.hits === 0, JSON.stringify(prefix('miss/')));
  assert.equal(a.valueSizes[sizeBucket(1000)], 2 * USERS, 'client value sizes, not record sizes');
  assert.equal(a.valueSizes[sizeBucket(10)], 2 * SESSIONS);
  assert.equal(a.ttls[TTL_LABELS.indexOf('<1m')], 2 * SESSIONS);
  assert.equal(a.ttls[TTL_LABELS.indexOf('none')], 2 * USERS);
  assert.equal(a.totals.deletes, 10);
  // Every get read both stores: 240 found a value, 240 nothing, 5 a tombstone, EXPIRING an expired value.
  assert.deepEqual([a.totals.hits, a.totals.misses], [2 * 240, 2 * (240 + 5 + EXPIRING)]);
  assert.equal(a.hitRatio.reduce((n, b) => n + b.hits, 0), a.totals.hits, 'the buckets hold every hit so far');
  assert.equal(a.hitRatio.reduce((n, b) => n + b.misses, 0), a.totals.misses);
  assert.equal(a.totals.hits, stats.nodes['n1']!.totals.hits + stats.nodes['n2']!.totals.hits);

  const table = await runShoal(['stats', '--node', cluster.clientAddresses[0]!]);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /access analytics of 2 nodes \(n1, n2\)/);
  assert.match(table.stdout, /^user\/ +\d+/m);
  assert.match(table.stdout, /TTL OF WRITES/);

  const local = JSON.parse((await runShoal(['stats', '--json', '--local', '--node', cluster.clientAddresses[0]!])).stdout) as ClusterStats;
  assert.deepEqual(Object.keys(local.nodes), ['n1']);

  const route = (await (await fetch(`http://127.0.0.1:${adminPort}/stats?local=1`)).json()) as { node: string; analytics: ClusterStats['nodes'][string] };
  assert.equal(route.node, 'n1');
  assert.ok(route.analytics.prefixes.some((p) => p.prefix === 'user/' && p.writes === USERS), 'the route shows the node\'s own share');
});
