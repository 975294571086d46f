/**
 * Access analytics (`shoal stats`): what the traffic a node's store sees looks like, in bounded
 * memory whatever the key space.
 *
 * - Hit ratio over time: a ring of `bucketMs` buckets (default 10 s x 30 = the last 5 minutes)
 *   of hits, misses and writes. Buckets start on multiples of `bucketMs` of wall time, so the
 *   buckets of every node line up and a cluster view sums them. The hot path only bumps the
 *   current counters; buckets close in `tick(wallMs)`, called by the store's owner (once a second).
 * - Key and value sizes of writes as log2 histograms (bucket b holds sizes in [2^(b-1), 2^b), bucket
 *   0 holds 0), and the TTL of writes in eight fixed buckets (none, <1 s ... <1 d, longer).
 * - Top prefixes by traffic (a prefix is the key up to and including the first delimiter; keys
 *   without one count under ''): Space-Saving (Metwally et al. 2005) with `prefixCapacity`
 *   counters, cumulative since start, each with its own hits, misses, writes and deletes since it
 *   entered the table. Memory is O(capacity) whatever the number of distinct prefixes.
 *
 * Everything here is plain counting (no clock reads, no randomness on the hot path), and every
 * snapshot merges with another by summing (`mergeAnalytics`), which is how the cluster view is
 * built.
 */
import { SIZE_BUCKETS, TTL_BOUNDS_MS, TTL_LABELS } from '../protocol/analytics.ts';
import type { AccessAnalytics, PrefixTraffic, RemovalReasons, TimeBucket } from '../protocol/analytics.ts';
import { siftDown, siftUp } from './count-heap.ts';

export { SIZE_BUCKETS, TTL_BOUNDS_MS, TTL_LABELS };
export type { AccessAnalytics, PrefixTraffic, RemovalReasons, TimeBucket };

export const DEFAULT_ANALYTICS_BUCKET_MS = 10_000;
export const DEFAULT_ANALYTICS_BUCKETS = 30;
export const DEFAULT_PREFIX_DELIMITER = ':';
export const DEFAULT_PREFIX_CAPACITY = 128;
/** By default one read in this many reaches the prefix table, weighted by it (see AccessRecorder.read). */
export const READ_SAMPLE = 8;

export class AnalyticsConfigError extends Error {
  override readonly name = 'AnalyticsConfigError';
}

export interface AnalyticsOptions {
  /** Width of one hit-ratio bucket (ms of wall time). */
  bucketMs?: number;
  /** How many buckets the ring keeps (the current, partial one included). */
  buckets?: number;
  /** Where a key's prefix ends (kept in the prefix); '' switches the prefix table off. */
  prefixDelimiter?: string;
  /** Counters in the Space-Saving prefix table. */
  prefixCapacity?: number;
  /** One read in this many counts in the prefix table, weighted by it (a power of two; default READ_SAMPLE). */
  readSample?: number;
}

/** Index of the log2 bucket of a non-negative integer size. */
export function sizeBucket(n: number): number {
  return n <= 0 ? 0 : n >= 0x1_0000_0000 ? SIZE_BUCKETS - 1 : 32 - Math.clz32(n);
}

/** Index in TTL_LABELS of a TTL in ms (negative: no TTL). */
export function ttlBucket(ttlMs: number): number {
  if (ttlMs < 0) return 0;
  for (let i = 0; i < TTL_BOUNDS_MS.length; i++) if (ttlMs < TTL_BOUNDS_MS[i]!) return i + 1;
  return TTL_LABELS.length - 1;
}

/** The smallest size that falls in a log2 bucket, for labels. */
export function sizeBucketFloor(bucket: number): number {
  return bucket === 0 ? 0 : 2 ** (bucket - 1);
}

