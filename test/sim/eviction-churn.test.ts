// An owner whose store holds less than the other owners must not be refilled by anti-entropy with
// what it evicted, round after round. Node 0's store is small, nodes 1 and 2 hold every key, and
// its eviction shadow is cut to 64 keys, so most of what it evicted is forgotten (as on a real
// node at 16 MiB after a bulk load of 90,000 keys: 4,096 remembered, ~58,000 evicted). Before,
// each sync round pushed it keys it lacked and had forgotten; it stored them and evicted others,
// and the cycle never ended: on real processes 6,000 to 12,000 records every 20 s, idle, for as
// long as the cluster ran. Now a key lacked at or below the partition's forgetting horizon
// (ForgottenKeys.horizon) is neither wanted nor pushed, and the idle cluster goes quiet.
// Virtual time only: the waits are bounded by counts and the simulator's clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drive, memorySkewedCluster } from './drive-cluster.ts';

const enc = new TextEncoder();
const KEYS = 2_000;
// memorySkewedCluster's node 0: the one with little memory.
const PRESSED = 0;

for (const seed of [1, 2, 3]) test(`an idle cluster stops copying into a small owner what it evicted and forgot (seed ${seed})`, () => {
  // 2,000 values of 256 bytes against node 0's 64 KiB: it keeps about a sixth of them.
  const cluster = memorySkewedCluster(seed, { replicas: 3, evictionShadowEntries: 64 });
  const sim = cluster.sim;
  const value = new Uint8Array(256).fill(7);
  const errors = drive(cluster, KEYS, 32, (i, done) => sim.process(1 + (i % 2))!.kv.set(enc.encode(`k${i}`), value, { consistency: 'all' }, (error) => done(error)));
  assert.deepEqual(errors, [], 'every write reached all three owners');
  // Writes done; the first rounds after them may still move what the load left unequal.
  sim.runUntil(sim.now + 30_000, () => false);

  const pressed = sim.process(PRESSED)!;
  const evictionsBefore = pressed.store.stats().evictions.size;
  const pulledBefore = pressed.stats().sync.recordsPulled;
  sim.runUntil(sim.now + 60_000, () => false);
  const evicted = pressed.store.stats().evictions.size - evictionsBefore;
  const pulled = pressed.stats().sync.recordsPulled - pulledBefore;
  // Not vacuous: node 0 lacks most keys, and anti-entropy still compares with it.
  assert.ok(pressed.store.size < KEYS / 3, `node 0 holds ${pressed.store.size} of ${KEYS} keys`);
  assert.ok(pressed.stats().sync.rounds > 50, 'sync rounds ran');
  assert.equal(pulled, 0, `idle for 60 s, node 0 took ${pulled} records from sync (and evicted ${evicted})`);
  assert.equal(evicted, 0, `idle for 60 s, node 0 evicted ${evicted} records`);
});
