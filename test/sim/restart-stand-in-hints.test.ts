// A stop for a restart (`--stop-mode restart`) keeps the node's place in the ring and loses every
// hint it holds. A hint kept as a sloppy-quorum stand-in may be one of the copies its write's
// quorum counted, so before such a stop ShoalNode.passStandInHintsOn delivers those hints, or
// passes them on to the partition's other live owners while their owner is down, as a leave does.
//
// Four nodes, N=3, W=2 (QUORUM). A key's owners are A (the coordinator), B and C; D is the fourth
// node. B crashes and A sees it dead; A's replication to C is lost (a fault on A's transport, not a
// mock). A QUORUM write through A is then acknowledged by A and by D standing in for B: the write
// is on A and in D's hint only. D stops for a restart. Everything else is the real stack.
//
// The third case: D announces its stop in gossip, and while B is down its pass waits for the
// announcement to spread, so a write the moment the pass is done no longer picks D as a stand-in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode } from '../../src/node/create-node.ts';
import { META, type ShoalNode } from '../../src/node/node.ts';
import { MessageFamily } from '../../src/node/wire.ts';
import { joinDatagram } from '../../src/protocol/datagram.ts';
import { keyToStoreKey } from '../../src/replication/record.ts';
import type { Env, Transport } from '../../src/runtime/env.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const enc = new TextEncoder();
const NODES = 4;
const A = 0;

/** The node's transport, with its replication messages to `to()` dropped. */
function losingReplicationTo(transport: Transport, to: () => string | null): Transport {
  return {
    send: (address, datagram, lane) => (address === to() && joinDatagram(datagram)[0] === MessageFamily.kv ? undefined : transport.send(address, datagram, lane)),
    onReceive: (handler) => transport.onReceive(handler),
  };
}

/**
 * Runs the case up to D's stop; `passOn` says whether D passes its stand-in hints on first.
 * `firstWrite: false` leaves out the write D stands in for (and A's fault). With
 * `writeDuringStop`, as soon as D's pass is done, A takes a QUORUM write of the key with its fault
 * lifted, B still down. Returns whether C then holds the first write, the stand-in hints D held
 * after the first write and after the one during its stop, and (with `writeDuringStop`) whether A
 * sees D's next process alive without the stopping flag.
 */
