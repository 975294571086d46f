// What the hand-built read-modify-write constructions share (rmw-deposed-residue.test.ts,
// rmw-retraction-removal.test.ts): a quiet 4-node cluster, the owners P, Q and A of one counter's
// partition (in preference order) and D, a coordinator that owns nothing. Virtual time only.
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { KV_SIM_PARTITIONS, KV_SIM_REPLICATION, KV_WORKLOAD_START_MS } from '../../src/sim/scenarios/kv.ts';
import { nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { decodeRecord, keyToStoreKey } from '../../src/replication/record.ts';
import { encodeRmwOp, type WireRmwOp } from '../../src/replication/rmw-wire.ts';
import type { KvMessage } from '../../src/replication/messages.ts';
import type { RmwOp } from '../../src/replication/rmw.ts';

const COUNTER = 'counter';
const dec = new TextDecoder();

export function counterOwners() {
  const cluster = new KvCluster({ seed: 7, nodes: 4, partitions: KV_SIM_PARTITIONS, replication: KV_SIM_REPLICATION, network: {}, trace: new EventTrace() });
  const { sim } = cluster;
  sim.runUntil(KV_WORKLOAD_START_MS);
  const key = new TextEncoder().encode(COUNTER);
  const storeKey = keyToStoreKey(key);
  const placement = sim.process(0)!.placement();
  const partition = placement.partitionOfKey(key);
  const [P, Q, A] = placement.owners(partition).map((name) => sim.indexOf(name)!) as [number, number, number];
  const D = [0, 1, 2, 3].find((i) => ![P, Q, A].includes(i))!;
  /** The counter's value on P, Q and A (null: not held). */
  const held = () =>
    [P, Q, A].map((n) => {
      const raw = sim.process(n)?.heldPartitions().get(partition)?.peek(COUNTER) ?? null;
      return raw === null ? null : dec.decode(decodeRecord(raw).value);
    });
  /** The answers of the INCRs through `incr`, in the order they came. */
  const answers: unknown[] = [];
  const incr = (via: number, requestId: string) => sim.process(via)!.keyspace.rmw([key], { op: 'incrby', by: 1n }, { requestId }, (error, result) => answers.push(error ?? result));
  // The operation a coordinator sends an owner it takes for the primary (one whose membership took
  // the owners before it for down while theirs did not): handed to that owner's RmwPrimary as if
  // from D, through the node's private field: getting two memberships to disagree so, by gossip
  // alone, hangs on probe timings. Its answer goes to D's coordinator, which has no such request.
  const asPrimary = (node: number, op: RmwOp, requestId: string) => {
    const message: KvMessage = { t: 'x', id: 1_000_000, p: partition, k: [storeKey], o: encodeRmwOp(op) as WireRmwOp, c: 'quorum', q: requestId };
    (sim.process(node) as unknown as { rmwPrimary: { onMessage(from: string, m: KvMessage): boolean } }).rmwPrimary.onMessage(nodeAddress(D), message);
  };
  return { sim, storeKey, partition, P, Q, A, D, held, answers, incr, asPrimary };
}
