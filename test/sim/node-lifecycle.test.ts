// ShoalNode's life in a cluster, on the simulated network with real gossip: joining through
// seeds, refusing a member with another partition count, status, graceful leave with handoff, and
// the removal of a member that stays dead.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode, type NodeConfig } from '../../src/node/create-node.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { joinInOrder } from '../../src/ring/index.ts';
import type { KvMessage } from '../../src/replication/messages.ts';
import { makeRecord } from '../../src/replication/partition-replica.ts';

const enc = new TextEncoder();

function cluster(nodes: number, configFor: (index: number) => NodeConfig = () => ({})): Simulation<ShoalNode> {
  const seeds = Array.from({ length: nodes }, (_, i) => nodeAddress(i));
  return new Simulation<ShoalNode>({
    seed: 7,
    nodes,
    trace: new EventTrace(),
    factory: (env, { index }) =>
      createNode({ env, config: { seeds, partitions: 32, gossipProfile: 'local', zone: `z${index % 2}`, clientAddress: `host${index}:7000`, ...configFor(index) } }),
  });
}

function write(sim: Simulation<ShoalNode>, via: number, key: string): void {
  let done = false;
  sim.process(via)!.kv.set(enc.encode(key), enc.encode('v'), {}, (error) => {
    assert.equal(error, null);
    done = true;
  });
  sim.runUntil(sim.now + 1_000, () => done);
  assert.ok(done, 'the write should have been acknowledged');
}

test('nodes join through their seeds, agree on the ring, and report it in status()', () => {
  const sim = cluster(4);
  sim.runUntil(2_000);
  const versions = new Set(sim.upNodes().map((n) => n.process!.placement().version));
  assert.equal(versions.size, 1, 'every node builds the same ring');
  const status = sim.process(0)!.status();
  assert.equal(status.joined, true);
  assert.equal(status.ring.members, 4);
  assert.equal(status.ring.partitions, 32);
  assert.equal(status.members.length, 4);
  assert.ok(status.members.every((m) => m.state === 'alive' && m.inRing && m.partitionsOwned > 0));
  assert.equal(status.members.reduce((s, m) => s + m.partitionsOwned, 0), 32 * 3);
  assert.equal(status.members.reduce((s, m) => s + m.primaries, 0), 32);
  assert.deepEqual(new Set(status.members.map((m) => m.clientAddress)), new Set(['host0:7000', 'host1:7000', 'host2:7000', 'host3:7000']));
  assert.equal(sim.process(0)!.topology().nodes.find((n) => n.name === 'n2')?.clientAddress, 'host1:7000');
});

test('a member running another partition count is refused and kept out of the ring, until it restarts with the right one', () => {
  let strangerPartitions = 64;
  const sim = cluster(4, (i) => (i === 3 ? { partitions: strangerPartitions } : {}));
  sim.runUntil(3_000);
  const status = sim.process(0)!.status();
  assert.equal(status.ring.members, 3);
  assert.equal(status.refusedMembers.length, 1);
  assert.equal(status.refusedMembers[0]!.name, 'n4');
  assert.match(status.refusedMembers[0]!.reason, /64 partitions but this cluster uses 32/);

  // The operator restarts it, same name, with the cluster's count: it is welcomed back.
  strangerPartitions = 32;
  sim.restart(3);
  sim.runUntil(sim.now + 15_000);
  for (const node of sim.upNodes()) {
    const view = node.process!.status();
    assert.deepEqual(view.refusedMembers, [], `${node.address} still refuses someone`);
    assert.equal(view.ring.members, 4, `${node.address}'s ring`);
  }
});