function writeThenRestartStandIn(options: { passOn: boolean; firstWrite?: boolean; writeDuringStop?: boolean }): {
  cHolds: boolean;
  dHeldStandIns: number;
  dStandInsAfterSecondWrite: number | null;
  aSeesDBackUnflagged: boolean | null;
} {
  const { passOn, firstWrite = true, writeDuringStop = false } = options;
  const seeds = Array.from({ length: NODES }, (_, i) => nodeAddress(i));
  const fault: { dropTo: string | null } = { dropTo: null };
  const sim = new Simulation<ShoalNode>({
    seed: 7,
    nodes: NODES,
    trace: new EventTrace(),
    factory: (env: Env, { index }) => {
      const transport = index === A ? losingReplicationTo(env.transport, () => fault.dropTo) : env.transport;
      return createNode({ env: { ...env, transport }, config: { seeds, partitions: 64, gossipProfile: 'local', writeQuorum: 'quorum', readQuorum: 'quorum' } });
    },
  });
  sim.runUntil(10_000, () => sim.upNodes().length === NODES && sim.upNodes().every((n) => n.process!.settled()));
  const a = sim.process(A)!;
  assert.ok(a.joined, 'the cluster formed');

  // A key A owns; D is the node that does not own it, B and C the other owners.
  let key = '';
  let owners: string[] = [];
  for (let i = 0; !owners.includes(nodeAddress(A)); i++) {
    key = `k${i}`;
    owners = a.placement().owners(a.placement().partitionOfKey(enc.encode(key))).slice();
  }
  const partition = a.placement().partitionOfKey(enc.encode(key));
  const [b, c] = owners.filter((o) => o !== nodeAddress(A)) as [string, string];
  const d = seeds.find((s) => !owners.includes(s))!;
  const index = (name: string) => sim.indexOf(name)!;

  if (firstWrite) fault.dropTo = c;
  sim.crash(index(b));
  const bDead = () => a.membership.members().some((m) => m.name === b && m.state === 'dead');
  sim.runUntil(sim.now + 30_000, bDead);
  assert.ok(bDead(), `A sees ${b} dead`);

  if (firstWrite) {
    let outcome: string | null = null;
    a.kv.set(enc.encode(key), enc.encode('acknowledged'), { consistency: 'quorum' }, (error) => (outcome = error ? error.code : 'ok'));
    sim.runUntil(sim.now + 5_000, () => outcome !== null);
    assert.equal(outcome, 'ok', 'the QUORUM write is acknowledged (A, and D standing in for B)');
  }
  const standIn = sim.process(index(d))!;
  const dHeldStandIns = standIn.standInHints;

  if (passOn) {
    let passed = false;
    standIn.passStandInHintsOn(() => (passed = true));
    sim.runUntil(sim.now + 10_000, () => passed);
    assert.ok(passed, 'D delivered or passed on its stand-in hints');
  }
  let dStandInsAfterSecondWrite: number | null = null;
  if (writeDuringStop) {
    // At once: with B down, the pass waits for the stop's flag to reach the others first.
    fault.dropTo = null;
    let second: string | null = null;
    a.kv.set(enc.encode(key), enc.encode('during the stop'), { consistency: 'quorum' }, (error) => (second = error ? error.code : 'ok'));
    sim.runUntil(sim.now + 5_000, () => second !== null);
    assert.equal(second, 'ok', 'the second QUORUM write is acknowledged');
    sim.runUntil(sim.now + 500);
    dStandInsAfterSecondWrite = standIn.standInHints;
  }
  sim.stop(index(d));
  sim.runUntil(sim.now + 2_000);
  const holder = sim.process(index(c))!;
  const cHolds = (holder.heldPartitions().get(partition)?.peek(keyToStoreKey(enc.encode(key))) ?? null) !== null;
  let aSeesDBackUnflagged: boolean | null = null;
  if (writeDuringStop) {
    // D's next process announces its own metadata: A takes it as a stand-in again.
    sim.start(index(d));
    const backUnflagged = () => {
      const m = a.membership.member(d);
      return m !== undefined && m.state === 'alive' && !m.meta[META.stopping];
    };
    sim.runUntil(sim.now + 30_000, backUnflagged);
    aSeesDBackUnflagged = backUnflagged();
  }
  return { cHolds, dHeldStandIns, dStandInsAfterSecondWrite, aSeesDBackUnflagged };
}

test('a node stopping for a restart first passes its stand-in hints on: the write it stood in for reaches a live owner', () => {
  const { cHolds, dHeldStandIns } = writeThenRestartStandIn({ passOn: true });
  assert.equal(dHeldStandIns, 1, 'D held the write as a stand-in hint for B');
  assert.ok(cHolds, 'C, the live owner A could not reach, holds the write');
});

test('without that (the stop alone), the acknowledged write is left on A only', () => {
  const { cHolds, dHeldStandIns } = writeThenRestartStandIn({ passOn: false });
  assert.equal(dHeldStandIns, 1);
  assert.equal(cHolds, false, 'the case reaches the gap: only the stand-in hint held the second copy');
});

test('a node stopping for a restart is no longer picked as a stand-in: a write during its stop leaves it no hint to lose', () => {
  // D holds no stand-in hint, so without the wait its pass would be done at once, before A heard.
  const { dStandInsAfterSecondWrite, aSeesDBackUnflagged } = writeThenRestartStandIn({ passOn: true, firstWrite: false, writeDuringStop: true });
  // Before, A chose D (the first live node past the preference list) and D, its pass done, held a
  // stand-in hint that the stop would drop.
  assert.equal(dStandInsAfterSecondWrite, 0, 'D took no stand-in hint after announcing its stop');
  assert.equal(aSeesDBackUnflagged, true, "D's restarted process is alive to A without the flag");
});
