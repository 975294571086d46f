/**
 * Request latency for the dashboard's p50/p99 charts: a log-bucketed histogram of cumulative
 * counts (4 buckets per doubling, 16 µs to about 17 s), fed by a wrapper around the keyspace the
 * client and RESP listeners serve. Counts only grow, so any number of watchers read it without
 * disturbing each other: a watcher subtracts two readings to get the last second, and merges the
 * differences of several nodes bucket by bucket to get cluster-wide quantiles (to within one
 * bucket, about 19%).
 *
 * Edge code: it reads `performance.now()` around each request (two calls, tens of nanoseconds).
 * The Prometheus histograms (issue 15, src/admin/metrics.ts) are separate and may replace it.
 */
import type { Callback, KeyspaceService, KvService } from '../replication/api.ts';

/** Upper bound of bucket 0, in microseconds. */
const FIRST_BOUND_US = 16;
const BUCKETS_PER_DOUBLING = 4;
/** 16 µs x 2^20 = 16.8 s; the last bucket holds everything slower. */
export const LATENCY_BUCKETS = 20 * BUCKETS_PER_DOUBLING + 2;

/** Upper bound (µs) of bucket `i`; the last one is unbounded. */
export function bucketBoundUs(i: number): number {
  return i >= LATENCY_BUCKETS - 1 ? Number.POSITIVE_INFINITY : FIRST_BOUND_US * 2 ** (i / BUCKETS_PER_DOUBLING);
}

export function bucketOf(micros: number): number {
  if (!(micros > FIRST_BOUND_US)) return 0;
  const i = Math.ceil(Math.log2(micros / FIRST_BOUND_US) * BUCKETS_PER_DOUBLING);
  return Math.min(i, LATENCY_BUCKETS - 1);
}

export class LatencyHistogram {
  private readonly counts = new Array<number>(LATENCY_BUCKETS).fill(0);

  recordMs(ms: number): void {
    this.counts[bucketOf(ms * 1000)]!++;
  }

  /** Cumulative counts per bucket (a copy). */
  snapshot(): number[] {
    return this.counts.slice();
  }
}

/**
 * The `q` quantile (0..1) in milliseconds of a histogram given as counts per bucket (a difference
 * of two snapshots, or a sum of several nodes' differences): the upper bound of the bucket that
 * holds it, the last finite bound for the overflow bucket; null when it holds no request.
 */
export function quantileMs(counts: readonly number[], q: number): number | null {
  let total = 0;
  for (const c of counts) total += c;
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= rank) return Math.min(bucketBoundUs(i), bucketBoundUs(LATENCY_BUCKETS - 2)) / 1000;
  }
  return bucketBoundUs(LATENCY_BUCKETS - 2) / 1000;
}

/** Wraps a reply callback so that the time from now to the reply is recorded. */
function timer(histogram: LatencyHistogram): <T>(done: Callback<T>) => Callback<T> {
  return (done) => {
    const start = performance.now();
    return (error, result) => {
      histogram.recordMs(performance.now() - start);
      done(error, result);
    };
  };
}

/** The keyspace with every get, set, delete and read-modify-write timed from call to reply into `histogram`. */
export function timedKeyspace(keyspace: KeyspaceService, histogram: LatencyHistogram): KeyspaceService {
  const timed = timer(histogram);
  return {
    get: (key, options, done) => keyspace.get(key, options, timed(done)),
    set: (key, value, options, done) => keyspace.set(key, value, options, timed(done)),
    delete: (key, options, done) => keyspace.delete(key, options, timed(done)),
    rmw: (keys, op, options, done) => keyspace.rmw(keys, op, options, timed(done)),
    topology: () => keyspace.topology(),
    scanPartition: (partition, after, options, done) => keyspace.scanPartition(partition, after, options, done),
    countPartition: (partition, done) => keyspace.countPartition(partition, done),
  };
}

/** A KvService (the coordinator the client listener serves) with get, set and delete timed; a ring-change subscription it offers is kept. */
export function timedKv(kv: KvService & { onTopologyChange?: (listener: (version: string) => void) => () => void }, histogram: LatencyHistogram): KvService & { onTopologyChange?: (listener: (version: string) => void) => () => void } {
  const timed = timer(histogram);
  const subscribe = kv.onTopologyChange;
  return {
    get: (key, options, done) => kv.get(key, options, timed(done)),
    set: (key, value, options, done) => kv.set(key, value, options, timed(done)),
    delete: (key, options, done) => kv.delete(key, options, timed(done)),
    topology: () => kv.topology(),
    ...(subscribe === undefined ? {} : { onTopologyChange: (listener: (version: string) => void) => subscribe.call(kv, listener) }),
  };
}
