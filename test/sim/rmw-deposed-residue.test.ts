// A deposed primary's residue evicted (docs/REPLICATION.md, "Read-modify-write", the Evictions
// bullet's limit), built by hand on a quiet 4-node cluster: owners P (the primary), Q and A of the
// counter's partition, and D, a coordinator that owns nothing. The counter is at 2 on every owner
// (two acknowledged INCRs). Q runs an operation as primary and so promises a higher epoch; P's
// INCR X, already under way with its own claim, reaches A, which promised nothing newer and
// applies it, and Q, which refuses it: P is deposed, X was never acknowledged, and P's own replica
// never applied it. A's store then evicts X. These tests pin down what follows on main: where the
// acknowledged 2 survives and where an INCR counts from nothing over it. They pass today; a fix of
// the limit changes the counts they expect.
// Virtual time: nothing here is a timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeAddress } from '../../src/sim/simulation.ts';
import { keyToStoreKey } from '../../src/replication/record.ts';
import { encodeRmwOp, type WireRmwOp } from '../../src/replication/rmw-wire.ts';
import type { KvMessage } from '../../src/replication/messages.ts';
import type { RmwOp } from '../../src/replication/rmw.ts';
import { counterCluster } from './rmw-counter-cluster.ts';

const enc = new TextEncoder();

interface ResidueRun {
  /** The counter's value on P, Q and A (null: not held) at each step. */
  acknowledged: (string | null)[];
  residue: (string | null)[];
  evicted: (string | null)[];
  beforeNext: (string | null)[];
  afterNext: (string | null)[];
  /** The answers of the INCRs through D's coordinator: r1, r2, and the next INCR when P is its primary. */
  answers: unknown[];
}

/**
 * The construction. `next`: which owner runs the INCR after the eviction, P (the primary every
 * coordinator picks) or A (the owner that evicted X, as primary). `afterSync`: the INCR comes after
 * a few anti-entropy rounds (sync every second) instead of right after the network heals.
 */
function deposedResidue(next: 'P' | 'A', afterSync: boolean): ResidueRun {
  const { sim, key, partition, owners, coordinator: D, held } = counterCluster();
  const [P, Q, A] = owners;
  const answers: unknown[] = [];
  const incr = (via: number, requestId: string) => sim.process(via)!.keyspace.rmw([key], { op: 'incrby', by: 1n }, { requestId }, (error, result) => answers.push(error ?? result));
  // The operation a coordinator sends an owner it takes for the primary (one whose membership took
  // the owners before it for down while theirs did not): handed to that owner's RmwPrimary as if
  // from D, through the node's private field: getting two memberships to disagree so, by gossip
  // alone, hangs on probe timings. Its answer goes to D's coordinator, which has no such request.
  const asPrimary = (node: number, op: RmwOp, requestId: string) => {
    const message: KvMessage = { t: 'x', id: 1_000_000, p: partition, k: [keyToStoreKey(key)], o: encodeRmwOp(op) as WireRmwOp, c: 'quorum', q: requestId };
    (sim.process(node) as unknown as { rmwPrimary: { onMessage(from: string, m: KvMessage): boolean } }).rmwPrimary.onMessage(nodeAddress(D), message);
  };
  incr(D, 'r1');
  sim.runUntil(sim.now + 500);
  incr(D, 'r2');
  sim.runUntil(sim.now + 500);
  const acknowledged = held();
  // Q's claim never reaches A, and nothing A sends gets out (its ack of X, its sync).
  const healQA = sim.network.cut([Q], [A]);
  const healA = sim.network.cut([A], [P, Q, D]);
  // Q as primary: a SETNX of the counter, which exists, so it writes nothing; its claim makes Q
  // and P promise Q's epoch. X, sent by D at the same moment, finds P's claim still fresh.
  asPrimary(Q, { op: 'set', value: enc.encode('x'), expiry: { kind: 'keep' }, condition: 'nx', get: false }, 'q-setnx');
  incr(D, 'X');
  sim.runUntil(sim.now + 2_000, () => sim.process(P)!.stats().rmw.fenced > 0);
  // D goes before it retries X: nobody will ask for X again.
  sim.crash(D);
  sim.runUntil(sim.now + 2_000);
  const residue = held();
  // A's store evicts everything it holds (its budget cut to a byte and given back).
  const store = sim.process(A)!.store;
  const budget = store.stats().maxMemory;
  store.setMaxMemory(1);
  store.setMaxMemory(budget);
  const evicted = held();
  healQA();
  healA();
  if (afterSync) sim.runUntil(sim.now + 5_000);
  const beforeNext = held();
  if (next === 'P') incr(Q, 'next');
  else asPrimary(A, { op: 'incrby', by: 1n }, 'next');
  sim.runUntil(sim.now + 3_000);
  return { acknowledged, residue, evicted, beforeNext, afterNext: held(), answers };
}

/** The steps every variant shares: 2 acknowledged, X on A alone, then evicted there. */
function assertResidue(run: ResidueRun): void {
  assert.deepEqual(run.answers.slice(0, 2), [
    { kind: 'integer', value: 1n },
    { kind: 'integer', value: 2n },
  ]);
  assert.deepEqual(run.acknowledged, ['2', '2', '2']);
  assert.deepEqual(run.residue, ['2', '2', '3'], 'X applied at A alone, unacknowledged');
  assert.deepEqual(run.evicted, ['2', '2', null], 'A evicted X');
}

test('a deposed primary\'s residue evicted at its one owner: the primary\'s next claim hears every owner and counts on from the acknowledged 2 it holds', () => {
  const run = deposedResidue('P', false);
  assertResidue(run);
  assert.deepEqual(run.beforeNext, ['2', '2', null]);
  assert.deepEqual(run.answers[2], { kind: 'integer', value: 3n });
  assert.deepEqual(run.afterNext, ['3', '3', '3']);
});

test('LIMIT: the owner that evicted the residue, as primary, hears every owner and counts from nothing over the acknowledged 2 the others hold', () => {
  const run = deposedResidue('A', false);
  assertResidue(run);
  assert.deepEqual(run.beforeNext, ['2', '2', null]);
  assert.deepEqual(run.afterNext, ['1', '1', '1'], 'the INCR wrote 1: the two acknowledged increments are lost');
});

test('LIMIT: after anti-entropy the evicted version of the residue has replaced the acknowledged record on every owner, and the primary counts from nothing', () => {
  const run = deposedResidue('P', true);
  assertResidue(run);
  // Sync pushed A's evicted version (newer than 2) to P and Q, which dropped their record for it
  // (PartitionReplica.noteEvicted): the acknowledged 2 is gone from every memory.
  assert.deepEqual(run.beforeNext, [null, null, null]);
  assert.deepEqual(run.answers[2], { kind: 'integer', value: 1n });
  assert.deepEqual(run.afterNext, ['1', '1', '1']);
});
