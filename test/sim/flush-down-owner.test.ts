// FLUSHALL (src/resp/keyspace-commands.ts `deleteEverything`) while an owner is down, on the real
// stack in the simulator. Node C is cut off from A and B (it keeps its memory: an in-memory cache
// behind a network partition, not a crash) long enough for both to declare it dead, and takes
// writes at consistency ONE meanwhile: keys only C holds. A flushes; no listing can see C's keys.
// Then the link heals. Before the flush floor, C's hints, anti-entropy and read repair brought
// every one of C's keys back to A and B, and every node served them. Now the flush leaves a floor
// per partition (docs/REPLICATION.md, "Flush floors") that reaches C by hint and by sync, and
// every replica refuses and deletes anything older. Writes after the flush (through A, and through
// C right after it is back) must survive it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode } from '../../src/node/create-node.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import type { GetResult, KvError } from '../../src/replication/api.ts';
import { compareVersions, type Version } from '../../src/replication/hlc.ts';
import { deleteEverything } from '../../src/resp/keyspace-commands.ts';
import type { Env } from '../../src/runtime/env.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const enc = new TextEncoder();
const PARTITIONS = 32;
const KEYS = 40;
const [A, B, C] = [0, 1, 2];

function cluster(seed: number): Simulation<ShoalNode> {
  const seeds = [0, 1, 2].map((i) => nodeAddress(i));
  const sim = new Simulation<ShoalNode>({
    seed,
    nodes: 3,
    trace: new EventTrace(),
    factory: (env: Env) => createNode({ env, config: { seeds, partitions: PARTITIONS, replicas: 3, gossipProfile: 'local', writeQuorum: 'quorum', readQuorum: 'quorum' } }),
  });
  sim.runUntil(10_000, () => sim.upNodes().every((n) => n.process!.settled()));
  assert.ok(sim.upNodes().every((n) => n.process!.joined), 'the cluster formed');
  return sim;
}

/** Writes every key through node `via` at `consistency`; returns how many were acknowledged. */
function writeAll(sim: Simulation<ShoalNode>, via: number, keys: string[], consistency: 'one' | 'quorum'): number {
  let acked = 0;
  let answered = 0;
  for (const key of keys) {
    sim.process(via)!.kv.set(enc.encode(key), enc.encode('v'), { consistency }, (error) => {
      answered++;
      if (error === null) acked++;
    });
  }
  sim.runUntil(sim.now + 5_000, () => answered === keys.length);
  return acked;
}

/** Runs the flush through node `via` to its end (its promise settles between simulated steps). */
async function flush(sim: Simulation<ShoalNode>, via: number): Promise<{ failed: number; firstError: string | null }> {
  let outcome: { failed: number; firstError: string | null } | null = null;
  void deleteEverything(sim.process(via)!.keyspace, PARTITIONS).then((r) => (outcome = r));
  for (let i = 0; i < 2_000 && outcome === null; i++) {
    sim.runUntil(sim.now + 20, () => outcome !== null);
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.ok(outcome !== null, 'the flush finished');
  return outcome;
}

/** Reads each key at ONE through every node: the reads that returned a value, as "key via n". */
function servedAnywhere(sim: Simulation<ShoalNode>, keys: string[]): string[] {
  const served: string[] = [];
  let reads = 0;
  for (const via of [A, B, C]) {
    for (const key of keys) {
      sim.process(via)!.kv.get(enc.encode(key), { consistency: 'one' }, (error: KvError | null, result?: GetResult) => {
        reads++;
        if (error === null && result!.value !== null) served.push(`${key} via ${nodeAddress(via)}`);
      });
    }
  }
  sim.runUntil(sim.now + 5_000, () => reads === 3 * keys.length);
  assert.equal(reads, 3 * keys.length, 'every read was answered');
  return served;
}

const keys = (prefix: string): string[] => Array.from({ length: KEYS }, (_, i) => `${prefix}:${i}`);

test('FLUSHALL while an owner is cut off and declared dead: its keys do not come back when it returns', async () => {
  const sim = cluster(12);
  const before = keys('before');
  assert.equal(writeAll(sim, A, before, 'quorum'), KEYS, 'keys every owner holds, written before the cut');

  // C is cut off both ways until A and B declare it dead; it takes writes of keys only it holds.
  const heal = [sim.network.cut([C], [A, B]), sim.network.cut([A, B], [C])];
  const cName = nodeAddress(C);
  sim.runUntil(sim.now + 60_000, () => [A, B].every((i) => sim.process(i)!.membership.member(cName)?.state === 'dead'));
  assert.ok([A, B].every((i) => sim.process(i)!.membership.member(cName)?.state === 'dead'), 'A and B declared C dead');
  const onlyC = keys('only-c');
  assert.equal(writeAll(sim, C, onlyC, 'one'), KEYS, 'C acknowledged every write on its own');

  // The flush starts in the millisecond of C's last writes: C's clock is concurrent with A's (same
  // ms, a higher counter), and its writes still count as before the flush.
  // A write through B racing the flush: whichever side of the floor its version falls, every node
  // must agree on it in the end.
  let racing = null as { version: Version } | null;
  const flushing = flush(sim, A);
  sim.process(B)!.kv.set(enc.encode('racing'), enc.encode('v'), { consistency: 'quorum' }, (error, result) => {
    assert.equal(error, null);
    racing = { version: result!.version! };
  });
  assert.deepEqual(await flushing, { failed: 0, firstError: null }, 'the flush finished without failures');
  sim.runUntil(sim.now + 5_000, () => racing !== null);
  assert.ok(racing !== null, 'the racing write was acknowledged');
  const afterViaA = keys('after-a');
  assert.equal(writeAll(sim, A, afterViaA, 'quorum'), KEYS, 'writes after the flush, through A');

  for (const undo of heal) undo();
  // Through C as soon as it is back: C may still take A and B for dead, hence ONE (hints carry it).
  const afterViaC = keys('after-c');
  assert.equal(writeAll(sim, C, afterViaC, 'one'), KEYS, 'writes through C right after it is back');

  // Hints, read repair and anti-entropy have their time; then no node may serve a flushed key,
  // and every node serves every key written after the flush.
  sim.runUntil(sim.now + 60_000);
  const flushed = servedAnywhere(sim, [...before, ...onlyC]);
  const kept = servedAnywhere(sim, [...afterViaA, ...afterViaC]);
  assert.deepEqual(flushed, [], `${flushed.length} reads of ${6 * KEYS} served a flushed key`);
  assert.equal(kept.length, 6 * KEYS, 'every key written after the flush is served through every node');
  // The racing write: deleted exactly when its version is at or below the floor, on every node.
  const floor = sim.process(A)!.flushFloor(0)!;
  assert.ok([A, B, C].every((i) => compareVersions(sim.process(i)!.flushFloor(0)!, floor) === 0), 'every node holds the same floor');
  const racingServed = servedAnywhere(sim, ['racing']).length;
  assert.equal(racingServed, compareVersions(racing!.version, floor) > 0 ? 3 : 0, 'the racing write is served by every node or by none, as its version says');
});

