// Node protocol versions in mixed clusters (src/gossip/protocol-version.ts), with real gossip on the
// simulated network: v and v+1 form one cluster; a v+2 node is refused by a v cluster with the
// version reason, on both sides, in status and in the logs, and is never a member.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { announcedRange, incompatibility, protocolRange, PROTOCOL_VERSION } from '../../src/gossip/protocol-version.ts';
import { createNode, type NodeConfig } from '../../src/node/create-node.ts';
import { JOIN_WAIT_LOG_AFTER_MS, type ShoalNode } from '../../src/node/node.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const V = PROTOCOL_VERSION;

function cluster(nodes: number, configFor: (index: number) => NodeConfig, lines: string[] = []): Simulation<ShoalNode> {
  const seeds = Array.from({ length: nodes }, (_, i) => nodeAddress(i));
  return new Simulation<ShoalNode>({
    seed: 11,
    nodes,
    trace: new EventTrace(),
    logSink: (line) => lines.push(line),
    factory: (env, { index }) => createNode({ env, config: { seeds, partitions: 32, gossipProfile: 'local', ...configFor(index) } }),
  });
}

test('the rule: each version within the other\'s accepted range; unversioned peers are version 1', () => {
  assert.deepEqual(protocolRange(3), { version: 3, min: 2, max: 4 });
  assert.deepEqual(protocolRange(1), { version: 1, min: 1, max: 2 });
  assert.throws(() => protocolRange(0), /positive integer/);
  assert.equal(incompatibility(protocolRange(3), protocolRange(4)), null);
  assert.equal(incompatibility(protocolRange(4), protocolRange(3)), null);
  assert.match(incompatibility(protocolRange(3), protocolRange(5))!, /^it runs protocol version 5 \(accepts 4..6\), this node protocol version 3 \(accepts 2..4\): too new for this node/);
  assert.match(incompatibility(protocolRange(5), protocolRange(3))!, /too old for this node/);
  // A newer node that still accepts v is refused by v all the same: v cannot know what v+2 means.
  assert.notEqual(incompatibility(protocolRange(1), { version: 3, min: 1, max: 4 }), null);
  assert.deepEqual(announcedRange({}), { version: 1, min: 1, max: 2 });
  assert.equal(announcedRange({ proto: 'x' }), null);
  assert.equal(announcedRange({ proto: 2, protoMin: 3, protoMax: 1 }), null);
  assert.equal(incompatibility(protocolRange(1), null), 'it announces no valid protocol version');
});

test('nodes of version v and v+1 form one cluster and one ring', () => {
  const sim = cluster(4, (i) => ({ protocolVersion: i % 2 === 0 ? V : V + 1 }));
  sim.runUntil(3_000);
  for (const n of sim.upNodes()) {
    const status = n.process!.status();
    assert.equal(status.joined, true, `${n.address} joined`);
    assert.equal(status.ring.members, 4, `${n.address} sees every node in its ring`);
    assert.deepEqual(n.process!.refusedPeers(), []);
  }
  assert.equal(new Set(sim.upNodes().map((n) => n.process!.placement().version)).size, 1);
});

test('a v+2 node is refused by a v cluster with the version reason: it never joins, both sides say why', () => {
  const lines: string[] = [];
  const sim = cluster(4, (i) => ({ protocolVersion: i === 3 ? V + 2 : V }), lines);
  sim.runUntil(3 * JOIN_WAIT_LOG_AFTER_MS);

  const newcomer = sim.process(3)!;
  const status = newcomer.status();
  assert.equal(status.joined, false);
  const reason = `it runs protocol version ${V} (accepts ${Math.max(1, V - 1)}..${V + 1}), this node protocol version ${V + 2} (accepts ${V + 1}..${V + 3}): too old for this node`;
  assert.ok(status.waitingFor?.startsWith(`seed n1 (node n1) refused this node: ${reason}`), status.waitingFor ?? 'null');
  assert.match(newcomer.versionRefusal()?.reason ?? '', /^seed n[123] \(node n[123]\) refused this node: it runs protocol version/);
  assert.ok(lines.some((l) => l.includes(` n4 error cannot join: seed n2 (node n2) refused this node: ${reason}`)), 'the newcomer logs the refusal');
  assert.ok(newcomer.membership.members().length === 1, 'the newcomer learned no member');

  const why = `it runs protocol version ${V + 2} (accepts ${V + 1}..${V + 3}), this node protocol version ${V} (accepts ${Math.max(1, V - 1)}..${V + 1}): too new for this node (a cluster mixes at most two adjacent versions: upgrade one version at a time)`;
  for (let i = 0; i < 3; i++) {
    const node = sim.process(i)!;
    const view = node.status();
    assert.equal(view.joined, true);
    assert.equal(view.ring.members, 3);
    assert.ok(!view.members.some((m) => m.name === 'n4'), 'never a member');
    assert.deepEqual(node.refusedPeers(), [{ name: 'n4', address: 'n4', reason: why }]);
    assert.ok(lines.some((l) => l.includes(` ${nodeAddress(i)} warn refusing node n4 at n4: ${why}`)), `${nodeAddress(i)} logs the refusal`);
  }
});

test('a member upgraded in place two versions up is dropped by the cluster, and welcomed back when it rolls back', () => {
  let version = V;
  const sim = cluster(4, (i) => ({ protocolVersion: i === 3 ? version : V }));
  sim.runUntil(3_000);
  assert.equal(sim.process(0)!.status().ring.members, 4);

  version = V + 2;
  sim.crash(3);
  sim.start(3);
  // The cluster remembers n4 at version v; its new life's messages are refused, so it goes dead.
  sim.runUntil(sim.now + 20_000);
  const seen = sim.process(0)!.membership.members().find((m) => m.name === 'n4');
  assert.ok(seen?.state === 'dead' || seen === undefined, `n4 is ${seen?.state}`);
  assert.equal(sim.process(3)!.status().joined, false);
  assert.match(sim.process(0)!.refusedPeers().map((p) => p.reason).join(), /too new for this node/);

  version = V + 1;
  sim.crash(3);
  sim.start(3);
  sim.runUntil(sim.now + 10_000);
  for (const n of sim.upNodes()) assert.equal(n.process!.status().ring.members, 4, `${n.address} has n4 back in its ring`);
  assert.deepEqual(sim.process(0)!.refusedPeers(), []);
});
