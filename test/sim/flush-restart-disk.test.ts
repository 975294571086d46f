// FLUSHALL, then every node restarts warm from its disk tier (--stop-mode restart). Flush floors
// live in memory (docs/REPLICATION.md, "Flush floors"), so after the restarts only what the flush
// deleted from the tiers stays deleted. Before, a replica applying the floor deleted from its tier
// only the keys its eviction shadow still remembered (at most 4,096 per node here, fewer than the
// tier held): every other pre-flush value came back from disk once no node remembered the floor.
// Virtual time: nothing here is a timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deleteEverything } from '../../src/resp/keyspace-commands.ts';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { allSettled, drive } from './drive-cluster.ts';

const enc = new TextEncoder();

/** More keys than the eviction shadow's smallest capacity (4,096), so it cannot remember every evicted version. */
const KEYS = 6_000;
const VALUE_BYTES = 256;
const PARTITIONS = 64;
/** Memory for about a fifth of the data per node; the tier holds it all several times over. */
const MAX_MEMORY = 256 * 1024;
const DISK = { bytes: 8 * 1024 * 1024, regionBytes: 64 * 1024, faults: { writeError: 0, tornWrite: 0, rot: 0 } };

test('values flushed by FLUSHALL stay deleted after every node restarts warm from its disk tier', async () => {
  const cluster = new KvCluster({ seed: 5, nodes: 3, partitions: PARTITIONS, replication: {}, network: {}, trace: new EventTrace(), maxMemory: MAX_MEMORY, disk: DISK });
  const sim = cluster.sim;
  sim.runUntil(10_000, () => allSettled(cluster, 3));
  assert.ok(allSettled(cluster, 3), 'the cluster formed');
  const value = enc.encode('v'.repeat(VALUE_BYTES));
  const writeErrors = drive(cluster, KEYS, 32, (i, done) => sim.process(i % 3)!.kv.set(enc.encode(`k${i}`), value, { consistency: 'quorum' }, done));
  assert.deepEqual(writeErrors, [], 'every write was acknowledged');
  sim.runUntil(sim.now + 60_000, () => allSettled(cluster, 3));
  const onDisk = (): number[] => sim.upNodes().map((n) => n.process!.disk?.stats().entries ?? 0);
  assert.ok(onDisk().every((entries) => entries > 4_096), `each tier holds more values than the shadow can remember: ${onDisk().join(', ')}`);

  let flushed: { failed: number; firstError: string | null } | null = null;
  void deleteEverything(sim.process(0)!.keyspace, PARTITIONS).then((r) => (flushed = r));
  for (let i = 0; i < 2_000 && flushed === null; i++) {
    sim.runUntil(sim.now + 20, () => flushed !== null);
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.deepEqual(flushed, { failed: 0, firstError: null }, 'the flush finished without failures');
  sim.runUntil(sim.now + 10_000, () => allSettled(cluster, 3));
  const afterFlush = onDisk();

  // Every node stops for a restart, one after the other, and starts again: no floor survives.
  for (let i = 0; i < 3; i++) {
    let down = false;
    cluster.stopForRestart(i, () => (down = true));
    sim.runUntil(sim.now + 60_000, () => down);
    assert.ok(down, `n${i} stopped`);
  }
  for (let i = 0; i < 3; i++) cluster.restart(i);
  sim.runUntil(sim.now + 300_000, () => allSettled(cluster, 3));
  assert.ok(allSettled(cluster, 3), 'the cluster settled after the restarts');

  let served = 0;
  const readErrors = drive(cluster, KEYS, 32, (i, done) =>
    sim.process(i % 3)!.kv.get(enc.encode(`k${i}`), { consistency: 'quorum' }, (error, result) => {
      if (error === null && result?.value !== null && result?.value !== undefined) served++;
      done(error);
    }),
  );
  process.stdout.write(`flush then restart: disk entries per node after the flush ${afterFlush.join(', ')}; flushed keys served after the restarts: ${served} of ${KEYS}\n`);
  assert.deepEqual(readErrors, [], 'every read was answered');
  assert.deepEqual(afterFlush, [0, 0, 0], 'the flush emptied every tier');
  assert.equal(served, 0, 'no flushed value came back');
});
