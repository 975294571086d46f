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
 * A version a sync source evicted is remembered too (a replica catching up learns it, since the
 * value cannot come from there), but as learnt: this store never held it, so the value, from an
 * owner that still holds it, is taken (PartitionReplica.apply), and sync asks the other owners for
 * it (value-hunts.ts). Before, a learnt version counted as held everywhere and digests matched,
 * so one node's memory pressure plus two restarts of the others lost values they had room for
 * (test/sim/eviction-spread.test.ts).
 *
 * The bound (oldest forgotten first) keeps memory fixed. A key it forgets goes into a filter of
 * forgotten keys (forgotten-keys.ts), which knows only that some version at or below a watermark
 * was evicted: reads and incoming records of such a key are judged against that watermark
 * (`evictionBound`, `forgottenBound`), so an older copy is not taken for the newest (restart-probe
 * F5). Past the filter's own rotation a key is again open to an older copy (docs/REPLICATION.md,
 * "Memory pressure").
 */
import { ForgottenKeys } from './forgotten-keys.ts';
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

/** What `evictionBound` answers: a version at or above every one evicted, and whether one that new was evicted here. */
export interface EvictionBound {
  version: Version;
  exact: boolean;
}

export interface ForgottenCounts {
  forgottenAnswers: number;
  forgottenRefusals: number;
}

export class EvictionShadow {
  /** partition -> key -> newest version evicted. */
  private readonly byPartition = new Map<number, Map<string, Version>>();
  /** Insertion order over all partitions, for the bound (a key re-evicted moves to the back). */
  private readonly order = new Map<string, number>();
  /** Keys whose remembered version was learnt from a sync source (`record`'s `learnt`). */
  private readonly learnt = new Set<string>();
  /** Keys whose remembered version was refused for the forgotten-keys filter (`recordRefused`): it says nothing of what was evicted. */
  private readonly refused = new Set<string>();
  /** What the bound made this shadow forget: about 1.6 bytes a key, 8 times the shadow's capacity over 4 generations. */
  readonly forgotten: ForgottenKeys;

  constructor(
    private readonly capacity: number,
    /** False only to re-inject F5 (ReplicationBugs.forgetPastShadow): a key past the bound is forgotten for good. */
    private readonly filtersForgotten = true,
    /** For figures (ReplicaStats): reads answered with the filter's watermark (`evictionBound`), records refused for it (`recordRefused`). */
    readonly counts: ForgottenCounts = { forgottenAnswers: 0, forgottenRefusals: 0 },
  ) {
    this.forgotten = new ForgottenKeys(2 * capacity);
  }

  get size(): number {
    return this.order.size;
  }

  /**
   * The store dropped `key` of `partition` at `version`; or, `learnt`, a sync source said it evicted
   * that version, which this store never held (PartitionReplica.noteEvicted). The difference: the
   * value of a learnt version is welcome from an owner that still holds it, while a copy of a
   * version this store evicted is what the shadow keeps out. Its own eviction of a version it had
   * learnt makes it its own.
   */
  record(partition: number, key: string, version: Version, learnt = false): void {
    let keys = this.byPartition.get(partition);
    if (!keys) this.byPartition.set(partition, (keys = new Map()));
    const known = keys.get(key);
    const newer = known === undefined ? 1 : compareVersions(version, known);
    if (newer === 0 && !learnt) this.learnt.delete(key);
    if (newer <= 0) return;
    keys.set(key, version);
    if (learnt) this.learnt.add(key);
    else this.learnt.delete(key);
    this.refused.delete(key);
    this.order.delete(key);
    this.order.set(key, partition);
    if (this.order.size > this.capacity) {
      const [oldestKey, oldestPartition] = this.order.entries().next().value!;
      if (this.filtersForgotten) this.forgotten.add(oldestPartition, oldestKey, this.versionOf(oldestPartition, oldestKey)!);
      this.forget(oldestPartition, oldestKey);
    }
  }

