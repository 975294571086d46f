// A read routed by the newer ring from the start, while a drained owner's handoff is held up
// (docs/REPLICATION.md, "Ring changes", "A departing owner's handoff gates the owners left"). Three
// nodes, N = 3: y acknowledges a write at ONE with its own replica alone (its replication messages
// to a and b are lost, gossip still flows), then drains. Every partition's owners shrink from
// {y, a, b} to {a, b}; a and b move to that ring, and y's handoff to them is held up the same way.
// An ALL read through a, routed by the ring {a, b}, asks a and b only. Before, both answered as
// caught up and the read returned the older value; now they count only once y has synced with them.
//
// The fault is a real one, not a mock: the replication bytes y sends a and b are dropped at their
// transports while `held` says so; the rest of the stack is the real one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode } from '../../src/node/create-node.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import { MessageFamily } from '../../src/node/wire.ts';
import type { ReplicationBugs } from '../../src/replication/config.ts';
import type { Env, Transport } from '../../src/runtime/env.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const Y = 0;
const KEY = 'k-drained';

/** The node's transport, with replication bytes from `from` dropped while `held()` says so. */
function dropKvFrom(transport: Transport, from: string, held: () => boolean): Transport {
  return {
    send: (to, bytes, lane) => transport.send(to, bytes, lane),
    onReceive: (handler) => transport.onReceive((sender, bytes) => (held() && sender === from && bytes[0] === MessageFamily.kv ? undefined : handler(sender, bytes))),
  };
}

function cluster(bugs: ReplicationBugs) {
  const seeds = Array.from({ length: 3 }, (_, i) => nodeAddress(i));
  const fault = { held: false };
  const sim = new Simulation<ShoalNode>({
    seed: 7,
    nodes: 3,
    trace: new EventTrace(),
    factory: (env: Env, { index }) => {
      const transport = index === Y ? env.transport : dropKvFrom(env.transport, nodeAddress(Y), () => fault.held);
      return createNode({ env: { ...env, transport }, config: { seeds, partitions: 32, gossipProfile: 'local', replication: { bugs } } });
    },
  });
  return { sim, fault };
}

function write(sim: Simulation<ShoalNode>, via: ShoalNode, value: string, consistency: 'one' | 'all'): string {
  let outcome: string | null = null;
  via.kv.set(enc.encode(KEY), enc.encode(value), { consistency }, (error) => (outcome = error ? error.code : 'ok'));
  sim.runUntil(sim.now + 5_000, () => outcome !== null);
  assert.ok(outcome !== null, 'the write finished');
  return outcome;
}

/** An ALL read of KEY through `via`: its value, or the error code. */
function readAll(sim: Simulation<ShoalNode>, via: ShoalNode): string {
  let outcome: string | null = null;
  via.kv.get(enc.encode(KEY), { consistency: 'all' }, (error, result) => (outcome = error ? `error: ${error.code}` : result?.value ? dec.decode(result.value) : '(miss)'));
  sim.runUntil(sim.now + 5_000, () => outcome !== null);
  assert.ok(outcome !== null, 'the read finished');
  return outcome;
}

/**
 * The cluster up, KEY at 'old' everywhere, then 'new' acknowledged at ONE by y alone, y drained
 * with its handoff held up, and a and b on the ring without y.
 */
function drainedWithHeldHandoff(bugs: ReplicationBugs = {}) {
  const { sim, fault } = cluster(bugs);
  sim.runUntil(5_000, () => sim.upNodes().every((n) => n.process!.settled()));
  const [y, a, b] = [sim.process(0)!, sim.process(1)!, sim.process(2)!];
  assert.ok([y, a, b].every((n) => n.settled()), 'the cluster formed');
  assert.equal(write(sim, a, 'old', 'all'), 'ok');
  fault.held = true;
  assert.equal(write(sim, y, 'new', 'one'), 'ok', "y's own replica acknowledged the write at ONE");
  y.drain();
  const withoutY = () => [y, a, b].every((n) => !n.placement().members.some((m) => m.name === y.name));
  sim.runUntil(sim.now + 10_000, withoutY);
  assert.ok(withoutY(), 'every node moved to the ring without y');
  const p = a.placement().partitionOfKey(enc.encode(KEY));
  assert.deepEqual([...a.placement().owners(p)].sort(), [a.name, b.name].sort());
  assert.equal(y.drainProgress().state, 'draining', "y's handoff is held up");
  return { sim, fault, y, a, b };
}

test('an ALL read routed by the ring without a drained owner does not answer before that owner handed the partition off', () => {
  const { sim, fault, a } = drainedWithHeldHandoff();
  assert.equal(readAll(sim, a), 'error: unavailable', 'a and b do not count as caught up while y still holds what they may lack');
  fault.held = false;
  assert.equal(readAll(sim, a), 'new', 'once y synced with them, the read sees the write y acknowledged');
});

test('with the gate switched off (bugs.readyBeforeHandoff) the same ALL read misses the write the drained owner acknowledged', () => {
  const { sim, a } = drainedWithHeldHandoff({ readyBeforeHandoff: true });
  assert.equal(readAll(sim, a), 'old');
});

test('a drained owner that dies before its handoff no longer holds the others back once they see it dead (the gap left: its ONE write is not read)', () => {
  const { sim, y, a, b } = drainedWithHeldHandoff();
  assert.equal(readAll(sim, a), 'error: unavailable');
  sim.crash(Y);
  const seesDead = (n: ShoalNode) => n.status().members.some((m) => m.name === y.name && m.state === 'dead');
  sim.runUntil(sim.now + 30_000, () => seesDead(a) && seesDead(b));
  assert.ok(seesDead(a) && seesDead(b), 'a and b declared y dead');
  sim.runUntil(sim.now + 1_000);
  // The write lived on y alone: like the joint quorum, which stops waiting for a dead
  // previous-only owner, the gate does too, and reads answer what the live owners hold.
  assert.equal(readAll(sim, a), 'old');
});
