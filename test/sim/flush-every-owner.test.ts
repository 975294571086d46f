// FLUSHALL's deletes on the real stack (src/resp/keyspace-commands.ts `deleteEverything`) in the
// simulator: keys that one owner holds and the others do not yet are deleted too. Node C, cut off
// from A and B for a moment, takes writes at consistency ONE: it holds them, and hints for A and B.
// The link heals before anyone suspects C, and A runs the flush at once. Listing each partition's
// keys from a read quorum of owners (A itself and B) finds none of them, so none was deleted and
// C's hints brought them back to A and B afterwards; listed by every live owner, they are deleted
// and the hints, older than the deletes, change nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode } from '../../src/node/create-node.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import type { GetResult, KvError } from '../../src/replication/api.ts';
import { deleteEverything } from '../../src/resp/keyspace-commands.ts';
import type { Env } from '../../src/runtime/env.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const enc = new TextEncoder();
const PARTITIONS = 32;
const KEYS = 40;
const [A, , C] = [0, 1, 2];

test('FLUSHALL deletes a key that only one live owner holds, and it stays deleted', async () => {
  const seeds = [0, 1, 2].map((i) => nodeAddress(i));
  const sim = new Simulation<ShoalNode>({
    seed: 11,
    nodes: 3,
    trace: new EventTrace(),
    factory: (env: Env) => createNode({ env, config: { seeds, partitions: PARTITIONS, replicas: 3, gossipProfile: 'local', writeQuorum: 'quorum', readQuorum: 'quorum' } }),
  });
  sim.runUntil(10_000, () => sim.upNodes().every((n) => n.process!.settled()));
  assert.ok(sim.upNodes().every((n) => n.process!.joined), 'the cluster formed');

  // C alone takes the writes: both directions of its links to A and B are cut.
  const heal = [sim.network.cut([C], [0, 1]), sim.network.cut([0, 1], [C])];
  let acked = 0;
  for (let i = 0; i < KEYS; i++) sim.process(C)!.kv.set(enc.encode(`only-c:${i}`), enc.encode('v'), { consistency: 'one' }, (error) => assert.equal(error, null) ?? acked++);
  sim.runUntil(sim.now + 1_000, () => acked === KEYS);
  assert.equal(acked, KEYS, 'C acknowledged every write on its own');
  for (const undo of heal) undo();

  // The flush, run by A right after the heal.
  let outcome: { failed: number; firstError: string | null } | null = null;
  void deleteEverything(sim.process(A)!.keyspace, PARTITIONS).then((r) => (outcome = r));
  for (let i = 0; i < 2_000 && outcome === null; i++) {
    sim.runUntil(sim.now + 20, () => outcome !== null);
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.deepEqual(outcome, { failed: 0, firstError: null }, 'the flush finished without failures');

  // Hints, read repair and anti-entropy have their time; then no node may serve any of the keys.
  sim.runUntil(sim.now + 30_000);
  const served: string[] = [];
  let reads = 0;
  for (const via of [0, 1, 2]) {
    for (let i = 0; i < KEYS; i++) {
      sim.process(via)!.kv.get(enc.encode(`only-c:${i}`), { consistency: 'one' }, (error: KvError | null, result?: GetResult) => {
        reads++;
        if (error === null && result!.value !== null) served.push(`only-c:${i} via node ${via}`);
      });
    }
  }
  sim.runUntil(sim.now + 5_000, () => reads === 3 * KEYS);
  assert.equal(reads, 3 * KEYS);
  assert.deepEqual(served, [], `${served.length} flushed reads came back`);
});