test('a graceful leave hands every partition off, leaves gossip, then calls back', () => {
  const sim = cluster(4);
  sim.runUntil(2_000);
  for (let i = 0; i < 40; i++) write(sim, 1, `key-${i}`);
  const leaver = sim.process(0)!;
  assert.ok(leaver.status().partitionsHeld > 0);
  let left = false;
  leaver.leave(() => (left = true));
  sim.runUntil(sim.now + 20_000, () => left);
  assert.ok(left, 'leave should call back once handed off');
  assert.equal(leaver.status().partitionsHeld, 0);
  sim.runUntil(sim.now + 3_000);
  const view = sim.process(1)!.status();
  assert.equal(view.members.find((m) => m.name === 'n1')?.state, 'left');
  assert.equal(view.ring.members, 3);
  // Every key is still readable at ALL from the three that remain.
  for (let i = 0; i < 40; i++) {
    let value: Uint8Array | null = null;
    sim.process(2)!.kv.get(enc.encode(`key-${i}`), { consistency: 'all' }, (error, result) => {
      assert.equal(error, null);
      value = result!.value;
    });
    sim.runUntil(sim.now + 1_000, () => value !== null);
    assert.ok(value, `key-${i} should have survived the leave`);
  }
});

test('a crashed member stays in the ring until gossip forgets it, then its partitions move', () => {
  const sim = cluster(4, () => ({ gossip: { deadReclaimMs: 5_000 } }));
  sim.runUntil(2_000);
  const before = sim.process(0)!.placement().version;
  const told: string[] = [];
  sim.process(0)!.kv.onTopologyChange!((version) => told.push(version));
  sim.crash(3);
  sim.runUntil(sim.now + 4_000);
  assert.equal(sim.process(0)!.placement().version, before, 'a crash alone does not move partitions');
  assert.deepEqual(told, [], 'no ring change, nothing told');
  sim.runUntil(sim.now + 30_000);
  const after = sim.process(0)!.status();
  assert.equal(after.ring.members, 3);
  assert.notEqual(after.ring.version, before);
  assert.deepEqual(told, [after.ring.version], 'subscribers are told the new ring version once');
  assert.ok(sim.upNodes().every((n) => n.process!.settled()), 'the new owners caught up');
  // Nothing is kept per forgotten member (a private map, read here because churn would grow it).
  const addresses = (sim.process(0) as unknown as { addressOfName: Map<string, string> }).addressOfName;
  assert.deepEqual([...addresses.keys()].sort(), ['n1', 'n2', 'n3']);
});

test('a restarted member takes back the claim seed the cluster remembers, so its restart moves no partitions', () => {
  const sim = cluster(5);
  sim.runUntil(2_000);
  const before = sim.process(0)!.placement().version;
  const seedOf = (i: number): unknown => sim.process(0)!.membership.members().find((m) => m.name === `n${i + 1}`)?.meta['claimSeed'];
  const seed = seedOf(3);
  assert.equal(typeof seed, 'number');
  sim.crash(3);
  sim.runUntil(sim.now + 500);
  sim.restart(3);
  // The restarted node starts with no claim seed of its own; it must not pick a new one.
  sim.runUntil(sim.now + 10_000);
  assert.equal(sim.process(3)!.membership.self().meta['claimSeed'], seed);
  assert.equal(seedOf(3), seed);
  for (const node of sim.upNodes()) assert.equal(node.process!.placement().version, before, `${node.address}'s ring moved`);
});

test('every member of a formed cluster has chosen a claim seed and is in the ring', () => {
  const sim = cluster(4);
  sim.runUntil(2_000);
  for (const node of sim.upNodes()) {
    const self = node.process!.membership.self();
    assert.equal(typeof self.meta['claimSeed'], 'number', `${node.address} has a claim seed`);
  }
  const ring = sim.process(0)!.placement();
  assert.deepEqual(
    ring.members.map((m) => m.name),
    sim.upNodes().map((n) => n.process!.name).sort(),
  );
});

