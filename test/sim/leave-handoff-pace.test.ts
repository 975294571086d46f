// A graceful leave must hand its partitions off within the daemon's default --shutdown-timeout
// (10 s) for a node holding tens of thousands of keys. Found on real processes (probe-chaos, 5
// nodes): the handoff ran one sync round with one peer about every catchUpSyncIntervalMs (100 ms),
// at most syncBatch (512) records a round, so a node holding 26,000 keys still had 19,383 to hand
// off when its stop timed out and exited 1. Virtual time only: the bound below is the daemon's
// default timeout, counted on the simulator's clock, not a measure of this machine's speed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optionSpec } from '../../src/daemon/options.ts';
import { parseDuration } from '../../src/daemon/units.ts';
import { loadedCluster } from './drive-cluster.ts';

const enc = new TextEncoder();

const NODES = 5;
/** The daemon's default --shutdown-timeout: the leave must finish within it. */
const SHUTDOWN_TIMEOUT_MS = parseDuration(optionSpec('shutdown-timeout').default!);
/**
 * The pace, slowed down from the defaults (512 entries an answer, a round every 100 ms) so that
 * the test loads about ten thousand keys rather than a million for the same ratio of keys to pace
 * (it was 64 entries every 400 ms and 42,667 keys: a quarter of the pace, a quarter of the keys,
 * the same ratio). Partitions (2,048) hold fewer keys than SYNC_BATCH, so every answer keeps to its
 * budget (the first differing partition of an answer is listed whole, whatever its size).
 */
const PARTITIONS = 2048;
const SYNC_BATCH = 32;
const ROUND_INTERVAL_MS = 800;
/**
 * What the old pace could move in the timeout, all nodes together: each node ran at most one round
 * per ROUND_INTERVAL_MS (jittered down to 0.75 of it at the fastest), with one peer, in which it
 * pushed at most SYNC_BATCH records and wanted at most the SYNC_BATCH entries the answer listed:
 * 5 x 2 x 32 x 10,000 / 600 = 5,333 records.
 */
const OLD_PACE_BOUND = Math.floor((NODES * 2 * SYNC_BATCH * SHUTDOWN_TIMEOUT_MS) / (0.75 * ROUND_INTERVAL_MS));
/** Keys written: the leaver holds about 3/5 of them (N=3 of 5 nodes), some 1.2 x OLD_PACE_BOUND. */
const KEYS = Math.ceil((1.2 * OLD_PACE_BOUND * NODES) / 3);

test(`a graceful leave of a node holding more keys than the old pace could hand off hands every one of them to its new owners within the default shutdown timeout`, () => {
  const cluster = loadedCluster({ seed: 7, nodes: NODES, partitions: PARTITIONS, replication: { syncBatch: SYNC_BATCH, syncBucketsAbove: SYNC_BATCH, catchUpSyncIntervalMs: ROUND_INTERVAL_MS }, keys: KEYS });
  const sim = cluster.sim;

  const leaver = sim.process(0)!;
  const held: string[] = [];
  const before = leaver.placement();
  for (let i = 0; i < KEYS; i++) {
    const key = `k${i}`;
    if (before.owners(before.partitionOfKey(enc.encode(key))).includes(leaver.name)) held.push(key);
  }
  assert.ok(held.length > OLD_PACE_BOUND, `the leaver holds ${held.length} keys, more than the ${OLD_PACE_BOUND} the old pace could move`);

  const startedMs = sim.now;
  let missing: string[] | null = null;
  let tookMs = -1;
  cluster.leave(0, () => {
    tookMs = sim.now - startedMs;
    // At the moment it stops: every key it held is on every owner of the ring without it.
    const ring = sim.process(1)!.placement();
    missing = [];
    for (const key of held) {
      const p = ring.partitionOfKey(enc.encode(key));
      for (const owner of ring.owners(p)) if (!sim.process(sim.indexOf(owner)!)!.heldPartitions().get(p)?.peek(key)) missing.push(`${key} on ${owner}`);
    }
  });
  sim.runUntil(startedMs + SHUTDOWN_TIMEOUT_MS, () => tookMs >= 0);
  const left = leaver.leaveProgress();
  process.stdout.write(`leave handoff pace: ${held.length} keys held; ${tookMs >= 0 ? `left after ${tookMs.toFixed(0)} ms` : `not left after ${SHUTDOWN_TIMEOUT_MS} ms: ${left.partitionsToHandOff} partitions (${left.keysToHandOff} keys) still to hand off`}\n`);
  assert.ok(tookMs >= 0, `the leave finished within ${SHUTDOWN_TIMEOUT_MS} ms; it still waits for ${left.waitingFor}`);
  assert.deepEqual(missing, [], 'every key the leaver held is on each of its new owners when it stops');
});
