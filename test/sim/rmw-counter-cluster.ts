// The set-up the hand-built read-modify-write constructions share (rmw-deposed-residue,
// rmw-claim-catching-up, rmw-claim-lineage): a quiet 4-node KvCluster (seed 7) run to the workload's start, one
// counter key, the three owners of its partition in ring order and the one node that owns none of
// it (a coordinator), and the counter's value on each owner.
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { KV_SIM_PARTITIONS, KV_SIM_REPLICATION, KV_WORKLOAD_START_MS } from '../../src/sim/scenarios/kv.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { decodeRecord } from '../../src/replication/record.ts';
import type { ReplicationConfig } from '../../src/replication/config.ts';

export const COUNTER = 'counter';

export function counterCluster(bugs: ReplicationConfig['bugs'] = {}) {
  const cluster = new KvCluster({ seed: 7, nodes: 4, partitions: KV_SIM_PARTITIONS, replication: { ...KV_SIM_REPLICATION, bugs }, network: {}, trace: new EventTrace() });
  const { sim } = cluster;
  sim.runUntil(KV_WORKLOAD_START_MS);
  const key = new TextEncoder().encode(COUNTER);
  const placement = sim.process(0)!.placement();
  const partition = placement.partitionOfKey(key);
  const owners = placement.owners(partition).map((name) => sim.indexOf(name)!) as [number, number, number];
  const coordinator = [0, 1, 2, 3].find((i) => !owners.includes(i))!;
  const dec = new TextDecoder();
  /** The counter's value on each owner, in `owners`' order (null: not held). */
  const held = () =>
    owners.map((n) => {
      const raw = sim.process(n)?.heldPartitions().get(partition)?.peek(COUNTER) ?? null;
      return raw === null ? null : dec.decode(decodeRecord(raw).value);
    });
  return { cluster, sim, key, placement, partition, owners, coordinator, held };
}
