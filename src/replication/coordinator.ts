/**
 * The coordinator: any node coordinates any key (Dynamo, section 4.5).
 *
 * Write path: stamp an HLC version, encode the record, send it to every owner in the preference
 * list. An owner that membership says is down gets a hint kept here; with sloppy quorum the write
 * also goes to the next healthy node along the ring past N, which keeps it as a hint for that owner
 * and whose acknowledgement counts. Answer as soon as the consistency level's count of acks is in;
 * keep listening until the deadline, and leave a hint for every owner that never acknowledged.
 *
 * Read path: ask every live owner; answer once enough ready replicas replied (a replica that is
 * still catching up does not count, see partition-replica.ts, but is asked again while the read is
 * short and the deadline allows, see askCatchingUpAgain) with the newest version seen, or
 * the newer sloppy write of the key this coordinator acknowledged with a stand-in's ack in place
 * of an owner's, which the owners may not hold yet (stand-in-writes.ts); then, after the answer,
 * when every replica replied or the deadline passed, send the newest record to every replica that
 * returned an older one (read repair).
 *
 * Ring changes: every replica request carries the version of the ring it was routed by. A
 * replica that has moved past that ring (and whose owners of the partition changed since) refuses
 * with its ring's version and the partition's owners there (`ns`); the request adopts them and
 * retries on those owners within its deadline, at most MAX_RING_ADOPTIONS times; an owner that
 * refuses naming a ring the request cannot adopt (one it left already: versions come back when a
 * member rejoins) is asked again after a backoff (retryRefused). While readers may
 * still be on rings before this node's (ReplicationContext.previousRings), a write must also meet
 * its consistency level among each one's owners (a joint quorum); an owner that refused a request
 * routed by that ring counts as acknowledged there, since it serves no read routed by it either
 * (an owner of both rings that refused the newer one is asked by the older: askInOlderRing).
 * A read's refuser that still holds the partition (handing it off) sends its record of the key
 * with the refusal, and the answer takes it into account (onReadRefused).
 * Rules and their reasons: docs/REPLICATION.md, "Ring changes".
 *
 * Ranking (a dynamic snitch): with a ReplicaHealth installed, a read leaves the owners it
 * judges slow or silent (src/health/peer-health.ts) out of its first round as
 * long as the others can make the consistency level, and asks them too as soon as the others
 * cannot (busy, refused, not ready, or answered without reaching it) or after a quarter of the
 * replica timeout (askDeferred): ranking never makes a read miss a level it would have met.
 * Writes go to every owner as before, and already answer on the first acks to arrive.
 *
 * Deadlines: a request gives up on silent replicas after the replica timeout, lengthened by the
 * bytes in flight (deadlineFor). This node's own replica is not given up on that way: it gets one
 * more timeout (awaitsOwnReplica). A miss says why (MissReason in api.ts).
 */
import type { Callback, Consistency, DeleteOptions, GetOptions, GetResult, KvError, KvService, MissReason, SetOptions, TopologySnapshot, WriteResult } from './api.ts';
import { requiredReplicas } from './config.ts';
import type { ReplicationContext } from './context.ts';
import { observed, type ReplicaHealth, type RequestObserver } from './observer.ts';
import type { TimerId } from '../runtime/env.ts';
import { backoffDelay, type BackoffPolicy } from '../protocol/backoff.ts';
import type { HintStore } from './hints.ts';
import { compareVersions, ZERO_VERSION, type HybridLogicalClock, type Version } from './hlc.ts';
import { flattenFloors } from './flush-floors.ts';
import type { KvMessage } from './messages.ts';
import { makeRecord } from './partition-replica.ts';
import { decodeRecord, isDeadAt, keyToStoreKey, type StoredRecord } from './record.ts';
import { LateAcks } from './late-acks.ts';
import { UnansweredWrites } from './unanswered-writes.ts';
import { StandInWrites } from './stand-in-writes.ts';
import { LogLimiter, suppressedField } from '../runtime/log-limiter.ts';
import { buggify, cover } from '../runtime/probes.ts';
import { firstRequestId } from './request-ids.ts';

/**
 * A ring a write must also be acknowledged in because readers may still route by it: its
 * version, the partition's owners there, the acks needed, and the owners known to have moved past
 * it (they count as acknowledged: they refuse every request routed by it).
 */
interface JointQuorum {
  version: string;
  owners: readonly string[];
  needed: number;
  movedPast: Set<string>;
}

/** What reads and writes share about the ring they are routed by. */
interface Routing {
  level: Consistency;
  /** Version of the ring the request is routed by now (the node's, or one a replica answered). */
  routedBy: string;
  /** The partition's owners in that ring. */
  owners: readonly string[];
  /** Node -> the ring version of the last request sent to it. */
  sent: Map<string, string>;
  /** Node -> monotonic time of the last request sent to it (its round trip for ReplicaHealth). */
  sentAtMs: Map<string, number>;
  /** Every ring the request has been routed by: the node's when it began, then those adopted from refusals (see canAdopt). */
  rings: Set<string>;
  /** Refusals per owner that could not be adopted: each is asked again after a backoff (retryRefused). */
  refusalRetries: Map<string, number> | null;
  /**
   * The request message per ring version it is routed by, one object shared by every owner asked
   * under that ring, so the node encodes it once (KvMessageEncoder; a message is never changed after sending).
   */
  requests: Map<string, KvMessage>;
}

interface PendingWrite extends Routing {
  kind: 'write';
  partition: number;
  key: string;
  record: Uint8Array;
  version: Version;
  needed: number;
  /** Acks counted towards `needed`: the owners' in the ring routed by, and stand-ins'. */
  acks: number;
  /** Every node that acknowledged the write as a replica (joint quorums count these). */
  acked: Set<string>;
  /** Owner names that have not acknowledged (a hint is left for each at the deadline). */
  awaiting: Set<string>;
  /** Node name -> the owner it stands in for (sloppy fallbacks). */
  fallbacks: Map<string, string>;
  /** Owners whose stand-in's ack was counted in `acks`: they lack the write until the hint reaches them. */
  standInFor: string[];
  /** Older rings the write must also satisfy (see JointQuorum), and the nodes outside `owners` they still await. */
  joint: JointQuorum[];
  jointAwaiting: Set<string>;
  done: Callback<WriteResult> | null;
  /** Busy answers per replica so far: each is asked again after a backoff while the deadline allows (onBusy). */
  busyRetries: Map<string, number> | null;
  /** Monotonic time at which the write is finished whatever answered (see expireDue). */
  deadline: number;
  /** Bytes this request counts in flight (see deadlineFor); `extended` as in PendingRead. */
  bytes: number;
  extended: boolean;
  /** Starts the write again under a fresh version (restamp). */
  reissue: () => void;
}

interface PendingRead extends Routing {
  kind: 'read';
  partition: number;
  key: string;
  /** GetOptions.peek: the replicas are asked to read without counting a use, and no miss is counted here. */
  peek: boolean;
  needed: number;
  /** Replicas that answered as caught up; those among `owners` count towards `needed`. */
  readyFrom: Set<string>;
  asked: Set<string>;
  /** Live owners left out of the first round as demoted (see Ranking in the file comment); asked by askDeferred. */
  deferred: string[];
  /** Replica name -> the version it returned (ZERO when it had nothing). */
  seen: Map<string, Version>;
  /** Replicas that answered busy (mailbox full). */
  busy: Set<string>;
  newest: StoredRecord | null;
  newestBytes: Uint8Array | null;
  /** The newest version a replica reported evicted: nothing older may be answered or repaired. */
  evicted: Version | null;
  /** The newest of those reported exactly (without `ei`): one older than it is never answered (see answerRead). */
  exactEvicted: Version | null;
  /** The level was made with no copy beside an eviction or a forgetting horizon: the read waits for every owner asked (see answerRead). */
  madeWithoutCopy: boolean;
  /**
   * Replica name -> the forgetting horizon it answered with nothing held (`h`): it may have evicted
   * and forgotten the key at or below it. Weighed only in a read made with no copy (answerRead);
   * otherwise the answer is "nothing here", as before. Null until one answers so.
   */
  horizons: Map<string, Version> | null;
  /**
   * Replica name -> the forgetting horizon it inherited from the sources it caught the partition up
   * from (`vh`), answered with a record older than it or with nothing held: it cannot vouch for
   * "nothing newer" at or below it, so it is weighed as an inexact eviction at it in every read,
   * whether or not a copy made the level. Null until one answers so.
   */
  vouches: Map<string, Version> | null;
  /** The read waited on more owners than its level made (counted once, `readsWaitedForOwners`). */
  waited: boolean;
  /** Answered a miss over a copy: nobody is repaired with that copy. */
  missedOverCopy: boolean;
  /** The highest flush floor a replica reported (flush-floors.ts): nothing at or below it may be answered or repaired. */
  floor: Version | null;
  /** Whether `newest` is, so far, a sloppy write this coordinator remembered rather than a replica's answer. */
  newestRemembered: boolean;
  done: Callback<GetResult> | null;
  busyRetries: Map<string, number> | null;
  /** Owners asked again because they answered while catching up, and how often (askCatchingUpAgain). */
  catchingUpRetries: Map<string, number> | null;
  /** Monotonic time at which the read is finished whatever answered (see expireDue). */
  deadline: number;
  /** Bytes this request counts in flight: the answers expected (see deadlineFor). */
  bytes: number;
  /** The deadline was pushed back once because this node's own replica had not answered yet. */
  extended: boolean;
}

type Pending = PendingWrite | PendingRead;

/**
 * A request adopts at most this many newer rings from replicas' refusals (each is a ring change
 * that happened while it was in flight); past that it waits for its deadline like any request.
 */
export const MAX_RING_ADOPTIONS = 3;
/** A request waits at most this many replica timeouts, however many bytes are in flight. */
export const MAX_TIMEOUT_FACTOR = 10;
/** A replica that answered busy is asked again after this backoff, while the request's deadline allows. */
export const BUSY_RETRY_BACKOFF: BackoffPolicy = { initialDelayMs: 5, maxDelayMs: 100, factor: 2, jitter: 0.5 };
/**
 * An owner that refused the ring a request is routed by, naming a ring the request cannot adopt,
 * is asked again after this backoff while the deadline allows: it is in the middle of a ring
 * change, and gossip brings it to the request's ring within a round or so (see retryRefused).
 */
