// What the simulator tests that load a KvCluster share: a bounded number of requests in flight
// until every one is answered, and "every node up and settled". Virtual time only.
import assert from 'node:assert/strict';
import type { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';

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
