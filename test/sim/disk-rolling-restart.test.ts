// F6 (probe-ops, /work/notes/s18): a rolling restart of a cluster whose data lives mostly on its
// disk tiers lost values. Each node in turn leaves gracefully (hands its partitions off, and its
// released partitions are dropped from its tier) and starts again empty; its catch-up and the
// others' handoffs must bring it the values held on the disk tiers, not only those in memory, or
// after every node has restarted once values exist nowhere. Virtual time: nothing here is a timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ShoalNode } from '../../src/node/node.ts';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { allSettled, drive } from './drive-cluster.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** More keys than the eviction shadow's smallest capacity (4,096), so it cannot remember every evicted version. */
const KEYS = 6_000;
const VALUE_BYTES = 256;
/** Memory for about a fifth of the data per node; the tier holds it all several times over. */
const MAX_MEMORY = 256 * 1024;
const DISK = { bytes: 8 * 1024 * 1024, regionBytes: 64 * 1024, faults: { writeError: 0, tornWrite: 0, rot: 0 } };

function valueOf(i: number): string {
  return `v${i}:`.padEnd(VALUE_BYTES, String.fromCharCode(97 + (i % 26)));
}

/** Reads every key at QUORUM through `node`; returns how many came back with the value written. */
function readable(cluster: KvCluster, node: ShoalNode): number {
  let good = 0;
  drive(cluster, KEYS, 32, (i, done) =>
    node.kv.get(enc.encode(`k${i}`), { consistency: 'quorum' }, (error, value) => {
      if (error === null && value?.value !== undefined && value.value !== null && dec.decode(value.value) === valueOf(i)) good++;
      done(null);
    }),
  );
  return good;
}

test('a rolling restart (leave, start again) of 3 nodes holding most of their data on the disk tier keeps every acknowledged value', () => {
  const cluster = new KvCluster({
    seed: 7,
    nodes: 3,
    partitions: 64,
    replication: {},
    network: {},
    trace: new EventTrace(),
    maxMemory: MAX_MEMORY,
    disk: DISK,
  });
  const sim = cluster.sim;
  sim.runUntil(10_000, () => allSettled(cluster, 3));
  assert.ok(allSettled(cluster, 3), 'the cluster formed');
  const writeErrors = drive(cluster, KEYS, 32, (i, done) =>
    sim.process(i % 3)!.kv.set(enc.encode(`k${i}`), enc.encode(valueOf(i)), { consistency: 'quorum' }, (error) => done(error)),
  );
  assert.deepEqual(writeErrors, [], 'every write was acknowledged');
  sim.runUntil(sim.now + 60_000, () => allSettled(cluster, 3));
  const onDisk = () => sim.upNodes().map((n) => n.process!.disk?.stats().entries ?? 0);
  assert.ok(onDisk().every((entries) => entries > KEYS / 2), `most values are on each node's disk tier: ${onDisk().join(', ')}`);

  const counts = [readable(cluster, sim.process(0)!)];
  for (let i = 0; i < 3; i++) {
    let left = false;
    cluster.leave(i, () => (left = true));
    sim.runUntil(sim.now + 120_000, () => left);
    assert.ok(left, `n${i} left`);
    cluster.restart(i);
    sim.runUntil(sim.now + 300_000, () => allSettled(cluster, 3));
    assert.ok(allSettled(cluster, 3), `the cluster settled after n${i}'s restart`);
  }
  const refused = sim.upNodes().map((n) => n.process!.disk!.stats().rejectedBusy);
  // Read once at the end only: reads repair and promote, which would hide what sync lost.
  counts.push(readable(cluster, sim.process(0)!));
  process.stdout.write(`disk rolling restart: values readable at QUORUM before and after the rolling restart: ${counts.join(' -> ')} of ${KEYS}; on disk per node: ${onDisk().join(', ')}; puts refused by busy tiers: ${refused.join(', ')}\n`);
  assert.deepEqual(counts, [KEYS, KEYS]);
});
