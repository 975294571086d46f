/**
 * Key -> partition. A key's Redis Cluster slot (slots.ts: CRC-16 of the key or its `{hash tag}`,
 * mod 16384) is cut into Q contiguous runs of slots; partition p holds the slots s with
 * floor(s * Q / 16384) = p (for the default Q = 1024: slot >> 4, 16 slots each). Placing by slot
 * is what lets Redis Cluster clients route keys themselves and keys with one hash tag share a
 * partition. Q is fixed for the life of a cluster because changing it would move almost every key.
 *
 * The client SDK imports `partitionOf` from here so it routes keys exactly as the nodes do.
 */
import { SLOT_COUNT, keySlot, slotToPartition } from './slots.ts';

/**
 * Default number of partitions per cluster. 1024 leaves about 16 partitions per node at the
 * largest cluster size we target (64 nodes), which is what lets the claim algorithm balance
 * load to within 10%, while keeping per-partition bookkeeping small.
 */
export const DEFAULT_PARTITION_COUNT = 1024;

/**
 * Upper bound on Q: one partition per Redis Cluster slot. With more, some partitions would hold
 * no slot, hence no key.
 */
export const MAX_PARTITION_COUNT = SLOT_COUNT;

/** Thrown when a partition count is not an integer in [1, MAX_PARTITION_COUNT]. */
export class InvalidPartitionCountError extends Error {
  override readonly name = 'InvalidPartitionCountError';
  constructor(readonly partitions: number) {
    super(
      `partition count must be an integer from 1 to ${MAX_PARTITION_COUNT} (the Redis Cluster slot count: ` +
        `each partition holds whole slots), got ${partitions}`,
    );
  }
}

export function assertValidPartitionCount(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITION_COUNT) {
    throw new InvalidPartitionCountError(partitions);
  }
}

/**
 * The partition that owns `key`: the partition of its slot. String keys hash their UTF-8 bytes,
 * so `partitionOf('k', q)` equals `partitionOf(new TextEncoder().encode('k'), q)`.
 */
export function partitionOf(key: Uint8Array | string, partitions: number = DEFAULT_PARTITION_COUNT): number {
  assertValidPartitionCount(partitions);
  return slotToPartition(keySlot(key), partitions);
}

/**
 * Thrown when a node whose partition count differs from the cluster's tries to join. The two
 * could never agree on which node owns a key, so the join must be refused.
 */
export class PartitionCountMismatchError extends Error {
  override readonly name = 'PartitionCountMismatchError';
  constructor(
    readonly node: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      `node "${node}" is configured with ${actual} partitions but this cluster uses ${expected}; ` +
        `the partition count is fixed for the life of a cluster: restart "${node}" with partitions=${expected}`,
    );
  }
}

/** For the gossip/join path: throws PartitionCountMismatchError unless `actual === expected`. */
export function checkPartitionCount(node: string, expected: number, actual: number): void {
  if (actual !== expected) throw new PartitionCountMismatchError(node, expected, actual);
}
