// How many times Shoal copies a value on its way through an N=3 write: coordinator, two remote
// owners and its own replica, in the simulator (the same node code as production), counted by
// copy-spy.ts with the line each copy came from.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WriteResult } from '../../src/replication/api.ts';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { distinctBytes, valueCopies } from './copy-spy.ts';

/** Large enough that no other message of the run (gossip, sync digests) can hold it. */
const VALUE_BYTES = 16 * 1024;

test('an N=3 write copies its value 7 times: record, one encoding for both remote owners, one send copy per remote owner, one store copy per replica', () => {
  const c = new KvCluster({ seed: 1, nodes: 3, partitions: 16, replication: { replicas: 3 }, network: {}, trace: new EventTrace() });
  const formed = (): boolean => c.sim.upNodes().every((n) => n.process!.settled());
  c.sim.runUntil(10_000, formed);
  assert.ok(formed(), 'the cluster should have formed');
  const coordinator = c.sim.process(0)!;
  const key = new TextEncoder().encode('copied');
  assert.equal(coordinator.placement().owners(coordinator.placement().partitionOfKey(key)).length, 3);

  const value = distinctBytes(VALUE_BYTES);
  let answer: { error: unknown; result?: WriteResult } | null = null;
  const sites = valueCopies(value, () => {
    coordinator.kv.set(key, value, { consistency: 'quorum' }, (error, result) => (answer = { error, result }));
    // Until every owner acknowledged (the write is finished), not just the quorum.
    c.sim.runUntil(c.sim.now + 5_000, () => answer !== null && coordinator.kv.pendingCount === 0);
  });
  assert.deepEqual(answer, { error: null, result: { acks: 2, version: (answer as unknown as { result: WriteResult }).result.version } });
  assert.equal(coordinator.kv.pendingCount, 0, 'every owner should have acknowledged');
  for (const node of c.sim.upNodes()) assert.equal(node.process!.store.has('copied'), true, `${node.address} should hold the value`);

  // Where they are, so a regression names its line. The simulated network's copy of each
  // datagram stands where the real transport's copy into its batch is (node-frames.ts).
  const where = sites.map((s) => s.replace(/:\d+:\d+\)$/, ')'));
  const count = (pattern: RegExp): number => where.filter((s) => pattern.test(s)).length;
  const explain = `copies made:\n  ${where.join('\n  ')}`;
  assert.equal(count(/encodeRecord/), 1, `the record is built once\n${explain}`);
  assert.equal(count(/encodeKvMessage/), 1, `the replica write is encoded once for both remote owners\n${explain}`);
  assert.equal(count(/sim\/network|datagram\.[jt]s/), 2, `the network copies it once per remote owner\n${explain}`);
  assert.equal(count(/value-arena/), 3, `each replica's store copies it once\n${explain}`);
  assert.equal(sites.length, 7, explain);
});
