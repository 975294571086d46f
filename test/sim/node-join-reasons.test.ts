// A node that cannot join says why, in status() and its log, and its cluster shows it as refused:
// another cluster name (refused by every seed, logged on both sides), or another partition count
// (the message names the same facts on both sides instead of each telling the other to restart).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode, type NodeConfig } from '../../src/node/create-node.ts';
import { JOIN_WAIT_LOG_AFTER_MS, type ShoalNode } from '../../src/node/node.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

function cluster(nodes: number, configFor: (index: number) => NodeConfig, lines: string[] = []): Simulation<ShoalNode> {
  const seeds = Array.from({ length: nodes }, (_, i) => nodeAddress(i));
  return new Simulation<ShoalNode>({
    seed: 5,
    nodes,
    trace: new EventTrace(),
    logSink: (line) => lines.push(line),
    factory: (env, { index }) => createNode({ env, config: { seeds, partitions: 32, gossipProfile: 'local', ...configFor(index) } }),
  });
}

test('a node started with another cluster name is refused by every seed, says so in status() and its log, and the seeds list it as refused', () => {
  const lines: string[] = [];
  const sim = cluster(4, (i) => (i === 3 ? { clusterName: 'other' } : {}), lines);
  sim.runUntil(3 * JOIN_WAIT_LOG_AFTER_MS);
  const stranger = sim.process(3)!;
  const status = stranger.status();
  assert.equal(status.joined, false);
  assert.match(status.waitingFor ?? '', /^seed n1 \(node n1\) belongs to cluster "shoal", this node to cluster "other" \(cluster names must match\); seed n2 /);
  assert.equal(stranger.clusterRefusal()?.cluster, 'shoal');
  assert.ok(lines.some((l) => l.includes(' n4 warn still joining; waiting for: seed n1 (node n1) belongs to cluster "shoal"')), 'the stranger logs what it waits for');
  assert.ok(lines.some((l) => l.includes(' n4 error cannot join: seed n2 (node n2) belongs to cluster "shoal"')), 'the stranger logs the refusal');

  for (let i = 0; i < 3; i++) {
    const node = sim.process(i)!;
    const view = node.status();
    assert.equal(view.joined, true);
    assert.equal(view.waitingFor, null);
    assert.equal(view.ring.members, 3);
    assert.ok(!view.members.some((m) => m.name === 'n4'), 'never a member');
    assert.deepEqual(node.refusedPeers(), [{ name: 'n4', address: 'n4', reason: 'it belongs to cluster "other", this node to cluster "shoal" (cluster names must match)' }]);
    assert.ok(lines.some((l) => l.includes(` ${nodeAddress(i)} warn refusing node n4 at n4: it belongs to cluster "other"`)), `${nodeAddress(i)} logs the refusal`);
  }
});

test('a partition-count refusal does not contradict itself: the cluster tells the member to change, the newcomer says what differs', () => {
  const sim = cluster(4, (i) => (i === 3 ? { partitions: 64 } : {}));
  sim.runUntil(5_000);
  const stranger = sim.process(3)!.refusedMembers();
  assert.equal(stranger.length, 3);
  for (const r of stranger) {
    assert.equal(r.partitions, 32);
    assert.equal(r.reason, `node "${r.name}" is configured with 32 partitions and this node with 64; the partition count is fixed for the life of a cluster and the same on every member`);
  }
  const [seen] = sim.process(0)!.refusedMembers();
  assert.deepEqual(seen, {
    name: 'n4',
    partitions: 64,
    reason: 'node "n4" is configured with 64 partitions but this cluster uses 32; the partition count is fixed for the life of a cluster: restart "n4" with partitions=32',
  });
  assert.deepEqual(sim.process(0)!.refusedPeers(), [{ name: 'n4', address: 'n4', reason: seen!.reason }]);
});

test('a node whose seeds never answer says so, and logs it while it lasts', () => {
  const lines: string[] = [];
  // n2 joins through n1 only, and n1 never starts.
  const sim = new Simulation<ShoalNode>({
    seed: 5,
    nodes: 2,
    trace: new EventTrace(),
    autoStart: false,
    logSink: (line) => lines.push(line),
    factory: (env) => createNode({ env, config: { seeds: [nodeAddress(0)], partitions: 32, gossipProfile: 'local' } }),
  });
  sim.start(1);
  sim.runUntil(10 * JOIN_WAIT_LOG_AFTER_MS);
  const node = sim.process(1)!;
  assert.equal(node.status().waitingFor, 'no answer from seeds: n1');
  const logged = lines.filter((l) => l.includes(' n2 warn still joining; waiting for: no answer from seeds: n1'));
  assert.ok(logged.length >= 2 && logged.length <= 10, `logged ${logged.length} times`);
});
