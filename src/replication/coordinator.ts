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
 * still catching up does not count, see partition-replica.ts) with the newest version seen, or
 * the newer sloppy write of the key this coordinator acknowledged with a stand-in's ack in place
 * of an owner's, which the owners may not hold yet (stand-in-writes.ts); then, after the answer,
 * when every replica replied or the deadline passed, send the newest record to every replica that
 * returned an older one (read repair).
 *
 * Deadlines: a request gives up on silent replicas after the replica timeout, lengthened by the
 * bytes in flight (deadlineFor). This node's own replica is not given up on that way: it gets one
 * more timeout (awaitsOwnReplica). A miss says why (MissReason in api.ts).
 */
import type { Callback, Consistency, DeleteOptions, GetOptions, GetResult, KvError, KvService, MissReason, SetOptions, TopologySnapshot, WriteResult } from './api.ts';
import { requiredReplicas } from './config.ts';
import type { ReplicationContext } from './context.ts';
import type { TimerId } from '../runtime/env.ts';
import type { HintStore } from './hints.ts';
import { compareVersions, ZERO_VERSION, type HybridLogicalClock, type Version } from './hlc.ts';
import type { KvMessage } from './messages.ts';
import { makeRecord } from './partition-replica.ts';
import { decodeRecord, isDeadAt, keyToStoreKey, type StoredRecord } from './record.ts';
import { StandInWrites } from './stand-in-writes.ts';

interface PendingWrite {
  kind: 'write';
  partition: number;
  key: string;
  record: Uint8Array;
  version: Version;
  needed: number;
  acks: number;
  /** Owner names that have not acknowledged (a hint is left for each at the deadline). */
  awaiting: Set<string>;
  /** Node name -> the owner it stands in for (sloppy fallbacks). */
  fallbacks: Map<string, string>;
  /** Owners whose stand-in's ack was counted in `acks`: they lack the write until the hint reaches them. */
  standInFor: string[];
  /**
   * While the ring changes: the partition's owners in the previous ring, the acks needed from
   * them (as if the write ran on that ring), those counted so far, and the previous owners outside
   * the current preference list still awaited. See ReplicationContext.previousOwners.
   */
  previous: { owners: readonly string[]; needed: number; acks: number; awaiting: Set<string> } | null;
  done: Callback<WriteResult> | null;
  /** Monotonic time at which the write is finished whatever answered (see expireDue). */
  deadline: number;
  /** Bytes this request counts in flight (see deadlineFor); `extended` as in PendingRead. */
  bytes: number;
  extended: boolean;
}

interface PendingRead {
  kind: 'read';
  partition: number;
  key: string;
  needed: number;
  readyReplies: number;
  asked: Set<string>;
  /** Replica name -> the version it returned (ZERO when it had nothing). */
  seen: Map<string, Version>;
  /** Replicas that answered busy (mailbox full). */
  busy: Set<string>;
  newest: StoredRecord | null;
  newestBytes: Uint8Array | null;
  /** The newest version a replica reported evicted: nothing older may be answered or repaired. */
  evicted: Version | null;
  /** Whether `newest` is, so far, a sloppy write this coordinator remembered rather than a replica's answer. */
  newestRemembered: boolean;
  done: Callback<GetResult> | null;
  /** Monotonic time at which the read is finished whatever answered (see expireDue). */
  deadline: number;
  /** Bytes this request counts in flight: the answers expected (see deadlineFor). */
  bytes: number;
  /** The deadline was pushed back once because this node's own replica had not answered yet. */
  extended: boolean;
}

type Pending = PendingWrite | PendingRead;

/** A request waits at most this many replica timeouts, however many bytes are in flight. */
export const MAX_TIMEOUT_FACTOR = 10;
/** The read-size estimate moves 1/8 of the way to each answer's size (a running mean). */
const READ_ESTIMATE_WEIGHT = 8;

export interface CoordinatorStats {
  reads: number;
  writes: number;
  readRepairs: number;
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
  /** Requests whose deadline passed while this node's own replica had not answered: waited for it once more. */
  localWaits: number;
}