test('a cluster booting at once chooses the claim seeds that joining one by one in name order would', () => {
  const nodes = 12;
  const seeds = [nodeAddress(0), nodeAddress(1)];
  const sim = new Simulation<ShoalNode>({
    seed: 3,
    nodes,
    trace: new EventTrace(),
    factory: (env) => createNode({ env, config: { seeds, partitions: 256, gossipProfile: 'local' } }),
  });
  sim.runUntil(5_000);
  const chosen = new Map(sim.upNodes().map((n) => [n.process!.name, n.process!.membership.self().meta['claimSeed']]));
  const sequential = joinInOrder([...chosen.keys()].sort().map((name) => ({ name })), 256, 3);
  for (const m of sequential) assert.equal(chosen.get(m.name), m.claimSeed, `${m.name}'s claim seed`);
  assert.equal(new Set(sim.upNodes().map((n) => n.process!.placement().version)).size, 1, 'one ring everywhere');
});

test('a lone node leaves gracefully: an empty ring is not an error', () => {
  const sim = cluster(1);
  sim.runUntil(1_000);
  write(sim, 0, 'only-copy');
  let left = 0;
  const node = sim.process(0)!;
  node.leave(() => left++);
  node.leave(() => left++); // a second caller (a second signal) is told too
  sim.runUntil(sim.now + 20_000, () => left === 2);
  assert.equal(left, 2, 'leave should call back every caller, even with nobody to hand off to');
  assert.equal(node.status().ring.members, 0);
});

test('a record that arrives after every owner left the ring does not hold the last leaver forever', () => {
  const sim = cluster(1);
  sim.runUntil(1_000);
  const node = sim.process(0)!;
  let left = false;
  node.leave(() => (left = true));
  sim.runUntil(sim.now + 10, () => node.status().ring.members === 0);
  assert.equal(node.status().ring.members, 0, 'the leaver dropped itself from its ring');
  // A late hint from a peer (the test plays the peer): the node holds partition 0 again, which nobody owns.
  const hint: KvMessage = { t: 'hd', id: 1, p: 0, k: 'late', r: makeRecord({ wallMs: 1, logical: 0, node: 2 }, enc.encode('v'), 0) };
  (node as unknown as { dispatch(from: string, message: KvMessage): void }).dispatch('n2', hint);
  assert.equal(node.leaveProgress().partitionsToHandOff, 1);
  sim.runUntil(sim.now + 20_000, () => left);
  assert.ok(left, `the leave should finish; it waits for ${node.leaveProgress().waitingFor}`);
});

/** Writes `count` keys through node `via` at QUORUM, all in flight together, and waits for every answer. */
function writeMany(sim: Simulation<ShoalNode>, via: number, prefix: string, count: number): void {
  let answered = 0;
  for (let i = 0; i < count; i++) {
    sim.process(via)!.kv.set(enc.encode(`${prefix}-${i}`), enc.encode('v'), {}, (error) => {
      assert.equal(error, null);
      answered++;
    });
  }
  sim.runUntil(sim.now + 10_000, () => answered === count);
  assert.equal(answered, count, 'every write should have been answered');
}

test('after a member was killed and restarted, every member still leaves gracefully, all at once', () => {
  const sim = cluster(3);
  sim.runUntil(2_000);
  sim.crash(2);
  sim.runUntil(sim.now + 20_000, () => sim.process(0)!.status().members.find((m) => m.name === 'n3')?.state === 'dead');
  assert.equal(sim.process(0)!.status().members.find((m) => m.name === 'n3')?.state, 'dead', 'n1 should have declared n3 dead');
  // The survivors keep hints for n3: more than its restart gives them time to deliver.
  writeMany(sim, 0, 'while-down', 2_000);
  sim.restart(2);
  sim.runUntil(sim.now + 10_000, () => sim.process(2)!.joined && !sim.process(2)!.catchingUp());
  assert.ok(sim.process(2)!.joined, 'n3 should be back');
  assert.ok(sim.process(0)!.stats().hints.held > 0, 'n1 should still hold hints for n3 (else this test tests nothing)');

  // n3 has nothing to wait for and leaves first; the hints for it can never be delivered then.
  const left = new Set<number>();
  for (const i of [0, 1, 2]) sim.process(i)!.leave(() => left.add(i));
  sim.runUntil(sim.now + 30_000, () => left.size === 3);
  assert.deepEqual([...left].sort(), [0, 1, 2], `still leaving: ${[0, 1, 2].filter((i) => !left.has(i)).map((i) => `n${i + 1} waits for ${sim.process(i)!.leaveProgress().waitingFor}`).join('; ')}`);
  assert.ok(sim.process(0)!.stats().hints.abandoned > 0, 'n1 dropped the hints for n3, which left');
});

