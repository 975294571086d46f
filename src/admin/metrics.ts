/**
 * Prometheus metrics for one node, served at `/metrics` on the admin port (docs/METRICS.md lists
 * every metric). One prom-client `Registry` per node, never the global one: tests run several nodes
 * in one process.
 *
 * Cost model. Almost every metric is read at scrape time from the counters the node already keeps
 * (`MetricsSource`, one snapshot per scrape), so serving requests costs nothing extra. The only
 * per-request work is the latency hook: `RequestTimer.request` / `.replica` add to preallocated
 * bucket arrays indexed by op and consistency (no label hashing, no allocation). A scrape never does
 * per-key work, its per-partition loops are the node's status counts, and the exposition text is
 * built family by family, yielding to the event loop whenever a slice has run for
 * SCRAPE_SLICE_MS, so one scrape never holds the loop for long (bench/metrics measures it).
 */
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { Histogram, Registry } from 'prom-client';
import { eventLoopBusySeconds, useLagSampler } from './event-loop-stats.ts';
import { send, type AdminRoute } from './server.ts';
import { ASSERTIONS, assertionFailures } from '../runtime/probes.ts';

/** `shoal_drain_state`'s values. */
const DRAIN_STATE_VALUES = { serving: 0, draining: 1, drained: 2 } as const;

/** A scrape yields to the event loop after building metric families for this long. */
export const SCRAPE_SLICE_MS = 0.25;
/** Latency buckets (seconds): an in-memory cache answers in tens of microseconds to milliseconds. */
export const LATENCY_BUCKETS: readonly number[] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Ranks of the hot-key rate gauge (label `rank` 1..HOT_KEY_RANKS). */
export const HOT_KEY_RANKS = 10;

export const OPS = ['get', 'set', 'delete', 'rmw'] as const;
export const CONSISTENCIES = ['one', 'quorum', 'all'] as const;
export const OUTCOMES = ['hit', 'miss', 'ok', 'unavailable', 'timeout', 'too-large', 'overloaded', 'bad-request', 'not-ready', 'out-of-memory'] as const;
export const REPLICA_OPS = ['read', 'write'] as const;
export const MEMBER_STATES = ['alive', 'suspect', 'dead', 'left'] as const;

type Op = (typeof OPS)[number];
type Level = (typeof CONSISTENCIES)[number];
type Outcome = (typeof OUTCOMES)[number];
type ReplicaOp = (typeof REPLICA_OPS)[number];

/** Everything a scrape reads, taken once per scrape (the daemon builds it: src/daemon/metrics-source.ts). */
export interface MetricsSnapshot {
  coordinator: {
    readRepairs: number;
    hintsForDownOwners: number;
    hintsForSilentOwners: number;
    sloppyFallbacks: number;
    replicasBusy: number;
    missAbsent: number;
    missDeleted: number;
    missExpired: number;
    missEvicted: number;
    missEvictedOverCopy: number;
    answersOverInexactEviction: number;
    readsWaitedForOwners: number;
    routesRefused: number;
    ringsAdopted: number;
    writesAcknowledgedLate: number;
    writesRestamped: number;
    stalledExpiries: number;
  };
  /** The clock ceiling's saves, failed saves and overruns (src/replication/clock-ceiling.ts). */
  clockCeiling: { saves: number; saveFailures: number; overruns: number };
  pendingRequests: number;
  replica: {
    writesApplied: number;
    writesStale: number;
    writesRefused: number;
    readRepairsApplied: number;
    readRepairsDeclined: number;
    hintsApplied: number;
    busy: number;
    routesRefused: number;
    forgottenAnswers: number;
    forgottenRefusals: number;
    horizonAnswers: number;
    vouchAnswers: number;
  };
  hints: { held: number; heldBytes: number; stored: number; delivered: number; droppedForRoom: number; expired: number; abandoned: number; superseded: number };
  store: {
    hits: number;
    misses: number;
    evictions: { size: number; expired: number; explicit: number; handoff: number };
    expirations: number;
    refusedTooLarge: number;
    entries: number;
    bytes: number;
    maxMemory: number;
    arenaReservedBytes: number;
    policyDetails: Record<string, number>;
  };
  sync: { rounds: number; partitionsCompared: number; partitionsDiffering: number; recordsPushed: number; recordsPulled: number; bytesSent: number; bytesReceived: number; handoffBytesSent: number; valuesHunted: number; keysLeftForgotten: number };
  handoff: { partitionsCatchingUp: number; partitionsToHandOff: number; keysToHandOff: number; partitionsHandedOff: number; keysHandedOff: number };
  catchUp: { keysReceived: number; bytesReceived: number };
  mailboxes: { queued: number; rejected: number; capacity: number };
  /** As coordinator (attempts, retries) and as primary (claims, fenced, expired: not started, the client's deadline had passed). */
  /** `resultWrites`: fenced results sent for operations; `batches` / `batchedOps`: those carrying several operations (group commit), and the operations they carried. */
  rmw: { attempts: number; retries: number; claims: number; claimsFailed: number; fenced: number; expired: number; resultWrites: number; batches: number; batchedOps: number };
  ring: { version: string; partitions: number; replicas: number; members: number; partitionsOwned: number; primaries: number; partitionsHeld: number; changes: number };
  joined: boolean;
  members: Record<(typeof MEMBER_STATES)[number], number>;
  /** Every live member's health as this node's view of the peer verdicts adds up (src/node/peer-verdicts.ts). */
  memberHealth: { node: string; score: number; degraded: boolean; failureProbability: number | null; secondsToFailure: number | null }[];
  /** This node's drain (`shoal drain`, src/node/drain.ts): its state and the partitions it still owns or holds. */
  drain: { state: 'serving' | 'draining' | 'drained'; partitionsLeft: number };
  /** The disk tier's counters (docs/STORE.md, "Disk tier"); null without one. */
  disk: { entries: number; puts: number; hits: number; deviceReads: number; deviceBytesWritten: number; appBytes: number; corrupt: number; evicted: number; reinserted: number; rejectedBudget: number; rejectedBusy: number; rejectedSize: number; writeErrors: number } | null;
  gossip: {
    messagesSent: number;
    bytesSent: number;
    messagesReceived: number;
    bytesReceived: number;
    malformed: number;
    probes: number;
    probesFailed: number;
    indirectProbes: number;
    suspicionsRaised: number;
    refutations: number;
    deathsDeclared: number;
    pushPulls: number;
    pushPullBytes: number;
    healthScore: number;
  };
  /** `sdkExpired`: SDK requests answered `timeout` unapplied, their client's deadline passed before this node took them up (src/server/session.ts). */
  clients: { sdkConnections: number; sdkRequests: number; sdkRateLimited: number; sdkExpired: number; respConnections: number; respCommands: number; respRateLimited: number; respConnectionsTotal: number };
  /** The node's admission gate for its clients' get/set/delete calls, SDK and RESP together (src/replication/admission-gate.ts). */
  admission: { limit: number; inFlight: number; waiting: number; waited: number; shrinks: number; abandoned: number };
  auth: { failures: number; refused: number };
  /** Hot-key alerts raised since start, and those in force now (src/node/hot-key-alerts.ts). */
  hotKeyAlerts: { fired: number; active: number };
  /** Estimated ops/s of the hottest keys over the last store tick, hottest first (no key names; ShoalNode.hotKeys). */
  hotKeyRates: readonly number[];
}

