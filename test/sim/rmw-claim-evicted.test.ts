// A read-modify-write primary that claims a partition reads the keys at a quorum, puts the newest
// records into its own replica (one job) and reads them there for the operation (the next job). A
// key the primary's store evicted is not put back: the replica takes a copy of a version it evicted
// as old news (right for sync, which must not pull evicted data back). Before, the operation then
// read the key as absent, and an INCR on a counter at 1 on every owner answered 1 again. Other
// partitions' jobs running between the two jobs can evict the key too.
// Virtual time: nothing here is a timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { allSettled, drive } from './drive-cluster.ts';

const enc = new TextEncoder();
const PRIMARY = 0;

for (const policy of ['lru', 'wtinylfu'] as const) {
  test(`INCR counts on from the owners' value when its primary evicted the key (${policy})`, () => {
    const cluster = new KvCluster({
      seed: 7,
      nodes: 3,
      partitions: 16,
      replication: { replicas: 3 },
      network: {},
      trace: new EventTrace(),
      nodeConfig: ({ index }) =>
        index === PRIMARY
          ? { maxMemory: 256 * 2 ** 10, evictionPolicy: policy, replication: { replicas: 3, partitionJobsPerTurn: 64, partitionTurnDelayMs: 1 } }
          : { maxMemory: 256 * 2 ** 20 },
    });
    const sim = cluster.sim;
    sim.runUntil(30_000, () => allSettled(cluster, 3));
    const placement = sim.process(PRIMARY)!.placement();
    const counters: string[] = [];
    for (let i = 0; counters.length < 40; i++) if (placement.owners(placement.partitionOfKey(enc.encode(`c${i}`)))[0] === nodeAddress(PRIMARY)) counters.push(`c${i}`);
    const incrAll = (expected: bigint): string[] => {
      const wrong: string[] = [];
      const filler = new Uint8Array(2000);
      let fillerIndex = 0;
      // Writes to every partition keep the primary's mailboxes and store busy while the INCRs claim.
      drive(cluster, 3000, 64, (i, done) => {
        if (i % 75 === 0 && i / 75 < counters.length) {
          const name = counters[i / 75]!;
          return sim.process(1)!.keyspace.rmw([enc.encode(name)], { op: 'incrby', by: 1n }, { consistency: 'quorum' }, (error, r) => {
            const value = (r as { value?: bigint } | null)?.value;
            if (error === null && value !== expected) wrong.push(`${name}=${String(value)}`);
            done(null);
          });
        }
        sim.process(2)!.kv.set(enc.encode(`f${fillerIndex++}`), filler, { consistency: 'all' }, () => done(null));
      });
      return wrong;
    };
    for (let round = 1n; round <= 3n; round++) assert.deepEqual(incrAll(round), [], `round ${round}: INCRs that did not count on`);
  });
}
