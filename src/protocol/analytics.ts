/**
 * Access analytics as they travel in a `status` reply (`shoal stats`): the shapes of
 * src/store/analytics.ts, here because protocol may not import store, and their validation (a
 * peer's data is never trusted). Every figure is a count since the node started, so snapshots of
 * several nodes merge by summing (mergeAnalytics in src/store/analytics.ts).
 */

export interface TimeBucket {
  /** Wall-clock ms at which the bucket starts (a multiple of bucketMs). */
  startMs: number;
  hits: number;
  misses: number;
  writes: number;
}

export interface PrefixTraffic {
  prefix: string;
  /** Estimated accesses (reads, writes and deletes); at least the true count. */
  count: number;
  /** How much of `count` may be overestimate (0 while the table never overflowed). */
  error: number;
  /** Counted since the prefix (last) entered the table. */
  hits: number;
  misses: number;
  writes: number;
  deletes: number;
}

/** Why entries left the store, and writes it refused (counts since start). */
export interface RemovalReasons {
  /** Evicted to make room for other entries. */
  capacity: number;
  /** New entries the admission policy (W-TinyLFU) declined. */
  admissionRejected: number;
  /** Writes refused because the entry alone is larger than the memory budget. */
  tooLarge: number;
  /** Removed because their TTL passed: found on read, or reclaimed by the expiry sweep. */
  expiredOnRead: number;
  expiredBySweep: number;
  /** Deleted by a client (or replaced by a refused write). */
  deleted: number;
  /** Dropped with a whole partition this node no longer holds (after a handoff). */
  partitionDropped: number;
}

/** A node's (or, merged, the cluster's) access analytics: plain JSON, summable. */
export interface AccessAnalytics {
  /** Nodes merged into this snapshot. */
  nodes: number;
  bucketMs: number;
  /** Oldest first; the last one is the current, partial bucket. */
  hitRatio: TimeBucket[];
  totals: { hits: number; misses: number; writes: number; deletes: number };
  /** Counts per log2 bucket (SIZE_BUCKETS), of written keys (characters) and values (bytes). */
  keySizes: number[];
  valueSizes: number[];
  /** Counts of writes per TTL_LABELS bucket. */
  ttls: number[];
  prefixDelimiter: string;
  prefixCapacity: number;
  /** Hottest first. */
  prefixes: PrefixTraffic[];
  removals: RemovalReasons;
}

/** log2 buckets: 0, [1,2), [2,4) ... [2^31, 2^32). */
export const SIZE_BUCKETS = 33;
/** Upper bounds (exclusive, ms) of the TTL buckets after 'none'; the last bucket is 'longer'. */
export const TTL_BOUNDS_MS = [1_000, 10_000, 60_000, 600_000, 3_600_000, 86_400_000] as const;
export const TTL_LABELS = ['none', '<1s', '<10s', '<1m', '<10m', '<1h', '<1d', 'longer'] as const;
/** Most prefixes a snapshot may carry (the table's capacity is bounded far below). */
const MAX_PREFIXES = 4096;
const MAX_BUCKETS = 100_000;

const REMOVAL_FIELDS = ['capacity', 'admissionRejected', 'tooLarge', 'expiredOnRead', 'expiredBySweep', 'deleted', 'partitionDropped'] as const;
const TOTAL_FIELDS = ['hits', 'misses', 'writes', 'deletes'] as const;
const BUCKET_FIELDS = ['startMs', 'hits', 'misses', 'writes'] as const;
const PREFIX_FIELDS = ['count', 'error', 'hits', 'misses', 'writes', 'deletes'] as const;

/** Checks a decoded `analytics` value; `fail` makes the error to throw (the codec's malformed-frame error). */
export function analyticsFromWire(v: unknown, fail: (message: string) => Error): AccessAnalytics {
  const map = (x: unknown, what: string): Record<string, unknown> => {
    if (typeof x !== 'object' || x === null || Array.isArray(x) || x instanceof Uint8Array) throw fail(`${what} must be a map`);
    return x as Record<string, unknown>;
  };
  const count = (x: unknown, what: string): number => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw fail(`${what} must be a non-negative number`);
    return x;
  };
  const list = (x: unknown, what: string, max: number): unknown[] => {
    if (!Array.isArray(x) || x.length > max) throw fail(`${what} must be an array of at most ${max}`);
    return x;
  };
  const fields = <K extends string>(x: unknown, what: string, names: readonly K[]): Record<K, number> => {
    const m = map(x, what);
    const out = {} as Record<K, number>;
    for (const name of names) out[name] = count(m[name], `${what}.${name}`);
    return out;
  };
  const m = map(v, 'status.analytics');
  const delimiter = m['prefixDelimiter'];
  if (typeof delimiter !== 'string') throw fail('status.analytics.prefixDelimiter must be a string');
  return {
    nodes: count(m['nodes'], 'status.analytics.nodes'),
    bucketMs: count(m['bucketMs'], 'status.analytics.bucketMs'),
    hitRatio: list(m['hitRatio'], 'status.analytics.hitRatio', MAX_BUCKETS).map((b) => fields(b, 'status.analytics.hitRatio[]', BUCKET_FIELDS)),
    totals: fields(m['totals'], 'status.analytics.totals', TOTAL_FIELDS),
    keySizes: list(m['keySizes'], 'status.analytics.keySizes', SIZE_BUCKETS).map((x) => count(x, 'status.analytics.keySizes[]')),
    valueSizes: list(m['valueSizes'], 'status.analytics.valueSizes', SIZE_BUCKETS).map((x) => count(x, 'status.analytics.valueSizes[]')),
    ttls: list(m['ttls'], 'status.analytics.ttls', TTL_LABELS.length).map((x) => count(x, 'status.analytics.ttls[]')),
    prefixDelimiter: delimiter,
    prefixCapacity: count(m['prefixCapacity'], 'status.analytics.prefixCapacity'),
    prefixes: list(m['prefixes'], 'status.analytics.prefixes', MAX_PREFIXES).map((p) => {
      const prefix = map(p, 'status.analytics.prefixes[]')['prefix'];
      if (typeof prefix !== 'string') throw fail('status.analytics.prefixes[].prefix must be a string');
      return { prefix, ...fields(p, 'status.analytics.prefixes[]', PREFIX_FIELDS) };
    }),
    removals: fields(m['removals'], 'status.analytics.removals', REMOVAL_FIELDS),
  };
}
