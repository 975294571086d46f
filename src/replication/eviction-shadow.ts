/**
 * What this node's store evicted: the newest version of each key it dropped for lack of memory
 * (or declined to admit), per partition, within a bound.
 *
 * Why: last-writer-wins only protects a key while a replica holds its newest version or tombstone.
 * Once the store evicts it, an older record arriving later (a late hint, a sync copy from a replica
 * that missed the write) would be stored as if it were news, and a deleted value could come back
 * for good; and anti-entropy, seeing the key missing, would copy the evicted version straight back,
 * so replicas kept re-inserting each other's evictions (`npx shoal sim --scenario kv-pressure`).
 * With the shadow, a replica treats an evicted version as held for every write, hint, repair and
 * sync: anything at or below it is stale, and sync neither asks for it nor, seeing it in this
 * replica's key list, pushes it. A read of an evicted key answers the evicted version, so the
 * coordinator answers a miss rather than an older value another replica still holds.
 *
 * The bound (oldest forgotten first) keeps memory fixed; a key forgotten by the shadow is again
 * open to an older copy, which is how the store behaved before (docs/REPLICATION.md, "Memory
 * pressure").
 */
import { compareVersions, type Version } from './hlc.ts';

/**
 * How many evicted keys a node remembers: one per 4 KiB of its store budget, at least 4,096 and at
 * most 65,536. An entry costs about 120 bytes of heap plus its key string (measured once with
 * `node --expose-gc`: 65,536 entries took 7.5 MB before keys), so the shadow adds roughly 4% to the
 * budget, at most about 11 MB, outside `--max-memory`.
 */
export function evictionShadowCapacity(storeBudgetBytes: number): number {
  if (!Number.isFinite(storeBudgetBytes)) return MAX_EVICTION_SHADOW_ENTRIES;
  return Math.min(MAX_EVICTION_SHADOW_ENTRIES, Math.max(MIN_EVICTION_SHADOW_ENTRIES, Math.floor(storeBudgetBytes / 4096)));
}
export const MIN_EVICTION_SHADOW_ENTRIES = 4_096;
export const MAX_EVICTION_SHADOW_ENTRIES = 65_536;

export class EvictionShadow {
  /** partition -> key -> newest version evicted. */
  private readonly byPartition = new Map<number, Map<string, Version>>();
  /** Insertion order over all partitions, for the bound (a key re-evicted moves to the back). */
  private readonly order = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.order.size;
  }

  /** The store dropped `key` of `partition` at `version`. */
  record(partition: number, key: string, version: Version): void {
    let keys = this.byPartition.get(partition);
    if (!keys) this.byPartition.set(partition, (keys = new Map()));
    const known = keys.get(key);
    if (known && compareVersions(known, version) >= 0) return;
    keys.set(key, version);
    this.order.delete(key);
    this.order.set(key, partition);
    if (this.order.size > this.capacity) {
      const [oldestKey, oldestPartition] = this.order.entries().next().value!;
      this.order.delete(oldestKey);
      this.forgetIn(oldestPartition, oldestKey);
    }
  }

  /** The newest version of `key` this node evicted, if it still remembers one. */
  versionOf(partition: number, key: string): Version | undefined {
    return this.byPartition.get(partition)?.get(key);
  }

  /** The evicted (key, version) pairs of a partition, for sync's key lists. */
  entries(partition: number): ReadonlyMap<string, Version> {
    return this.byPartition.get(partition) ?? EMPTY;
  }

  /**
   * Forgets the partition's versions at or below `floor` (a flush floor: the floor itself now says
   * those versions are deleted).
   */
  forgetUpTo(partition: number, floor: Version): void {
    const keys = this.byPartition.get(partition);
    if (!keys) return;
    const forgotten: string[] = [];
    for (const [key, version] of keys) if (compareVersions(version, floor) <= 0) forgotten.push(key);
    for (const key of forgotten) {
      this.order.delete(key);
      this.forgetIn(partition, key);
    }
  }

  /** Forgets a partition (the node no longer holds it). */
  dropPartition(partition: number): void {
    const keys = this.byPartition.get(partition);
    if (!keys) return;
    for (const key of keys.keys()) this.order.delete(key);
    this.byPartition.delete(partition);
  }

  private forgetIn(partition: number, key: string): void {
    const keys = this.byPartition.get(partition);
    keys?.delete(key);
    if (keys?.size === 0) this.byPartition.delete(partition);
  }
}

const EMPTY: ReadonlyMap<string, Version> = new Map();
