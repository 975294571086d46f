/**
 * The hash ring: key -> Redis Cluster slot -> partition (`keySlot`, `partitionOf`, shared with the
 * client SDK), and partition -> preference list as a pure function of the member set
 * (`buildRing`). See claim.ts for the placement algorithm and measure.ts for how its balance and
 * movement are checked.
 *
 * This folder imports only src/protocol (the one key hash), so the SDK can bundle it.
 */
export { KEY_HASH_SEED, crc16, hashKey, murmur3, murmur3String } from '../protocol/hash.ts';
export {
  DEFAULT_PARTITION_COUNT,
  MAX_PARTITION_COUNT,
  InvalidPartitionCountError,
  PartitionCountMismatchError,
  assertValidPartitionCount,
  checkPartitionCount,
  partitionOf,
} from './partition.ts';
export { SLOT_COUNT, hashTagRange, keySlot, partitionSlotRange, slotToPartition } from './slots.ts';
export { CLAIM_ALGORITHM_VERSION, MAX_LOAD_OVER_MEAN } from './claim.ts';
export { chooseClaimSeed, joinInOrder } from './claim-seed.ts';
export { CLAIM_SEEDS, isClaimSeed } from './member-order.ts';
export { DEFAULT_REPLICAS, DEFAULT_ZONE, Ring, RingConfigError, buildRing } from './ring.ts';
export type { RingConfig, RingMember, WalkOptions } from './ring.ts';
export { IncompatibleRingsError, diffRings } from './diff.ts';
export type { PartitionMove } from './diff.ts';
export {
  BALANCE_TARGET,
  MOVEMENT_TARGET,
  balanceOf,
  joinMovement,
  leaveMovement,
  measureBalance,
  measureMovement,
  movedReplicas,
  sampleMembers,
} from './measure.ts';
export type { Balance, MeasureOptions, Movement, MovementReport } from './measure.ts';