export class Coordinator implements KvService {
  /** In creation order, which is deadline order (deadlineFor never hands out an earlier one). */
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /**
   * One timer for every pending request's deadline, armed for the oldest one (a timer per
   * request costs more than the request itself at high rates). Null when none is armed.
   */
  private deadlineTimer: TimerId | null = null;
  private deadlineTimerAt = Number.POSITIVE_INFINITY;
  private expiring = false;
  /** Sloppy writes acknowledged with stand-ins' acks, merged into reads of their keys. */
  private readonly standInWrites: StandInWrites;
  readonly stats: CoordinatorStats = {
    reads: 0,
    writes: 0,
    readRepairs: 0,
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
    localWaits: 0,
  };
  /** Sum of `bytes` over the pending requests. */
  private bytesInFlight = 0;
  /** The latest deadline given so far: no request gets an earlier one (pending stays in deadline order). */
  private lastDeadline = Number.NEGATIVE_INFINITY;
  /**
   * What one replica's read answer is expected to weigh: a running mean of the records read
   * answers carried (a read's size is unknown until its answers arrive).
   */
  private readBytesEstimate = 0;

  constructor(
    private readonly ctx: ReplicationContext,
    private readonly hlc: HybridLogicalClock,
    private readonly hints: HintStore,
    private readonly topologySnapshot: () => TopologySnapshot,
    /** Subscribes to ring changes (the node's); without it, servers poll `topology()`. */
    subscribeTopology?: (listener: (version: string) => void) => () => void,
  ) {
    if (subscribeTopology) this.onTopologyChange = subscribeTopology;
    // The stand-ins hold these writes as hints, so the coordinator keeps them within the same bounds.
    this.standInWrites = new StandInWrites(ctx.config.maxHints, ctx.config.maxHintBytes, ctx.config.hintWindowMs);
  }

  /** Present when the owner can tell ring changes as they happen (see src/server/topology-watch.ts). */
  readonly onTopologyChange?: (listener: (version: string) => void) => () => void;

  get pendingCount(): number {
    return this.pending.size;
  }

  topology(): TopologySnapshot {
    return this.topologySnapshot();
  }

  get(key: Uint8Array, options: GetOptions, done: Callback<GetResult>): void {
    const problem = this.checkKey(key) ?? this.checkJoined() ?? this.checkCapacity();
    if (problem) return this.fail(done, problem);
    this.stats.reads++;
    const placement = this.ctx.placement();
    const partition = placement.partitionOfKey(key);
    const owners = placement.owners(partition);
    const needed = requiredReplicas(options.consistency ?? this.ctx.config.defaultReadConsistency, owners.length);
    const id = this.nextId++;
    const live = owners.filter((owner) => this.ctx.isAlive(owner));
    // Whole bytes, so the sum in flight stays exact as requests come and go.
    const bytes = live.length * Math.round(this.readBytesEstimate);
    const read: PendingRead = {
      kind: 'read',
      partition,
      key: keyToStoreKey(key),
      needed,
      readyReplies: 0,
      asked: new Set(live),
      seen: new Map(),
      busy: new Set(),
      newest: null,
      evicted: null,
      newestBytes: null,
      newestRemembered: false,
      done,
      deadline: this.deadlineFor(bytes),
      bytes,
      extended: false,
    };
    // A sloppy write acknowledged here may be missing from every owner asked: it takes part as if
    // a replica had returned it (read-your-writes), and read repair brings it to those that lack it.
    const remembered = this.standInWrites.get(read.key, this.ctx.env.clock.monoMs());
    if (remembered) {
      read.newest = decodeRecord(remembered.record);
      read.newestBytes = remembered.record;
      read.newestRemembered = true;
    }
    this.track(id, read);
    // One message for every owner, so it is encoded once (ReplicationContext.send).
    const request: KvMessage = { t: 'r', id, p: partition, k: read.key };
    for (const owner of live) this.ctx.send(owner, request);
    // Not enough live owners: fail, but through a timer so callbacks never run inside the call.
    if (read.asked.size < needed) this.ctx.env.timers.setTimer(0, () => this.finishRead(id));
  }

