// Reversible drain (src/node/drain.ts) in the simulator: a drained node hands every partition off
// and stays a member that coordinates; undrained, it takes its share back. The `drain` scenario
// (src/sim/scenarios/rolling.ts) drains and undrains every node in turn under the kv workload with
// network and clock faults: 0 failed QUORUM requests, no lost acknowledged write, every step done.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode } from '../../src/node/create-node.ts';
import { DrainRefusedError } from '../../src/node/drain.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import type { ReplicationBugs } from '../../src/replication/config.ts';
import { runScenario } from '../../src/sim/driver.ts';
import { kvDrainScenario } from '../../src/sim/scenarios/kv-drain.ts';
import { drainScenario } from '../../src/sim/scenarios/rolling.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Seeds in CI: ~1 s of CPU each alone (seeds 1..12 passed when this was written, 54 s wall on a loaded machine). */
const SEEDS: [number, number] = [1, 10];

test(`drain scenario: seeds ${SEEDS[0]}..${SEEDS[1]}, every node drained and undrained, 0 failed QUORUM requests, no lost acknowledged write`, () => {
  for (let seed = SEEDS[0]; seed <= SEEDS[1]; seed++) {
    const report = runScenario(drainScenario, { seed, ...drainScenario.defaults }, seed === SEEDS[0]);
    assert.deepEqual(report.violations, [], `seed ${seed} failed; replay: ${report.replay}`);
    assert.equal(report['stepsDone'], report['steps'], `seed ${seed}: every drain and undrain done`);
    assert.equal(report['quorumFailed'], 0);
    assert.ok((report['quorumRequests'] as number) > 100, `seed ${seed}: the workload ran`);
    assert.ok((report['partitionsHandedOff'] as number) > 0, `seed ${seed}: partitions moved`);
  }
});

/** kv-drain seeds in CI: ~0.6 s of CPU each (1..40 passed when this was written; seed 38 is in regression-seeds.json). */
const KV_DRAIN_SEEDS: [number, number] = [1, 15];

test(`kv-drain: seeds ${KV_DRAIN_SEEDS[0]}..${KV_DRAIN_SEEDS[1]}, drains and undrains under swarm faults (crashes, partitions, loss), the kv checkers pass`, () => {
  for (let seed = KV_DRAIN_SEEDS[0]; seed <= KV_DRAIN_SEEDS[1]; seed++) {
    const report = runScenario(kvDrainScenario, { seed, ...kvDrainScenario.defaults }, seed === KV_DRAIN_SEEDS[0]);
    assert.deepEqual(report.violations, [], `seed ${seed} failed; replay: ${report.replay}`);
    assert.ok((report['drains'] as number) > 0, `seed ${seed}: some node was drained`);
  }
});

/**
 * A kv-drain seed that found a lost write: it passes, and with its fix switched off (`bug`, or
 * every fix listed when more than one closes it) a read of `key` misses an acknowledged write.
 * `nodes`: the cluster size the switch is caught at. The seeds that found these bugs were found
 * before the gossip fix of kv-sdk seed 147 (a member tells the accused), which shortens suspicions,
 * and the ring announcements (ring-lifecycle.ts), which change gossip's bytes: both take every buggy
 * run another course. Each test below uses a seed swept for with its switches alone on today's
 * gossip, except seed 400229, whose buggy run still keeps members silent to the accused
 * (`silentToAccused`) and nodes silent about their rings (`ringsUnannounced`), as when it was found.
 * Every buggy run also keeps the handoff at the timer's pace (`handOffAtTimerPace`), and, unless
 * `catchUpAsFound` is false (a seed swept for at today's catch-up pace), the catch-up too
 * (`catchUpAtTimerPace`): handing off and catching up round trip after round trip (sync.ts pressOn)
 * shortens the windows these bugs need, and with the switches alone none of these seeds fails any
 * more (with the handoff's alone, 400014, 400116, 400229, 700350 and 810039 still failed; with
 * the catch-up pressed too, none of them brings its lost write back, and 700350 or 810039 loses
 * another write, of k1). One of the five tests below uses a seed swept for at today's catch-up pace.
 * Every buggy run also expires requests as soon as their deadline timer fires (`expireBeforeReading`),
 * as when they were found: a paused node's late timers now wait a turn for answers already in, and
 * with that alone 400029 and 810039 (among others) no longer bring their lost writes back.
 */