/** Space-Saving over prefixes with per-counter traffic split; see the module comment. */
export class PrefixTable {
  readonly capacity: number;
  private readonly index = new Map<string, number>();
  private readonly prefixes: string[] = [];
  private readonly counts: Float64Array;
  private readonly errors: Float64Array;
  /** hits, misses, writes, deletes per counter, 4 per row. */
  private readonly kinds: Float64Array;
  private readonly heap: Int32Array;
  private readonly heapPos: Int32Array;
  private size = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new AnalyticsConfigError(`prefix capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.counts = new Float64Array(capacity);
    this.errors = new Float64Array(capacity);
    this.kinds = new Float64Array(capacity * 4);
    this.heap = new Int32Array(capacity);
    this.heapPos = new Int32Array(capacity);
  }

  /** Distinct prefixes currently tracked (at most `capacity`). */
  get tracked(): number {
    return this.size;
  }

  /** Counts one access; kind 0 hit, 1 miss, 2 write, 3 delete. */
  /** Moves `weight` of a tracked prefix's counts from one kind to another (a read found to be a miss after all); nothing for an untracked one. */
  moveKind(prefix: string, from: number, to: number, weight: number): void {
    const id = this.index.get(prefix);
    if (id === undefined) return;
    const moved = Math.min(weight, this.kinds[id * 4 + from]!);
    this.kinds[id * 4 + from] = this.kinds[id * 4 + from]! - moved;
    this.kinds[id * 4 + to] = this.kinds[id * 4 + to]! + moved;
  }

  record(prefix: string, kind: number, weight = 1): void {
    let id = this.index.get(prefix);
    if (id !== undefined) {
      this.counts[id] = this.counts[id]! + weight;
      siftDown(this.heap, this.heapPos, this.counts, this.size, this.heapPos[id]!);
    } else if (this.size < this.capacity) {
      id = this.size++;
      this.prefixes[id] = prefix;
      this.index.set(prefix, id);
      this.counts[id] = weight;
      this.errors[id] = 0;
      this.heap[id] = id;
      this.heapPos[id] = id;
      siftUp(this.heap, this.heapPos, this.counts, id);
    } else {
      // Replace the smallest counter: the newcomer inherits its count as possible overestimate.
      id = this.heap[0]!;
      this.index.delete(this.prefixes[id]!);
      this.prefixes[id] = prefix;
      this.index.set(prefix, id);
      this.errors[id] = this.counts[id]!;
      this.counts[id] = this.counts[id]! + weight;
      this.kinds.fill(0, id * 4, id * 4 + 4);
      siftDown(this.heap, this.heapPos, this.counts, this.size, 0);
    }
    this.kinds[id * 4 + kind] = this.kinds[id * 4 + kind]! + weight;
  }

  /** Every tracked prefix, hottest first. */
  top(): PrefixTraffic[] {
    const out: PrefixTraffic[] = [];
    for (let id = 0; id < this.size; id++) {
      const k = id * 4;
      out.push({ prefix: this.prefixes[id]!, count: this.counts[id]!, error: this.errors[id]!, hits: this.kinds[k]!, misses: this.kinds[k + 1]!, writes: this.kinds[k + 2]!, deletes: this.kinds[k + 3]! });
    }
    return sortPrefixes(out);
  }
}

function sortPrefixes(list: PrefixTraffic[]): PrefixTraffic[] {
  return list.sort((a, b) => b.count - a.count || (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
}

/** The store-side counters analytics reads at snapshot time instead of counting them twice. */
export interface StoreRemovalCounters {
  hits: number;
  misses: number;
  evictedSize: number;
  evictedExpired: number;
  evictedExplicit: number;
  /** Entries removed with partitions handed off (Store.dropPartition). */
  evictedHandoff: number;
  activeExpirations: number;
  refusedTooLarge: number;
}

/**
 * One node's analytics, fed by its Store: `read`/`write`/`remove` on the hot path (a few array
 * increments and, with a delimiter, one prefix-table update), `tick` once a second or so.
 */
export class AccessRecorder {
  readonly bucketMs: number;
  readonly buckets: number;
  readonly prefixDelimiter: string;
  readonly prefixes: PrefixTable | undefined;
  private readonly ring: TimeBucket[] = [];
  private current: TimeBucket | undefined;
  /** Store hits/misses when the current bucket began (the store counts them; we take deltas). */
  private hitsAtStart = 0;
  private missesAtStart = 0;
  private writesAtStart = 0;
  private writes = 0;
  private deletes = 0;
  private readonly keySizes = new Float64Array(SIZE_BUCKETS);
  private readonly valueSizes = new Float64Array(SIZE_BUCKETS);
  private readonly ttls = new Float64Array(TTL_LABELS.length);
  admissionRejected = 0;

  constructor(options: AnalyticsOptions = {}) {
    this.bucketMs = options.bucketMs ?? DEFAULT_ANALYTICS_BUCKET_MS;
    this.buckets = options.buckets ?? DEFAULT_ANALYTICS_BUCKETS;
    this.prefixDelimiter = options.prefixDelimiter ?? DEFAULT_PREFIX_DELIMITER;
    if (!(Number.isInteger(this.bucketMs) && this.bucketMs > 0)) throw new AnalyticsConfigError(`analytics bucketMs must be a positive integer, got ${this.bucketMs}`);
    if (!(Number.isInteger(this.buckets) && this.buckets > 0)) throw new AnalyticsConfigError(`analytics buckets must be a positive integer, got ${this.buckets}`);
    this.readSample = options.readSample ?? READ_SAMPLE;
    if (!(Number.isInteger(this.readSample) && this.readSample > 0 && (this.readSample & (this.readSample - 1)) === 0)) {
      throw new AnalyticsConfigError(`analytics readSample must be a power of two, got ${this.readSample}`);
    }
    this.prefixes = this.prefixDelimiter === '' ? undefined : new PrefixTable(options.prefixCapacity ?? DEFAULT_PREFIX_CAPACITY);
  }

  /** The prefix of a key: up to and including the first delimiter, or '' when it has none. */
  prefixOf(key: string): string {
    const at = key.indexOf(this.prefixDelimiter);
    return at === -1 ? '' : key.slice(0, at + this.prefixDelimiter.length);
  }

  /**
   * The prefix of `key` as a string the table already knows when it is the same as the last one
   * (the common case: traffic runs in prefixes), so the hot path neither allocates a slice nor
   * hashes a fresh string; otherwise `prefixOf`.
   */
  private prefixFor(key: string): string {
    const at = key.indexOf(this.prefixDelimiter);
    const end = at === -1 ? 0 : at + this.prefixDelimiter.length;
    const last = this.lastPrefix;
    if (last.length === end && key.startsWith(last)) return last;
    return (this.lastPrefix = key.slice(0, end));
  }

  private lastPrefix = '';

  /**
   * A read (the store counts hits and misses itself; this is for the prefix table). One read in
   * `readSample` reaches the table, weighted by it: finding a key's prefix reads its
   * characters, which a miss otherwise never touches (get-miss ran 1.6-3x slower unsampled in
   * `npm run bench:store -- --analytics`). A xorshift stream picks them, so a workload that cycles
   * through prefixes in step with the sample cannot skew the table; it is seeded, so runs repeat.
   */
  read(key: string, hit: boolean): void {
    if (this.prefixes === undefined) return;
    let x = this.sampler;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.sampler = x;
    if ((x & (this.readSample - 1)) !== 0) return;
    this.prefixes.record(this.prefixFor(key), hit ? 0 : 1, this.readSample);
    this.sampledAt = x;
  }

  /**
   * The read just recorded as a hit gave its reader no value (Store.recountAsMiss): if it was one
   * of the sampled reads (no read since: the sampler has not moved), its prefix's hit becomes a miss.
   */
  recountAsMiss(key: string): void {
    if (this.prefixes === undefined || this.sampledAt !== this.sampler) return;
    this.prefixes.moveKind(this.prefixFor(key), 0, 1, this.readSample);
    this.sampledAt = 0;
  }

  /** The sampler's state after the last sampled read (0: none since the last recount): set only on the sampled path, so an unsampled read costs nothing more. */
  private sampledAt = 0;

  private readonly readSample: number;
  private sampler = 0x9e3779b9 | 0;

  /** A write of `valueLength` bytes with `ttlMs` to live (negative: no TTL). */
  write(key: string, valueLength: number, ttlMs: number): void {
    this.writes++;
    this.keySizes[sizeBucket(key.length)]!++;
    this.valueSizes[sizeBucket(valueLength)]!++;
    this.ttls[ttlBucket(ttlMs)]!++;
    if (this.prefixes) this.prefixes.record(this.prefixFor(key), 2);
  }

  /** A client delete. */
  remove(key: string): void {
    this.deletes++;
    if (this.prefixes) this.prefixes.record(this.prefixFor(key), 3);
  }

  /** Closes the current bucket when `wallMs` is past it, given the store's running hit/miss counts. */
  tick(wallMs: number, hits: number, misses: number): void {
    const start = Math.floor(wallMs / this.bucketMs) * this.bucketMs;
    if (this.current !== undefined && this.current.startMs === start) return;
    if (this.current !== undefined) {
      this.fill(this.current, hits, misses);
      this.ring.push(this.current);
      if (this.ring.length > this.buckets - 1) this.ring.shift();
    }
    this.current = { startMs: start, hits: 0, misses: 0, writes: 0 };
    this.hitsAtStart = hits;
    this.missesAtStart = misses;
    this.writesAtStart = this.writes;
  }

  private fill(bucket: TimeBucket, hits: number, misses: number): void {
    bucket.hits = hits - this.hitsAtStart;
    bucket.misses = misses - this.missesAtStart;
    bucket.writes = this.writes - this.writesAtStart;
  }

  snapshot(store: StoreRemovalCounters): AccessAnalytics {
    const hitRatio = this.ring.map((b) => ({ ...b }));
    if (this.current !== undefined) {
      const partial = { ...this.current };
      this.fill(partial, store.hits, store.misses);
      hitRatio.push(partial);
    }
    const capacity = store.evictedSize - this.admissionRejected;
    return {
      nodes: 1,
      bucketMs: this.bucketMs,
      hitRatio,
      totals: { hits: store.hits, misses: store.misses, writes: this.writes, deletes: this.deletes },
      keySizes: Array.from(this.keySizes),
      valueSizes: Array.from(this.valueSizes),
      ttls: Array.from(this.ttls),
      prefixDelimiter: this.prefixDelimiter,
      prefixCapacity: this.prefixes?.capacity ?? 0,
      prefixes: this.prefixes?.top() ?? [],
      removals: {
        capacity: Math.max(0, capacity),
        admissionRejected: this.admissionRejected,
        tooLarge: store.refusedTooLarge,
        expiredOnRead: store.evictedExpired - store.activeExpirations,
        expiredBySweep: store.activeExpirations,
        deleted: store.evictedExplicit,
        partitionDropped: store.evictedHandoff,
      },
    };
  }
}

function addInto(into: number[], from: readonly number[]): void {
  for (let i = 0; i < from.length; i++) into[i] = (into[i] ?? 0) + from[i]!;
}

/**
 * Merges snapshots (of different nodes) into one: buckets with the same start, histograms and
 * removal counts summed; prefix tables merged as Space-Saving summaries (Agarwal et al. 2012): a
 * prefix missing from a full table may have had up to that table's smallest count there, which is
 * added to its count and error; the `prefixCapacity` largest are kept.
 */
export function mergeAnalytics(list: readonly AccessAnalytics[]): AccessAnalytics {
  if (list.length === 0) throw new RangeError('mergeAnalytics needs at least one snapshot');
  if (list.length === 1) return list[0]!;
  const first = list[0]!;
  const buckets = new Map<number, TimeBucket>();
  const keySizes: number[] = [];
  const valueSizes: number[] = [];
  const ttls: number[] = [];
  const totals = { hits: 0, misses: 0, writes: 0, deletes: 0 };
  const removals: RemovalReasons = { capacity: 0, admissionRejected: 0, tooLarge: 0, expiredOnRead: 0, expiredBySweep: 0, deleted: 0, partitionDropped: 0 };
  const prefixes = new Map<string, PrefixTraffic>();
  let nodes = 0;
  let prefixCapacity = 0;
  for (const a of list) {
    nodes += a.nodes;
    prefixCapacity = Math.max(prefixCapacity, a.prefixCapacity);
    for (const b of a.hitRatio) {
      const into = buckets.get(b.startMs);
      if (into) {
        into.hits += b.hits;
        into.misses += b.misses;
        into.writes += b.writes;
      } else buckets.set(b.startMs, { ...b });
    }
    addInto(keySizes, a.keySizes);
    addInto(valueSizes, a.valueSizes);
    addInto(ttls, a.ttls);
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += a.totals[k];
    for (const k of Object.keys(removals) as (keyof RemovalReasons)[]) removals[k] += a.removals[k];
  }
  // Prefix tables: sum where present; where absent from a full table, add its floor.
  const floors = list.map((a) => (a.prefixes.length >= a.prefixCapacity && a.prefixCapacity > 0 ? Math.min(...a.prefixes.map((p) => p.count)) : 0));
  const names = new Set<string>();
  for (const a of list) for (const p of a.prefixes) names.add(p.prefix);
  const lookups = list.map((a) => new Map(a.prefixes.map((p) => [p.prefix, p])));
  for (const name of names) {
    const merged: PrefixTraffic = { prefix: name, count: 0, error: 0, hits: 0, misses: 0, writes: 0, deletes: 0 };
    lookups.forEach((lookup, i) => {
      const p = lookup.get(name);
      if (p === undefined) {
        merged.count += floors[i]!;
        merged.error += floors[i]!;
        return;
      }
      merged.count += p.count;
      merged.error += p.error;
      merged.hits += p.hits;
      merged.misses += p.misses;
      merged.writes += p.writes;
      merged.deletes += p.deletes;
    });
    prefixes.set(name, merged);
  }
  const bucketMs = first.bucketMs;
  const hitRatio = [...buckets.values()].sort((a, b) => a.startMs - b.startMs);
  const keep = Math.max(...list.map((a) => a.hitRatio.length));
  return {
    nodes,
    bucketMs,
    hitRatio: hitRatio.slice(Math.max(0, hitRatio.length - keep)),
    totals,
    keySizes,
    valueSizes,
    ttls,
    prefixDelimiter: first.prefixDelimiter,
    prefixCapacity,
    prefixes: sortPrefixes([...prefixes.values()]).slice(0, prefixCapacity),
    removals,
  };
}

/** Hits / (hits + misses), or null with no reads. */
export function hitRatioOf(hits: number, misses: number): number | null {
  return hits + misses === 0 ? null : hits / (hits + misses);
}
