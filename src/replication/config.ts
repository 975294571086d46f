/** Every replication setting, with its documented default. */
// The largest key and value are the wire protocol's limits, so the server announces what the coordinator enforces.
import { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES } from '../protocol/limits.ts';
import { DEFAULT_TURN_PACING } from '../actors/index.ts';
import type { Consistency } from './api.ts';

/** Replicas per key (Dynamo's N). */
export const DEFAULT_REPLICAS = 3;
/** Replicas that must answer a read / acknowledge a write at QUORUM when the request does not say (R, W). */
export const DEFAULT_CONSISTENCY: Consistency = 'quorum';
/**
 * How long a coordinator waits for replicas before answering `unavailable` (the replica timeout),
 * when little is in flight; see DEFAULT_REPLICA_BYTES_PER_SECOND.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 500;
/**
 * The bandwidth a coordinator assumes when it lengthens the replica timeout by the bytes in flight
 * (writes' records, and read answers expected): 64 MiB/s, a conservative figure for a busy node
 * moving large values. 150 reads of 1 MiB each in flight wait up to 500 ms + 150 MiB / 64 MiB/s =
 * 2.8 s, and never more than MAX_TIMEOUT_FACTOR (10) times the replica timeout.
 */
export const DEFAULT_REPLICA_BYTES_PER_SECOND = 64 * 1024 * 1024;
/** In-flight coordinated requests per node; beyond it requests fail fast with `overloaded`. */
export const DEFAULT_MAX_PENDING_REQUESTS = 10_000;
/** Hints are kept this long, then dropped (anti-entropy still repairs the target). Cassandra's default. */
export const DEFAULT_HINT_WINDOW_MS = 3 * 60 * 60 * 1000;
/** Hint store bounds: the oldest hint is dropped (and counted) to make room. */
export const DEFAULT_MAX_HINTS = 100_000;
export const DEFAULT_MAX_HINT_BYTES = 64 * 1024 * 1024;
/** Hint delivery: every interval, at most this many unacknowledged hints in flight per target. */
export const DEFAULT_HINT_DELIVERY_INTERVAL_MS = 200;
export const DEFAULT_HINTS_IN_FLIGHT_PER_TARGET = 32;
/** A delivered hint not acknowledged after this long is sent again. */
export const DEFAULT_HINT_RESEND_MS = 2_000;
/**
 * Tombstones (and expired values) are kept this much longer than the hint window, so a late hint
 * or repair carrying an older value cannot bring a deleted key back. The store's TTL wheel removes
 * them once the grace has passed (see partition-replica.ts).
 */
export const DEFAULT_TOMBSTONE_GRACE_MS = DEFAULT_HINT_WINDOW_MS + 60 * 60 * 1000;
/** Anti-entropy / handoff: one sync round with one peer per interval (faster while catching up). */
export const DEFAULT_SYNC_INTERVAL_MS = 1_000;
export const DEFAULT_CATCH_UP_SYNC_INTERVAL_MS = 100;
/**
 * Handoff throttle: at most this many (key, version) entries in one sync answer and records in one
 * data message; the rest follows in later rounds (which is what makes a handoff resumable).
 */
export const DEFAULT_SYNC_BATCH = 512;
/**
 * Anti-entropy of large partitions (docs/REPLICATION.md): a differing partition with more known
 * entries than this is compared bucket by bucket (partition-replica.ts, SYNC_BUCKETS) with a peer
 * that can, and only its differing buckets' (key, version) lists travel; a smaller one goes as one
 * list, which costs about what one bucket's does and a round trip less.
 */
export const DEFAULT_SYNC_BUCKETS_ABOVE = DEFAULT_SYNC_BATCH;
/**
 * Predictive warming (docs/REPLICATION.md, "Warming"): a peer that asks for a partition it holds
 * nothing of (a new owner, a restarted node) first gets up to this many of this node's hottest keys
 * in it, ranked by the store's hot-key sketch, ahead of the throttled catch-up. The daemon's value;
 * the replication default is 0 (off), so the simulator's seeds keep their runs unless a scenario
 * turns it on.
 */