function lostWriteSeed(seed: number, bug: keyof ReplicationBugs | (keyof ReplicationBugs)[], key: string, nodes = kvDrainScenario.defaults.nodes, catchUpAsFound = true): void {
  const options = { ...kvDrainScenario.defaults, seed, nodes };
  const fixed = runScenario(kvDrainScenario, options);
  assert.deepEqual(fixed.violations, [], `replay: ${fixed.replay}`);
  // At the handoff's old pace, and the catch-up's unless the seed was swept for at today's (ReplicationBugs.handOffAtTimerPace, catchUpAtTimerPace);
  // restarted nodes' clocks from their wall clocks, as before the clock ceiling (clockCeilingIgnored: starting above it takes these runs other courses).
  const oldPaces = [...(catchUpAsFound ? ['handOffAtTimerPace', 'catchUpAtTimerPace'] : ['handOffAtTimerPace']), 'expireBeforeReading', 'clockCeilingIgnored'];
  const bugs = Object.fromEntries([...(Array.isArray(bug) ? bug : [bug]), ...oldPaces].map((name) => [name, true]));
  const buggy = runScenario(kvDrainScenario, { ...options, bugs });
  assert.ok(buggy.violations.length >= 1, 'the switch brings the lost write back');
  // Each one a read of `key` (a QUORUM and an ALL read may both miss the same write).
  for (const violation of buggy.violations) assert.match(violation.message, new RegExp(`read \\((quorum|all)\\) of ${key} .* older than .* acknowledged before it`), JSON.stringify(buggy.violations));
}

// Seed 400110 (5 nodes) found the undrain bug; once later fixes (gossip's re-announced refutations,
// the leaving node's refusal) changed its run, the switch no longer fails it. Seed 400253 (3 nodes)
// held it until the fixes of seed 400220 (a ring change leaving a node alone waits for a peer) and
// of kv-rmw seed 106 (the answer to stale accusations) changed its course too; seed 400130 with
// 3 nodes held it until the refusal of a drain that would leave partitions without a live quorum
// (drain.ts quorumShortfall) refused one of its drains; seed 400392 with 3 nodes failed with the
// switch alone (of 400100..400400 at 3 nodes, the only one). Since reads routed by a ring with fewer
// owners than N say how many (bugs.readsWithoutOwnerCount, test/sim/drain-read.test.ts), it is closed
// twice over: the undrained node's replica, on its ring of three owners, no longer counts for the
// peers' reads routed by their ring of two; and three times over since a joint quorum waits for the
// owners both rings share (bugs.jointEndsEarly, seeds 700350 and 810039 below). The gossip fixes
// (silentToAccused, ringsUnannounced) took 400392 another course, where the three switches no longer
// fail it. With the three switches on today's gossip, of seeds 400001..400600 at 3 nodes (600 runs),
// 400014, 400246 and 400259 fail, each an ALL read of one key missing a W = 1 write, and pass fixed;
// each passes with undrainWithoutPeers alone, with jointEndsEarly alone, and with any two of the
// three switches. 400014 (k1) stood here until catch-up pressed on (sync.ts pressOn) took it another
// course. With the three switches and the handoff's old pace, at today's catch-up pace, of
// 400001..400054 (54 runs) 400029 alone fails, ALL reads of k0 missing a W = 1 write; it passes
// fixed and with undrainWithoutPeers alone. 400029 stands here.
test("kv-drain seeds 400110 and 400029: an undrained node routes by its peers' ring until one is seen on a ring with it; re-injected, a read misses an acknowledged write", () => {
  assert.deepEqual(runScenario(kvDrainScenario, { ...kvDrainScenario.defaults, seed: 400110 }).violations, []);
  lostWriteSeed(400029, ['undrainWithoutPeers', 'readsWithoutOwnerCount', 'jointEndsEarly'], 'k0', 3, false);
  assert.deepEqual(runScenario(kvDrainScenario, { ...kvDrainScenario.defaults, seed: 400029, nodes: 3, bugs: { undrainWithoutPeers: true } }).violations, []);
});

// Seed 400211 found it (docs/REPLICATION.md tells its run): the minority still on the old ring
// answered an old version of k22. The gossip fixes (silentToAccused, ringsUnannounced) took it
// another course, where the switch alone no longer fails it. With the switch alone on today's
// gossip, of kv-drain seeds 400001..400439 at 5 nodes (439 runs), 400116 alone fails: QUORUM reads
// of k6 miss a W = 2 write; it passes fixed. With catch-up pressed on (sync.ts pressOn) as well
// (the handoff at its old pace), 400116 no longer fails; of 400001..400256 at 5 nodes (256 runs)
// 400235 alone did, a QUORUM read of k2 missing a W = 2 write, until a catch-up received each
// record once (sync.ts `u`, a41490a) took it another course too. 400116 stands here, at the old
// catch-up pace.
test('kv-drain seed 400116 (found as 400211): a joint quorum is not lowered for owners cut off by a partition; re-injected, a read misses an acknowledged write', () => {
  lostWriteSeed(400116, 'jointQuorumOfLiveOwners', 'k6');
});

