// A node restarted after a crash builds its first ring from the cluster's whole member list, not
// from itself and the first peer it happened to hear of (restart-probe F7).
//
// Five nodes; node 4 crashes and starts again half a second later, while its peers still probe it.
// For the first seconds of its new life nothing crosses the bulk lane to or from it: the push-pull
// exchanges that carry a member's full table (its join through the seeds, the peers' periodic
// syncs) are lost, as on a loaded host whose bulk connection lags, while the pings of the control
// lane get through. A ping tells it of one peer: before the fix, the join counted itself done
// there, and 250 ms later the node built a ring of itself and that peer (sim: 2 of 5 members, for
// 3 s; with 30% loss and no cut, seeds 4 and 8 did the same on their own for 7 s and 2 s).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Env } from '../../src/runtime/env.ts';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { allSettled } from './drive-cluster.ts';

const NODES = 5;
const VICTIM = 4;
const CUT_MS = 3_000;

test('a node restarted after a crash builds its first ring from every member, even when its first full-state syncs are lost', () => {
  let bulkCut = false;
  const victim = nodeAddress(VICTIM);
  const cutting = (env: Env): Env => ({
    ...env,
    transport: {
      send: (to, datagram, lane) => (bulkCut && lane === 'bulk' && to === victim ? undefined : env.transport.send(to, datagram, lane)),
      onReceive: (handler) => env.transport.onReceive(handler),
    },
  });
  const cluster = new KvCluster({ seed: 3, nodes: NODES, partitions: 64, replication: {}, network: {}, trace: new EventTrace(), instrument: (env, _info, build) => build(cutting(env)) });
  const sim = cluster.sim;
  sim.runUntil(30_000, () => allSettled(cluster, NODES));
  assert.ok(allSettled(cluster, NODES), 'the cluster formed');

  cluster.crash(VICTIM);
  sim.runUntil(sim.now + 15_000);
  bulkCut = true;
  cluster.restart(VICTIM);
  const restarted = sim.process(VICTIM)!;
  const rings: number[] = [];
  let last = restarted.placement().version;
  const watch = (): boolean => {
    const placement = restarted.placement();
    if (placement.version !== last) {
      last = placement.version;
      rings.push(placement.members.length);
    }
    return false;
  };
  // A peer's state changes meanwhile (as its health metadata does when a member dies and comes
  // back): gossip's piggyback carries that one update to the restarted node.
  sim.runUntil(sim.now + 50, watch);
  const peer = sim.process(1)!.membership;
  peer.updateMeta({ ...peer.self().meta, probe: 1 });
  sim.runUntil(sim.now + CUT_MS, watch);
  bulkCut = false;
  sim.runUntil(sim.now + 10_000, watch);

  assert.ok(rings.length > 0, 'the node built a ring once its syncs went through');
  assert.deepEqual(rings, [NODES], `every ring the restarted node built, by member count: ${rings.join(', ')}`);
  assert.ok(allSettled(cluster, NODES), 'the cluster settled again');
});
