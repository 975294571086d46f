// What the simulator tests that load a KvCluster share: a bounded number of requests in flight
// until every one is answered, and "every node up and settled". Virtual time only.
import assert from 'node:assert/strict';
import type { ReplicationConfig } from '../../src/replication/config.ts';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { EventTrace } from '../../src/sim/trace.ts';

/**
 * Runs `start` for each of `count` items with at most `inFlight` outstanding, until all finished
 * (or 600 virtual seconds passed); returns the errors the items reported, in the order they came.
 */
export function drive(cluster: KvCluster, count: number, inFlight: number, start: (i: number, done: (error?: unknown) => void) => void): unknown[] {
  const errors: unknown[] = [];
  let next = 0;
  let finished = 0;
  const launch = (): void => {
    if (next >= count) return;
    const i = next++;
    start(i, (error) => {
      if (error !== null && error !== undefined) errors.push(error);
      finished++;
      launch();
    });
  };
  for (let k = 0; k < inFlight; k++) launch();
  cluster.sim.runUntil(cluster.sim.now + 600_000, () => finished === count);
  assert.equal(finished, count, 'every request finished');
  return errors;
}

/** Every one of `nodes` nodes is up, settled and not catching up. */
export function allSettled(cluster: KvCluster, nodes: number): boolean {
  const up = cluster.sim.upNodes();
  return up.length === nodes && up.every((n) => n.process!.settled() && !n.process!.catchingUp());
}

/**
 * A cluster of `nodes` formed, `keys` keys (`k0`.. with values `v0`..) written at QUORUM, 256 in
 * flight, every write acknowledged, and every node settled again: the start of the pace tests.
 */
export function loadedCluster(options: { seed: number; nodes: number; partitions: number; replication: Partial<ReplicationConfig>; keys: number }): KvCluster {
  const { seed, nodes, partitions, replication, keys } = options;
  const enc = new TextEncoder();
  const cluster = new KvCluster({ seed, nodes, partitions, replication, network: {}, trace: new EventTrace() });
  const sim = cluster.sim;
  sim.runUntil(10_000, () => allSettled(cluster, nodes));
  assert.ok(allSettled(cluster, nodes), 'the cluster formed');
  const errors = drive(cluster, keys, 256, (i, done) => sim.process(i % nodes)!.kv.set(enc.encode(`k${i}`), enc.encode(`v${i}`), { consistency: 'quorum' }, (error) => done(error)));
  assert.deepEqual(errors, [], 'every write was acknowledged');
  sim.runUntil(sim.now + 120_000, () => allSettled(cluster, nodes));
  assert.ok(allSettled(cluster, nodes), 'every replica holds what it owns');
  return cluster;
}

/**
 * A formed cluster of three whose node 0 has a 64 KiB store and the others 256 MiB: one owner under
 * memory pressure beside two with room for everything (eviction-spread, eviction-churn).
 */
export function memorySkewedCluster(seed: number, replication: Partial<ReplicationConfig>): KvCluster {
  const cluster = new KvCluster({
    seed,
    nodes: 3,
    partitions: 16,
    replication,
    network: {},
    trace: new EventTrace(),
    nodeConfig: ({ index }) => (index === 0 ? { maxMemory: 64 * 2 ** 10 } : { maxMemory: 256 * 2 ** 20 }),
  });
  cluster.sim.runUntil(30_000, () => allSettled(cluster, 3));
  assert.ok(allSettled(cluster, 3), 'the cluster formed');
  return cluster;
}
