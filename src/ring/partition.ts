/**
 * Key -> partition. The hash space of 32-bit key hashes is cut into Q equal ranges (Dynamo's
 * strategy 3); partition p holds the hashes in [p * 2^32 / Q, (p + 1) * 2^32 / Q). Q is fixed for
 * the life of a cluster because changing it would move almost every key.
 *
 * The client SDK imports `partitionOf` from here so it routes keys exactly as the nodes do.
 */
import { hashKey } from '../protocol/hash.ts';

/**
 * Default number of partitions per cluster. 1024 leaves about 16 partitions per node at the
 * largest cluster size we target (64 nodes), which is what lets the claim algorithm balance
 * load to within 10%, while keeping per-partition bookkeeping small.
 */
export const DEFAULT_PARTITION_COUNT = 1024;

/** Upper bound on Q: keeps `hash * Q` exact in a double (2^32 * 2^20 < 2^53). */
export const MAX_PARTITION_COUNT = 1 << 20;

const TWO_POW_32 = 4294967296;

/** Thrown when a partition count is not an integer in [1, MAX_PARTITION_COUNT]. */
export class InvalidPartitionCountError extends Error {
  override readonly name = 'InvalidPartitionCountError';
  constructor(readonly partitions: number) {
    super(`partition count must be an integer from 1 to ${MAX_PARTITION_COUNT}, got ${partitions}`);
  }
}

export function assertValidPartitionCount(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITION_COUNT) {
    throw new InvalidPartitionCountError(partitions);
  }
}

/** The partition of the range that a 32-bit hash falls into. */
export function partitionOfHash(hash: number, partitions: number): number {
  // Exact: hash * partitions < 2^53, and dividing by a power of two is exact.
  return Math.floor((hash * partitions) / TWO_POW_32);
}

/**
 * The partition that owns `key`. String keys hash their UTF-8 bytes, so `partitionOf('k', q)`
 * equals `partitionOf(new TextEncoder().encode('k'), q)`.
 */
export function partitionOf(key: Uint8Array | string, partitions: number = DEFAULT_PARTITION_COUNT): number {
  assertValidPartitionCount(partitions);
  return partitionOfHash(hashKey(key), partitions);
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
