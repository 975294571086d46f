// A node that dies in the second after a ring change (docs/REPLICATION.md, "Ring changes").
// Two nodes a and b form a cluster; c joins, and every partition's owners grow from {a, b} to
// {a, b, c}. A write's joint quorum on a covers the ring {a, b} until a sees b past it: before,
// only a sync answer from b on the new ring (or a refusal) showed that, so b dying a moment after
// it moved on held every QUORUM write through a (2 of the ring {a, b}'s 2 owners) until gossip
// forgot b, 60 s on the local profile (cli-dead-member.test.ts failed so, 1 run in 4). Now each
// node announces the ring it routes by in its gossip metadata, and a sees b past {a, b} within a
// gossip round.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode } from '../../src/node/create-node.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import type { ReplicationBugs } from '../../src/replication/config.ts';
import type { Env } from '../../src/runtime/env.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const enc = new TextEncoder();
const [A, B, C] = [0, 1, 2];

/** a and b settled as a cluster, then c joins; b crashes `afterMs` after it installed the ring with c. */
function bDiesAfterRingChange(afterMs: number, bugs: ReplicationBugs = {}) {
  const seeds = [A, B, C].map(nodeAddress);
  const sim = new Simulation<ShoalNode>({
    seed: 7,
    nodes: 3,
    autoStart: false,
    trace: new EventTrace(),
    factory: (env: Env) => createNode({ env, config: { seeds, partitions: 16, gossipProfile: 'local', replication: { bugs } } }),
  });
  sim.start(A);
  sim.start(B);
  const [a, b] = [sim.process(A)!, sim.process(B)!];
  sim.runUntil(20_000, () => a.settled() && b.settled());
  assert.ok(a.settled() && b.settled(), 'a and b formed a cluster');
  sim.start(C);
  sim.runUntil(sim.now + 10_000, () => b.status().ring.members === 3);
  assert.equal(b.status().ring.members, 3, 'b moved to the ring with c');
  sim.runUntil(sim.now + afterMs);
  const bOnAnotherRing = a.status().members.find((m) => m.name === b.name)!.onAnotherRing;
  sim.crash(B);
  assert.equal(a.status().ring.members, 3, 'a is on the ring with c too');
  return { sim, a, bName: b.name, bOnAnotherRing };
}

/** QUORUM writes through a, one every 500 ms for `count`: each one's outcome ('ok' or the error code). */
function writesThrough(sim: Simulation<ShoalNode>, a: ShoalNode, count: number): string[] {
  const outcomes: string[] = [];
  for (let i = 0; i < count; i++) {
    let outcome: string | null = null;
    a.kv.set(enc.encode(`k${i}`), enc.encode('v'), { consistency: 'quorum' }, (error) => (outcome = error ? error.code : 'ok'));
    sim.runUntil(sim.now + 6_000, () => outcome !== null);
    outcomes.push(outcome ?? 'no answer');
    sim.runUntil(sim.now + 500);
  }
  return outcomes;
}

test('b dies 200 ms after moving to the ring with c: a saw it announce that ring, and QUORUM writes through a go on', () => {
  const { sim, a, bOnAnotherRing } = bDiesAfterRingChange(200);
  assert.equal(bOnAnotherRing, false, "a's status showed b on its ring before the crash");
  assert.deepEqual(writesThrough(sim, a, 20), Array(20).fill('ok'));
});

test('with rings unannounced (bugs.ringsUnannounced) the same writes fail: the ring {a, b} holds them', () => {
  const { sim, a } = bDiesAfterRingChange(200, { ringsUnannounced: true });
  assert.deepEqual(writesThrough(sim, a, 20), Array(20).fill('unavailable'));
});

test('the gap left: b dying the instant it moved on never announced it, and the writes wait until gossip forgets b', () => {
  const { sim, a, bName, bOnAnotherRing } = bDiesAfterRingChange(0);
  assert.equal(bOnAnotherRing, true, "a's status showed b still announcing the ring {a, b}");
  const outcomes = writesThrough(sim, a, 160);
  const firstOk = outcomes.indexOf('ok');
  assert.ok(firstOk > 0, 'the first writes fail');
  assert.ok(outcomes.slice(firstOk).every((o) => o === 'ok'), `every write after b was forgotten succeeds: ${outcomes.join()}`);
  assert.ok(!a.status().members.some((m) => m.name === bName), 'b was forgotten');
});
