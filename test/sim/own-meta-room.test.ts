// A node's own gossip metadata has 512 bytes (MAX_META_BYTES) and gossip refuses more. The flags a
// node must publish (claimSeed at its join, draining, leaving, stopping) come on top of what it
// starts with, and so do the entries it may leave out (the announced ring, peer verdicts, its
// failure prediction). Before, nothing kept room for the flags: a node with long addresses drained,
// then its graceful leave threw from gossip ("member metadata encodes to more than 512 bytes") and
// the node never left. Now the flags' room is checked at start, and the optional entries give way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode } from '../../src/node/create-node.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import { RING_META } from '../../src/node/ring-placement.ts';
import type { Env } from '../../src/runtime/env.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';

const A = 0;

/** Three settled nodes; node a publishes a client and a Redis address of `addressLength` characters together (besides its partition count and its `started`). */
function cluster(addressLength: number) {
  const seeds = [0, 1, 2].map(nodeAddress);
  const sim = new Simulation<ShoalNode>({
    seed: 3,
    nodes: 3,
    factory: (env: Env) =>
      createNode({
        env,
        config: { seeds, partitions: 16, gossipProfile: 'local', ...(env.address === nodeAddress(A) ? { clientAddress: `${'h'.repeat(195)}:7400`, respAddress: `${'h'.repeat(addressLength - 205)}:7402` } : {}) },
      }),
  });
  const nodes = [0, 1, 2].map((i) => sim.process(i)!);
  sim.runUntil(20_000, () => nodes.every((n) => n.settled()));
  assert.ok(nodes.every((n) => n.settled()), 'the cluster formed');
  return { sim, a: nodes[A]! };
}

test('a node whose address leaves just room for its flags drains and then leaves: the announced ring gives way', () => {
  const { sim, a } = cluster(314);
  assert.notEqual(a.membership.self().meta[RING_META.ring], undefined, 'the premise: a announced its ring');
  a.drain();
  sim.runUntil(sim.now + 30_000, () => a.drainProgress().state === 'drained');
  assert.equal(a.drainProgress().state, 'drained');
  let left = false;
  a.leave(() => (left = true));
  sim.runUntil(sim.now + 30_000, () => left);
  assert.ok(left, 'a left the cluster');
  const meta = a.membership.self().meta;
  assert.equal(meta[RING_META.leaving], 1);
  assert.equal(meta[RING_META.draining], 1);
  assert.equal(meta[RING_META.ring], undefined, 'no room was left for the announced ring');
});

test('a node whose addresses leave no room for its flags is refused at start, saying why', () => {
  assert.throws(() => cluster(322), /this node's addresses leave no room in its gossip metadata for what it publishes later \(its claim seed and its leaving, draining and stopping flags\): member metadata encodes to more than 512 bytes/);
});