export const REFUSED_RETRY_BACKOFF: BackoffPolicy = { initialDelayMs: 10, maxDelayMs: 100, factor: 2, jitter: 0.5 };
/**
 * An owner that answered a read while catching up is asked again after this backoff, while the
 * read is short of its level and the deadline allows (see askCatchingUpAgain).
 */
export const CATCHING_UP_RETRY_BACKOFF: BackoffPolicy = { initialDelayMs: 10, maxDelayMs: 100, factor: 2, jitter: 0.5 };
/** At most one slow-request line per operation per this interval (the lines held back are counted in the next). */
export const SLOW_LOG_INTERVAL_MS = 100;
/** A deadline timer firing this much after its time finds this node was busy: the expiry waits one turn (see expireDue). */
export const DEADLINE_STALL_MS = 10;
/** At most one `write-acknowledged-late` warning per this interval: it reports a condition that lasts (a load), and counts the rest. */
export const LATE_ACK_LOG_INTERVAL_MS = 10_000;
/** Owners a read deferred are asked anyway after this fraction of the replica timeout. */
export const DEFERRED_READ_AFTER_TIMEOUT_FRACTION = 0.25;
/** The read-size estimate moves 1/8 of the way to each answer's size (a running mean). */
const READ_ESTIMATE_WEIGHT = 8;

export interface CoordinatorStats {
  reads: number;
  writes: number;
  readRepairs: number;
  /** Flush floors sent to replicas that returned a record the floor deleted (see repairFloor). */
  floorRepairs: number;
  hintsForDownOwners: number;
  hintsForSilentOwners: number;
  sloppyFallbacks: number;
  unavailable: number;
  overloaded: number;
  /** Replicas that answered busy (their partition actor's mailbox was full). */
  replicasBusy: number;
  /** Reads answered with a remembered sloppy write that no replica that answered held (stand-in-writes.ts). */
  standInWritesRecalled: number;
  peakPending: number;
  /** Reads answered with a miss, by reason (see MissReason in api.ts). */
  missAbsent: number;
  missDeleted: number;
  missExpired: number;
  missEvicted: number;
  /**
   * Of `missEvicted`: misses although a replica returned a live record, older than a version
   * another replica said it evicted (supersededByEviction). The price of never answering a value
   * older than an eviction; an inexact "evicted at W" from the filter of forgotten keys lands here.
   */
  missEvictedOverCopy: number;
  /**
   * Reads answered with a record older than an inexact eviction (a replica's "evicted at or below
   * W", `ei`), because enough ready owners answered nothing newer than it (answerRead,
   * enoughOverInexact).
   */
  answersOverInexactEviction: number;
  /**
   * Reads that made their level but waited for more owners: an eviction marked `ei` newer than the
   * copy, or no copy beside an eviction (exact or not) or a forgetting horizon. What those rules
   * cost in waiting. Peeks are not counted.
   */
  readsWaitedForOwners: number;
  /** Requests whose deadline passed while this node's own replica had not answered: waited for it once more. */
  localWaits: number;
  /** Requests a replica refused as routed by a ring it has moved past; `ringsAdopted`: retried on the replica's ring. */
  routesRefused: number;
  ringsAdopted: number;
  /** Writes failed `unavailable` whose silent replicas then acknowledged enough to meet the level (late-acks.ts). */
  writesAcknowledgedLate: number;
  /** Writes started again under a newer version: a replica held one an earlier incarnation of this node gave the key (restamp). */
  writesRestamped: number;
  /** Of those, writes that had finished already: the replica's ack telling of it came after the write stopped waiting (unanswered-writes.ts). */
  writesRestampedLate: number;
  /** Deadline expiries put off one turn because their timer fired DEADLINE_STALL_MS late or more (see expireDue). */
  stalledExpiries: number;
}

export class Coordinator implements KvService {
  /** In creation order, which is deadline order (deadlineFor never hands out an earlier one). */
  private readonly pending = new Map<number, Pending>();
  private nextId: number;
  /**
   * One timer for every pending request's deadline, armed for the oldest one (a timer per
   * request costs more than the request itself at high rates). Null when none is armed.
   */
  private deadlineTimer: TimerId | null = null;
  private deadlineTimerAt = Number.POSITIVE_INFINITY;
  /** The expiry running now was put off one turn because its timer fired late (see expireDue). */
  private stallDeferred = false;
  private expiring = false;
  /** Sloppy writes acknowledged with stand-ins' acks, merged into reads of their keys. */
  private readonly standInWrites: StandInWrites;
  readonly stats: CoordinatorStats = {
    reads: 0,
    writes: 0,
    readRepairs: 0,
    floorRepairs: 0,
    hintsForDownOwners: 0,
    hintsForSilentOwners: 0,
    sloppyFallbacks: 0,
    unavailable: 0,
    overloaded: 0,
    replicasBusy: 0,
    standInWritesRecalled: 0,
    peakPending: 0,
    missAbsent: 0,
    missDeleted: 0,
    missExpired: 0,
    missEvicted: 0,
    missEvictedOverCopy: 0,
    answersOverInexactEviction: 0,
    readsWaitedForOwners: 0,
    localWaits: 0,
    routesRefused: 0,
    ringsAdopted: 0,
    writesAcknowledgedLate: 0,
    writesRestamped: 0,
    writesRestampedLate: 0,
    stalledExpiries: 0,
  };
  /**
   * Per key with a write pending, the versions this incarnation stamped for it since the oldest
   * such write, in stamping order (the HLC's), each while pending or behind a pending one. An ack's
   * `sv`, newer than its write, is a later write of the key by this incarnation only if it is one
   * of them; otherwise a predecessor gave it (fromPredecessor), even once the clock has passed it.
   */
  private readonly stampedSince = new Map<string, { version: Version; pending: boolean }[]>();
  /** Sum of `bytes` over the pending requests. */
  private bytesInFlight = 0;
  /** The latest deadline given so far: no request gets an earlier one (pending stays in deadline order). */
  private lastDeadline = Number.NEGATIVE_INFINITY;
  /**
   * What one replica's read answer is expected to weigh: a running mean of the records read
   * answers carried (a read's size is unknown until its answers arrive).
   */
  private readBytesEstimate = 0;
  private readonly slowLimiter = new LogLimiter(SLOW_LOG_INTERVAL_MS);
  /** Writes failed `unavailable`, watched for acks past their deadline (onLateAck), and the rate of its log line. */
  private readonly lateAcks = new LateAcks();
  private readonly lateLimiter = new LogLimiter(LATE_ACK_LOG_INTERVAL_MS);
  /** Writes finished with owners still silent, whose late acks may still tell of a predecessor's record (restampLate). */
  private readonly unanswered = new UnansweredWrites((write) => this.forgetStamped(write.key, write.version));
  /** Requests that crossed the slow-log threshold, logged or not. */
  slowRequests = 0;

  constructor(
    private readonly ctx: ReplicationContext,
    private readonly hlc: HybridLogicalClock,
    private readonly hints: HintStore,
    private readonly topologySnapshot: () => TopologySnapshot,
    /** Subscribes to ring changes (the node's); without it, servers poll `topology()`. */
    subscribeTopology?: (listener: (version: string) => void) => () => void,
  ) {
    this.nextId = firstRequestId(ctx.env);
    if (subscribeTopology) this.onTopologyChange = subscribeTopology;
    // The stand-ins hold these writes as hints, so the coordinator keeps them within the same bounds.
    this.standInWrites = new StandInWrites(ctx.config.maxHints, ctx.config.maxHintBytes, ctx.config.hintWindowMs);
  }

  /** Present when the owner can tell ring changes as they happen (see src/server/topology-watch.ts). */
  readonly onTopologyChange?: (listener: (version: string) => void) => () => void;

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Why new requests are refused (a leaving node that has handed everything off), or null while they are taken. */
  private refusing: string | null = null;

  /**
   * From now on refuses new gets, sets and deletes with `not-ready` (nothing applied, so a client
   * sends even a write to another node) while those in flight finish: a leaving node's last
   * requests end within one deadline, however fast new ones keep arriving (ShoalNode.leave).
   */
  refuseNewRequests(reason: string): void {
    this.refusing = reason;
  }

  topology(): TopologySnapshot {
    return this.topologySnapshot();
  }

  /** Sees each get, set and delete complete (the node's metrics); null: nothing is timed. */
  observer: RequestObserver | null = null;
  /** Sees each remote replica answer or stay silent, and ranks reads (the node's health); null: every live owner is asked. */
  health: ReplicaHealth | null = null;

  get(key: Uint8Array, options: GetOptions, done: Callback<GetResult>): void {
    // A peek is no client read: it stays out of the request metrics, `reads` and the misses (the hit ratio).
    const peek = options.peek === true;
    if (this.observer !== null && !peek) done = observed(this.observer, this.ctx.env.clock, 'get', options.consistency ?? this.ctx.config.defaultReadConsistency, done);
    const problem = this.checkKey(key) ?? this.checkJoined() ?? this.checkCapacity();
    if (problem) return this.fail(done, problem);
    if (!peek) this.stats.reads++;
    const placement = this.ctx.placement();
    const partition = placement.partitionOfKey(key);
    const owners = placement.owners(partition);
    const level = options.consistency ?? this.ctx.config.defaultReadConsistency;
    const needed = requiredReplicas(level, owners.length);
    const id = this.nextId++;
    const live = owners.filter((owner) => this.ctx.isAlive(owner));
    const deferred = this.deferredOwners(live, needed);
    // Whole bytes, so the sum in flight stays exact as requests come and go.
    const bytes = live.length * Math.round(this.readBytesEstimate);
    const read: PendingRead = {
      kind: 'read',
      partition,
      key: keyToStoreKey(key),
      peek,
      ...routing(level, placement.version, owners),
      needed,
      readyFrom: new Set(),
      asked: new Set(live.filter((owner) => !deferred.includes(owner))),
      deferred,
      seen: new Map(),
      busy: new Set(),
      newest: null,
      evicted: null,
      exactEvicted: null,
      madeWithoutCopy: false,
      horizons: null,
      vouches: null,
      waited: false,
      missedOverCopy: false,
      floor: null,
      newestBytes: null,
      newestRemembered: false,
      done,
      busyRetries: null,
      catchingUpRetries: null,
      deadline: this.deadlineFor(bytes),
      bytes,
      extended: false,
    };
    read.done = this.timed('get', read, done);
    // A sloppy write acknowledged here may be missing from every owner asked: it takes part as if
    // a replica had returned it (read-your-writes), and read repair brings it to those that lack it.
    const remembered = this.standInWrites.get(read.key, this.ctx.env.clock.monoMs());
    if (remembered) {
      read.newest = decodeRecord(remembered.record);
      read.newestBytes = remembered.record;
      read.newestRemembered = true;
    }
    this.track(id, read);
    for (const owner of read.asked) this.sendRead(id, read, owner);
    if (deferred.length > 0) this.ctx.env.timers.setTimer(this.ctx.config.requestTimeoutMs * DEFERRED_READ_AFTER_TIMEOUT_FRACTION, () => this.askDeferred(id));
    // Not enough live owners: fail, but through a timer so callbacks never run inside the call.
    if (live.length < needed) this.ctx.env.timers.setTimer(0, () => this.finishRead(id));
  }

