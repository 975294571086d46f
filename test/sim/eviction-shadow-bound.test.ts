// A key a replica evicted is answered "evicted at v" while its eviction shadow remembers it, so a
// QUORUM read answers a miss rather than an older copy another replica holds. Past the shadow's
// bound (4,096 keys at least; one per 4 KiB of the store budget) it answered "absent", as if it
// had never held the key, and the read returned the older copy, which read repair and sync then
// wrote back into it (restart-probe F5). Now its filter of forgotten keys (forgotten-keys.ts)
// answers "evicted at or below W" and refuses records at or below W.
//
// Three nodes, N=3, QUORUM reads and writes (2 of 3). k=v1 is written at ALL. C's replication is cut; B coordinates k=v2 at
// QUORUM (acknowledged by A and B; B keeps C's hint) and crashes with the hint. A's store (2 MiB,
// LRU) then takes filler writes until k is evicted; C's (256 MiB) keeps everything. C's link comes
// back and C coordinates a QUORUM read of k, answered by A and C. Everything else is the real stack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GetResult } from '../../src/replication/api.ts';
import { decodeRecord } from '../../src/replication/record.ts';
import { AdmissionGate } from '../../src/replication/admission-gate.ts';
import { nodeMetrics } from '../../src/daemon/metrics-source.ts';
import type { HostedNode } from '../../src/daemon/node-host.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import { MessageFamily } from '../../src/node/wire.ts';
import { joinDatagram } from '../../src/protocol/datagram.ts';
import type { Env } from '../../src/runtime/env.ts';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { allSettled, drive } from './drive-cluster.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const [A, B, C] = [0, 1, 2];
const KEY = enc.encode('k');

/** A node's Prometheus exposition, as its daemon's /metrics would serve it (only what a scrape reads is wired). */
async function metricsText(shoal: ShoalNode): Promise<string> {
  const node = { shoal, onTopologyChange: () => () => {} } as unknown as HostedNode;
  const metrics = nodeMetrics({ node, server: () => null, resp: () => null, admission: new AdmissionGate({ nowMs: () => 0 }), authGuard: { failures: 0, refused: 0 } as never }, { timings: false, process: false });
  try {
    return (await metrics.scrape()).text;
  } finally {
    metrics.close();
  }
}

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * The QUORUM read of k through C after `fillerBatches` thousand filler writes through A, and what
 * A holds of k 10 s later (read repair and anti-entropy had their chance to copy v1 into it).
 */
function readAfterEvictions(fillerBatches: number): { value: string | null; miss: string | undefined; evictions: number; aHoldsAfter: string | null; a: ShoalNode; c: ShoalNode } {
  let cut = false;
  const c = nodeAddress(C);
  const cutting = (env: Env): Env => ({
    ...env,
    transport: {
      send: (to, datagram, lane) => (cut && (to === c || env.address === c) && joinDatagram(datagram)[0] === MessageFamily.kv ? undefined : env.transport.send(to, datagram, lane)),
      onReceive: (handler) => env.transport.onReceive(handler),
    },
  });
  const cluster = new KvCluster({
    seed: 7,
    nodes: 3,
    partitions: 16,
    replication: { replicas: 3 },
    network: {},
    trace: new EventTrace(),
    nodeConfig: ({ index }) => ({ maxMemory: index === C ? 256 * 2 ** 20 : 2 * 2 ** 20, evictionPolicy: 'lru' }),
    instrument: (env, _info, build) => build(cutting(env)),
  });
  const sim = cluster.sim;
  sim.runUntil(30_000, () => allSettled(cluster, 3));
  const one = (start: (done: (error?: unknown) => void) => void) => assert.deepEqual(drive(cluster, 1, 1, (_i, done) => start(done)), []);
  one((done) => sim.process(A)!.kv.set(KEY, enc.encode('v1'), { consistency: 'all' }, (error) => done(error)));
  cut = true;
  one((done) => sim.process(B)!.kv.set(KEY, enc.encode('v2'), { consistency: 'quorum' }, (error) => done(error)));
  cluster.crash(B);
  const filler = new Uint8Array(200);
  for (let batch = 0; batch < fillerBatches; batch++) {
    const errors = drive(cluster, 1000, 4, (i, done) => sim.process(A)!.kv.set(enc.encode(`f${batch}-${i}`), filler, { consistency: 'one' }, (error) => done(error)));
    assert.deepEqual(errors, []);
    sim.runUntil(sim.now + 2_000);
  }
  const evictions = sim.process(A)!.stats().store.size;
  cut = false;
  sim.runUntil(sim.now + 5_000);
  let result: GetResult | null = null;
  one((done) => sim.process(C)!.kv.get(KEY, { consistency: 'quorum' }, (error, r) => ((result = r ?? null), done(error))));
  const r = result as GetResult | null;
  sim.runUntil(sim.now + 10_000);
  const p = sim.process(A)!.placement().partitionOfKey(KEY);
  const held = sim.process(A)!.heldPartitions().get(p)?.peek('k');
  const aHoldsAfter = held ? dec.decode(decodeRecord(held).value) : null;
  return { value: r?.value ? dec.decode(r.value) : null, miss: r?.miss, evictions, aHoldsAfter, a: sim.process(A)!, c: sim.process(C)! };
}

test('within the eviction shadow: a QUORUM read of a key one replica evicted is a miss, not the older copy', () => {
  const { value, miss, evictions } = readAfterEvictions(7);
  assert.ok(evictions < 4_096, `A evicted ${evictions} entries: the shadow remembers them all`);
  assert.deepEqual({ value, miss }, { value: null, miss: 'evicted' });
});

test('past the eviction shadow: a QUORUM read of a key one replica evicted and forgot still does not answer the older copy', async () => {
  const { value, miss, evictions, aHoldsAfter, a, c } = readAfterEvictions(16);
  assert.ok(evictions > 4_096 + 5_000, `A evicted ${evictions} entries: k is past the shadow's 4,096`);
  assert.notEqual(value, 'v1', 'v2 was acknowledged at QUORUM by A and B');
  // A's filter of forgotten keys answers "evicted at or below its watermark": C's v1 is older.
  assert.deepEqual({ value, miss }, { value: null, miss: 'evicted' });
  assert.notEqual(aHoldsAfter, 'v1', 'neither read repair nor sync may copy v1 into A');
  // What an operator sees of it (docs/METRICS.md): A answered from its filter, C missed over v1.
  const [aText, cText] = await Promise.all([metricsText(a), metricsText(c)]);
  const answers = a.stats().replica.forgottenAnswers;
  assert.ok(answers >= 1, `A answered ${answers} reads with its filter's watermark`);
  assert.equal(sample(aText, 'shoal_replica_forgotten_reads_total'), answers);
  assert.equal(sample(aText, 'shoal_replica_forgotten_refusals_total'), a.stats().replica.forgottenRefusals);
  assert.equal(sample(cText, 'shoal_read_misses_evicted_over_copy_total'), 1, "C's read missed although it held v1");
});