export const DEFAULT_WARM_HOT_KEYS = 64;
/** Requests slower than this (coordinator view) are logged: the daemon's --slow-log-threshold. */
export const DEFAULT_SLOW_LOG_THRESHOLD_MS = 10;

export interface ReplicationConfig {
  replicas: number;
  /** Sloppy quorum for writes by default (a per-request `sloppy` overrides). */
  sloppyQuorum: boolean;
  /** Consistency of reads / writes that do not name one (R and W). */
  defaultReadConsistency: Consistency;
  defaultWriteConsistency: Consistency;
  /** The replica timeout: see DEFAULT_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs: number;
  replicaBytesPerSecond: number;
  maxPendingRequests: number;
  hintWindowMs: number;
  maxHints: number;
  maxHintBytes: number;
  hintDeliveryIntervalMs: number;
  hintsInFlightPerTarget: number;
  hintResendMs: number;
  tombstoneGraceMs: number;
  syncIntervalMs: number;
  catchUpSyncIntervalMs: number;
  syncBatch: number;
  /** A differing partition with more known entries than this is compared by bucket digests (DEFAULT_SYNC_BUCKETS_ABOVE); 0: every non-empty one. */
  syncBucketsAbove: number;
  /** Hottest keys pushed first to a peer catching up on an empty partition (0: no warming); see DEFAULT_WARM_HOT_KEYS. */
  warmHotKeys: number;
  maxKeyBytes: number;
  maxValueBytes: number;
  /**
   * Gets, sets and deletes this node coordinates that take at least this long get a `slow-request`
   * log line (rate-limited; docs/OPERATIONS.md); 0 logs every request, null none.
   */
  slowLogThresholdMs: number | null;
  /**
   * Partition actors' pacing (src/actors/scheduler.ts): jobs per turn before yielding, and a delay
   * before each turn. The delay is 0 in production; the simulator raises it to model slow
   * processing, so mailboxes fill and backpressure (`overloaded`) is exercised.
   */
  partitionJobsPerTurn: number;
  partitionTurnDelayMs: number;
  /**
   * How many evicted keys the eviction shadow remembers by version (eviction-shadow.ts); unset:
   * evictionShadowCapacity of the store budget (4,096 to 65,536). The simulator shrinks it
   * (`kv-pressure-forgetful`) so keys are forgotten, and the filter of forgotten keys answers for
   * them, within a run.
   */
  evictionShadowEntries?: number;
  /** Test-only: re-injects fixed bugs, so a test can show that the simulator's checkers catch them. Never set it in production. */
  bugs?: ReplicationBugs;
}

/**
 * Fixed bugs a simulation may switch back on (FoundationDB's BUGGIFY, for regressions): each one
 * names the run that found it, and a test runs that seed with the switch on and expects the
 * checker's violation. Not reachable from the daemon's configuration.
 */
