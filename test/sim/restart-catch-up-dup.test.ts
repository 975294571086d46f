// A restarted node pulls its partitions from their other owners (sync.ts, pressOn), and meanwhile
// those owners' own anti-entropy rounds with it found its digests differing and pushed what it
// lacked: every pushed record it then also pulled, or had pulled, arrived twice (sent twice, applied
// as stale the second time). On real processes, where the catch-up is bound by CPU and lasts seconds,
// +30% records received (docs/REPLICATION.md, "Catch-up", "Pace"). Here the restarted node is made
// slow (every message it handles costs virtual time) so that its catch-up lasts several of its
// peers' sync intervals, as on a busy machine. Virtual time and counts only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SYNC_INTERVAL_MS } from '../../src/replication/config.ts';
import { loadedCluster } from './drive-cluster.ts';

const enc = new TextEncoder();

const NODES = 5;
/** The restart-catch-up-pace test's cluster: 2,048 partitions of fewer keys than a batch. */
const PARTITIONS = 2048;
const SYNC_BATCH = 64;
const KEYS = 21_335;
/** Virtual milliseconds each message costs the restarted node: its catch-up then lasts a few of its peers' sync intervals. */
const MESSAGE_COST_MS = 2;
const DOWN_MS = 5_000;
const BOUND_MS = 60_000;

test('a restarted node catching up from its peers is not also pushed what it pulls: it receives fewer extra records than one sync batch', () => {
  const cluster = loadedCluster({ seed: 11, nodes: NODES, partitions: PARTITIONS, replication: { syncBatch: SYNC_BATCH, syncBucketsAbove: SYNC_BATCH, catchUpSyncIntervalMs: 400 }, keys: KEYS });
  const sim = cluster.sim;
  const ring = sim.process(0)!.placement();
  const name = sim.process(0)!.name;
  let owned = 0;
  for (let i = 0; i < KEYS; i++) if (ring.owners(ring.partitionOfKey(enc.encode(`k${i}`))).includes(name)) owned++;

  cluster.crash(0);
  sim.runUntil(sim.now + DOWN_MS, () => false);
  const restartedMs = sim.now;
  cluster.restart(0);
  sim.slow(0, MESSAGE_COST_MS, BOUND_MS);
  const node = sim.process(0)!;
  sim.runUntil(restartedMs + BOUND_MS, () => node.placement().members.length > 0 && !node.catchingUp());
  const { keysReceived, bytesReceived, elapsedMs } = node.catchUpProgress();
  const { recordsPulled } = node.stats().sync;
  process.stdout.write(`restart catch-up duplicates: ${owned} keys owned, ${keysReceived} records (${bytesReceived} bytes) received in ${elapsedMs} ms of catch-up, ${recordsPulled} applied\n`);
  assert.ok(!node.catchingUp(), `the node is caught up within ${BOUND_MS} ms of its restart`);
  assert.ok(elapsedMs > 2 * DEFAULT_SYNC_INTERVAL_MS, `the catch-up lasts several of the peers' sync intervals (${elapsedMs} ms), so the peers' rounds meet it`);
  // Every key the node owns comes once; a duplicate pull or push adds to it. Fewer than one batch
  // extra: the rounds that raced the pulls pushed up to a whole batch each.
  assert.ok(keysReceived - owned < SYNC_BATCH, `${keysReceived - owned} records received twice (${keysReceived} for ${owned} keys owned)`);
});