  /**
   * A record of `key` at `version` was refused because the key may have been evicted at or above it
   * and forgotten (PartitionReplica.apply): remembered like an eviction, so sync lists the key at
   * that version and its sender stops pushing it, but not trusted as the version evicted (reads
   * still answer the filter's watermark, `evictionBound`).
   */
  recordRefused(partition: number, key: string, version: Version): void {
    this.counts.forgottenRefusals++;
    this.record(partition, key, version);
    if (compareVersions(this.versionOf(partition, key)!, version) === 0) this.refused.add(key);
  }

  /**
   * For a key the node does not hold: a version at or above every version of it this node evicted,
   * if it evicted any it may still be asked about. The shadow's own version when the store evicted
   * it; otherwise the newer of what the shadow remembers and the forgotten-keys filter's watermark,
   * since a version learnt or refused may be older than one evicted and forgotten. `exact` is false
   * only for the watermark (counted in `forgottenAnswers`): it says "at or below", not that a
   * version that new was written, so a coordinator may ask the other owners before it believes it
   * (docs/REPLICATION.md, "An inexact eviction answer asks the other owners"). A learnt or refused
   * version is a version some node did hold, so it is passed on as exact.
   */
  evictionBound(partition: number, key: string): EvictionBound | undefined {
    const known = this.versionOf(partition, key);
    if (known !== undefined && !this.learnt.has(key) && !this.refused.has(key)) return { version: known, exact: true };
    const forgotten = this.forgotten.bound(partition, key);
    if (forgotten === undefined || (known !== undefined && compareVersions(known, forgotten) >= 0)) return known === undefined ? undefined : { version: known, exact: true };
    this.counts.forgottenAnswers++;
    return { version: forgotten, exact: false };
  }

  /**
   * Whether a record of `key` at `version`, which the shadow does not hold as evicted by the store
   * at or above it, may be older than a version evicted and forgotten: the filter's watermark is.
   */
  forgottenBound(partition: number, key: string, version: Version): boolean {
    const known = this.versionOf(partition, key);
    if (known !== undefined && !this.learnt.has(key) && !this.refused.has(key)) return false;
    return this.forgotten.bound(partition, key, version) !== undefined;
  }

  /** The newest version of `partition` this node forgot, if any (ForgottenKeys.horizon). */
  forgettingHorizon(partition: number): Version | undefined {
    return this.forgotten.horizon(partition);
  }

  /** `partition` caught up from a source whose forgetting horizon is `horizon` (ForgottenKeys.inherit). */
  inheritHorizon(partition: number, horizon: Version): void {
    this.forgotten.inherit(partition, horizon);
  }

  /** The forgetting horizon `partition` inherited from its catch-up sources (ForgottenKeys.inherit). */
  inheritedHorizon(partition: number): Version | undefined {
    return this.forgotten.inheritedHorizon(partition);
  }

  /** Whether `version` is the one remembered for `key` and was learnt from a sync source, not evicted here. */
  isLearnt(partition: number, key: string, version: Version): boolean {
    if (!this.learnt.has(key)) return false;
    const known = this.versionOf(partition, key);
    return known !== undefined && compareVersions(known, version) === 0;
  }

  /** Forgets `key` (its store holds the key again, the bound, a flush). */
  forget(partition: number, key: string): void {
    this.order.delete(key);
    this.learnt.delete(key);
    this.refused.delete(key);
    const keys = this.byPartition.get(partition);
    keys?.delete(key);
    if (keys?.size === 0) this.byPartition.delete(partition);
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
    this.forgotten.forgetUpTo(partition, floor);
    const keys = this.byPartition.get(partition);
    if (!keys) return;
    const forgotten: string[] = [];
    for (const [key, version] of keys) if (compareVersions(version, floor) <= 0) forgotten.push(key);
    for (const key of forgotten) this.forget(partition, key);
  }

  /** Forgets a partition (the node no longer holds it). */
  dropPartition(partition: number): void {
    this.forgotten.dropPartition(partition);
    const keys = this.byPartition.get(partition);
    if (!keys) return;
    for (const key of keys.keys()) {
      this.order.delete(key);
      this.learnt.delete(key);
      this.refused.delete(key);
    }
    this.byPartition.delete(partition);
  }
}

const EMPTY: ReadonlyMap<string, Version> = new Map();