// kv-drain seed 400220 (3 nodes) found that a ring change leaving a node alone must wait for a
// peer to confirm it (switch aloneWithoutConfirmation). Since a drain that would leave partitions
// without a live quorum is refused (drain.ts quorumShortfall), one of its drains is refused and
// the switch no longer fails it, nor any other seed of 400200..400600 at 3 nodes (400229 failed
// with or without the switch: a lost write of its own, below). regression-seeds.json still replays
// 400220, and test/unit/ring-lifecycle.test.ts re-injects the switch.

// Seed 400229 is closed twice over since the owners a drain leaves wait for its handoff before their
// reads count (bugs.readyBeforeHandoff, test/sim/drain-read.test.ts): either fix alone passes it.
// Its buggy run keeps the old gossip (see lostWriteSeed): with the two switches alone on today's
// gossip, none of kv-drain seeds 400001..401101 at 3 nodes (1,101 runs) nor 400001..400513 at 5
// nodes (513 runs) has any violation. It keeps the old catch-up pace too: with the four switches
// and catch-up pressed on (the handoff at its old pace), none of 400001..400439 at 3 nodes (439
// runs) has any violation, 400229 included.
test("kv-drain seed 400229 (3 nodes): a read's refusal from a replica still handing the partition off carries its record, and the owner left waits for that handoff; with both re-injected, an ALL read misses a delete the draining node acknowledged at ONE", () => {
  lostWriteSeed(400229, ['readRefusalWithoutRecord', 'readyBeforeHandoff', 'silentToAccused', 'ringsUnannounced'], 'k8', 3);
  assert.deepEqual(runScenario(kvDrainScenario, { ...kvDrainScenario.defaults, seed: 400229, nodes: 3, bugs: { readRefusalWithoutRecord: true } }).violations, []);
});

// kv-drain seeds 700090 (3 nodes) and 810002 (5 nodes) found it: a node cut off on an older ring while its
// peers' ring changes. In 700090 an asymmetric partition keeps n1 on the ring {n1}, where it is
// every partition's only owner, while n2 and n3 move to {n1, n2}, then {n1, n2, n3}: n1 answered an
// ALL read of k1 from its own replica, and n2 and n3 acknowledged W = 2 writes of k1 without it. Each
// change grew the owner set, so no owner left a partition and the joint quorum ended at once, though
// n1, an owner of both rings, was still on the old one. In 810002 a split cuts {n1, n3} off while n3
// undrains: they move to the ring of all five and acknowledge a QUORUM write of k26 with n1 + n3
// once they declare the majority's owners of k26 dead, which ended their joint quorum over the
// majority's ring, where the majority's QUORUM read asks the two others. Fixed (ring-lifecycle.ts
// retireJointRings): a joint quorum waits for every owner the ring had of a moved partition, shared
// ones too, seen down or not, and covers up to MAX_JOINT_RINGS rings; bugs.jointEndsEarly re-injects
// the old rule (the previous ring alone, its live previous-only owners alone). The gossip fixes
// (silentToAccused, ringsUnannounced) took 700090 and 810002 other courses, where the switch alone
// no longer fails them. With the switch alone on today's gossip: of kv-drain seeds 700001..700600
// at 3 nodes (600 runs), 700350 alone fails, a QUORUM read of k2 missing a W = 2 write; of
// 810001..810439 at 5 nodes (439 runs), 810039, 810047, 810078, 810110 and 810305 fail with lost
// writes of one key (810039: a QUORUM read of k9), 810037 and 810273 with other lost writes (two
// keys; a ONE read), and all of them pass fixed. With catch-up pressed on (sync.ts pressOn) as
// well (the handoff at its old pace), of 700001..700124 at 3 nodes (124 runs) 700090 fails again,
// an ALL read of k2 missing a W = 2 write, and of 810001..810122 at 5 nodes (122 runs) 810037 (a
// QUORUM read of k21) and 810089 (a QUORUM read of k9) failed, each missing a W = 2 write, until
// a catch-up received each record once (sync.ts `u`, a41490a), which took 700090 and 810037
// another course again. 700350 and 810039 stand here, at the old catch-up pace.
test('kv-drain seeds 700350 (3 nodes) and 810039: a joint quorum lasts while an owner of a moved partition may still be on the old ring, cut off or not; re-injected, a read misses an acknowledged write', () => {
  lostWriteSeed(700350, 'jointEndsEarly', 'k2', 3);
  lostWriteSeed(810039, 'jointEndsEarly', 'k9');
});