export interface ReplicationBugs {
  /**
   * The eviction shadow forgets a key for good at its bound (no filter of forgotten keys): a
   * replica that evicted and forgot it answers `absent`, and an older copy is stored as news
   * (restart-probe F5, test/sim/eviction-shadow-bound.test.ts; kv-pressure-forgetful).
   */
  forgetPastShadow?: boolean;
  /**
   * The coordinator forgets the sloppy writes it acknowledged with a stand-in's ack (see
   * stand-in-writes.ts): a read it coordinates can miss its own write (kv seed 10580, read-your-writes).
   */
  forgetStandInWrites?: boolean;
  /** The read-modify-write primary ignores request ids: a retried operation is applied again (kv-rmw, duplicates). */
  rmwIgnoreRequestIds?: boolean;
  /** Replicas take read-modify-write results and claims whatever their epoch: a deposed primary is not fenced (kv-rmw). */
  rmwNoFencing?: boolean;
  /** The read-modify-write primary abandons an in-doubt request id once a later operation writes on top of its result: a retry at the next primary applies it again (kv-rmw seed 230056, an APPEND twice). */
  rmwAbandonBuiltOnDoubts?: boolean;
  /** A new primary's claim trusts a remembered request id whenever the replica remembering it holds the newest record, whichever record the id's result wrote: a result refused elsewhere and overwritten unread still answers its retry (kv-rmw seed 400293, an INCR lost). */
  rmwTrustIdsByHolder?: boolean;
  /** A new primary keeps the request ids its claim learned to itself: its results reach a quorum without them, and a claim that misses it forgets them (kv-rmw seed 230336 keyed, an APPEND twice). */
  rmwClaimedIdsStayLocal?: boolean;
  /** A replica that applies a result after the one built on it keeps the result's id standing for the older record: a later claim distrusts it (kv-rmw seed 230828 keyed, an APPEND twice after two crashes). */
  rmwLateIdsStayBehind?: boolean;
  /** The read-modify-write primary takes a result refused by a replica that promised nothing (it missed the claim) for a deposition, and keeps no doubt: an owner that applied it and evicted it leaves a newer version evicted everywhere, and the retry counts from nothing (kv-rmw-pressure seed 1290020, an INCR lost). */
  rmwUnpromisedRefusalFences?: boolean;
  /** A new primary's claim trusts a remembered request id only when the record it stands for is the newest read, not when the newest was built on that record: an owner that missed the latest results holds the id at an older record, the owners holding the newest never learnt it, and the retry is applied again (kv-rmw-hot seed 1350627, an APPEND twice). */
  rmwIgnoreLineage?: boolean;
  /** A claim counts an owner that answered while catching up among "every owner answered", whose records it does not read: a newer version evicted elsewhere reads as gone from every memory while that owner holds it, and an INCR counts from nothing (test/sim/rmw-claim-catching-up.test.ts). */
  rmwCatchingUpCountsAsAnswered?: boolean;
  /** The read-modify-write primary sends one fenced result per operation, never a batch (group commit off: the slow path, for comparison). */
  rmwNoGroupCommit?: boolean;
  /** A read-modify-write batch answers every operation but its first before its fenced result reached a quorum: a refused batch leaves acknowledged operations unapplied (kv-rmw, lost updates). */
  rmwBatchAnswersEarly?: boolean;
  /** A write's joint quorum never asks an owner of both rings that refused the newer one again, routed by the older one: it counts there for nothing (blue-green seed 300224, a QUORUM write failed). */
  jointIgnoresRefusers?: boolean;
  /** A replica refusing a read routed by a ring it has moved past sends no record even while it still holds the partition: a reader that adopts the newer ring misses what only that replica has not handed off yet (kv-drain seed 400229 with 3 nodes: an ALL read missed a delete acknowledged at ONE by the draining node). */
  readRefusalWithoutRecord?: boolean;
  /** A read takes the refusal of an owner whose answer it holds (a duplicate of its request, delivered after the owner moved rings) as that owner's: it stops counting the owner as asked while its answer still counts as one, and finishes before the others answer (rolling-restart seed 1190004, a QUORUM read failed). */
  readsTakeDuplicateRefusals?: boolean;
  /**
   * The owners a partition keeps when a ring change shrinks its owner set count as caught up at
   * once, before the live owners that left it have handed it to them: a read routed by the newer
   * ring misses a write only a departed owner acknowledged (test/sim/drain-read.test.ts: an ALL
   * read after a drained node's write at ONE, its handoff held up).
   */
  readyBeforeHandoff?: boolean;
  /**
   * Reads never tell replicas how many owners the ring they were routed by gives the partition: a
   * replica behind a ring change that shrank it (a drain it has not heard of) answers as caught up
   * in its own ring, and an ALL read through the drained node misses the write it acknowledged at
   * ONE (test/sim/drain-read.test.ts).
   */
  readsWithoutOwnerCount?: boolean;
  /** A leaving node keeps coordinating new requests until a moment with none in flight, which a steady load with slow requests never gives: the leave never ends (kv-join seed 400005 with BUGGIFY). */
  leaveWaitsForIdle?: boolean;
  /** An undrained node routes by the ring with itself back at once, before any peer is seen on it: its own ack counts towards writes its peers' readers never ask (kv-drain seed 400110). */
  undrainWithoutPeers?: boolean;
  /**
   * A ring change that leaves the node alone serves at once, with live peers that may be on
   * another ring (kv-drain seed 400220 with 3 nodes: a node back from an isolation with a stale
   * draining flag built a ring of itself and answered QUORUM reads from its stale replica).
   */
  aloneWithoutConfirmation?: boolean;
  /**
   * A write's joint quorum over the previous ring ends once every live owner that ring had and the
   * current one does not have has moved past it: owners that both rings share, still on the
   * previous one, and owners cut off and declared dead still serve its reads (kv-drain seed 700090
   * with 3 nodes, seed 810002 with 5).
   */
  jointEndsEarly?: boolean;
  /**
   * Nodes do not announce their ring in gossip metadata, so a member is seen past a ring a joint
   * quorum covers only through a sync answer or a refusal: one that dies in the second after a ring
   * change, before any sync, holds QUORUM writes until gossip forgets it
   * (test/sim/ring-change-death.test.ts). Gossip then carries the same bytes as before the fix.
   */
  ringsUnannounced?: boolean;
  /**
   * A node handing partitions off syncs at the timer's pace, one peer a round, as before the
   * handoff ran round trip after round trip with every new owner (sync.ts pressHandOff; a leave
   * outlasted --shutdown-timeout: test/sim/leave-handoff-pace.test.ts). The re-injection tests of
   * seeds found before it replay their runs at the old pace with it, as they were found: the faster
   * handoff takes them other courses.
   */
  handOffAtTimerPace?: boolean;
  /**
   * A replica catching up (a restarted or joining node) syncs with its sources at the timer's
   * pace, one peer a round, as before catch-up ran round trip after round trip with every source
   * (sync.ts pressOn; a restarted node of 60,000 keys stayed behind for 11.6 s of virtual time:
   * test/sim/restart-catch-up-pace.test.ts). For re-injection tests whose seeds were found before.
   */
  catchUpAtTimerPace?: boolean;
  /**
   * A deadline timer that fires late expires the due requests at once, as before the expiry waited
   * one turn for the answers received meanwhile (coordinator.ts expireDue, DEADLINE_STALL_MS). The
   * re-injection tests of seeds found before it replay their runs with it: a paused or slow node's
   * requests now end otherwise, and those runs take other courses.
   */
  expireBeforeReading?: boolean;
  /** A write's joint quorum over the previous ring asks only as many owners as this node sees alive: owners cut off by a partition still serve that ring's reads (kv-drain seed 400211). */
  jointQuorumOfLiveOwners?: boolean;
  /** Gossip (GossipBugs in src/gossip/config.ts): a member told a suspicion older than what it knows does not answer the sender with its newer state, which keeps the suspicion until its timer (kv-rmw seed 106, keyed draws). */
  ignoreStaleAccusations?: boolean;
  /** Gossip: a member holding the sender of a message as suspect or dead does not tell it so, and the accused refutes only at the next probe of it or push-pull (kv-sdk seed 147, 3 nodes, 10 s). */
  silentToAccused?: boolean;
  /*
   * Bugs planted on purpose (never real ones), for the checkers' mutation tests (test/sim/mutations.test.ts):
   * each must be caught by a checker within a bounded number of seeds.
   */
  /** The named replica acknowledges direct writes without storing them. */
  dropWritesOn?: string;
  /**
   * A write of a key its replica knew nothing of updates the partition's digest but not its
   * bucket's (partition-replica.ts): bucket comparison then misses a key one replica lacks, and
   * anti-entropy of a large partition never repairs it. Caught by convergence in kv-buckets, where
   * partitions go by bucket (test/sim/sync-buckets.test.ts).
   */
  bucketDigestSkipsNewKeys?: boolean;
  /** A read's coordinator answers with the oldest record its replicas returned, not the newest. */
  answerOldest?: boolean;
  /**
   * The nodes' client sessions take up requests whatever their client's deadline, as a node older
   * than the deadline field does (kv-sdk only): a write stuck in a paused node's socket is versioned
   * after its client gave up, and may replace newer acknowledged writes (probe-sdk finding 1).
   */
  sessionIgnoresDeadlines?: boolean;
  /**
   * The nodes' admission gates start a call whose turn came without checking its client's deadline
   * again (kv-sdk only): a write that waited in the gate past its deadline is versioned after its
   * client gave up, as with sessionIgnoresDeadlines.
   */
  admissionIgnoresDeadlines?: boolean;
  /** A read's coordinator never repairs the stale replicas it saw. */
  skipReadRepair?: boolean;
  /**
   * A replica takes every read repair, also of a key it may have evicted and forgotten into a store
   * that must evict a value it keeps over it, and counts no use of such a key when a read misses it
   * (as before PartitionReplica.declinesRepair): churn.
   */
  takeEveryRepair?: boolean;
  /** A sloppy-quorum stand-in acknowledges a write but forgets the hint it should keep for the owner. */
  forgetHints?: boolean;
  /** A write after a ring change counts as acknowledged without its joint quorum over the other ring. */
  noJointQuorum?: boolean;
  /** Nodes never fold the versions they read or apply into their HLC: a write can be older than what its coordinator already returned. */
  hlcIgnoresRemote?: boolean;
  /** A coordinator takes an ack reporting that the replica kept a version an earlier incarnation of the coordinator's node gave the key for an ordinary ack: a restarted node's write under an older (or the same) version is acknowledged and lost (test/sim/hlc-restart.test.ts). */
  hlcForgetsPredecessor?: boolean;
  /** A coordinator ignores an ack that tells of an earlier incarnation's record when it comes after the write finished (unanswered-writes.ts): the write acknowledged by the other owners is lost to that record (test/sim/hlc-restart.test.ts, "told late"). */
  lateTellsIgnored?: boolean;
  /** A node ignores the clocks its peers send in sync answers (`sr` `hc`) and takes no fold of a stand-in's hint: a restarted node's write can version below its predecessor's record of the key held by an owner the write does not reach (test/sim/hlc-restart.test.ts, "folded from a peer"). */
  peerClocksIgnored?: boolean;
  /** A node keeps no clock ceiling (clock-ceiling.ts): it neither saves one nor starts above its earlier process's, and starts its clock from its wall clock, as before the ceiling: its writes can version below its predecessor's (kv-restart-skew, test/sim/hlc-restart.test.ts). Runs take the course they took before the ceiling. */
  clockCeilingIgnored?: boolean;
}