  set(key: Uint8Array, value: Uint8Array, options: SetOptions, done: Callback<WriteResult>): void {
    if (this.observer !== null) done = observed(this.observer, this.ctx.env.clock, 'set', options.consistency ?? this.ctx.config.defaultWriteConsistency, done);
    const ttl = options.ttlMs ?? 0;
    if (!Number.isFinite(ttl) || ttl < 0) return this.fail(done, { code: 'bad-request', message: `ttlMs must be a non-negative number of milliseconds, got ${ttl}` });
    if (value.length > this.ctx.config.maxValueBytes) {
      return this.fail(done, { code: 'too-large', message: `value of ${value.length} bytes exceeds the ${this.ctx.config.maxValueBytes}-byte limit` });
    }
    const expiresAtMs = ttl === 0 ? 0 : Math.floor(this.ctx.env.clock.wallMs()) + ttl;
    this.write(key, value, expiresAtMs, options, done);
  }

  delete(key: Uint8Array, options: DeleteOptions, done: Callback<WriteResult>): void {
    if (this.observer !== null) done = observed(this.observer, this.ctx.env.clock, 'delete', options.consistency ?? this.ctx.config.defaultWriteConsistency, done);
    this.write(key, null, 0, options, done);
  }

  /** Routes a replica's answer to its pending request; late answers to finished requests are ignored. */
  onReply(from: string, message: KvMessage): void {
    if (message.t === 'wa') this.onWriteAck(from, message.id, message.sv);
    else if (message.t === 'ra') this.onReadAnswer(from, message.id, message.r, message.ready, message.e, message.f, message.ei === true, message.h, message.vh);
    else if (message.t === 'nb') this.onBusy(from, message.id);
    else if (message.t === 'wo') this.onOutOfMemory(from, message.id);
    else if (message.t === 'ns') this.onRefused(from, message.id, message.rv, message.v, message.o, message.r);
  }

  /** Fails every pending request (the node is stopping). */
  stop(): void {
    if (this.deadlineTimer !== null) this.ctx.env.timers.cancelTimer(this.deadlineTimer);
    this.deadlineTimer = null;
    for (const id of [...this.pending.keys()]) {
      const p = this.pending.get(id)!;
      this.pending.delete(id);
      p.done?.({ code: 'unavailable', message: 'the coordinating node is shutting down' });
    }
    this.bytesInFlight = 0;
    this.stampedSince.clear();
    this.unanswered.clear();
  }

  // ---- writes -----------------------------------------------------------------------------

  /** `restamped`: the write again under a newer version (restamp), not counted twice. */
  private write(key: Uint8Array, value: Uint8Array | null, expiresAtMs: number, options: { consistency?: Consistency; sloppy?: boolean }, done: Callback<WriteResult>, restamped = false): void {
    const problem = this.checkKey(key) ?? this.checkJoined() ?? this.checkCapacity();
    if (problem) return this.fail(done, problem);
    if (!restamped) this.stats.writes++;
    const placement = this.ctx.placement();
    const partition = placement.partitionOfKey(key);
    const owners = placement.owners(partition);
    const level = options.consistency ?? this.ctx.config.defaultWriteConsistency;
    const needed = requiredReplicas(level, owners.length);
    const sloppy = options.sloppy ?? this.ctx.config.sloppyQuorum;
    const version = this.hlc.now();
    const record = makeRecord(version, value, expiresAtMs);
    const id = this.nextId++;
    const bytes = record.length * owners.length;
    const write: PendingWrite = {
      kind: 'write',
      partition,
      key: keyToStoreKey(key),
      record,
      version,
      ...routing(level, placement.version, owners),
      needed,
      acks: 0,
      acked: new Set(),
      awaiting: new Set(),
      fallbacks: new Map(),
      standInFor: [],
      joint: [],
      jointAwaiting: new Set(),
      done,
      busyRetries: null,
      deadline: this.deadlineFor(bytes),
      bytes,
      extended: false,
      // Answers the caller unless this write did already.
      reissue: () => this.write(key, value, expiresAtMs, options, write.done === null ? () => {} : done, true),
    };
    write.done = this.timed(value === null ? 'delete' : 'set', write, done);
    this.noteStamped(write.key, version);
    this.track(id, write);

    // A node still on an older ring reads from that ring's owners: until its owners have moved on,
    // the write must also satisfy the consistency level there (a joint quorum), or a reader on the
    // old ring can miss it (kv-join seed 40: ALL on the new owners, ONE from an old owner). Sent
    // routed by that ring: an owner that has moved past it refuses, and counts as acknowledged
    // there. Rings newest first: an owner of several gets one copy, routed by the newest, and is
    // asked in an older one once it refused that (askInOlderRing).
    for (const previous of this.ctx.previousRings?.(partition) ?? []) {
      this.addJointQuorum(write, previous.version, previous.owners, previous.movedPast);
      for (const name of previous.owners) {
        if (owners.includes(name) || previous.movedPast.has(name) || write.jointAwaiting.has(name) || !this.ctx.isAlive(name)) continue;
        write.jointAwaiting.add(name);
        this.sendWrite(id, write, name, previous.version);
      }
    }

    const down: string[] = [];
    for (const owner of owners) {
      if (this.ctx.isAlive(owner)) {
        write.awaiting.add(owner);
        this.sendWrite(id, write, owner, write.routedBy);
      } else {
        down.push(owner);
      }
    }
    if (down.length > 0) {
      const standIns = sloppy ? this.fallbacksFor(partition, owners, down.length) : [];
      down.forEach((owner, i) => {
        const standIn = standIns[i];
        if (standIn !== undefined) {
          // The fallback keeps the hint; its ack counts towards W (sloppy quorum).
          this.stats.sloppyFallbacks++;
          cover(this.ctx.env, 'sloppy-stand-in-write');
          write.fallbacks.set(standIn, owner);
          this.ctx.send(standIn, { t: 'w', id, p: partition, k: write.key, r: record, h: owner, v: write.routedBy });
        } else {
          this.stats.hintsForDownOwners++;
          this.hints.add(owner, partition, write.key, record, this.ctx.env.clock.monoMs());
        }
      });
    }
    if (write.awaiting.size + write.fallbacks.size < needed) this.ctx.env.timers.setTimer(0, () => this.finishWrite(id));
  }

  /**
   * The live owners a read leaves out of its first round: those the health ranking demoted, as
   * long as the others are at least `needed` (otherwise none). This node's own replica never is.
   */
  private deferredOwners(live: readonly string[], needed: number): string[] {
    const health = this.health;
    if (health === null) return [];
    const deferred = live.filter((owner) => owner !== this.ctx.selfName && health.deferRead(owner));
    return live.length - deferred.length >= needed ? deferred : [];
  }

  /** Asks the owners a read deferred, unless it has finished: the others may not make its level. */
  private askDeferred(id: number): void {
    const read = this.pending.get(id);
    if (!read || read.kind !== 'read' || read.deferred.length === 0) return;
    const deferred = read.deferred;
    read.deferred = [];
    for (const owner of deferred) {
      if (read.asked.has(owner) || !read.owners.includes(owner) || !this.ctx.isAlive(owner)) continue;
      read.asked.add(owner);
      this.sendRead(id, read, owner);
    }
  }

  /** The first `count` live nodes past the preference list that may stand in, walking partition p's ranking. */
  private fallbacksFor(partition: number, owners: readonly string[], count: number): string[] {
    const out: string[] = [];
    for (const name of this.ctx.placement().ranking(partition)) {
      if (out.length >= count) break;
      if (owners.includes(name) || !(this.ctx.mayStandIn?.(name) ?? this.ctx.isAlive(name))) continue;
      out.push(name);
    }
    return out;
  }

  private sendWrite(id: number, write: PendingWrite, to: string, ring: string): void {
    write.sent.set(to, ring);
    const now = this.ctx.env.clock.monoMs();
    write.sentAtMs.set(to, now);
    if (this.health !== null && to !== this.ctx.selfName) this.health.asked(to, now);
    if (!buggify(this.ctx.env, 'replica-request-lost')) this.ctx.send(to, requestFor(write, ring, () => ({ t: 'w', id, p: write.partition, k: write.key, r: write.record, v: ring })));
  }

  private sendRead(id: number, read: PendingRead, to: string): void {
    read.sent.set(to, read.routedBy);
    const now = this.ctx.env.clock.monoMs();
    read.sentAtMs.set(to, now);
    if (this.health !== null && to !== this.ctx.selfName) this.health.asked(to, now);
    if (!buggify(this.ctx.env, 'replica-request-lost')) this.ctx.send(to, requestFor(read, read.routedBy, () => this.readRequest(id, read)));
  }

