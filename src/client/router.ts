/**
 * Topology-aware routing: which nodes hold a key, from the ring snapshot a node sent us. The key
 * hashes exactly as on the nodes (`partitionOf` from src/ring), so the request goes straight to a
 * replica and the coordinator saves a hop.
 */
import type { WireTopology } from '../protocol/index.ts';
import { partitionOf } from '../ring/partition.ts';

export class Router {
  /** replicaAddresses[p] = client addresses of partition p's preference list, primary first. */
  private readonly replicaAddresses: readonly (readonly string[])[];

  constructor(readonly topology: WireTopology) {
    const addressOf = new Map(topology.nodes.map((n) => [n.name, n.clientAddress]));
    this.replicaAddresses = topology.owners.map((names) =>
      names.map((name) => addressOf.get(name)).filter((a): a is string => a !== undefined && a !== ''),
    );
  }

  get version(): string {
    return this.topology.version;
  }

  /** Client addresses of the key's replicas, primary first (empty if the ring has no owners yet). */
  replicasOf(key: Uint8Array): readonly string[] {
    return this.replicaAddresses[partitionOf(key, this.topology.partitions)] ?? [];
  }

  /** Every node's client address. */
  addresses(): string[] {
    return this.topology.nodes.map((n) => n.clientAddress).filter((a) => a !== '');
  }
}
