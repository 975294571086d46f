// A claim's answers carry the request ids remembered for the keys claimed, not every id of the
// partition. INCR over many distinct keys (redis-benchmark -t incr -r 100000) claims each new key
// once; when every answer carried the partition's whole id memory (up to 16,384 ids, each
// re-remembered by the primary), the cost of a claim grew with every INCR the partition had
// seen: a 3-node cluster served 190 INCR/s at first and 30-80/s a few thousand INCRs later.
// Virtual time: nothing here is a timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { allSettled, drive } from './drive-cluster.ts';

const enc = new TextEncoder();
const PARTITIONS = 8;
const KEYS = 800;

test('INCR over distinct keys: claim answers carry only the ids of the keys claimed, so a claim costs the same however many INCRs came before', () => {
  const cluster = new KvCluster({ seed: 3, nodes: 3, partitions: PARTITIONS, replication: {}, network: {}, trace: new EventTrace() });
  const sim = cluster.sim;
  sim.runUntil(10_000, () => allSettled(cluster, 3));
  assert.ok(allSettled(cluster, 3), 'the cluster formed');
  const incr = (i: number, done: (error?: unknown) => void) => sim.process(i % 3)!.keyspace.rmw([enc.encode(`counter:${i % KEYS}`)], { op: 'incrby', by: 1n }, { consistency: 'quorum' }, (error) => done(error));
  // Every key once (each needs a claim), then every key again: those retries of nothing are new
  // requests on keys with remembered ids, which their claims must still bring.
  assert.deepEqual(drive(cluster, 2 * KEYS, 8, incr), [], 'every INCR was acknowledged');
  const stats = sim.upNodes().map((n) => n.process!.stats().rmw);
  const claims = stats.reduce((s, r) => s + r.claims, 0);
  const claimedKeys = stats.reduce((s, r) => s + r.claimedKeys, 0);
  const idsCarried = stats.reduce((s, r) => s + r.claimIdsReceived, 0);
  process.stdout.write(`${2 * KEYS} INCRs on ${KEYS} keys in ${PARTITIONS} partitions: ${claims} claims naming ${claimedKeys} keys, ${idsCarried} request ids in their answers\n`);
  // A claim names its operation's key and those of the INCRs waiting behind it (claimedKeys).
  assert.ok(claimedKeys >= KEYS, `each key was claimed (${claimedKeys} keys in ${claims} claims)`);
  // Each answer carries the ids of its claimed keys: at most the INCRs on each so far (two).
  assert.ok(idsCarried <= 2 * 3 * claimedKeys, `${idsCarried} ids in the answers of ${claims} claims naming ${claimedKeys} keys`);

  // The ids still answer repeats: the same request id sent again is not applied twice.
  let first: unknown = null;
  let again: unknown = null;
  const key = [enc.encode('counter:repeat')];
  sim.process(0)!.keyspace.rmw(key, { op: 'incrby', by: 1n }, { consistency: 'quorum', requestId: 'repeat-1' }, (_e, r) => (first = r));
  sim.runUntil(sim.now + 10_000, () => first !== null);
  sim.process(1)!.keyspace.rmw(key, { op: 'incrby', by: 1n }, { consistency: 'quorum', requestId: 'repeat-1' }, (_e, r) => (again = r));
  sim.runUntil(sim.now + 10_000, () => again !== null);
  assert.deepEqual(again, first, 'a repeat through another node is answered with the first result');
});