  set(key: Uint8Array, value: Uint8Array, options: SetOptions, done: Callback<WriteResult>): void {
    const ttl = options.ttlMs ?? 0;
    if (!Number.isFinite(ttl) || ttl < 0) return this.fail(done, { code: 'bad-request', message: `ttlMs must be a non-negative number of milliseconds, got ${ttl}` });
    if (value.length > this.ctx.config.maxValueBytes) {
      return this.fail(done, { code: 'too-large', message: `value of ${value.length} bytes exceeds the ${this.ctx.config.maxValueBytes}-byte limit` });
    }
    const expiresAtMs = ttl === 0 ? 0 : Math.floor(this.ctx.env.clock.wallMs()) + ttl;
    this.write(key, value, expiresAtMs, options, done);
  }

  delete(key: Uint8Array, options: DeleteOptions, done: Callback<WriteResult>): void {
    this.write(key, null, 0, options, done);
  }

  /** Routes a replica's answer to its pending request; late answers to finished requests are ignored. */
  onReply(from: string, message: KvMessage): void {
    if (message.t === 'wa') this.onWriteAck(from, message.id);
    else if (message.t === 'ra') this.onReadAnswer(from, message.id, message.r, message.ready, message.e);
    else if (message.t === 'nb') this.onBusy(from, message.id);
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
  }

  // ---- writes -----------------------------------------------------------------------------

  private write(key: Uint8Array, value: Uint8Array | null, expiresAtMs: number, options: { consistency?: Consistency; sloppy?: boolean }, done: Callback<WriteResult>): void {
    const problem = this.checkKey(key) ?? this.checkJoined() ?? this.checkCapacity();
    if (problem) return this.fail(done, problem);
    this.stats.writes++;
    const placement = this.ctx.placement();
    const partition = placement.partitionOfKey(key);
    const owners = placement.owners(partition);
    const needed = requiredReplicas(options.consistency ?? this.ctx.config.defaultWriteConsistency, owners.length);
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
      needed,
      acks: 0,
      awaiting: new Set(),
      fallbacks: new Map(),
      standInFor: [],
      previous: null,
      done,
      deadline: this.deadlineFor(bytes),
      bytes,
      extended: false,
    };
    this.track(id, write);
    // One message for every owner, so it is encoded once (ReplicationContext.send).
    const request: KvMessage = { t: 'w', id, p: partition, k: write.key, r: record };

    // A node still on the previous ring reads from that ring's owners: until every node has moved
    // on, the write must also satisfy the consistency level there (a joint quorum), or a reader on
    // the old ring can miss it (kv-join seed 40: ALL on the new owners, ONE from an old owner).
    const previousOwners = this.ctx.previousOwners?.(partition) ?? null;
    if (previousOwners) {
      const alive = previousOwners.filter((name) => this.ctx.isAlive(name));
      const level = options.consistency ?? this.ctx.config.defaultWriteConsistency;
      write.previous = { owners: previousOwners, needed: Math.min(requiredReplicas(level, previousOwners.length), alive.length), acks: 0, awaiting: new Set() };
      for (const name of alive) {
        if (owners.includes(name)) continue;
        write.previous.awaiting.add(name);
        this.ctx.send(name, request);
      }
    }