  /**
   * The read routed by `read.routedBy`. With fewer owners there than the replication factor (a
   * cluster of N data holders or fewer), it says how many: a replica still on a ring that gives
   * the partition more owners (it has not heard of a drain yet) does not count as caught up for
   * it, as R of these owners need not meet a write acknowledged by W of its ring's
   * (docs/REPLICATION.md, "A replica behind a ring that shrank the partition").
   */
  private readRequest(id: number, read: PendingRead): KvMessage {
    const message: KvMessage = { t: 'r', id, p: read.partition, k: read.key, v: read.routedBy, ...(read.peek ? { pk: true } : {}) };
    return read.owners.length < this.ctx.config.replicas && !this.ctx.config.bugs?.readsWithoutOwnerCount ? { ...message, n: read.owners.length } : message;
  }

  /**
   * Adds a ring the write must also be acknowledged in, at its full level: an owner this node takes
   * for down is sent nothing, but its place is not forgiven, since on the other side of a network
   * partition it may still serve reads routed by that ring (kv-drain seed 400211: n4 and n5, cut
   * off together and on the ring before n1's undrain, answered a QUORUM read of k22 that n1 had
   * written with n1 + n3 when the need there was lowered to the one owner it saw alive). Owners
   * that moved past the ring count, so a write waits only while that ring could still be read.
   */
  private addJointQuorum(write: PendingWrite, version: string, owners: readonly string[], movedPast: Iterable<string>): void {
    const level = requiredReplicas(write.level, owners.length);
    const alive = owners.filter((name) => this.ctx.isAlive(name)).length;
    write.joint.push({ version, owners, needed: this.ctx.config.bugs?.jointQuorumOfLiveOwners ? Math.min(level, alive) : level, movedPast: new Set(movedPast) });
  }

  private jointMet(write: PendingWrite): boolean {
    if (this.ctx.config.bugs?.noJointQuorum) return true;
    return write.joint.every((q) => this.jointRingMet(write, q));
  }

  /** Whether enough of that ring's owners acknowledged the write or moved past the ring. */
  private jointRingMet(write: PendingWrite, q: JointQuorum): boolean {
    return q.owners.filter((name) => write.acked.has(name) || q.movedPast.has(name)).length >= q.needed;
  }

  private onWriteAck(from: string, id: number, superseding: Version | undefined): void {
    const write = this.pending.get(id);
    if (!write) return this.onLateAck(from, id, superseding);
    if (write.kind !== 'write') return;
    if (superseding !== undefined && this.fromPredecessor(write.key, write.version, superseding)) {
      if (!this.stampedLater(write.key, write.version)) return this.restamp(id, write, superseding);
      // A later write of the key by this incarnation supersedes this one, and its own acks tell
      // of the predecessor's record: started again now, this one could land above it.
      this.hlc.observe(superseding);
    }
    const standsInFor = write.fallbacks.get(from);
    if (write.awaiting.delete(from)) {
      write.acks++;
      write.acked.add(from);
    } else if (standsInFor !== undefined && write.fallbacks.delete(from)) {
      write.acks++;
      write.standInFor.push(standsInFor);
    } else if (write.jointAwaiting.delete(from)) {
      write.acked.add(from);
    } else return; // a duplicate
    this.reportAnswer(write, from);
    this.settleWrite(id, write);
  }

  /**
   * Whether a version of this node's that a replica kept over `write` was handed out by an earlier
   * incarnation of it: this one's HLC never hands out a version twice, and every version it stamped
   * for the key after `write` (the only ones of its own newer than `write`) is in stampedSince, the
   * write still pending (docs/REPLICATION.md, "Versions across restarts").
   */
  private fromPredecessor(key: string, version: Version, superseding: Version): boolean {
    if (this.ctx.config.bugs?.hlcForgetsPredecessor) return false;
    if (compareVersions(superseding, version) === 0) return true;
    const stamped = this.stampedSince.get(key) ?? [];
    return !stamped.some((s) => compareVersions(s.version, superseding) === 0);
  }

  /** Whether this incarnation stamped a write of `key` after the one stamped `version` (kept in stampedSince while that one is). */
  private stampedLater(key: string, version: Version): boolean {
    const stamped = this.stampedSince.get(key) ?? [];
    const at = stamped.findIndex((s) => s.version === version);
    return at >= 0 && at < stamped.length - 1;
  }

  /** A write of `key` stamped `version` is pending (stampedSince). */
  private noteStamped(key: string, version: Version): void {
    // Finished writes of the key are restamped no more: this one tells of a predecessor's record itself.
    this.unanswered.dropKey(key);
    let stamped = this.stampedSince.get(key);
    if (stamped === undefined) this.stampedSince.set(key, (stamped = []));
    stamped.push({ version, pending: true });
  }

  /** The write of `key` stamped `version` is no longer pending: forget what no pending write needs. */
  private forgetStamped(key: string, version: Version): void {
    const stamped = this.stampedSince.get(key);
    if (stamped === undefined) return;
    const entry = stamped.find((s) => s.version === version);
    if (entry !== undefined) entry.pending = false;
    while (stamped.length > 0 && !stamped[0]!.pending) stamped.shift();
    if (stamped.length === 0) this.stampedSince.delete(key);
  }

  /**
   * A replica kept a version an earlier incarnation of this node gave the key, newer than (or as
   * new as) `write`: its clock, pulled ahead by peers or by a wall clock stepped back, died with it.
   * The clock folds that version in and the write starts again under a newer one, so it replaces
   * the predecessor's (and two different records never share a version) instead of being
   * acknowledged and lost.
   */
  private restamp(id: number, write: PendingWrite, superseding: Version): void {
    this.stats.writesRestamped++;
    this.hlc.observe(superseding);
    this.untrack(id, write);
    write.reissue();
  }

  /**
   * A silent owner's ack for a write that has finished (kept in `unanswered`). When it tells of a
   * predecessor's record newer than the write, the write starts again under a newer version in the
   * background (its caller was answered, or failed): otherwise the owners that acknowledged it
   * hold it below that record, which sync then spreads over it (docs/REPLICATION.md, "Versions
   * across restarts"). Not when this incarnation wrote the key again since: that write tells of it
   * itself, and this one started again could land above it.
   */
  private restampLate(from: string, id: number, superseding: Version | undefined): void {
    const write = this.unanswered.answered(id, from, this.ctx.env.clock.monoMs());
    if (write === undefined) return;
    if (superseding !== undefined && !this.ctx.config.bugs?.lateTellsIgnored && this.fromPredecessor(write.key, write.version, superseding)) {
      this.hlc.observe(superseding);
      const later = this.stampedLater(write.key, write.version);
      this.unanswered.drop(id);
      if (later) return;
      this.stats.writesRestamped++;
      this.stats.writesRestampedLate++;
      write.reissue();
    } else if (write.silent.size === 0) {
      this.unanswered.drop(id);
    }
  }

  /**
   * An ack for a write no longer pending: when it brings a write failed `unavailable` to its level,
   * that failure was a replica timeout too short for this load (late-acks.ts): counted, and
   * logged (rate-limited) with what to change.
   */
  private onLateAck(from: string, id: number, superseding: Version | undefined): void {
    this.restampLate(from, id, superseding);
    const now = this.ctx.env.clock.monoMs();
    const lateMs = this.lateAcks.ack(id, from, now);
    if (lateMs === null) return;
    this.stats.writesAcknowledgedLate++;
    const suppressed = this.lateLimiter.pass('late', now);
    if (suppressed === null) return;
    const timeoutMs = this.ctx.config.requestTimeoutMs;
    this.ctx.env.log.warn(
      { event: 'write-acknowledged-late', lateMs: Math.round(lateMs), replicaTimeoutMs: timeoutMs, writesAcknowledgedLate: this.stats.writesAcknowledgedLate, ...suppressedField(suppressed) },
      `a write answered unavailable at its deadline reached its consistency level ${Math.round(lateMs)} ms later: its replicas are up but answer slower than the replica timeout (${timeoutMs} ms), ` +
        'as nodes short of CPU do (a handoff under client load, say), and the write took effect; raise --replica-timeout or give the nodes more CPU (docs/OPERATIONS.md, "Writes failing during a leave")',
    );
  }

  /** Answers the write once it meets its level in every ring it must, and finishes it once nobody is awaited. */
  private settleWrite(id: number, write: PendingWrite): void {
    if (write.done && write.acks >= write.needed && write.joint.length > 0 && !this.jointMet(write)) cover(this.ctx.env, 'joint-quorum-waited');
    if (write.done && write.acks >= write.needed && this.jointMet(write)) {
      const done = write.done;
      write.done = null;
      // Acknowledged with a stand-in counted for an owner: reads must not rely on that owner having it.
      if (write.standInFor.length > 0 && !this.ctx.config.bugs?.forgetStandInWrites) {
        this.standInWrites.remember(write.key, write.version, write.record, write.standInFor, this.ctx.env.clock.monoMs());
      }
      done(null, { acks: write.acks, version: write.version });
    }
    if (write.awaiting.size === 0 && write.fallbacks.size === 0 && write.jointAwaiting.size === 0) this.finishWrite(id);
  }

  /**
   * A replica refused a request routed by a ring it has moved past, answering its own ring: the
   * request counts it as moved past that ring and, if that was the ring the request is routed by,
   * adopts the replica's ring and retries on its owners (see the file comment). `held`: a read's
   * refuser still holding the partition sends its record of the key (replica-host.ts refusedReadRoute).
   */
  private onRefused(from: string, id: number, refusedRing: string, ring: string, owners: readonly string[], held: Uint8Array | undefined): void {
    this.ctx.peerMovedPast?.(from, refusedRing);
    const pending = this.pending.get(id);
    // Unknown, or a copy routed by another ring than the last one sent to that node: that one's answer is still to come.
    if (!pending || pending.sent.get(from) !== refusedRing) return;
    // A read's owner that answered already and refuses now refuses a duplicate of the request it
    // answered, delivered after it moved to another ring: its answer stands. Taken as a refusal, it
    // left `seen` holding an owner no longer `asked`, and the read finished as soon as the others
    // asked answered once fewer than all of them had (rolling-restart seed 1190004). The same for
    // an owner whose busy answer was its last (no retry fits before the deadline, so no copy is
    // sent again): it stayed in `busy` while leaving `asked`, and the read finished as soon as one
    // fewer owner had answered, failing `overloaded` with another owner's answer still to come.
    if (pending.kind === 'read' && (pending.seen.has(from) || pending.busy.has(from)) && !this.ctx.config.bugs?.readsTakeDuplicateRefusals) return;
    this.stats.routesRefused++;
    cover(this.ctx.env, 'retry-on-newer-ring');
    pending.sent.delete(from);
    if (pending.kind === 'write') this.onWriteRefused(id, pending, from, refusedRing, ring, owners);
    else this.onReadRefused(id, pending, from, refusedRing, ring, owners, held);
  }

