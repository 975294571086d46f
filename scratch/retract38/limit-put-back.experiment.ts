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
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { KV_SIM_PARTITIONS, KV_SIM_REPLICATION, KV_WORKLOAD_START_MS } from '../../src/sim/scenarios/kv.ts';
import { nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { decodeRecord, keyToStoreKey } from '../../src/replication/record.ts';
import { encodeRmwOp, type WireRmwOp } from '../../src/replication/rmw-wire.ts';
import type { KvMessage } from '../../src/replication/messages.ts';
import type { RmwOp } from '../../src/replication/rmw.ts';

const COUNTER = 'counter';
const enc = new TextEncoder();
const dec = new TextDecoder();

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
function deposedResidue(next: 'P' | 'A', afterSync: boolean, putBack: 'before-evict' | 'after-evict'): ResidueRun {
  const cluster = new KvCluster({ seed: 7, nodes: 4, partitions: KV_SIM_PARTITIONS, replication: KV_SIM_REPLICATION, network: {}, trace: new EventTrace() });
  const { sim } = cluster;
  sim.runUntil(KV_WORKLOAD_START_MS);
  const key = enc.encode(COUNTER);
  const placement = sim.process(0)!.placement();
  const partition = placement.partitionOfKey(key);
  const [P, Q, A] = placement.owners(partition).map((name) => sim.indexOf(name)!) as [number, number, number];
  const D = [0, 1, 2, 3].find((i) => ![P, Q, A].includes(i))!;
  const held = () =>
    [P, Q, A].map((n) => {
      const raw = sim.process(n)?.heldPartitions().get(partition)?.peek(COUNTER) ?? null;
      return raw === null ? null : dec.decode(decodeRecord(raw).value);
    });
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
  const storeKey = keyToStoreKey(key);
  const beforeX = (sim.process(A)!.heldPartitions().get(partition) as any).replica.peek(storeKey) as Uint8Array;
  // The amended retraction, by hand: A's record goes back to what A held before X; if A evicted X,
  // its shadow entry of X's version is forgotten first.
  const putBackAtA = () => {
    const a = sim.process(A)!.heldPartitions().get(partition) as any;
    const shadow = (sim.process(A) as any).host.shadow;
    sim.process(A)!.store.delete(storeKey);
    shadow.forget(partition, storeKey);
    if (process.env.RETRACT_MODE !== 'remove') a.replica.apply(storeKey, beforeX);
    a.replica.digestValid = false;
  };
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
  if (putBack === 'before-evict') putBackAtA();
  // A's store evicts everything it holds (its budget cut to a byte and given back).
  const store = sim.process(A)!.store;
  const budget = store.stats().maxMemory;
  store.setMaxMemory(1);
  store.setMaxMemory(budget);
  const evicted = held();
  if (putBack === 'after-evict') putBackAtA();
  healQA();
  healA();
  if (afterSync) sim.runUntil(sim.now + 5_000);
  const beforeNext = held();
  if (next === 'P') incr(Q, 'next');
  else asPrimary(A, { op: 'incrby', by: 1n }, 'next');
  sim.runUntil(sim.now + 3_000);
  return { acknowledged, residue, evicted, beforeNext, afterNext: held(), answers };
}

for (const when of ['before-evict', 'after-evict'] as const) {
  for (const [next, afterSync] of [['P', false], ['A', false], ['P', true]] as const) {
    test(`put back ${when}: next ${next}, afterSync ${afterSync}`, () => {
      const run = deposedResidue(next, afterSync, when);
      console.log(when, next, afterSync, JSON.stringify({ ...run, answers: run.answers.map((a) => JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? String(v) : v))) }));
    });
  }
}