    const down: string[] = [];
    for (const owner of owners) {
      if (this.ctx.isAlive(owner)) {
        write.awaiting.add(owner);
        this.ctx.send(owner, request);
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
          write.fallbacks.set(standIn, owner);
          this.ctx.send(standIn, { t: 'w', id, p: partition, k: write.key, r: record, h: owner });
        } else {
          this.stats.hintsForDownOwners++;
          this.hints.add(owner, partition, write.key, record, this.ctx.env.clock.monoMs());
        }
      });
    }
    if (write.awaiting.size + write.fallbacks.size < needed) this.ctx.env.timers.setTimer(0, () => this.finishWrite(id));
  }

  /** The first `count` live nodes past the preference list, walking partition p's ranking. */
  private fallbacksFor(partition: number, owners: readonly string[], count: number): string[] {
    const out: string[] = [];
    for (const name of this.ctx.placement().ranking(partition)) {
      if (out.length >= count) break;
      if (owners.includes(name) || !this.ctx.isAlive(name)) continue;
      out.push(name);
    }
    return out;
  }

  private onWriteAck(from: string, id: number): void {
    const write = this.pending.get(id);
    if (!write || write.kind !== 'write') return;
    const previous = write.previous;
    const standsInFor = write.fallbacks.get(from);
    if (write.awaiting.delete(from)) write.acks++;
    else if (standsInFor !== undefined && write.fallbacks.delete(from)) {
      write.acks++;
      write.standInFor.push(standsInFor);
    } else if (!previous?.awaiting.delete(from)) return; // a duplicate
    if (previous?.owners.includes(from)) previous.acks++;
    if (write.done && write.acks >= write.needed && (!previous || previous.acks >= previous.needed)) {
      const done = write.done;
      write.done = null;
      // Acknowledged with a stand-in counted for an owner: reads must not rely on that owner having it.
      if (write.standInFor.length > 0 && !this.ctx.config.bugs?.forgetStandInWrites) {
        this.standInWrites.remember(write.key, write.version, write.record, write.standInFor, this.ctx.env.clock.monoMs());
      }
      done(null, { acks: write.acks, version: write.version });
    }
    if (write.awaiting.size === 0 && write.fallbacks.size === 0 && (previous?.awaiting.size ?? 0) === 0) this.finishWrite(id);
  }

  /** At the deadline, or once everyone answered: answer if not yet, hint every silent owner. */
  private finishWrite(id: number): void {
    const write = this.pending.get(id) as PendingWrite | undefined;
    if (!write) return;
    this.untrack(id, write);
    const now = this.ctx.env.clock.monoMs();
    for (const owner of write.awaiting) {
      this.stats.hintsForSilentOwners++;
      this.hints.add(owner, write.partition, write.key, write.record, now);
    }
    // A fallback that did not answer may not hold the hint: keep one here too.
    for (const owner of write.fallbacks.values()) {
      this.stats.hintsForSilentOwners++;
      this.hints.add(owner, write.partition, write.key, write.record, now);
    }
    if (write.done) {
      this.stats.unavailable++;
      const previous = write.previous && write.previous.acks < write.previous.needed ? ` (and ${write.previous.acks} of the ${write.previous.needed} needed on the ring before)` : '';
      write.done({ code: 'unavailable', message: `only ${write.acks} of the ${write.needed} replicas needed acknowledged the write in time${previous}` });
    }
  }

  // ---- reads ------------------------------------------------------------------------------

  private onReadAnswer(from: string, id: number, bytes: Uint8Array | null, ready: boolean, evicted: Version | undefined): void {
    const read = this.pending.get(id);
    if (!read || read.kind !== 'read' || !read.asked.has(from) || read.seen.has(from)) return;
    const record = bytes ? decodeRecord(bytes) : null;
    this.readBytesEstimate += ((bytes?.length ?? 0) - this.readBytesEstimate) / READ_ESTIMATE_WEIGHT;
    const version = record ? record.version : (evicted ?? ZERO_VERSION);
    read.seen.set(from, version);
    this.standInWrites.seen(read.key, from, version);
    if (evicted && (!read.evicted || compareVersions(evicted, read.evicted) > 0)) read.evicted = evicted;
    if (record) {
      this.hlc.observe(record.version);
      const order = read.newest ? compareVersions(record.version, read.newest.version) : 1;
      if (order > 0) {
        read.newest = record;
        read.newestBytes = bytes;
      }
      if (order >= 0) read.newestRemembered = false;
    }
    if (ready) read.readyReplies++;
    if (read.done && read.readyReplies >= read.needed) this.answerRead(read);
    if (read.seen.size + read.busy.size === read.asked.size) this.finishRead(id);
  }

  /**
   * A replica's partition actor was too busy to take the request. A write keeps a hint for it at
   * once; when the replicas left cannot reach the consistency level any more, the caller gets
   * `overloaded` now rather than `unavailable` at the deadline, so it knows to back off.
   */
  private onBusy(from: string, id: number): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.stats.replicasBusy++;
    if (pending.kind === 'write') {
      if (!pending.awaiting.delete(from)) return;
      this.hints.add(from, pending.partition, pending.key, pending.record, this.ctx.env.clock.monoMs());
      this.stats.hintsForSilentOwners++;
      if (pending.done && pending.acks + pending.awaiting.size + pending.fallbacks.size < pending.needed) this.failOverloaded(pending, from);
      if (pending.awaiting.size === 0 && pending.fallbacks.size === 0) this.finishWrite(id);
    } else {
      if (!pending.asked.has(from) || pending.seen.has(from) || pending.busy.has(from)) return;
      pending.busy.add(from);
      const answerable = pending.asked.size - pending.busy.size;
      if (pending.done && answerable < pending.needed) this.failOverloaded(pending, from);
      if (pending.seen.size + pending.busy.size === pending.asked.size) this.finishRead(id);
    }
  }

  private failOverloaded(pending: Pending, replica: string): void {
    const done = pending.done!;
    pending.done = null;
    this.stats.overloaded++;
    done({ code: 'overloaded', message: `replica ${replica} is too busy to take the request (partition ${pending.partition} mailbox full); retry later` });
  }

  private answerRead(read: PendingRead): void {
    const done = read.done!;
    read.done = null;
    const newest = read.newest;
    const acks = read.readyReplies;
    // A replica evicted something newer than any record returned: a miss, never the older value.
    if (!newest || this.supersededByEviction(read)) {
      const miss = read.evicted ? 'evicted' : 'absent';
      this.countMiss(miss);
      return done(null, { value: null, expiresAtMs: null, acks, version: null, miss });
    }
    if (read.newestRemembered) this.stats.standInWritesRecalled++;
    const dead = isDeadAt(newest, this.ctx.env.clock.wallMs());
    if (dead) this.countMiss(newest.tombstone ? 'deleted' : 'expired');
    done(null, {
      value: dead ? null : newest.value.slice(),
      expiresAtMs: dead || newest.expiresAtMs === 0 ? null : newest.expiresAtMs,
      acks,
      version: newest.version,
      ...(dead ? { miss: newest.tombstone ? 'deleted' : 'expired' } : {}),
    });
  }

  private countMiss(reason: MissReason): void {
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
    if (read.done) {
      const done = read.done;
      read.done = null;
      this.stats.unavailable++;
      done({ code: 'unavailable', message: `only ${read.readyReplies} of the ${read.needed} replicas needed answered the read in time` });
    }
    // Read repair, strictly after the answer above; never with a record older than an eviction.
    if (!read.newest || !read.newestBytes || this.supersededByEviction(read)) return;
    for (const [replica, version] of read.seen) {
      if (compareVersions(version, read.newest.version) >= 0) continue;
      this.stats.readRepairs++;
      this.ctx.send(replica, { t: 'rp', p: read.partition, k: read.key, r: read.newestBytes });
    }
  }

  // ---- helpers ----------------------------------------------------------------------------

  private supersededByEviction(read: PendingRead): boolean {
    return read.evicted !== null && read.newest !== null && compareVersions(read.newest.version, read.evicted) < 0;
  }

  private track(id: number, pending: Pending): void {
    this.pending.set(id, pending);
    this.bytesInFlight += pending.bytes;
    this.stats.peakPending = Math.max(this.stats.peakPending, this.pending.size);
    this.armDeadlineTimer();
  }

  private untrack(id: number, pending: Pending): void {
    this.pending.delete(id);
    this.bytesInFlight -= pending.bytes;
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
    return p.awaiting.has(self) || p.fallbacks.has(self) || (p.previous?.awaiting.has(self) ?? false);
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

  /** Finishes every request whose deadline has passed, then re-arms for the oldest one left. */
  private expireDue(): void {
    this.deadlineTimer = null;
    this.deadlineTimerAt = Number.POSITIVE_INFINITY;
    const now = this.ctx.env.clock.monoMs();
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
    if (!this.ctx.ringConfirmed()) {
      this.stats.unavailable++;
      return { code: 'unavailable', message: 'this node is still joining its cluster (its view of the ring is not confirmed yet); retry, or use another node' };
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
