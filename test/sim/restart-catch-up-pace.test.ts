// A node restarted after a crash comes back empty and pulls its partitions from the other replicas
// by partition sync; until it has, it misses reads of its keys and its reads do not count towards
// a quorum. The catch-up ran one sync round with one source about every catchUpSyncIntervalMs
// (100 ms), each answer listing at most syncBatch (512) entries: at the defaults, a restarted node
// of a 5-node cluster holding 59,886 keys had them all back 11.6 s of virtual time after its
// restart. Virtual time only: the bound below is derived from the pace's constants and counted
// on the simulator's clock, not a measure of this machine's speed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadedCluster } from './drive-cluster.ts';

const enc = new TextEncoder();

const NODES = 5;
/**
 * The pace, slowed down from the defaults (512 entries an answer, a round every 100 ms) so that
 * the test loads thousands of keys rather than hundreds of thousands for the same ratio of keys
 * to pace (it was 64 entries every 400 ms and 21,334 keys: a quarter of the pace, a quarter of the
 * keys, the same ratio). Partitions (2,048) hold fewer keys than SYNC_BATCH, so every answer keeps
 * to its budget (the first differing partition of an answer is listed whole, whatever its size).
 */
const PARTITIONS = 2048;
const SYNC_BATCH = 32;
const ROUND_INTERVAL_MS = 800;
/** How long after its restart the node must hold every key of its partitions again (virtual time). */
const BOUND_MS = 5_000;
/**
 * What the old pace could move in BOUND_MS, all nodes together (generously: every node at the
 * catch-up interval, jittered down to 0.75 of it at the fastest): one round per interval with
 * one peer, in which a node pushed at most SYNC_BATCH records and wanted at most the SYNC_BATCH
 * entries the answer listed: 5 x 2 x 32 x 5,000 / 600 = 2,666 records.
 */
const OLD_PACE_BOUND = Math.floor((NODES * 2 * SYNC_BATCH * BOUND_MS) / (0.75 * ROUND_INTERVAL_MS));
/** Keys written: the restarted node owns about 3/5 of them (N=3 of 5 nodes), some 1.2 x OLD_PACE_BOUND. */
const KEYS = Math.ceil((1.2 * OLD_PACE_BOUND * NODES) / 3);
/** How long the node stays down: long enough for its peers to declare it dead. */
const DOWN_MS = 5_000;
/** How often the test looks at the restarted node's replicas (virtual time). */
const LOOK_EVERY_MS = 50;

test(`a node restarted empty holds every key of its partitions again, and is caught up, within ${BOUND_MS / 1000} s of virtual time, more than the old catch-up pace could move`, () => {
  const cluster = loadedCluster({ seed: 11, nodes: NODES, partitions: PARTITIONS, replication: { syncBatch: SYNC_BATCH, syncBucketsAbove: SYNC_BATCH, catchUpSyncIntervalMs: ROUND_INTERVAL_MS }, keys: KEYS });
  const sim = cluster.sim;

  const ring = sim.process(0)!.placement();
  const name = sim.process(0)!.name;
  const owned: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const key = `k${i}`;
    if (ring.owners(ring.partitionOfKey(enc.encode(key))).includes(name)) owned.push(key);
  }
  assert.ok(owned.length > OLD_PACE_BOUND, `the node owns ${owned.length} keys, more than the ${OLD_PACE_BOUND} the old pace could move`);

  cluster.crash(0);
  sim.runUntil(sim.now + DOWN_MS, () => false);
  const restartedMs = sim.now;
  cluster.restart(0);
  const node = sim.process(0)!;
  const missing = (): number => {
    const held = node.heldPartitions();
    let count = 0;
    for (const key of owned) if (!held.get(ring.partitionOfKey(enc.encode(key)))?.peek(key)) count++;
    return count;
  };
  let allBackMs = -1;
  let caughtUpMs = -1;
  while (sim.now - restartedMs < BOUND_MS && (allBackMs < 0 || caughtUpMs < 0)) {
    sim.runUntil(sim.now + LOOK_EVERY_MS, () => false);
    const hasRing = node.placement().members.length > 0;
    if (allBackMs < 0 && hasRing && missing() === 0) allBackMs = sim.now - restartedMs;
    if (caughtUpMs < 0 && hasRing && !node.catchingUp()) caughtUpMs = sim.now - restartedMs;
  }
  process.stdout.write(`restart catch-up pace: ${owned.length} keys owned; ${allBackMs >= 0 ? `all back after ${allBackMs} ms` : `${missing()} still missing after ${BOUND_MS} ms`}; ${caughtUpMs >= 0 ? `caught up after ${caughtUpMs} ms` : `still catching up (${node.handoffProgress().partitionsCatchingUp} partitions)`}\n`);
  assert.ok(allBackMs >= 0, `every key the node owns is back within ${BOUND_MS} ms of its restart`);
  assert.ok(caughtUpMs >= 0, `the node is caught up within ${BOUND_MS} ms of its restart`);
  assert.equal(node.placement().version, ring.version, 'the node came back to the same ring');
});