  /**
   * Whether a refusal of the ring the request is routed by moves it to the ring the refuser named:
   * yes for a ring it has not been routed by yet, within MAX_RING_ADOPTIONS; yes for this node's
   * own ring now, whatever the request did before (a new request would take it); no for a ring the
   * request left (its first one included) that this node is not on: the refuser is then behind
   * (retryRefused). Without the last two, a coordinator behind on A (a node has left) adopted B
   * (it is back) from an owner ahead, then A again from an owner still behind, and could never
   * return to B once it caught up itself: every owner refused A until the deadline
   * (rolling-restart and rolling-upgrade seeds 100023 and 100131).
   */
  private canAdopt(pending: Pending, refusedRing: string, ring: string): boolean {
    if (refusedRing !== pending.routedBy || ring === pending.routedBy) return false;
    if (ring === this.ctx.placement().version) return true;
    return !pending.rings.has(ring) && pending.rings.size <= MAX_RING_ADOPTIONS;
  }

  /**
   * An owner of the ring the request is routed by refused that very ring, naming one the request
   * cannot adopt: one it was routed by and left already, or one past the adoption budget. Ring versions
   * are digests of the ring's members, so a ring comes back when a member leaves and rejoins (a
   * rolling restart: A, then B without the node, then A again); an owner still on B takes a
   * coordinator already back on A for one that is behind, and refuses it. It is one ring change
   * behind, not gone: ask it again, routed by the same ring, after a backoff while the deadline
   * allows (its answer counts as any first answer would). False when the deadline leaves no room:
   * the caller then stops waiting for it.
   */
  private retryRefused(id: number, pending: Pending, from: string): boolean {
    const attempt = pending.refusalRetries?.get(from) ?? 0;
    const delay = backoffDelay(attempt, REFUSED_RETRY_BACKOFF, () => this.ctx.env.random.next());
    if (this.ctx.env.clock.monoMs() + delay >= pending.deadline) return false;
    (pending.refusalRetries ??= new Map()).set(from, attempt + 1);
    this.ctx.env.timers.setTimer(delay, () => this.askAgain(id, from));
    return true;
  }

  private onWriteRefused(id: number, write: PendingWrite, from: string, refusedRing: string, ring: string, owners: readonly string[]): void {
    for (const q of write.joint) if (q.version === refusedRing) q.movedPast.add(from);
    write.awaiting.delete(from);
    write.jointAwaiting.delete(from);
    if (this.canAdopt(write, refusedRing, ring)) {
      this.stats.ringsAdopted++;
      write.rings.add(ring);
      // Readers may still route by the ring the write was routed by: it becomes a joint quorum.
      this.addJointQuorum(write, write.routedBy, write.owners, [from]);
      for (const name of write.awaiting) if (!owners.includes(name)) write.jointAwaiting.add(name);
      write.routedBy = ring;
      write.owners = owners;
      write.needed = requiredReplicas(write.level, owners.length);
      // Stand-ins stood in for owners of the ring left behind; the new ring's owners are asked directly.
      write.fallbacks.clear();
      write.standInFor = [];
      write.awaiting = new Set();
      write.acks = 0;
      for (const owner of owners) {
        if (write.acked.has(owner)) write.acks++;
        else if (this.ctx.isAlive(owner)) {
          write.awaiting.add(owner);
          write.jointAwaiting.delete(owner);
          if (write.sent.get(owner) !== ring) this.sendWrite(id, write, owner, ring);
        } else {
          this.stats.hintsForDownOwners++;
          this.hints.add(owner, write.partition, write.key, write.record, this.ctx.env.clock.monoMs());
        }
      }
    } else if (write.owners.includes(from) && !write.acked.has(from) && refusedRing !== write.routedBy) {
      // An owner of the ring routed by refused the copy sent for an older ring: send it this one.
      write.awaiting.add(from);
      this.sendWrite(id, write, from, write.routedBy);
    } else if (write.owners.includes(from) && !write.acked.has(from) && this.retryRefused(id, write, from)) {
      write.awaiting.add(from);
    }
    this.askInOlderRing(id, write, from);
    this.settleWrite(id, write);
  }

  /**
   * An owner in both the ring a write is routed by and an older ring it must also meet (a joint
   * quorum) is sent one copy, routed by the newer ring: its ack counts in both, but its refusal
   * only in the ring it refused. Once it refused, and is awaited for nothing else, it is asked
   * again routed by the older ring, so that it acknowledges there or refuses that ring too and
   * counts as moved past it; only while that ring is short of its level, so a write that met it
   * sends nothing more. Before, such an owner counted for nothing in the older ring:
   * blue-green seed 300224, a QUORUM write during one old node's leave (ring P: n6, n1, n2; the
   * coordinator's ring C: n6, n2, n5) adopted ring N (n6, n5, n4) from n2's refusal of C and was
   * acknowledged by all of N and C, but P had only n6: n1 had stopped, and n2, on N, would have
   * refused P as well. The write failed at its deadline.
   */
  private askInOlderRing(id: number, write: PendingWrite, from: string): void {
    if (!write.done || this.ctx.config.bugs?.jointIgnoresRefusers) return;
    if (write.awaiting.has(from) || write.jointAwaiting.has(from) || write.fallbacks.has(from) || write.acked.has(from) || !this.ctx.isAlive(from)) return;
    const older = write.joint.find((q) => q.owners.includes(from) && !q.movedPast.has(from) && !this.jointRingMet(write, q));
    if (older === undefined) return;
    write.jointAwaiting.add(from);
    this.sendWrite(id, write, from, older.version);
  }

  /** At the deadline, or once everyone answered: answer if not yet, hint every silent owner. */
  private finishWrite(id: number): void {
    const write = this.pending.get(id) as PendingWrite | undefined;
    if (!write) return;
    const now = this.ctx.env.clock.monoMs();
    // Its silent owners' late acks may still tell of a predecessor's record: kept with the
    // versions stamped for the key since (stampedSince) until they answer or it is forgotten.
    const silent = new Set([...write.awaiting, ...write.fallbacks.keys(), ...write.jointAwaiting]);
    const kept = this.unanswered.keep(id, { key: write.key, version: write.version, silent, bytes: write.record.length + write.key.length, finishedAtMs: now, reissue: () => {
      write.done = null; // its caller was answered (failed writes keep it set): the write again answers nobody
      write.reissue();
    } });
    this.untrack(id, write, kept);
    for (const owner of write.awaiting) {
      this.reportSilence(write, owner);
      this.stats.hintsForSilentOwners++;
      this.hints.add(owner, write.partition, write.key, write.record, now);
    }
    // A fallback that did not answer may not hold the hint: keep one here too.
    for (const owner of write.fallbacks.values()) {
      this.stats.hintsForSilentOwners++;
      this.hints.add(owner, write.partition, write.key, write.record, now);
    }
    const busy = this.busyStill(write);
    if (write.done && busy !== undefined) this.failOverloaded(write, busy);
    if (write.done) {
      this.stats.unavailable++;
      // Owners (and stand-ins) that had not answered: named in the error, watched for late acks.
      const silent = [...write.awaiting, ...write.fallbacks.keys()];
      if (write.acks < write.needed) this.lateAcks.watch(id, write.acks, write.needed, silent, now);
      write.done({ code: 'unavailable', message: this.shortWriteMessage(write, silent, now) });
    }
  }

  /**
   * Why a write failed `unavailable`, naming the owners it lacked: silent ones (a replica past the
   * deadline: busy, starved of CPU, or cut off) and down ones, so an operator can tell a slow
   * replica from a missing one (a graceful leave on a starved machine fails writes the first way:
   * docs/OPERATIONS.md, "Writes failing during a leave"). The acknowledgements already given are
   * not undone: the write may be read back, and a client decides whether writing it again is safe.
   * Before its deadline (too few owners alive to try), the live ones had not answered yet.
   */
  private shortWriteMessage(write: PendingWrite, silent: readonly string[], nowMs: number): string {
    const down = write.owners.filter((owner) => !write.acked.has(owner) && !write.awaiting.has(owner) && !this.ctx.isAlive(owner));
    const when = nowMs >= write.deadline ? `within the replica timeout (${this.ctx.config.requestTimeoutMs} ms)` : 'yet';
    const missing = [...(silent.length > 0 ? [`no acknowledgement from ${silent.join(', ')} ${when}`] : []), ...(down.length > 0 ? [`down: ${down.join(', ')}`] : [])];
    const short = write.joint.find((q) => !this.jointRingMet(write, q));
    const jointSilent = short ? short.owners.filter((name) => write.jointAwaiting.has(name)) : [];
    const joint = short ? `; and too few of the ${short.needed} needed on a ring other nodes may still use${jointSilent.length > 0 ? ` (no acknowledgement from ${jointSilent.join(', ')})` : ''}` : '';
    const why = missing.length > 0 ? ` (${missing.join('; ')})` : '';
    return `only ${write.acks} of the ${write.needed} replicas needed acknowledged the write in time${why}${joint}; those that did keep it, so retry only if writing the value again is safe`;
  }

  // ---- reads ------------------------------------------------------------------------------