export interface MetricsSource {
  snapshot(): MetricsSnapshot;
}

interface Sample {
  value: number;
  labels?: Record<string, string | number>;
  metricName?: string;
}

/** A metric family whose samples are computed at scrape time (prom-client's registry formats it). */
class ScrapeFamily {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram' | 'summary',
    private readonly read: () => Sample[],
  ) {}
  get(): { name: string; help: string; type: string; values: Sample[]; aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, values: this.read(), aggregator: this.aggregator };
  }
  reset(): void {}
}

/**
 * Latency histograms over fixed label combinations: counts in one Float64Array, found by index, so
 * observing is a bucket search and three additions.
 */
class FixedHistogram {
  private readonly counts: Float64Array;
  private readonly sums: Float64Array;
  private readonly totals: Float64Array;
  private readonly width: number;
  constructor(
    private readonly buckets: readonly number[],
    private readonly series: readonly Record<string, string>[],
  ) {
    this.width = buckets.length;
    this.counts = new Float64Array(series.length * this.width);
    this.sums = new Float64Array(series.length);
    this.totals = new Float64Array(series.length);
  }
  observe(series: number, seconds: number): void {
    const b = this.buckets;
    let i = 0;
    while (i < this.width && seconds > b[i]!) i++;
    if (i < this.width) this.counts[series * this.width + i]!++;
    this.sums[series]! += seconds;
    this.totals[series]!++;
  }
  count(series: number): number {
    return this.totals[series]!;
  }
  /** Observations per bucket over every series (not cumulative); the last entry counts those above the largest bound. */
  bucketTotals(): number[] {
    const out = new Array<number>(this.width + 1).fill(0);
    let total = 0;
    for (let s = 0; s < this.series.length; s++) {
      for (let i = 0; i < this.width; i++) out[i]! += this.counts[s * this.width + i]!;
      total += this.totals[s]!;
    }
    out[this.width] = total - out.slice(0, this.width).reduce((a, b) => a + b, 0);
    return out;
  }
  /** Samples of every series observed at least once (unobserved combinations stay out of the output). */
  samples(name: string): Sample[] {
    const out: Sample[] = [];
    for (let s = 0; s < this.series.length; s++) {
      if (this.totals[s] === 0) continue;
      const labels = this.series[s]!;
      let cumulative = 0;
      for (let i = 0; i < this.width; i++) {
        cumulative += this.counts[s * this.width + i]!;
        out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: this.buckets[i]! }, value: cumulative });
      }
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: this.totals[s]! });
      out.push({ metricName: `${name}_sum`, labels, value: this.sums[s]! });
      out.push({ metricName: `${name}_count`, labels, value: this.totals[s]! });
    }
    return out;
  }
}

const OP_INDEX: Record<string, number> = Object.fromEntries(OPS.map((o, i) => [o, i]));
const LEVEL_INDEX: Record<string, number> = Object.fromEntries(CONSISTENCIES.map((c, i) => [c, i]));
const OUTCOME_INDEX: Record<string, number> = Object.fromEntries(OUTCOMES.map((o, i) => [o, i]));

/** The per-request side: what the coordinator and replica observers call (src/replication/observer.ts). */
export class RequestTimer {
  readonly coordinator = new FixedHistogram(
    LATENCY_BUCKETS,
    OPS.flatMap((op) => CONSISTENCIES.map((consistency) => ({ op, consistency }))),
  );
  readonly replicaJobs = new FixedHistogram(
    LATENCY_BUCKETS,
    REPLICA_OPS.map((op) => ({ op })),
  );
  /** Requests by op and outcome: index op * OUTCOMES.length + outcome. */
  readonly outcomes = new Float64Array(OPS.length * OUTCOMES.length);