test('a member leaves gracefully while another is down: it does not wait for hints it cannot deliver', () => {
  // Four nodes, so that the three left still make a quorum of every partition's owners for the handoff.
  const sim = cluster(4);
  sim.runUntil(2_000);
  sim.crash(3);
  // How long detection takes depends on the seed's draws: wait for it, bounded in simulated time.
  sim.runUntil(sim.now + 20_000, () => sim.process(0)!.status().members.find((m) => m.name === 'n4')?.state === 'dead');
  assert.equal(sim.process(0)!.status().members.find((m) => m.name === 'n4')?.state, 'dead', 'n1 should have declared n4 dead');
  writeMany(sim, 0, 'while-down', 50);
  const leaver = sim.process(0)!;
  const held = leaver.stats().hints.held;
  assert.ok(held > 0);
  assert.match(leaver.leaveProgress().waitingFor, new RegExp(`^${held} hints to n4, `));
  let left = false;
  leaver.leave(() => (left = true));
  sim.runUntil(sim.now + 30_000, () => left);
  assert.ok(left, `n1 should have left; it waits for ${leaver.leaveProgress().waitingFor}`);
  const hints = leaver.stats().hints;
  assert.equal(hints.held, 0);
  // Ordinary hints are dropped; a stand-in's (n1 took some for n4: sloppy quorum) go on to the other owners.
  assert.equal(hints.abandoned + hints.readdressed, held);
  assert.ok(hints.readdressed > 0, 'n1 stood in for n4 and passed those writes on');
});

test('a member that has handed its partitions off does not wait for the slow delivery of ordinary hints to a live member', () => {
  // Delivery throttled to one hint in flight (about five a second), so the 200 hints would take
  // 40 s to deliver; the leave may only take what the handoff takes.
  const sim = cluster(3, () => ({ replication: { hintsInFlightPerTarget: 1 } }));
  sim.runUntil(2_000);
  sim.crash(2);
  sim.runUntil(sim.now + 20_000, () => sim.process(0)!.status().members.find((m) => m.name === 'n3')?.state === 'dead');
  assert.equal(sim.process(0)!.status().members.find((m) => m.name === 'n3')?.state, 'dead', 'n1 should have declared n3 dead');
  writeMany(sim, 0, 'while-down', 200);
  sim.restart(2);
  sim.runUntil(sim.now + 10_000, () => sim.process(2)!.joined && !sim.process(2)!.catchingUp());
  assert.ok(sim.process(2)!.joined, 'n3 should be back');
  const leaver = sim.process(0)!;
  const held = leaver.stats().hints.held;
  assert.ok(held > 100, `n1 should still hold most of its hints for n3, holds ${held}`);
  let left = false;
  leaver.leave(() => (left = true));
  sim.runUntil(sim.now + 10_000, () => left);
  assert.ok(left, `n1 should have left; it waits for ${leaver.leaveProgress().waitingFor}`);
  assert.ok(leaver.stats().hints.abandoned > 0);
  // n3 caught up from the other owners when it restarted: it holds every write without the hints.
  sim.runUntil(sim.now + 3_000);
  for (let i = 0; i < 200; i++) {
    let value: Uint8Array | null = null;
    sim.process(2)!.kv.get(enc.encode(`while-down-${i}`), { consistency: 'all' }, (error, result) => {
      assert.equal(error, null);
      value = result!.value;
    });
    sim.runUntil(sim.now + 1_000, () => value !== null);
    assert.ok(value, `while-down-${i} should be readable at ALL after n1 left`);
  }
});