function cluster(nodes: number): Simulation<ShoalNode> {
  const seeds = Array.from({ length: nodes }, (_, i) => nodeAddress(i));
  return new Simulation<ShoalNode>({
    seed: 11,
    nodes,
    trace: new EventTrace(),
    factory: (env) => createNode({ env, config: { seeds, partitions: 32, gossipProfile: 'local' } }),
  });
}

function call<T>(sim: Simulation<ShoalNode>, start: (done: (error: unknown, value?: T) => void) => void): T | undefined {
  let result: { error: unknown; value?: T } | null = null;
  start((error, value) => (result = { error, ...(value === undefined ? {} : { value }) }));
  sim.runUntil(sim.now + 2_000, () => result !== null);
  assert.ok(result !== null, 'the request finished');
  const r = result as { error: unknown; value?: T };
  assert.equal(r.error, null);
  return r.value;
}

test('a drained node owns nothing, holds nothing and still coordinates; undrained it owns its share again; the last holder may not drain', () => {
  const sim = cluster(3);
  sim.runUntil(3_000);
  const a = sim.process(0)!;
  const b = sim.process(1)!;
  const c = sim.process(2)!;
  for (let k = 0; k < 200; k++) call(sim, (done) => a.kv.set(enc.encode(`k${k}`), enc.encode(`v${k}`), {}, (e) => done(e)));
  const owned = (n: ShoalNode) => n.status().members.find((m) => m.name === c.name)!.partitionsOwned;
  assert.equal(owned(a), 32, 'with 3 nodes and N = 3, every node owns every partition');

  const started = c.drain();
  assert.equal(started.state, 'draining');
  assert.equal(started.partitionsAtStart, 32);
  assert.deepEqual(c.drain(), c.drainProgress(), 'drain is idempotent');
  sim.runUntil(sim.now + 10_000, () => c.drainProgress().state === 'drained' && a.settled() && b.settled());
  const done = c.drainProgress();
  assert.equal(done.state, 'drained');
  assert.equal(done.partitionsLeft, 0);
  // With N = 3 on 3 nodes the other owners already hold everything: keys are handed off on equal digests, no bytes sent.
  assert.equal(done.keysHandedOff, 200, JSON.stringify(done));
  for (const n of [a, b, c]) assert.equal(owned(n), 0, `${n.name}'s ring places nothing on the drained node`);
  assert.equal(c.heldPartitions().size, 0);
  assert.equal(c.status().members.find((m) => m.name === c.name)!.draining, true);
  assert.equal(c.status().drain.state, 'drained');
  // Still a member that coordinates: reads and writes through it reach the owners.
  assert.equal(dec.decode(call<Uint8Array | null>(sim, (d) => c.kv.get(enc.encode('k7'), {}, (e, v) => d(e, v?.value ?? null)))!), 'v7');
  call(sim, (d) => c.kv.set(enc.encode('through-c'), enc.encode('x'), {}, (e) => d(e)));

  // With c drained, b may drain (a still holds data), but then a may not: nobody would take its partitions.
  b.drain();
  sim.runUntil(sim.now + 1_000);
  assert.throws(() => a.drain(), DrainRefusedError);
  b.undrain();
  sim.runUntil(sim.now + 5_000, () => a.settled() && b.settled());
  // Two drains started at the same moment each see the other holding data, and pass: the rings keep
  // the drained members rather than become empty, and no value is lost.
  a.drain();
  b.drain();
  sim.runUntil(sim.now + 5_000);
  for (let k = 0; k < 200; k += 37) assert.equal(dec.decode(call<Uint8Array | null>(sim, (d) => c.kv.get(enc.encode(`k${k}`), {}, (e, v) => d(e, v?.value ?? null)))!), `v${k}`);
  a.undrain();
  b.undrain();
  sim.runUntil(sim.now + 5_000, () => a.settled() && b.settled() && owned(a) === 0);

  c.undrain();
  assert.equal(c.drainProgress().state, 'serving');
  sim.runUntil(sim.now + 10_000, () => [a, b, c].every((n) => n.settled() && owned(n) === 32));
  for (const n of [a, b, c]) assert.equal(owned(n), 32, `${n.name}'s ring places c's share back on it`);
  assert.equal(c.heldPartitions().get(0)?.ready, true, 'its partitions caught up');
  for (let k = 0; k < 200; k += 37) assert.equal(dec.decode(call<Uint8Array | null>(sim, (d) => c.kv.get(enc.encode(`k${k}`), { consistency: 'one' }, (e, v) => d(e, v?.value ?? null)))!), `v${k}`);
});