  private onReadAnswer(from: string, id: number, bytes: Uint8Array | null, ready: boolean, evicted: Version | undefined, floor: Version | undefined, inexact: boolean, horizon: Version | undefined, vouch: Version | undefined): void {
    const read = this.pending.get(id);
    if (!read || read.kind !== 'read' || !read.asked.has(from) || read.seen.has(from)) return;
    this.reportAnswer(read, from);
    const record = bytes ? decodeRecord(bytes) : null;
    this.readBytesEstimate += ((bytes?.length ?? 0) - this.readBytesEstimate) / READ_ESTIMATE_WEIGHT;
    const version = record ? record.version : (evicted ?? floor ?? ZERO_VERSION);
    read.seen.set(from, version);
    this.standInWrites.seen(read.key, from, version);
    if (evicted && (!read.evicted || compareVersions(evicted, read.evicted) > 0)) read.evicted = evicted;
    if (evicted && !inexact && (!read.exactEvicted || compareVersions(evicted, read.exactEvicted) > 0)) read.exactEvicted = evicted;
    if (floor && (!read.floor || compareVersions(floor, read.floor) > 0)) read.floor = floor;
    if (horizon && !record && !evicted) (read.horizons ??= new Map()).set(from, horizon);
    if (vouch && !evicted) (read.vouches ??= new Map()).set(from, vouch);
    if (record && bytes) this.takeRecord(read, record, bytes);
    if (ready) read.readyFrom.add(from);
    if (read.done && this.readyCount(read) >= read.needed) this.answerRead(id, read);
    if (read.seen.size + read.busy.size === read.asked.size) this.finishOrWiden(id, read);
  }

  /** A record a replica returned: the read answers it (and repairs the others with it) if it is the newest so far. */
  private takeRecord(read: PendingRead, record: StoredRecord, bytes: Uint8Array): void {
    if (!this.ctx.config.bugs?.hlcIgnoresRemote) this.hlc.observe(record.version);
    const order = read.newest ? compareVersions(record.version, read.newest.version) * (this.ctx.config.bugs?.answerOldest ? -1 : 1) : 1;
    if (order > 0) {
      read.newest = record;
      read.newestBytes = bytes;
    }
    if (order >= 0) read.newestRemembered = false;
  }

  /**
   * Every replica asked has answered: finish, or, still unanswered, ask the owners deferred too,
   * and the owners that answered while catching up again.
   */
  private finishOrWiden(id: number, read: PendingRead): void {
    if (read.done && read.deferred.length > 0) this.askDeferred(id);
    if (read.done) this.askCatchingUpAgain(id, read);
    if (read.seen.size + read.busy.size === read.asked.size) this.finishRead(id);
  }

  /**
   * A read short of its level whose owners answered while catching up (they gained the partition
   * in a ring change and are syncing it) asks them again after a backoff while the deadline
   * allows, as it does a busy replica: catching up ends within a few sync rounds, and their next
   * answer may count. Only when they could make the level: otherwise the read fails now. Before,
   * the read failed as soon as all had answered (blue-green seed 100199: a QUORUM read had one
   * caught-up answer of two, from the one owner of the new ring that was not new; the
   * coordinator's own replica, one of the others, was ready a few milliseconds later).
   */
  private askCatchingUpAgain(id: number, read: PendingRead): void {
    const catchingUp = read.owners.filter((owner) => read.seen.has(owner) && !read.readyFrom.has(owner) && this.ctx.isAlive(owner));
    if (catchingUp.length === 0 || this.readyCount(read) + catchingUp.length < read.needed) return;
    for (const owner of catchingUp) {
      const attempt = read.catchingUpRetries?.get(owner) ?? 0;
      const delay = backoffDelay(attempt, CATCHING_UP_RETRY_BACKOFF, () => this.ctx.env.random.next());
      if (this.ctx.env.clock.monoMs() + delay >= read.deadline) continue;
      (read.catchingUpRetries ??= new Map()).set(owner, attempt + 1);
      // Unanswered again until it answers again (askAgain asks only replicas not seen).
      read.seen.delete(owner);
      this.ctx.env.timers.setTimer(delay, () => this.askAgain(id, owner));
    }
  }

