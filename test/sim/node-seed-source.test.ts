// Seeds that change while a node runs (the daemon re-resolves a DNS name such as a Kubernetes
// headless service into them): nodes that start in any order, or all at once before DNS lists
// any of them, end in one cluster with one ring. The "DNS" here is a list a node appears in some
// time after it starts, and each node reads it again every 2 s, as src/daemon/seeds.ts does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SwimMembership } from '../../src/gossip/swim.ts';
import { createNode } from '../../src/node/create-node.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const REFRESH_MS = 2000;

interface World {
  sim: Simulation<ShoalNode>;
  /** Starts node `index` now; DNS lists it `dnsDelayMs` later. */
  boot(index: number, dnsDelayMs: number): void;
}

function world(nodes: number, seed: number): World {
  let dns: readonly string[] = [];
  const sim: Simulation<ShoalNode> = new Simulation<ShoalNode>({
    seed,
    nodes,
    trace: new EventTrace(),
    autoStart: false,
    factory: (env) => {
      // What this node last resolved; refreshed on its own timer, like the daemon's watch.
      let resolved = dns;
      const refresh = (): void => {
        resolved = dns;
        env.timers.setTimer(REFRESH_MS, refresh);
      };
      env.timers.setTimer(REFRESH_MS, refresh);
      return createNode({ env, config: { seeds: () => resolved, partitions: 32, gossipProfile: 'local' } });
    },
  });
  return {
    sim,
    boot(index, dnsDelayMs) {
      sim.start(index);
      sim.after(dnsDelayMs, () => (dns = [...dns, nodeAddress(index)]));
    },
  };
}

/** Runs until every node has joined and sees `count` members in one ring (bounded generously). */
function assertOneCluster(sim: Simulation<ShoalNode>, count: number, label: string): void {
  const converged = (): boolean =>
    Array.from({ length: count }, (_, i) => sim.process(i)).every((n) => n !== null && n.joined && n.status().ring.members === count && n.placement().version === sim.process(0)!.placement().version);
  sim.runUntil(sim.now + 120_000, converged);
  for (let i = 0; i < count; i++) {
    const view = sim.process(i)!.status();
    assert.equal(view.joined, true, `${label}: ${nodeAddress(i)} joined (waiting for: ${view.waitingFor})`);
    assert.equal(view.ring.members, count, `${label}: ${nodeAddress(i)} has every node in its ring`);
    assert.equal(view.members.filter((m) => m.state === 'alive').length, count, `${label}: ${nodeAddress(i)} sees every node alive`);
  }
}

test('nodes started one by one, in any order, join the first through the names they resolve', () => {
  for (const order of [[0, 1, 2], [2, 0, 1], [1, 2, 0]]) {
    const { sim, boot } = world(3, 7);
    for (const [k, index] of order.entries()) sim.at(k * 5000, () => boot(index, 500));
    sim.runUntil(10_000);
    assertOneCluster(sim, 3, `order ${order.join(',')}`);
  }
});

test('nodes started together before DNS lists any of them each found a cluster, then merge into one once they resolve each other', () => {
  for (const seed of [1, 2, 3]) {
    const { sim, boot } = world(3, seed);
    for (let i = 0; i < 3; i++) boot(i, 3000 + 1000 * i);
    sim.runUntil(2500);
    for (let i = 0; i < 3; i++) assert.equal(sim.process(i)!.status().ring.members, 1, 'alone at first: DNS lists nobody yet');
    assertOneCluster(sim, 3, `seed ${seed}`);
  }
});

test('a node whose seed names resolve to nothing but itself founds a cluster, serves at once, and keeps looking for peers while alone', () => {
  const { sim, boot } = world(1, 4);
  boot(0, 0);
  sim.runUntil(1000);
  const node = sim.process(0)!;
  assert.equal(node.joined, true);
  // Not only the (30 s on a LAN) push-pull with seeds it does not see: join attempts, which back
  // off to at most 10 s, pick up the addresses DNS gives it next.
  const swim = node.membership as SwimMembership;
  const before = swim.stats.joinAttempts;
  sim.runUntil(60_000);
  assert.ok(swim.stats.joinAttempts > before, `join attempts while alone: ${before} then ${swim.stats.joinAttempts}`);
});
