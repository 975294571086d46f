/**
 * probe-sdk F3 (/work/notes/s19): a frozen node (SIGSTOP) keeps its SDK connection "ready" until the
 * keepalive cuts it, and every read of the keys it is primary of waited for it: with keepalive off,
 * until the call's timeout. A read whose node stays silent for READ_HEDGE_AFTER_MS now also goes to
 * another replica, and the first answer wins. Events and counts only: the read must succeed while
 * its primary is frozen, well inside its timeout; no duration is asserted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, stringCodec } from '../../src/client/index.ts';
import { partitionOf } from '../../src/ring/partition.ts';
import { TestCluster, until } from './daemon-harness.ts';

test('a read whose primary is frozen is answered by another replica', async (t) => {
  const cluster = await TestCluster.create(3);
  t.after(() => cluster.cleanup());
  await cluster.startAll();
  await cluster.untilConverged();
  const n2 = cluster.nodes[1]!;
  t.after(() => n2.kill('SIGCONT'));

  // Keepalive off: the connection to n2 stays "ready" through the freeze, as it does for up to
  // 15 s with the default keepalive.
  const client = await connect({ seeds: cluster.clientAddresses, codec: stringCodec, commandTimeoutMs: 60_000, keepaliveIntervalMs: 0 });
  t.after(() => client.close());
  const ring = await client.topology();
  const encoder = new TextEncoder();
  const keys: string[] = [];
  for (let i = 0; keys.length < 5; i++) {
    const candidate = `hedge:${i}`;
    if (ring.owners[partitionOf(encoder.encode(candidate), ring.partitions)]![0] === 'n2') keys.push(candidate);
  }
  await until('the client to be connected to n2', () => (client.nodes().some((c) => c.address === n2.clientAddress && c.state === 'ready') ? true : undefined), 30_000);
  for (const key of keys) await client.set(key, `v:${key}`, { consistency: 'all' });

  n2.kill('SIGSTOP');
  // Before: each read waited for n2 until its 60 s timeout. QUORUM: n1 and n3 hold every key.
  const values = await Promise.all(keys.map((key) => client.get(key, { consistency: 'quorum' })));
  assert.deepEqual(values, keys.map((key) => `v:${key}`));
});