  /**
   * A replica's partition actor was too busy to take the request. Busy is transient, so the
   * replica is asked again after a backoff while the deadline leaves room for it. Then a write
   * keeps a hint for it; when the replicas left cannot reach the consistency level any more, the
   * caller gets `overloaded` now rather than `unavailable` at the deadline, so it knows to back off.
   */
  private onBusy(from: string, id: number): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.stats.replicasBusy++;
    // A busy owner may not answer in time: the owners a read deferred are needed now.
    if (pending.kind === 'read' && pending.done) this.askDeferred(id);
    const attempt = pending.busyRetries?.get(from) ?? 0;
    const delay = backoffDelay(attempt, BUSY_RETRY_BACKOFF, () => this.ctx.env.random.next());
    if (this.ctx.env.clock.monoMs() + delay < pending.deadline) {
      (pending.busyRetries ??= new Map()).set(from, attempt + 1);
      this.ctx.env.timers.setTimer(delay, () => this.askAgain(id, from));
      return;
    }
    if (pending.kind === 'write') {
      // A busy owner of a ring left behind is not hinted (it owns nothing there now); the write
      // then meets that ring's quorum without it or fails at its deadline.
      if (pending.jointAwaiting.delete(from)) return this.settleWrite(id, pending);
      if (!pending.awaiting.delete(from)) return;
      this.hints.add(from, pending.partition, pending.key, pending.record, this.ctx.env.clock.monoMs());
      this.stats.hintsForSilentOwners++;
      if (pending.done && pending.acks + pending.awaiting.size + pending.fallbacks.size < pending.needed) this.failOverloaded(pending, from);
      if (pending.awaiting.size === 0 && pending.fallbacks.size === 0 && pending.jointAwaiting.size === 0) this.finishWrite(id);
    } else {
      if (!pending.asked.has(from) || pending.seen.has(from) || pending.busy.has(from)) return;
      pending.busy.add(from);
      const answerable = pending.asked.size - pending.busy.size;
      if (pending.done && answerable < pending.needed) this.failOverloaded(pending, from);
      if (pending.seen.size + pending.busy.size === pending.asked.size) this.finishRead(id);
    }
  }

  /**
   * A replica's store refused the write for its memory budget (noeviction, as Redis's OOM). Unlike
   * busy this is not retried and leaves no hint: the replica would refuse it again, and the write
   * is to fail unless enough other replicas take it. Once the replicas left cannot reach the
   * consistency level, the caller gets `out-of-memory` now.
   */
  private onOutOfMemory(from: string, id: number): void {
    const write = this.pending.get(id);
    if (!write || write.kind !== 'write') return;
    if (!write.awaiting.delete(from) && !write.fallbacks.delete(from) && !write.jointAwaiting.delete(from)) return;
    this.reportAnswer(write, from);
    if (write.done && write.acks + write.awaiting.size + write.fallbacks.size < write.needed) {
      const done = write.done;
      write.done = null;
      done({ code: 'out-of-memory', message: `replica ${from} refused the write: its store is full (--eviction-policy noeviction) or the value is larger than its whole budget` });
    }
    this.settleWrite(id, write);
  }

  /** A replica that answered busy and was still awaited when the request ended: then it failed for load, not reachability. */
  private busyStill(p: Pending): string | undefined {
    for (const replica of p.busyRetries?.keys() ?? []) {
      if (p.kind === 'write' ? p.awaiting.has(replica) : !p.seen.has(replica)) return replica;
    }
    return undefined;
  }

  /** Re-sends a request to a replica that answered busy, unless the request has moved on. */
  private askAgain(id: number, replica: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    // Routed by the same ring as the first send, so a replica that has moved past it still refuses.
    if (p.kind === 'write' && p.awaiting.has(replica)) this.sendWrite(id, p, replica, p.sent.get(replica) ?? p.routedBy);
    else if (p.kind === 'read' && p.asked.has(replica) && !p.seen.has(replica)) this.sendRead(id, p, replica);
  }

  private failOverloaded(pending: Pending, replica: string): void {
    const done = pending.done!;
    pending.done = null;
    this.stats.overloaded++;
    done({ code: 'overloaded', message: `replica ${replica} is too busy to take the request (partition ${pending.partition} mailbox full); retry later` });
  }

  /**
   * Answers the read (its level is made), unless the answers so far include only an inexact
   * eviction newer than the newest record, or no record at all beside evictions or forgetting
   * horizons: then it asks the owners it deferred and waits for every owner asked, up to the
   * deadline (`atDeadline`: decide on what arrived).
   */
  private answerRead(id: number, read: PendingRead, atDeadline = false): void {
    // No copy made the level, but an owner evicted the key (exactly: its shadow's version) or may
    // have (a filter's watermark, a forgetting horizon): the other owners may hold the value (a ONE
    // read through the node that evicted it, whose own answer comes first). A read whose answers
    // say only "nothing here" (owners that never forgot anything there) misses at once, as before.
    if (!read.newest && (read.evicted !== null || read.horizons !== null)) read.madeWithoutCopy = true;
    if (read.madeWithoutCopy && !atDeadline && !this.everyOwnerAnswered(read)) return this.waitForOwners(id, read);
    const newest = read.newest;
    // A replica evicted something newer than any record returned: a miss, never the older value.
    // Unless that eviction is only a filter's watermark ("at or below W") or a horizon, and enough
    // ready owners answered nothing newer than the record: any write a strict quorum acknowledged
    // would have reached one of them (docs/REPLICATION.md, "An inexact eviction answer asks the
    // other owners").
    let overInexact = false;
    let onlyVouched = false;
    if (newest && this.supersededInexactly(read, newest.version) && !this.exactlySuperseded(read, newest.version)) {
      const settled = atDeadline || this.everyOwnerAnswered(read);
      onlyVouched = this.onlyVouchedAbove(read, newest.version);
      if (!onlyVouched) overInexact = this.ownersHoldingNothingNewer(read, newest.version) >= this.enoughOverInexact(read);
      if (!overInexact && !settled) return this.waitForOwners(id, read);
    }
    const done = read.done!;
    read.done = null;
    const acks = this.readyCount(read);
    if (overInexact && !read.peek) this.stats.answersOverInexactEviction++;
    if (!newest || (this.supersededInexactly(read, newest.version) && !overInexact && !onlyVouched)) {
      // With a copy, the miss is an eviction's (exact, a watermark, or a horizon's in a read made with no copy).
      const miss = read.evicted || newest ? 'evicted' : 'absent';
      this.countMiss(read, miss);
      if (newest) {
        read.missedOverCopy = true;
        if (!read.peek) this.stats.missEvictedOverCopy++;
      }
      return done(null, { value: null, expiresAtMs: null, acks, version: null, miss });
    }
    // A replica's flush floor deleted it: another replica had not heard of that flush yet.
    if (this.flushedFloor(read)) {
      this.countMiss(read, 'deleted');
      return done(null, { value: null, expiresAtMs: null, acks, version: read.floor, miss: 'deleted' });
    }
    if (read.newestRemembered) this.stats.standInWritesRecalled++;
    const dead = isDeadAt(newest, this.ctx.env.clock.wallMs());
    if (dead) this.countMiss(read, newest.tombstone ? 'deleted' : 'expired');
    done(null, {
      value: dead ? null : newest.value.slice(),
      expiresAtMs: dead || newest.expiresAtMs === 0 ? null : newest.expiresAtMs,
      acks,
      version: newest.version,
      ...(dead ? { miss: newest.tombstone ? 'deleted' : 'expired' } : newest.writtenAs !== undefined ? { writtenAs: newest.writtenAs } : {}),
    });
  }

  private countMiss(read: PendingRead, reason: MissReason): void {
    if (read.peek) return;
    if (reason === 'absent') this.stats.missAbsent++;
    else if (reason === 'deleted') this.stats.missDeleted++;
    else if (reason === 'expired') this.stats.missExpired++;
    else this.stats.missEvicted++;
  }

  /** Every replica answered or the deadline passed: fail if never answered, then repair stale replicas. */
  private finishRead(id: number): void {
    const read = this.pending.get(id) as PendingRead | undefined;
    if (!read) return;
    this.untrack(id, read);
    for (const replica of read.asked) if (!read.seen.has(replica) && !read.busy.has(replica)) this.reportSilence(read, replica);
    // A read that made its level and waited on the owners for an inexact eviction decides on what arrived.
    if (read.done && this.readyCount(read) >= read.needed) this.answerRead(id, read, true);
    const busy = this.busyStill(read);
    if (read.done && busy !== undefined) this.failOverloaded(read, busy);
    if (read.done) {
      const done = read.done;
      read.done = null;
      this.stats.unavailable++;
      done({ code: 'unavailable', message: `only ${this.readyCount(read)} of the ${read.needed} replicas needed answered the read in time` });
    }
    // A record a flush floor deleted is repaired by the floor instead: the replicas that returned
    // one (or less) learn it now, rather than at their next sync round.
    const floor = this.flushedFloor(read);
    if (floor !== null) return this.repairFloor(read, floor);
    // Read repair, strictly after the answer above; never with a record older than an eviction.
    if (!read.newest || !read.newestBytes || this.supersededByEviction(read) || read.missedOverCopy || this.ctx.config.bugs?.skipReadRepair) return;
    for (const [replica, version] of read.seen) {
      if (compareVersions(version, read.newest.version) >= 0) continue;
      this.stats.readRepairs++;
      cover(this.ctx.env, 'read-repair-sent');
      this.ctx.send(replica, { t: 'rp', p: read.partition, k: read.key, r: read.newestBytes });
    }
  }

  /** Caught-up answers from owners in the ring the read is routed by (an adopted ring drops the others). */
  private readyCount(read: PendingRead): number {
    let n = 0;
    for (const name of read.readyFrom) if (read.owners.includes(name)) n++;
    return n;
  }

  private onReadRefused(id: number, read: PendingRead, from: string, refusedRing: string, ring: string, owners: readonly string[], held: Uint8Array | undefined): void {
    read.asked.delete(from);
    // The refuser has not handed the partition off yet, and the owners of the ring adopted below
    // may lack what it holds: its record counts towards the answer (never towards the level).
    if (held !== undefined) this.takeRecord(read, decodeRecord(held), held);
    // A ring change is under way: the first round's owners may not make the level without them.
    this.askDeferred(id);
    if (this.canAdopt(read, refusedRing, ring)) {
      this.stats.ringsAdopted++;
      read.rings.add(ring);
      read.routedBy = ring;
      read.owners = owners;
      read.needed = requiredReplicas(read.level, owners.length);
      for (const owner of owners) {
        if (read.asked.has(owner) || !this.ctx.isAlive(owner)) continue;
        read.asked.add(owner);
        this.sendRead(id, read, owner);
      }
    } else if (read.owners.includes(from) && refusedRing !== read.routedBy) {
      read.asked.add(from);
      this.sendRead(id, read, from);
    } else if (read.owners.includes(from) && this.retryRefused(id, read, from)) {
      read.asked.add(from);
    }
    if (read.done && this.readyCount(read) >= read.needed) this.answerRead(id, read);
    if (this.pending.has(id) && read.seen.size + read.busy.size === read.asked.size) this.finishOrWiden(id, read);
  }

  // ---- helpers ----------------------------------------------------------------------------

  /** A remote replica answered: its round trip goes to the health ranking. */
  private reportAnswer(pending: Pending, from: string): void {
    const sentAt = pending.sentAtMs.get(from);
    if (this.health !== null && sentAt !== undefined && from !== this.ctx.selfName) this.health.answered(from, sentAt);
  }

  /**
   * A remote replica never answered by the request's end. Only at its deadline is that a silence:
   * a request failed at once for want of live owners (get, set) asked the live ones a moment
   * before, and counting them silent made the health of the owners still answering, in a partial
   * outage, take every such request as their timeout.
   */
  private reportSilence(pending: Pending, replica: string): void {
    if (this.ctx.env.clock.monoMs() < pending.deadline) return;
    cover(this.ctx.env, 'replica-timeout');
    const sentAt = pending.sentAtMs.get(replica);
    if (this.health !== null && sentAt !== undefined && replica !== this.ctx.selfName) this.health.silent(replica, sentAt);
  }

  /**
   * `done`, logging the request when it took at least the slow-log threshold: operation,
   * partition, consistency, duration, replicas asked and answered, outcome. Never the value, nor
   * the key (only its length): log files travel further than the RESP SLOWLOG, which shows
   * arguments as Redis's does to users allowed to run it (docs/OPERATIONS.md).
   */
  private timed<T>(op: 'get' | 'set' | 'delete', pending: Pending, done: Callback<T>): Callback<T> {
    const threshold = this.ctx.config.slowLogThresholdMs;
    if (threshold === null) return done;
    const clock = this.ctx.env.clock;
    const startedMs = clock.monoMs();
    return (error, result) => {
      const durationMs = clock.monoMs() - startedMs;
      if (durationMs >= threshold) this.logSlow(op, pending, durationMs, error?.code ?? 'ok');
      done(error, result);
    };
  }

  private logSlow(op: string, pending: Pending, durationMs: number, outcome: string): void {
    this.slowRequests++;
    const suppressed = this.slowLimiter.pass(op, this.ctx.env.clock.monoMs());
    if (suppressed === null) return;
    const answered = pending.kind === 'read' ? pending.seen.size : pending.acked.size + pending.standInFor.length;
    const fields = {
      event: 'slow-request',
      op,
      partition: pending.partition,
      consistency: pending.level,
      durationMs: Math.round(durationMs * 1000) / 1000,
      replicasNeeded: pending.needed,
      replicasAsked: pending.sent.size,
      replicasAnswered: answered,
      replicasSilent: [...pending.sent.keys()].filter((name) => (pending.kind === 'read' ? !pending.seen.has(name) && !pending.busy.has(name) : !pending.acked.has(name))).slice(0, 8),
      outcome,
      keyBytes: pending.key.length,
      ...suppressedField(suppressed),
    };
    this.ctx.env.log.info(fields, `slow ${op}: ${fields.durationMs} ms on partition ${pending.partition} (${pending.level}), ${answered} of ${pending.sent.size} replicas answered, ${outcome}`);
  }

  /** The read's flush floor when it deleted the newest record returned, else null. */
  private flushedFloor(read: PendingRead): Version | null {
    return read.floor !== null && read.newest !== null && compareVersions(read.newest.version, read.floor) <= 0 ? read.floor : null;
  }

  /** Sends the floor to the replicas that answered below it (no answer awaited: sync backs it up). */
  private repairFloor(read: PendingRead, floor: Version): void {
    for (const [replica, version] of read.seen) {
      if (compareVersions(version, floor) >= 0 || !(this.ctx.knowsFloors?.(replica) ?? true)) continue;
      this.stats.floorRepairs++;
      this.ctx.send(replica, { t: 'fl', id: 0, f: flattenFloors([[read.partition, floor]]) });
    }
  }

  private supersededByEviction(read: PendingRead): boolean {
    return read.evicted !== null && read.newest !== null && compareVersions(read.newest.version, read.evicted) < 0;
  }

  /**
   * Whether an answer says the key may have been evicted at a version newer than `version`: an
   * eviction (exact or not), an inherited forgetting horizon, or, in a read made with no copy, a
   * forgetting horizon.
   */
  private supersededInexactly(read: PendingRead, version: Version): boolean {
    if (read.evicted !== null && compareVersions(version, read.evicted) < 0) return true;
    if (read.vouches !== null) for (const vouch of read.vouches.values()) if (compareVersions(version, vouch) < 0) return true;
    if (!read.madeWithoutCopy || read.horizons === null) return false;
    for (const horizon of read.horizons.values()) if (compareVersions(version, horizon) < 0) return true;
    return false;
  }

  /**
   * Whether the only answers above `version` are inherited horizons (`vh`): no owner evicted the
   * key, exactly or not, above it, nor lacks it below a horizon newer than it. An inherited horizon
   * is the whole partition's, not this key's: it says its owner cannot vouch for "nothing newer",
   * not that a newer version was written. So it makes the read wait for every owner asked (one of
   * them may have evicted a newer version and say so), and excludes its owner from those holding
   * nothing newer only beside such an answer. Without that, a read whose owners all held the newest
   * version missed, the rebuilt one not counted (kv-pressure-forgetful seeds 4, 26 and 28: misses
   * of acknowledged writes no store had dropped).
   */
  private onlyVouchedAbove(read: PendingRead, version: Version): boolean {
    if (read.evicted !== null && compareVersions(version, read.evicted) < 0) return false;
    if (read.horizons !== null) for (const horizon of read.horizons.values()) if (compareVersions(version, horizon) < 0) return false;
    return true;
  }

  /** Waits for the owners not yet answered (asking those deferred), counting the read once. */
  private waitForOwners(id: number, read: PendingRead): void {
    if (!read.waited && !read.peek) this.stats.readsWaitedForOwners++;
    read.waited = true;
    this.askDeferred(id);
  }

  /** Whether a replica reported exactly that it evicted a version newer than `version`. */
  private exactlySuperseded(read: PendingRead, version: Version): boolean {
    return read.exactEvicted !== null && compareVersions(version, read.exactEvicted) < 0;
  }

  /**
   * Ready owners whose answer (a record, an eviction, a floor or nothing) is at or below `version`;
   * in a read made with no copy, an owner that answered a forgetting horizon newer than `version`
   * is not among them (it may have evicted and forgotten a newer version), nor, in any read, one
   * that answered an inherited horizon newer than it (it may have caught up from an owner that had);
   * beside such an inherited horizon, a forgetting horizon is weighed as in a read made with no copy.
   */
  private ownersHoldingNothingNewer(read: PendingRead, version: Version): number {
    let n = 0;
    for (const name of read.readyFrom) {
      const seen = read.seen.get(name);
      const horizon = read.madeWithoutCopy || read.vouches !== null ? read.horizons?.get(name) : undefined;
      const bound = seen === undefined ? undefined : newerOf(newerOf(seen, horizon), read.vouches?.get(name));
      if (read.owners.includes(name) && bound !== undefined && compareVersions(bound, version) <= 0) n++;
    }
    return n;
  }

  /**
   * Owners that must answer nothing newer than a copy for it to be answered over an inexact
   * eviction: the read's own level, and at least a majority when the level was made with no copy.
   * Such a read (a ONE read through the owner that evicted the key) used to miss: answering it
   * the copy only where a QUORUM read would gives it nothing older than a write acknowledged at
   * QUORUM or ALL, the guarantee a QUORUM read has (docs/REPLICATION.md, "An inexact eviction answer").
   */
  private enoughOverInexact(read: PendingRead): number {
    return read.madeWithoutCopy ? Math.max(read.needed, requiredReplicas('quorum', read.owners.length)) : read.needed;
  }

  /** Every owner asked has answered (or stayed busy), and none is left deferred. */
  private everyOwnerAnswered(read: PendingRead): boolean {
    return read.deferred.length === 0 && read.seen.size + read.busy.size === read.asked.size;
  }

  private track(id: number, pending: Pending): void {
    this.pending.set(id, pending);
    this.bytesInFlight += pending.bytes;
    this.stats.peakPending = Math.max(this.stats.peakPending, this.pending.size);
    this.armDeadlineTimer();
  }

  /** `keepStamped`: the write is kept in `unanswered`, which forgets its stamp when it drops it. */
  private untrack(id: number, pending: Pending, keepStamped = false): void {
    this.pending.delete(id);
    this.bytesInFlight -= pending.bytes;
    if (pending.kind === 'write' && !keepStamped) this.forgetStamped(pending.key, pending.version);
  }

  /**
   * A request's deadline: the replica timeout, plus the time the bytes in flight (this request's
   * included) take at the assumed bandwidth, so a burst of large values is not taken for silent
   * replicas; at most MAX_TIMEOUT_FACTOR timeouts. Never earlier than a deadline already given, so
   * `pending` stays in deadline order (see armDeadlineTimer): a request never gives up on its
   * replicas before one that was waiting behind the same bytes.
   */
  private deadlineFor(bytes: number): number {
    const { requestTimeoutMs, replicaBytesPerSecond } = this.ctx.config;
    const transferMs = Math.floor(((this.bytesInFlight + bytes) * 1000) / replicaBytesPerSecond);
    const at = this.ctx.env.clock.monoMs() + Math.min(requestTimeoutMs + transferMs, requestTimeoutMs * MAX_TIMEOUT_FACTOR);
    if (at > this.lastDeadline) this.lastDeadline = at;
    return this.lastDeadline;
  }

  /**
   * Whether the request still waits for this node's own replica. That replica is not timed out
   * like a remote one: its answer crosses no network and always comes (a record, or busy), so
   * its silence at the deadline only means this node was busy (a slow timer, a long turn).
   */
  private awaitsOwnReplica(p: Pending): boolean {
    if (p.extended) return false;
    const self = this.ctx.selfName;
    if (p.kind === 'read') return p.asked.has(self) && !p.seen.has(self) && !p.busy.has(self);
    return p.awaiting.has(self) || p.fallbacks.has(self) || p.jointAwaiting.has(self);
  }

  /**
   * Gives the request one more timeout, from now, for its own replica to answer. One is enough:
   * the local answer is already queued behind a zero-delay timer, which fires before this new
   * deadline; a request still waiting after it lost its job (say, to a partition actor stopped by
   * a handoff) and fails as usual.
   */
  private waitForOwnReplica(id: number, p: Pending): void {
    this.stats.localWaits++;
    p.extended = true;
    this.pending.delete(id);
    p.deadline = this.deadlineFor(0);
    this.pending.set(id, p);
  }

  /**
   * Keeps the deadline timer armed for the oldest pending request. Requests are created in
   * deadline order, so the oldest is the first in `pending`; one that finished early only makes
   * the timer fire early, and expireDue re-arms it for the next.
   */
  private armDeadlineTimer(): void {
    if (this.expiring) return;
    const oldest = this.pending.values().next();
    if (oldest.done) return;
    const at = oldest.value.deadline;
    if (this.deadlineTimer !== null) {
      if (this.deadlineTimerAt <= at) return;
      this.ctx.env.timers.cancelTimer(this.deadlineTimer);
    }
    this.deadlineTimerAt = at;
    this.deadlineTimer = this.ctx.env.timers.setTimer(Math.max(0, at - this.ctx.env.clock.monoMs()), () => this.expireDue());
  }

  /**
   * Finishes every request whose deadline has passed, then re-arms for the oldest one left. A
   * timer that fired DEADLINE_STALL_MS or more after its time means this node's event loop was
   * busy meanwhile (a long turn, a starved CPU), and the answers replicas sent in time may be
   * waiting behind it, unread: the expiry then waits one more turn, so that they are read first
   * (stallDeferred; once per expiry). Before, on 5 real nodes of a starved 2-core machine, a
   * graceful leave under 60,000 QUORUM writes failed 760 to 1,166 of them at coordinators whose
   * deadline timers fired 0 to 400 ms late; with the turn, 246 (docs/OPERATIONS.md, "Writes
   * failing during a leave"). It only waits longer for answers, so it changes no outcome a
   * request could not have had anyway.
   */
  private expireDue(): void {
    const armedFor = this.deadlineTimerAt;
    this.deadlineTimer = null;
    this.deadlineTimerAt = Number.POSITIVE_INFINITY;
    const now = this.ctx.env.clock.monoMs();
    if (now - armedFor >= DEADLINE_STALL_MS && !this.stallDeferred && !this.ctx.config.bugs?.expireBeforeReading) {
      this.stallDeferred = true;
      this.stats.stalledExpiries++;
      this.deadlineTimerAt = now;
      this.deadlineTimer = this.ctx.env.timers.setTimer(0, () => this.expireDue());
      return;
    }
    this.stallDeferred = false;
    const due: Pending[] = [];
    const dueIds: number[] = [];
    for (const [id, p] of this.pending) {
      if (p.deadline > now) break;
      due.push(p);
      dueIds.push(id);
    }
    // Callbacks may start new requests; they are re-armed for once all the due ones are finished.
    this.expiring = true;
    try {
      due.forEach((p, i) => {
        const id = dueIds[i]!;
        if (this.awaitsOwnReplica(p)) this.waitForOwnReplica(id, p);
        else if (p.kind === 'write') this.finishWrite(id);
        else this.finishRead(id);
      });
    } finally {
      this.expiring = false;
      this.armDeadlineTimer();
    }
  }

  private checkKey(key: Uint8Array): KvError | null {
    if (key.length === 0) return { code: 'bad-request', message: 'the key is empty' };
    if (key.length > this.ctx.config.maxKeyBytes) return { code: 'too-large', message: `key of ${key.length} bytes exceeds the ${this.ctx.config.maxKeyBytes}-byte limit` };
    return null;
  }

  private checkJoined(): KvError | null {
    if (this.refusing !== null) {
      this.stats.unavailable++;
      return { code: 'not-ready', message: `${this.refusing}; use another node` };
    }
    if (!this.ctx.ringConfirmed()) {
      this.stats.unavailable++;
      // Its own code, not `unavailable`: nothing was applied, so a client may resend even a write elsewhere.
      return { code: 'not-ready', message: 'this node is still joining its cluster (its view of the ring is not confirmed yet); retry, or use another node' };
    }
    // An empty ring (the last member is leaving) has no replica to wait for: say so now, not at the deadline.
    if (this.ctx.placement().members.length === 0) {
      this.stats.unavailable++;
      return { code: 'unavailable', message: 'no member of this cluster holds data any more (the last one is leaving)' };
    }
    return null;
  }

  private checkCapacity(): KvError | null {
    if (this.pending.size < this.ctx.config.maxPendingRequests) return null;
    this.stats.overloaded++;
    return { code: 'overloaded', message: `${this.pending.size} requests already in flight on this node; retry later` };
  }

  private fail<T>(done: Callback<T>, error: KvError): void {
    // Callbacks are always asynchronous, so callers see one ordering whatever the outcome.
    this.ctx.env.timers.setTimer(0, () => done(error));
  }
}

/** A new request's routing: by the node's current ring, nothing sent yet. */
function routing(level: Consistency, ring: string, owners: readonly string[]): Routing {
  return { level, routedBy: ring, owners, sent: new Map(), sentAtMs: new Map(), requests: new Map(), rings: new Set([ring]), refusalRetries: null };
}

/** The request routed by `ring`, made once and shared by every owner it goes to (see Routing.requests). */
function requestFor(routing: Routing, ring: string, make: () => KvMessage): KvMessage {
  let request = routing.requests.get(ring);
  if (request === undefined) routing.requests.set(ring, (request = make()));
  return request;
}

/** The newer of a version and an optional bound on it (a horizon an owner answered beside it). */
function newerOf(version: Version, bound: Version | undefined): Version {
  return bound !== undefined && compareVersions(bound, version) > 0 ? bound : version;
}
