/**
 * What replication needs from the node's storage engine (src/store): string keys, byte values,
 * grouped by partition so a partition can be enumerated and dropped as a unit. Versions live inside
 * the value bytes (record.ts); the engine never interprets them.
 */
export interface ReplicaBackend {
  get(partition: number, key: string): Uint8Array | undefined;
  /** Stores the bytes; returns false when the engine refuses them (out of memory). */
  set(partition: number, key: string, bytes: Uint8Array): boolean;
  delete(partition: number, key: string): void;
  dropPartition(partition: number): void;
}

/**
 * A plain-Map backend: what tests and the simulator use while no size-bounded engine is wired in.
 * It never evicts, which is what the lost-write checker assumes.
 */
export class MapBackend implements ReplicaBackend {
  private readonly partitions = new Map<number, Map<string, Uint8Array>>();

  get(partition: number, key: string): Uint8Array | undefined {
    return this.partitions.get(partition)?.get(key);
  }

  set(partition: number, key: string, bytes: Uint8Array): boolean {
    let map = this.partitions.get(partition);
    if (!map) this.partitions.set(partition, (map = new Map()));
    map.set(key, bytes);
    return true;
  }

  delete(partition: number, key: string): void {
    this.partitions.get(partition)?.delete(key);
  }

  dropPartition(partition: number): void {
    this.partitions.delete(partition);
  }
}