export const DEFAULT_REPLICATION_CONFIG: ReplicationConfig = {
  replicas: DEFAULT_REPLICAS,
  sloppyQuorum: true,
  defaultReadConsistency: DEFAULT_CONSISTENCY,
  defaultWriteConsistency: DEFAULT_CONSISTENCY,
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  replicaBytesPerSecond: DEFAULT_REPLICA_BYTES_PER_SECOND,
  maxPendingRequests: DEFAULT_MAX_PENDING_REQUESTS,
  hintWindowMs: DEFAULT_HINT_WINDOW_MS,
  maxHints: DEFAULT_MAX_HINTS,
  maxHintBytes: DEFAULT_MAX_HINT_BYTES,
  hintDeliveryIntervalMs: DEFAULT_HINT_DELIVERY_INTERVAL_MS,
  hintsInFlightPerTarget: DEFAULT_HINTS_IN_FLIGHT_PER_TARGET,
  hintResendMs: DEFAULT_HINT_RESEND_MS,
  tombstoneGraceMs: DEFAULT_TOMBSTONE_GRACE_MS,
  syncIntervalMs: DEFAULT_SYNC_INTERVAL_MS,
  catchUpSyncIntervalMs: DEFAULT_CATCH_UP_SYNC_INTERVAL_MS,
  syncBatch: DEFAULT_SYNC_BATCH,
  syncBucketsAbove: DEFAULT_SYNC_BUCKETS_ABOVE,
  warmHotKeys: 0,
  maxKeyBytes: DEFAULT_MAX_KEY_BYTES,
  maxValueBytes: DEFAULT_MAX_VALUE_BYTES,
  slowLogThresholdMs: DEFAULT_SLOW_LOG_THRESHOLD_MS,
  partitionJobsPerTurn: DEFAULT_TURN_PACING.jobsPerTurn,
  partitionTurnDelayMs: DEFAULT_TURN_PACING.turnDelayMs,
};

