/** The storage engine's public surface (see docs/STORE.md). */
export { Store, StoreConfigError, ConcurrentModificationError, ENTRY_OVERHEAD_BYTES, entryCost, DEFAULT_MAX_EXPIRATIONS_PER_TICK } from './store.ts';
export type { StoreOptions, SetOptions, StoreStats, TickResult, RemovalCause } from './store.ts';
export type { PartitionCounters } from './partitions.ts';
export type { PolicyName } from './policy.ts';
export type { WindowAdaptation } from './policy-wtinylfu.ts';
export { CountMinSketch } from './count-min.ts';
export { BloomFilter, RotatingBloomFilter, BloomConfigError } from './bloom.ts';
export { HotKeyTracker, HotKeyConfigError } from './hot-keys.ts';
export type { HotKey, HotKeyReport, HotKeyOptions } from './hot-keys.ts';
export { AccessRecorder, PrefixTable, AnalyticsConfigError, mergeAnalytics, hitRatioOf, sizeBucket, sizeBucketFloor, ttlBucket, TTL_LABELS, SIZE_BUCKETS, DEFAULT_PREFIX_DELIMITER, DEFAULT_PREFIX_CAPACITY } from './analytics.ts';
export type { AccessAnalytics, AnalyticsOptions, PrefixTraffic, RemovalReasons, TimeBucket } from './analytics.ts';
export { DiskTier, type DiskTierOptions, type DiskTierStats, type RecoverySummary } from './disk/disk-tier.ts';
export type { BlockDevice, IoDone } from './disk/device.ts';
export type { BlockSealer } from './disk/sealer.ts';
