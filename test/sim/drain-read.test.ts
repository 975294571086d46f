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
import { LOCAL_PROFILE } from '../../src/gossip/config.ts';
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

/** What a and b drop of the bytes y sends them: replication ones while `held`, gossip ones while `deaf`. */
interface Fault {
  held: boolean;
  deaf: boolean;
}

/** The node's transport, with the bytes from `from` that `fault` names dropped. */
function dropFrom(transport: Transport, from: string, fault: Fault): Transport {
  const dropped = (bytes: Uint8Array) => (fault.held && bytes[0] === MessageFamily.kv) || (fault.deaf && bytes[0] === MessageFamily.gossip);
  return {
    send: (to, bytes, lane) => transport.send(to, bytes, lane),
    onReceive: (handler) => transport.onReceive((sender, bytes) => (sender === from && dropped(bytes) ? undefined : handler(sender, bytes))),
  };
}

/** `seed`: the simulation's (its network's latencies, the nodes' draws). */
function cluster(bugs: ReplicationBugs, seed = 7) {
  const seeds = Array.from({ length: 3 }, (_, i) => nodeAddress(i));
  const fault: Fault = { held: false, deaf: false };
  const sim = new Simulation<ShoalNode>({
    seed,
    nodes: 3,
    trace: new EventTrace(),
    factory: (env: Env, { index }) => {
      const transport = index === Y ? env.transport : dropFrom(env.transport, nodeAddress(Y), fault);
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

/**
 * The ring change has not reached the owners left: a and b no longer hear y's gossip either, so
 * they stay on the ring {y, a, b} while y drains and routes by {a, b}. An ALL read through y asks
 * a and b, which answer as caught up owners of their own ring (a replica behind the reader's ring
 * accepts it). Before, the read returned 'old': R = 2 of the reader's two owners, but W = 1 of
 * their ring's three. Now the read says the partition has 2 owners in its ring, and a replica whose
 * ring gives it more does not count until it has moved to that ring and synced with y.
 */
function drainedUnheard(bugs: ReplicationBugs = {}, seed?: number) {
  const { sim, fault } = cluster(bugs, seed);
  sim.runUntil(5_000, () => sim.upNodes().every((n) => n.process!.settled()));
  const [y, a, b] = [sim.process(0)!, sim.process(1)!, sim.process(2)!];
  assert.equal(write(sim, a, 'old', 'all'), 'ok');
  fault.held = true;
  assert.equal(write(sim, y, 'new', 'one'), 'ok', "y's own replica acknowledged the write at ONE");
  fault.deaf = true;
  y.drain();
  sim.runUntil(sim.now + 2_000, () => !y.placement().members.some((m) => m.name === y.name));
  const withY = (n: ShoalNode) => n.placement().members.some((m) => m.name === y.name);
  assert.ok(!withY(y) && withY(a) && withY(b), 'y routes by {a, b}; a and b are still on the ring with y');
  // y's replication bytes flow again, so the read reaches a and b (and later y's handoff).
  fault.held = false;
  return { sim, fault, y, a, b };
}

test('an ALL read through the drained node is not answered by owners that have not heard of its drain', () => {
  const { sim, fault, y, a, b } = drainedUnheard();
  assert.equal(readAll(sim, y), 'error: unavailable', 'a and b, behind the ring that shrank the partition, do not count as caught up');
  fault.deaf = false;
  const movedAndSynced = (n: ShoalNode) => !n.placement().members.some((m) => m.name === y.name) && n.handoffProgress().partitionsCatchingUp === 0;
  // They hear of the drain by gossip: its broadcast was lost while they were deaf, so it comes back
  // by a refutation of a suspicion of y, or at the latest by a push-pull (1.25 s in this run before
  // catch-up pressed on, sync.ts pressOn; 11.75 s since, the run taking another course).
  sim.runUntil(sim.now + LOCAL_PROFILE.pushPullIntervalMs + 5_000, () => movedAndSynced(a) && movedAndSynced(b));
  assert.ok(movedAndSynced(a) && movedAndSynced(b), 'a and b heard of the drain and synced with y');
  assert.equal(readAll(sim, y), 'new', 'once they moved to the ring without y and synced with it, the read sees its write');
});

test('with reads that do not carry the owner count (bugs.readsWithoutOwnerCount) the same read misses the write', () => {
  // Seed 7 (the test above) no longer meets the bug: with rings announced in gossip
  // (ring-lifecycle.ts) or catch-up pressed on (sync.ts pressOn), y's handoff, no longer held,
  // reaches a and b while the read is under way and it returns 'new'. With both, of simulation
  // seeds 1..40, 2, 9, 14, 15, 18, 21, 22, 31, 33, 34, 36 and 39 return 'old' with the switch, and
  // all of them 'error: unavailable' without it. Seed 2, both ways:
  const buggy = drainedUnheard({ readsWithoutOwnerCount: true }, 2);
  assert.equal(readAll(buggy.sim, buggy.y), 'old');
  const fixed = drainedUnheard({}, 2);
  assert.equal(readAll(fixed.sim, fixed.y), 'error: unavailable', 'fixed, a and b do not count as caught up');
});
