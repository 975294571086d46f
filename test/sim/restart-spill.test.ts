// probe-ops F3 (/work/notes/s18): a stop for a restart (`--stop-mode restart`) kept only what the
// disk tier held, which is what memory had evicted to it; the values still in memory at the stop
// were gone after it, and with N=1 they existed nowhere else. The stop now spills them to the tier
// (ReplicaHost.spillToDisk). Three nodes, N=1, every value in memory; n3 stops for a restart and
// starts again. Virtual time: nothing here is a timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { allSettled, drive } from './drive-cluster.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const KEYS = 1_500;
const VICTIM = 2;
const DISK = { bytes: 4 * 1024 * 1024, regionBytes: 64 * 1024, faults: { writeError: 0, tornWrite: 0, rot: 0 } };

function valueOf(i: number): string {
  return `v${i}:`.padEnd(200, String.fromCharCode(97 + (i % 26)));
}

/** Writes every key, stops n3 for a restart with `spillMs` to spill in, starts it again; returns how many keys read back and what n3's tier took. */
function restartAndRead(spillMs: number): { readable: number; victimKeys: number; spilled: number } {
  const cluster = new KvCluster({
    seed: 11,
    nodes: 3,
    partitions: 64,
    replication: { replicas: 1 },
    network: {},
    trace: new EventTrace(),
    disk: DISK,
  });
  const sim = cluster.sim;
  const settled = (): boolean => allSettled(cluster, 3);
  sim.runUntil(10_000, settled);
  assert.ok(settled(), 'the cluster formed');
  drive(cluster, KEYS, 16, (i, done) => sim.process(i % 3)!.kv.set(enc.encode(`k${i}`), enc.encode(valueOf(i)), { consistency: 'one' }, (error) => (assert.equal(error, null), done())));
  const victim = sim.process(VICTIM)!;
  const victimKeys = victim.store.stats().entries;
  assert.equal(victim.disk!.stats().puts, 0, 'nothing was evicted to the tier: every value is in memory');

  let stopped = false;
  cluster.stopForRestart(VICTIM, () => (stopped = true), spillMs);
  sim.runUntil(sim.now + 60_000, () => stopped);
  assert.ok(stopped, 'n3 stopped');
  cluster.restart(VICTIM);
  sim.runUntil(sim.now + 60_000, () => settled() && sim.process(VICTIM)!.disk!.stats().entries > 0);
  sim.runUntil(sim.now + 5_000, () => false);
  const spilled = sim.process(VICTIM)!.disk!.stats().entries;

  let readable = 0;
  drive(cluster, KEYS, 16, (i, done) =>
    sim.process(0)!.kv.get(enc.encode(`k${i}`), { consistency: 'one' }, (error, result) => {
      if (error === null && result?.value && dec.decode(result.value) === valueOf(i)) readable++;
      done();
    }),
  );
  return { readable, victimKeys, spilled };
}

test('a stop for a restart writes the values still in memory to the disk tier, and the node started again serves them (N=1)', () => {
  const { readable, victimKeys, spilled } = restartAndRead(10_000);
  assert.ok(victimKeys > KEYS / 5, `n3 held its share of the keys (${victimKeys})`);
  assert.equal(spilled, victimKeys, 'n3 found every value it held on its tier after the restart');
  assert.equal(readable, KEYS, 'every value reads back');
});

test('a spill given no time writes nothing, and the values only n3 held are gone (what the spill prevents)', () => {
  const { readable, victimKeys } = restartAndRead(0);
  assert.equal(readable, KEYS - victimKeys);
});