  /** A coordinated request completed (RequestObserver). */
  readonly request = (op: Op, consistency: Level, outcome: Outcome, seconds: number): void => {
    const o = OP_INDEX[op]!;
    this.coordinator.observe(o * CONSISTENCIES.length + LEVEL_INDEX[consistency]!, seconds);
    this.outcomes[o * OUTCOMES.length + OUTCOME_INDEX[outcome]!]!++;
  };

  /** A replica job answered (ReplicaObserver). */
  readonly replica = (op: ReplicaOp, seconds: number): void => {
    this.replicaJobs.observe(op === 'read' ? 0 : 1, seconds);
  };

  /**
   * Requests this node coordinated per latency bucket (LATENCY_BUCKETS, then one for slower),
   * every op and level together, counted since start: the dashboard's p50/p99 read these (one
   * measurement for Prometheus and the dashboard alike; see latencyQuantileMs).
   */
  latencyCounts(): number[] {
    return this.coordinator.bucketTotals();
  }

  requestCount(): number {
    let n = 0;
    for (const v of this.outcomes) n += v;
    return n;
  }
}

/**
 * The `q` quantile (0..1), in milliseconds, of latency counts per bucket (`latencyCounts`, or a
 * difference or sum of them), interpolated linearly within its bucket as Prometheus's
 * histogram_quantile does, so the dashboard and a Grafana panel over the same node agree. Requests
 * above the largest bound report that bound. Null when the counts hold no request.
 */
export function latencyQuantileMs(counts: readonly number[], q: number): number | null {
  let total = 0;
  for (const c of counts) total += c;
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
    const inBucket = counts[i] ?? 0;
    if (inBucket > 0 && seen + inBucket >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BUCKETS[i - 1]!;
      return (lower + (LATENCY_BUCKETS[i]! - lower) * ((rank - seen) / inBucket)) * 1000;
    }
    seen += inBucket;
  }
  return LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]! * 1000;
}

/** Outcomes shown at zero before they happen, so rate() sees their first increase. */
const EXPECTED_OUTCOMES: Record<Op, readonly Outcome[]> = { get: ['hit', 'miss'], set: ['ok'], delete: ['ok'], rmw: ['ok'] };

export interface NodeMetrics {
  readonly registry: Registry;
  readonly timer: RequestTimer;
  /**
   * The exposition text, built in slices (see SCRAPE_SLICE_MS): `longestSliceMs` is the longest the
   * event loop was held (wall clock: a slice the OS descheduled counts whole), `longestSliceCpuMs`
   * the most CPU time the process spent in one slice (what the scrape's own work held it for),
   * `busyMs` the slices' total, `slices` how many.
   */
  scrape(): Promise<{ text: string; longestSliceMs: number; longestSliceCpuMs: number; busyMs: number; slices: number }>;
  /** Stops the process-level observers (GC, event-loop delay). */
  close(): void;
}

export interface NodeMetricsOptions {
  /** Process metrics (event loop, GC, heap, CPU); default true. Off in benches that only measure the node's own families. */
  process?: boolean;
}