/** Thrown for a configuration that cannot work (e.g. grace not longer than the hint window). */
export class InvalidReplicationConfigError extends Error {
  override readonly name = 'InvalidReplicationConfigError';
}

export function replicationConfig(overrides: Partial<ReplicationConfig> = {}): ReplicationConfig {
  const config = { ...DEFAULT_REPLICATION_CONFIG, ...overrides };
  if (!Number.isInteger(config.replicas) || config.replicas < 1) {
    throw new InvalidReplicationConfigError(`replicas must be a positive integer, got ${config.replicas}`);
  }
  if (!(config.requestTimeoutMs > 0) || !Number.isFinite(config.requestTimeoutMs)) {
    throw new InvalidReplicationConfigError(`requestTimeoutMs must be a positive number of milliseconds, got ${config.requestTimeoutMs}`);
  }
  if (!(config.replicaBytesPerSecond > 0)) {
    throw new InvalidReplicationConfigError(`replicaBytesPerSecond must be a positive number, got ${config.replicaBytesPerSecond}`);
  }
  if (!Number.isInteger(config.partitionJobsPerTurn) || config.partitionJobsPerTurn < 1) {
    throw new InvalidReplicationConfigError(`partitionJobsPerTurn must be a positive integer, got ${config.partitionJobsPerTurn}`);
  }
  if (!(config.partitionTurnDelayMs >= 0) || !Number.isFinite(config.partitionTurnDelayMs)) {
    throw new InvalidReplicationConfigError(`partitionTurnDelayMs must be a non-negative number of milliseconds, got ${config.partitionTurnDelayMs}`);
  }
  if (config.slowLogThresholdMs !== null && !(config.slowLogThresholdMs >= 0 && Number.isFinite(config.slowLogThresholdMs))) {
    throw new InvalidReplicationConfigError(`slowLogThresholdMs must be a non-negative number of milliseconds or null, got ${config.slowLogThresholdMs}`);
  }
  if (config.evictionShadowEntries !== undefined && !(Number.isInteger(config.evictionShadowEntries) && config.evictionShadowEntries > 0)) {
    throw new InvalidReplicationConfigError(`evictionShadowEntries must be a positive integer, got ${config.evictionShadowEntries}`);
  }
  if (!Number.isInteger(config.warmHotKeys) || config.warmHotKeys < 0) {
    throw new InvalidReplicationConfigError(`warmHotKeys must be a non-negative integer, got ${config.warmHotKeys}`);
  }
  if (!Number.isInteger(config.syncBucketsAbove) || config.syncBucketsAbove < 0) {
    throw new InvalidReplicationConfigError(`syncBucketsAbove must be a non-negative integer, got ${config.syncBucketsAbove}`);
  }
  if (config.tombstoneGraceMs <= config.hintWindowMs) {
    throw new InvalidReplicationConfigError(
      `tombstoneGraceMs (${config.tombstoneGraceMs}) must exceed hintWindowMs (${config.hintWindowMs}), or a late hint could resurrect a deleted key`,
    );
  }
  return config;
}

/** Replicas that must answer for a consistency level, out of `replicas`. */
export function requiredReplicas(consistency: Consistency, replicas: number): number {
  switch (consistency) {
    case 'one':
      return 1;
    case 'quorum':
      return Math.floor(replicas / 2) + 1;
    case 'all':
      return replicas;
  }
}