export function createNodeMetrics(source: MetricsSource, options: NodeMetricsOptions = {}): NodeMetrics {
  const registry = new Registry();
  const timer = new RequestTimer();
  // The snapshot the families read: taken at the start of each scrape (never read before the first).
  let s = null as unknown as MetricsSnapshot;
  const add = (name: string, help: string, type: 'counter' | 'gauge' | 'histogram', read: () => Sample[]): void => registry.registerMetric(new ScrapeFamily(name, help, type, read) as never);
  const one =
    (read: () => number) =>
    (): Sample[] => [{ value: read() }];
  const counter = (name: string, help: string, read: () => number): void => add(name, help, 'counter', one(read));
  const gauge = (name: string, help: string, read: () => number): void => add(name, help, 'gauge', one(read));
  const labelled = (name: string, help: string, type: 'counter' | 'gauge', label: string, read: () => Record<string, number>): void =>
    add(name, help, type, () => Object.entries(read()).map(([value, n]) => ({ labels: { [label]: value }, value: n })));

  // Requests (coordinator view): every get/set/delete/rmw this node coordinated, from SDK and RESP clients alike.
  add('shoal_requests_total', 'Requests this node coordinated, by operation and outcome (hit/miss for get, ok, or the error code).', 'counter', () => {
    const out: Sample[] = [];
    OPS.forEach((op, o) =>
      OUTCOMES.forEach((outcome, i) => {
        const value = timer.outcomes[o * OUTCOMES.length + i]!;
        if (value > 0 || EXPECTED_OUTCOMES[op].includes(outcome)) out.push({ labels: { op, outcome }, value });
      }),
    );
    return out;
  });
  add('shoal_request_duration_seconds', 'Latency of requests this node coordinated (arrival to answer), by operation and consistency level.', 'histogram', () =>
    timer.coordinator.samples('shoal_request_duration_seconds'),
  );
  add('shoal_replica_duration_seconds', 'Latency of replica jobs on this node (message arrival to answer, mailbox wait included), by operation.', 'histogram', () =>
    timer.replicaJobs.samples('shoal_replica_duration_seconds'),
  );
  gauge('shoal_requests_pending', 'Requests this node coordinates that await replicas.', () => s.pendingRequests);
  labelled('shoal_read_misses_total', 'Reads answered with a miss, by reason.', 'counter', 'reason', () => ({
    absent: s.coordinator.missAbsent,
    deleted: s.coordinator.missDeleted,
    expired: s.coordinator.missExpired,
    evicted: s.coordinator.missEvicted,
  }));
  counter(
    'shoal_read_misses_evicted_over_copy_total',
    'Of the evicted misses: reads answered with a miss although a replica returned a live value, older than a version another replica said it evicted.',
    () => s.coordinator.missEvictedOverCopy,
  );
  counter(
    'shoal_read_answers_over_inexact_eviction_total',
    'Reads answered with a value older than an inexact eviction ("evicted at or below W", a filter of forgotten keys), because enough owners answered nothing newer.',
    () => s.coordinator.answersOverInexactEviction,
  );
  counter(
    'shoal_read_waits_for_owners_total',
    'Reads that made their level but waited for more owners: an eviction "at or below W" newer than the copy, or no copy beside an eviction (exact or not) or a forgetting horizon.',
    () => s.coordinator.readsWaitedForOwners,
  );
  counter('shoal_read_repairs_total', 'Read repairs this node sent as coordinator.', () => s.coordinator.readRepairs);
  counter('shoal_sloppy_fallbacks_total', 'Writes sent to a stand-in replica (sloppy quorum) because an owner was down.', () => s.coordinator.sloppyFallbacks);
  labelled('shoal_hints_created_total', 'Hints this node created as coordinator, by why the owner missed the write.', 'counter', 'reason', () => ({
    down: s.coordinator.hintsForDownOwners,
    silent: s.coordinator.hintsForSilentOwners,
  }));
  counter('shoal_replicas_busy_total', 'Replica answers of busy (partition mailbox full) seen as coordinator.', () => s.coordinator.replicasBusy);
  counter('shoal_routes_refused_total', 'Requests a replica refused as routed by an older ring (coordinator view).', () => s.coordinator.routesRefused);
  counter('shoal_deadline_checks_late_total', 'Replica-timeout checks this node ran 10 ms or more late (a busy event loop) and put off one turn, so that answers already received are read first.', () => s.coordinator.stalledExpiries);
  counter('shoal_writes_acknowledged_late_total', 'Writes this node failed unavailable at the replica timeout that enough replicas then acknowledged: the timeout is too short for the load.', () => s.coordinator.writesAcknowledgedLate);
  counter(
    'shoal_writes_restamped_total',
    "Writes this node started again under a newer version because a replica held the key's record from an earlier incarnation of this node, stamped newer than the write (or as new, with other bytes): the node restarted with its wall clock behind versions it had handed out (docs/REPLICATION.md, \"Versions across restarts\"). Includes writes already answered, restamped in the background when that replica's ack came after the write stopped waiting.",
    () => s.coordinator.writesRestamped,
  );
  counter('shoal_clock_ceiling_saves_total', "Saves of this node's clock ceiling (DATA-DIR/clock-ceiling.sealed) that landed: a bound above every version its clock may stamp, so a restart starts the clock above them (docs/REPLICATION.md, \"Versions across restarts\"). About one a second while the node stamps versions.", () => s.clockCeiling.saves);
  counter('shoal_clock_ceiling_save_failures_total', "Saves of this node's clock ceiling that failed (logged once): a restart may then stamp versions below this process's.", () => s.clockCeiling.saveFailures);
  counter('shoal_clock_ceiling_overruns_total', "Versions this node stamped at or above its persisted clock ceiling, before the ceiling's extension was saved (a slow or failing data directory): a restart before the next save lands may stamp below them.", () => s.clockCeiling.overruns);
  labelled('shoal_assertion_failures_total', 'Core assertions that failed on this node, by assertion (each also logged as assertion-failed; docs/SIMULATION.md).', 'counter', 'assertion', () => Object.fromEntries(ASSERTIONS.map((a) => [a, assertionFailures.get(a) ?? 0])));

  // Replica view.
  labelled('shoal_replica_writes_total', 'Writes applied to this node as replica, by outcome (applied, stale: older than held, refused).', 'counter', 'outcome', () => ({
    applied: s.replica.writesApplied,
    stale: s.replica.writesStale,
    refused: s.replica.writesRefused,
  }));
  counter('shoal_replica_read_repairs_applied_total', 'Read repairs applied to this node as replica.', () => s.replica.readRepairsApplied);
  counter(
    'shoal_replica_read_repairs_declined_total',
    'Read repairs this node left out: a key it may have evicted and forgotten (at or below its forgetting horizon), which its store would have had to evict a value it keeps more for.',
    () => s.replica.readRepairsDeclined,
  );
  counter('shoal_replica_busy_total', 'Jobs this replica refused because a partition mailbox was full.', () => s.replica.busy);
  counter(
    'shoal_replica_forgotten_reads_total',
    'Reads of a key this node no longer holds answered with the watermark of its filter of keys the eviction shadow forgot (an inexact "evicted at or below W").',
    () => s.replica.forgottenAnswers,
  );
  counter(
    'shoal_replica_forgotten_refusals_total',
    'Records (write, hint, repair, sync) refused as stale because their key may have been evicted at or above their version and forgotten by the eviction shadow.',
    () => s.replica.forgottenRefusals,
  );
  counter(
    'shoal_replica_horizon_reads_total',
    'Reads of a key this node neither holds nor knows it evicted answered with the partition\'s forgetting horizon: it evicted and forgot keys there, so it may have held this one.',
    () => s.replica.horizonAnswers,
  );
  counter(
    'shoal_replica_inherited_horizon_reads_total',
    'Reads of a held record older than the forgetting horizon this node inherited when it caught the partition up from sources that had forgotten keys: answered with that horizon, so the coordinator does not count it as holding nothing newer.',
    () => s.replica.vouchAnswers,
  );
  gauge('shoal_mailbox_queued_jobs', 'Jobs queued in partition mailboxes right now.', () => s.mailboxes.queued);
  gauge('shoal_mailbox_capacity_jobs', 'Bound of each partition mailbox.', () => s.mailboxes.capacity);
  counter('shoal_rmw_attempts_total', 'Read-modify-write attempts sent to a primary (retries included).', () => s.rmw.attempts);
  counter('shoal_rmw_retries_total', 'Read-modify-write attempts retried.', () => s.rmw.retries);
  counter('shoal_rmw_claims_total', 'Primary claims started for read-modify-write.', () => s.rmw.claims);
  counter('shoal_rmw_claims_failed_total', 'Primary claims that failed.', () => s.rmw.claimsFailed);
  counter('shoal_rmw_fenced_total', 'Read-modify-write results refused by a replica fenced by a higher epoch.', () => s.rmw.fenced);
  counter('shoal_rmw_result_writes_total', 'Fenced read-modify-write results this node sent as primary: one per operation, or one per group-committed batch.', () => s.rmw.resultWrites);
  counter('shoal_rmw_batches_total', 'Fenced results that carried several read-modify-writes (group commit).', () => s.rmw.batches);
  counter('shoal_rmw_batched_operations_total', 'Read-modify-writes carried by those batches.', () => s.rmw.batchedOps);
  counter('shoal_rmw_expired_total', "Read-modify-writes this node, as primary, did not start because their client's deadline had passed (answered timeout, not applied).", () => s.rmw.expired);

  // Store.
  counter('shoal_store_hits_total', 'Store lookups that found a live entry (replica reads; each replica of a read counts; a read-modify-write once per key on its primary, DEL and UNLINK not at all).', () => s.store.hits);
  counter('shoal_store_misses_total', 'Store lookups that found nothing live: no entry, or only a delete\'s tombstone or an expired value kept for the tombstone grace.', () => s.store.misses);
  labelled('shoal_store_evictions_total', 'Entries removed from the store, by reason (size: memory budget, expired: TTL, explicit: deleted, handoff: dropped with a partition handed off to its new owner).', 'counter', 'reason', () => ({ ...s.store.evictions }));
  counter('shoal_store_expirations_total', 'Entries purged because their store deadline passed (a replicated record: TTL plus the tombstone grace).', () => s.store.expirations);
  add('shoal_store_admission_rejections_total', 'Entries refused by the store, by reason (too-large: alone larger than the memory budget; policy: a candidate that lost the W-TinyLFU admission duel to a main-region victim).', 'counter', () => {
    const out: Sample[] = [{ labels: { reason: 'too-large' }, value: s.store.refusedTooLarge }];
    const policy = s.store.policyDetails['admissionRejections'];
    if (policy !== undefined) out.push({ labels: { reason: 'policy' }, value: policy });
    return out;
  });
  gauge('shoal_store_entries', 'Entries held in the store (expired values and tombstones included until their grace passes).', () => s.store.entries);
  // Peer health (src/health, src/node/peer-verdicts.ts): one series per live member, so bounded by the cluster's size.
  add('shoal_node_health_score', 'Health score of each live member, 0..1: the share of observers not reporting it slow, erroring or silent (0 if it declared itself degraded).', 'gauge', () =>
    s.memberHealth.map((m) => ({ labels: { node: m.node }, value: m.score })),
  );
  add('shoal_node_degraded', 'Whether each live member is degraded (1) by its peers\' verdicts or its own declaration.', 'gauge', () =>
    s.memberHealth.map((m) => ({ labels: { node: m.node }, value: m.degraded ? 1 : 0 })),
  );
  // Failure prediction (src/node/failure-watch.ts): only members that publish one (probability 0.05 or more).
  add('shoal_node_failure_probability', "Each live member's own probability of failing within its model's horizon (default 60 s), as it gossips it (5% steps; absent below 5%).", 'gauge', () =>
    s.memberHealth.flatMap((m) => (m.failureProbability === null ? [] : [{ labels: { node: m.node }, value: m.failureProbability }])),
  );
  add('shoal_node_predicted_seconds_to_failure', "Each live member's own predicted seconds until a signal (heap, event-loop lag, error rate) crosses its threshold, as it gossips it (rounded up to 10 s).", 'gauge', () =>
    s.memberHealth.flatMap((m) => (m.secondsToFailure === null ? [] : [{ labels: { node: m.node }, value: m.secondsToFailure }])),
  );
  // The drain (docs/OPERATIONS.md, "Draining a node").
  gauge('shoal_drain_state', "This node's drain: 0 serving, 1 draining (handing its partitions off), 2 drained (owns and holds none; still coordinates).", () => DRAIN_STATE_VALUES[s.drain.state]);
  gauge('shoal_drain_partitions_remaining', 'Partitions this node still owns or holds while it drains (0 while it serves).', () => s.drain.partitionsLeft);
  // The disk tier (0 without one).
  gauge('shoal_disk_entries', 'Entries held by the disk tier.', () => s.disk?.entries ?? 0);
  counter('shoal_disk_puts_total', 'Evicted records the disk tier took.', () => s.disk?.puts ?? 0);
  labelled('shoal_disk_rejections_total', 'Evicted records the disk tier refused, by reason (budget: device write budget spent, busy: reclaiming a region or recovering, size: too large for a region).', 'counter', 'reason', () => ({
    budget: s.disk?.rejectedBudget ?? 0,
    busy: s.disk?.rejectedBusy ?? 0,
    size: s.disk?.rejectedSize ?? 0,
  }));
  counter('shoal_disk_hits_total', 'Reads the disk tier answered with a value.', () => s.disk?.hits ?? 0);
  counter('shoal_disk_device_reads_total', 'Reads sent to the disk tier\'s device.', () => s.disk?.deviceReads ?? 0);
  counter('shoal_disk_written_bytes_total', 'Bytes the disk tier wrote to its device.', () => s.disk?.deviceBytesWritten ?? 0);
  counter('shoal_disk_app_bytes_total', 'Key and value bytes of the records the disk tier took (write amplification is written bytes over these).', () => s.disk?.appBytes ?? 0);
  counter('shoal_disk_corrupt_total', 'Disk tier blocks or records that did not read back (answered as misses).', () => s.disk?.corrupt ?? 0);
  counter('shoal_disk_evicted_total', 'Entries that left the disk tier when their region was reclaimed.', () => s.disk?.evicted ?? 0);
  counter('shoal_disk_reinserted_total', 'Entries read since written that were rewritten when their region was reclaimed.', () => s.disk?.reinserted ?? 0);
  counter('shoal_disk_write_errors_total', 'Disk tier device writes that failed.', () => s.disk?.writeErrors ?? 0);
  gauge('shoal_store_used_bytes', 'Accounted bytes of the entries held (the figure kept under the memory budget).', () => s.store.bytes);
  gauge('shoal_store_budget_bytes', 'Memory budget of the store (--max-memory, or the Redis port\'s CONFIG SET maxmemory since the start).', () => s.store.maxMemory);
  gauge('shoal_store_arena_reserved_bytes', 'Bytes of slab pages reserved for values.', () => s.store.arenaReservedBytes);
  gauge('shoal_store_window_max_bytes', 'W-TinyLFU admission window size (0 under other policies).', () => s.store.policyDetails['windowMaxWeight'] ?? 0);
  gauge('shoal_store_window_bytes', 'Bytes in the W-TinyLFU admission window now (0 under other policies).', () => s.store.policyDetails['windowWeight'] ?? 0);
  // Every rank always, 0 past the keys with traffic: a key that cools down reads 0 rather than a series that vanishes.
  add('shoal_hot_key_rate', `Estimated operations per second of the hottest keys on this node over the last second, by rank (1 = hottest, up to ${HOT_KEY_RANKS}; 0 when fewer keys have traffic; key names are not exported).`, 'gauge', () =>
    Array.from({ length: HOT_KEY_RANKS }, (_, i) => ({ labels: { rank: i + 1 }, value: s.hotKeyRates[i] ?? 0 })),
  );

  counter('shoal_hot_key_alerts_total', 'Hot-key alerts this node raised (a key over --hot-key-alert-rate ops/s on this node).', () => s.hotKeyAlerts.fired);
  gauge('shoal_hot_key_alerts_active', 'Hot-key alerts in force on this node (raised and not yet cooled down).', () => s.hotKeyAlerts.active);

  // Hints.
  gauge('shoal_hints_held', 'Hints held for owners that missed writes.', () => s.hints.held);
  gauge('shoal_hints_held_bytes', 'Bytes of the hints held.', () => s.hints.heldBytes);
  counter('shoal_hints_stored_total', 'Hints stored.', () => s.hints.stored);
  counter('shoal_hints_delivered_total', 'Hints delivered to their owner.', () => s.hints.delivered);
  labelled('shoal_hints_dropped_total', 'Hints dropped undelivered, by reason (room: over the bounds, expired, abandoned: target left, superseded: a newer hint replaced it).', 'counter', 'reason', () => ({
    room: s.hints.droppedForRoom,
    expired: s.hints.expired,
    abandoned: s.hints.abandoned,
    superseded: s.hints.superseded,
  }));
  counter('shoal_replica_hints_applied_total', 'Hints applied to this node as their owner.', () => s.replica.hintsApplied);

  // Sync (anti-entropy, catch-up) and handoff.
  counter('shoal_sync_rounds_total', 'Anti-entropy rounds.', () => s.sync.rounds);
  counter('shoal_sync_partitions_compared_total', 'Partition digests compared with a peer.', () => s.sync.partitionsCompared);
  counter('shoal_sync_partitions_differing_total', 'Partition digests that differed.', () => s.sync.partitionsDiffering);
  labelled('shoal_sync_records_total', 'Records exchanged by anti-entropy, by direction.', 'counter', 'direction', () => ({ pushed: s.sync.recordsPushed, pulled: s.sync.recordsPulled }));
  counter('shoal_sync_values_hunted_total', "Keys asked of a partition's other owners because a sync source had evicted their newest values (one per owner asked).", () => s.sync.valuesHunted);
  counter('shoal_sync_keys_left_forgotten_total', 'Keys anti-entropy did not copy to an owner that lacked them at or below its forgetting horizon (the newest version it evicted and forgot there).', () => s.sync.keysLeftForgotten);
  labelled('shoal_sync_bytes_total', 'Bytes of the records (key length plus encoded record) in sync data messages, by direction: anti-entropy, catch-up and handoff alike.', 'counter', 'direction', () => ({
    sent: s.sync.bytesSent,
    received: s.sync.bytesReceived,
  }));
  gauge('shoal_catchup_received_records', 'Records received by the current (or last) catch-up of partitions this node gained.', () => s.catchUp.keysReceived);
  gauge('shoal_catchup_received_bytes', 'Bytes of the records received by the current (or last) catch-up.', () => s.catchUp.bytesReceived);
  counter('shoal_handoff_partitions_total', 'Partitions handed off to their new owners.', () => s.handoff.partitionsHandedOff);
  counter('shoal_handoff_records_total', 'Records handed off to new owners.', () => s.handoff.keysHandedOff);
  counter('shoal_handoff_sent_bytes_total', 'Bytes of the records sent from partitions this node is handing off (also in shoal_sync_bytes_total).', () => s.sync.handoffBytesSent);
  labelled('shoal_partitions_in_transfer', 'Partitions moving now: catching up (arriving) or to hand off (leaving).', 'gauge', 'direction', () => ({
    in: s.handoff.partitionsCatchingUp,
    out: s.handoff.partitionsToHandOff,
  }));
  gauge('shoal_handoff_pending_records', 'Records still to hand off.', () => s.handoff.keysToHandOff);

  // Ring and membership.
  gauge('shoal_ring_partitions', 'Partitions in the ring (fixed for the life of a cluster).', () => s.ring.partitions);
  gauge('shoal_ring_replicas', 'Replicas per partition in the ring.', () => s.ring.replicas);
  gauge('shoal_ring_members', 'Members in this node ring.', () => s.ring.members);
  add('shoal_ring_info', 'The ring version (a digest) this node routes by, as a label of a constant 1: nodes that disagree show as different versions.', 'gauge', () => [{ labels: { version: s.ring.version }, value: 1 }]);
  counter('shoal_ring_changes_total', 'Ring versions this node adopted since it started.', () => s.ring.changes);
  labelled('shoal_partitions_owned', 'Partition replicas this node owns in its ring, as primary or as any replica.', 'gauge', 'role', () => ({ any: s.ring.partitionsOwned, primary: s.ring.primaries }));
  gauge('shoal_partitions_held', 'Partitions whose records this node holds (owned, or still being handed off).', () => s.ring.partitionsHeld);
  gauge('shoal_joined', '1 once the node has joined its cluster and serves requests.', () => (s.joined ? 1 : 0));
  labelled('shoal_members', 'Members this node knows, by gossip state.', 'gauge', 'state', () => ({ ...s.members }));
  labelled('shoal_gossip_messages_total', 'Gossip messages, by direction.', 'counter', 'direction', () => ({ sent: s.gossip.messagesSent, received: s.gossip.messagesReceived }));
  counter('shoal_gossip_sent_bytes_total', 'Bytes of gossip messages sent.', () => s.gossip.bytesSent);
  counter('shoal_gossip_received_bytes_total', 'Bytes of gossip messages received (malformed ones included).', () => s.gossip.bytesReceived);
  counter('shoal_gossip_push_pull_bytes_total', 'Bytes of gossip full-state syncs sent (also in shoal_gossip_sent_bytes_total).', () => s.gossip.pushPullBytes);
  counter('shoal_gossip_push_pulls_total', 'Gossip full-state syncs.', () => s.gossip.pushPulls);
  counter('shoal_gossip_malformed_total', 'Gossip messages dropped as malformed.', () => s.gossip.malformed);
  labelled('shoal_gossip_probes_total', 'Failure-detector probes, by kind (direct, indirect).', 'counter', 'kind', () => ({ direct: s.gossip.probes, indirect: s.gossip.indirectProbes }));
  counter('shoal_gossip_probes_failed_total', 'Direct probes that got no answer in time.', () => s.gossip.probesFailed);
  counter('shoal_gossip_suspicions_total', 'Suspicions this node raised.', () => s.gossip.suspicionsRaised);
  counter('shoal_gossip_refutations_total', 'Suspicions of itself this node refuted.', () => s.gossip.refutations);
  counter('shoal_gossip_deaths_declared_total', 'Members this node declared dead.', () => s.gossip.deathsDeclared);
  gauge('shoal_gossip_health_score', 'Lifeguard local health score (0 healthy; probe timeouts are multiplied by score + 1).', () => s.gossip.healthScore);

  // Clients.
  labelled('shoal_client_connections', 'Open client connections, by protocol (sdk, resp).', 'gauge', 'protocol', () => ({ sdk: s.clients.sdkConnections, resp: s.clients.respConnections }));
  counter('shoal_resp_connections_total', 'RESP connections accepted.', () => s.clients.respConnectionsTotal);
  gauge('shoal_admission_limit', 'Keyspace calls (get, set, delete) of all client connections, SDK and RESP, that may be unanswered at once; adapts to how fast they are answered.', () => s.admission.limit);
  gauge('shoal_admission_in_flight', 'Client keyspace calls (SDK and RESP) started and not answered yet.', () => s.admission.inFlight);
  gauge('shoal_admission_waiting', 'Client keyspace calls waiting for room before they start (no replica deadline runs while they wait).', () => s.admission.waiting);
  counter('shoal_admission_waited_total', 'Client keyspace calls that had to wait for room.', () => s.admission.waited);
  counter('shoal_admission_shrinks_total', 'Times the admission limit shrank: calls answered late, or failing as a quorum failure, timeout or overload.', () => s.admission.shrinks);
  counter('shoal_admission_abandoned_total', "Calls that waited for room and were never started: their client's deadline had passed when their turn came (also in shoal_sdk_requests_expired_total) or their connection had closed.", () => s.admission.abandoned);
  labelled('shoal_client_commands_total', 'Commands received from clients, by protocol (sdk: requests in frames, resp: commands).', 'counter', 'protocol', () => ({ sdk: s.clients.sdkRequests, resp: s.clients.respCommands }));
  labelled('shoal_client_rate_limited_total', 'Requests refused by --max-request-rate, by protocol.', 'counter', 'protocol', () => ({ sdk: s.clients.sdkRateLimited, resp: s.clients.respRateLimited }));
  counter('shoal_sdk_requests_expired_total', "SDK requests answered timeout without being applied: their client's deadline had passed when this node took them up, or when their turn in the admission gate came (a frozen or overloaded node).", () => s.clients.sdkExpired);
  counter('shoal_auth_failures_total', 'Failed authentication attempts (any port).', () => s.auth.failures);
  counter('shoal_auth_refused_total', 'Authentication attempts refused because their address was over its limit.', () => s.auth.refused);

  const stopProcess = options.process === false ? () => {} : processMetrics(registry);

  const names = registry.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name);
  return {
    registry,
    timer,
    async scrape() {
      let sliceStart = performance.now();
      let sliceCpu = process.cpuUsage();
      let longestCpu = 0;
      const cpuSince = (start: NodeJS.CpuUsage): number => {
        const used = process.cpuUsage(start);
        return (used.user + used.system) / 1000;
      };
      s = source.snapshot();
      let longest = 0;
      let busy = 0;
      let slices = 1;
      const parts: string[] = [];
      for (const name of names) {
        parts.push(await registry.getSingleMetricAsString(name));
        const now = performance.now();
        if (now - sliceStart >= SCRAPE_SLICE_MS) {
          longest = Math.max(longest, now - sliceStart);
          longestCpu = Math.max(longestCpu, cpuSince(sliceCpu));
          busy += now - sliceStart;
          await new Promise<void>((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
          sliceCpu = process.cpuUsage();
          slices++;
        }
      }
      const last = performance.now() - sliceStart;
      return { text: `${parts.join('\n\n')}\n`, longestSliceMs: Math.max(longest, last), longestSliceCpuMs: Math.max(longestCpu, cpuSince(sliceCpu)), busyMs: busy + last, slices };
    },
    close: stopProcess,
  };
}

/** Event loop, GC, heap and CPU of the process (each node registry has its own observers). */
function processMetrics(registry: Registry): () => void {
  const add = (name: string, help: string, type: 'counter' | 'gauge' | 'summary', read: () => Sample[]): void => registry.registerMetric(new ScrapeFamily(name, help, type, read) as never);
  const lag = useLagSampler();
  const gc = new Histogram({
    name: 'shoal_gc_duration_seconds',
    help: 'Garbage collection pauses, by kind (minor, major, incremental, weakcb).',
    labelNames: ['kind'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
      gc.observe({ kind: GC_KINDS[kind] ?? 'other' }, entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  // Neither family changes on a read, so every reader sees the same figures (event-loop-stats.ts says why).
  add('shoal_event_loop_lag_seconds', 'Event-loop lag over about the last minute (quantile 1: the largest), and every sample since start (_sum, _count).', 'summary', () => {
    const { quantiles, sumSeconds, count } = lag.windows.summary();
    return [
      ...quantiles.map(({ quantile, seconds }) => ({ labels: { quantile }, value: seconds })),
      { metricName: 'shoal_event_loop_lag_seconds_sum', value: sumSeconds },
      { metricName: 'shoal_event_loop_lag_seconds_count', value: count },
    ];
  });
  add('shoal_event_loop_busy_seconds_total', 'Seconds the event loop was busy since the process started (rate() of it is the utilisation, 0..1).', 'counter', () => [{ value: eventLoopBusySeconds() }]);
  add('shoal_process_heap_bytes', 'V8 heap, by kind (used, total), and resident set size (rss) and external memory.', 'gauge', () => {
    const m = process.memoryUsage();
    return [
      { labels: { kind: 'used' }, value: m.heapUsed },
      { labels: { kind: 'total' }, value: m.heapTotal },
      { labels: { kind: 'external' }, value: m.external },
      { labels: { kind: 'array_buffers' }, value: m.arrayBuffers },
    ];
  });
  add('shoal_process_resident_memory_bytes', 'Resident set size of the process.', 'gauge', () => [{ value: process.memoryUsage.rss() }]);
  add('shoal_process_cpu_seconds_total', 'CPU time of the process, by mode (user, system).', 'counter', () => {
    const c = process.cpuUsage();
    return [
      { labels: { mode: 'user' }, value: c.user / 1e6 },
      { labels: { mode: 'system' }, value: c.system / 1e6 },
    ];
  });
  add('shoal_process_uptime_seconds', 'Seconds since the process started.', 'gauge', () => [{ value: process.uptime() }]);
  return () => {
    observer.disconnect();
    lag.release();
  };
}

/** The `/metrics` route: Prometheus text exposition, with the registry's content type. */
export function metricsRoutes(metrics: NodeMetrics): AdminRoute[] {
  return [
    {
      path: '/metrics',
      description: 'Prometheus metrics (text exposition format; docs/METRICS.md lists them)',
      handle: async ({ response }) => {
        const { text } = await metrics.scrape();
        send(response, 200, text, metrics.registry.contentType);
      },
    },
  ];
}

/** Every metric family name the registry exports (for the Grafana dashboard test and docs). */
export function metricNames(metrics: NodeMetrics): string[] {
  return metrics.registry.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name);
}
