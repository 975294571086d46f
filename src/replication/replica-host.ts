/**
 * The replica side of one node: the partition actors it holds (partition-actor.ts, one per
 * partition replica, all run by one TurnScheduler), and the handlers for replica messages (writes,
 * reads, read repairs, hint deliveries, fallback writes). Every access to a partition's records is
 * a job run by that partition's actor, and everything else the node keeps per partition (catch-up
 * and handoff state, epoch, invalidation sequence) lives in the actor too.
 *
 * A node holds an actor for every partition it owns, and keeps one for a partition it no longer
 * owns until ownership handoff (sync.ts) has passed the data on.
 *
 * Backpressure: a job refused because the partition's mailbox is full is counted (`busy`); a
 * replica write or read refused that way is answered `nb` (busy), which the coordinator turns into
 * a retryable `overloaded` error when too few replicas are left to reach the consistency level.
 */
import { TurnScheduler } from '../actors/index.ts';
import { sameBytes } from '../protocol/codec.ts';
import type { DiskTier, RecoverySummary, Store } from '../store/index.ts';
import type { ReplicationContext } from './context.ts';
import { EvictionShadow, evictionShadowCapacity } from './eviction-shadow.ts';
import { FlushFloors, unflattenFloors } from './flush-floors.ts';
import type { HintStore } from './hints.ts';
import { compareVersions, versionToString, type HybridLogicalClock, type Version } from './hlc.ts';
import { VOUCH_PROTOCOL, type KvMessage } from './messages.ts';
import type { ReplicaObserver } from './observer.ts';
import { InvalidationHub } from './invalidation.ts';
import { ExpiryWatch } from './expiry-watch.ts';
import { PartitionActor, type PartitionJob } from './partition-actor.ts';
import { PartitionReplica, type ApplyOutcome } from './partition-replica.ts';
import { decodeRecord, versionOfEncoded } from './record.ts';
import { MAX_REMOTE_CLOCK_AHEAD_MS } from '../runtime/probes.ts';

export interface ReplicaStats {
  writesApplied: number;
  writesStale: number;
  writesRefused: number;
  fallbackHintsTaken: number;
  readRepairsApplied: number;
  /** Read repairs left out: a key the partition may have evicted and forgotten, not kept over what the store holds (PartitionReplica.declinesRepair). */
  readRepairsDeclined: number;
  hintsApplied: number;
  /** Jobs refused because a partition actor's mailbox was full. */
  busy: number;
  /** Writes and reads refused because they were routed by a ring this node has moved past. */
  routesRefused: number;
  /** Partition flush floors raised (by a flush, a floor hint, a sync round or a read's floor repair). */
  floorsRaised: number;
  /** Reads of keys not held answered with the watermark of the filter of keys the eviction shadow forgot (forgotten-keys.ts). */
  forgottenAnswers: number;
  /** Records refused as stale for that filter: at or below its watermark for a key it may have forgotten. */
  forgottenRefusals: number;
  /** Reads of keys neither held nor known evicted answered with the partition's forgetting horizon (`h`). */
  horizonAnswers: number;
  /** Reads of a held record older than the horizon its partition inherited from catch-up sources, answered with it (`vh`). */
  vouchAnswers: number;
}

export interface MailboxStats {
  /** Deepest any partition mailbox has been, and the bound. */
  peakDepth: number;
  capacity: number;
  /** Jobs refused by full mailboxes. */
  rejected: number;
  /** Jobs queued right now, over every partition. */
  queued: number;
}

/** What a spill at a stop for a restart wrote (ReplicaHost.spillToDisk). */
export interface SpillSummary {
  /** Values written to the disk tier, and their key and value bytes. */
  values: number;
  bytes: number;
  /** Entries of the store not looked at when it ended, and why it ended early (null: it did not). */
  left: number;
  reason: 'room' | 'deadline' | null;
}

/** How long a spill waits for a busy disk tier (reclaiming a region, its device queue full) before it tries again. */
const SPILL_RETRY_MS = 5;

export class ReplicaHost {
  /** The partitions this node holds, each owned by its actor. */
  readonly partitions = new Map<number, PartitionActor>();
  readonly stats: ReplicaStats = { writesApplied: 0, writesStale: 0, writesRefused: 0, fallbackHintsTaken: 0, readRepairsApplied: 0, readRepairsDeclined: 0, hintsApplied: 0, busy: 0, routesRefused: 0, floorsRaised: 0, forgottenAnswers: 0, forgottenRefusals: 0, horizonAnswers: 0, vouchAnswers: 0 };
  /**
   * The flush floor of every partition (flush-floors.ts), held or not: kept across handoffs and
   * re-holds like the fencing epochs below, so a partition this node gets back is still flushed.
   */
  readonly floors: FlushFloors;
  /** Called when this node starts holding a partition it had not held (see PartitionSync). */
  onNewPartition: (partition: number) => void = () => {};
  /**
   * The partition's ownership epoch in the node's current ring; a new actor starts at it, and
   * `applyEpochs` brings every held one up to date after a ring change (the node wires both to
   * its RingLifecycle).
   */
  epochOf: (partition: number) => number = () => 0;
  /** Sees each read and write job answered (the node's metrics); null: nothing is timed. */
  observer: ReplicaObserver | null = null;
  /** What the store evicted, so older copies are not taken for news (eviction-shadow.ts). */
  readonly shadow: EvictionShadow;
  /** Told of every key the store evicts, as it happens (the read-modify-write primary's claims: a key evicted is no longer fresh). */
  onKeyEvicted: ((partition: number, key: string) => void) | null = null;
  /** The invalidation streams of the partitions held here, for near caches (invalidation.ts). */
  readonly invalidations: InvalidationHub;
  /** Values expiring, as changes on those streams for the subscribers that ask (expiry-watch.ts). */
  readonly expiries: ExpiryWatch;
  private readonly scheduler: TurnScheduler;
  /** Of actors already stopped (handed-off partitions), so the figures survive them. */
  private retired = { peakDepth: 0, rejected: 0 };
  /** The last invalidation sequence of each partition released, so a re-held one continues from it. */
  private readonly lastSequence = new Map<number, number>();
  /** The last fencing epoch of each partition released, so a re-held one never promises less (rmw-primary.ts). */
  private readonly lastFencing = new Map<number, number>();

  constructor(
    private readonly ctx: ReplicationContext,
    private readonly store: Store,
    private readonly hints: HintStore,
    private readonly hlc: HybridLogicalClock,
    private readonly mailboxCapacity: number,
    /** Records the store evicts go here and come back from here on a read (docs/STORE.md, "Disk tier"). */
    private readonly disk: DiskTier | null = null,
  ) {
    const { partitionJobsPerTurn, partitionTurnDelayMs } = ctx.config;
    this.scheduler = new TurnScheduler(ctx.env.timers, { jobsPerTurn: partitionJobsPerTurn, turnDelayMs: partitionTurnDelayMs });
    this.shadow = new EvictionShadow(ctx.config.evictionShadowEntries ?? evictionShadowCapacity(store.maxMemory), ctx.config.bugs?.forgetPastShadow !== true, this.stats);
    this.floors = new FlushFloors(ctx.placement().partitions);
    this.invalidations = new InvalidationHub({ timers: ctx.env.timers, partitions: ctx.placement().partitions });
    this.expiries = new ExpiryWatch({
      timers: ctx.env.timers,
      clock: ctx.env.clock,
      partitions: ctx.placement().partitions,
      store,
      graceMs: ctx.config.tombstoneGraceMs,
      wants: (p) => this.invalidations.wantsExpiries(p),
      actor: (p) => this.partitions.get(p),
    });
    this.invalidations.onExpiryInterest = (p) => this.expiries.interested(p);
    store.onEviction((key, value, partition) => {
      const version = versionOfEncoded(value);
      this.shadow.record(partition, key, version);
      this.partitions.get(partition)?.storeEvicted(key, version);
      this.onKeyEvicted?.(partition, key);
      this.offerToDisk(key, value, partition);
    });
    if (disk !== null) {
      // Sync must know which version the tier holds of each key without a device read (PartitionReplica).
      if (!disk.tracksVersions) throw new TypeError('a node\'s disk tier must keep its values\' versions (DiskTierOptions.versionOf: versionOfEncoded)');
      this.recoverDisk(disk);
    }
  }

  /**
   * An evicted record goes to the disk tier unless it is a tombstone or expired (the shadow keeps
   * their versions), or the disk already holds it (a promoted record keeps its disk copy; any
   * newer write deleted that copy). The tier may refuse it (write budget, reclaiming).
   */
  private offerToDisk(key: string, value: Uint8Array, partition: number): void {
    const expiresAtMs = this.diskWorthy(key, value);
    if (expiresAtMs === null) return;
    this.disk!.put(key, value, partition, expiresAtMs);
    // The tier's index is memory spent for the store: it shrinks the store's share of --max-memory.
    this.store.reserveBytes(this.disk!.indexBytes());
  }

  /** A record's expiry time (0: none) if the disk tier should take it: a tier exists and lacks it, and the record is a live value. Null otherwise. */
  private diskWorthy(key: string, value: Uint8Array): number | null {
    if (this.disk === null || this.disk.has(key)) return null;
    const record = decodeRecord(value);
    if (record.tombstone || (record.expiresAtMs !== 0 && record.expiresAtMs <= this.ctx.env.clock.wallMs())) return null;
    return record.expiresAtMs;
  }

  /**
   * At a stop for a restart (--stop-mode restart), once the node has stopped: writes the live
   * values still in memory to the disk tier, which otherwise holds only what memory evicted, so
   * the restarted node has them (with N=1 they exist nowhere else). Bounded by the tier's room
   * (DiskTier.spillRoomBytes; partitions in order: past it, which values are kept is not chosen
   * by heat) and by `withinMs` from now; waits out a busy tier. Calls `done` with what it wrote
   * and what it left; at once, all zero, without a tier.
   */
  spillToDisk(withinMs: number, done: (summary: SpillSummary) => void): void {
    const disk = this.disk;
    const deadlineMs = this.ctx.env.clock.monoMs() + withinMs;
    const summary: SpillSummary = { values: 0, bytes: 0, left: 0, reason: null };
    if (disk === null) return done(summary);
    const room = disk.spillRoomBytes();
    const partitions = this.ctx.placement().partitions;
    let partition = 0;
    let keys = this.store.partitionKeys(0);
    let at = 0;
    const finish = (reason: SpillSummary['reason']) => {
      if (partition < partitions) {
        summary.left = keys.length - at;
        for (let p = partition + 1; p < partitions; p++) summary.left += this.store.partitionKeys(p).length;
      }
      summary.reason = summary.left > 0 ? reason : null;
      disk.flush();
      done(summary);
    };
    const step = (): void => {
      for (;;) {
        if (this.ctx.env.clock.monoMs() >= deadlineMs) return finish('deadline');
        while (at >= keys.length) {
          if (++partition >= partitions) return finish(null);
          keys = this.store.partitionKeys(partition);
          at = 0;
        }
        const key = keys[at]!;
        const value = this.store.peekView(key);
        const expiresAtMs = value === undefined ? null : this.diskWorthy(key, value);
        if (value === undefined || expiresAtMs === null) {
          at++;
          continue;
        }
        if (summary.bytes + value.length > room) return finish('room');
        const outcome = disk.spill(key, value, partition, expiresAtMs);
        if (outcome === 'busy') {
          disk.flush();
          this.ctx.env.timers.setTimer(SPILL_RETRY_MS, step);
          return;
        }
        at++;
        if (outcome === 'taken') {
          summary.values++;
          summary.bytes += key.length + value.length;
        }
      }
    };
    step();
  }

  /**
   * Whether the disk tier is still being read back after a restart: until then digests and key
   * lists count nothing of it, so sync waits (PartitionSync.roundWith) rather than take every value
   * the tier holds again from the other owners.
   */
  get readingDiskBack(): boolean {
    return this.disk?.isRecovering === true;
  }

  /**
   * A restarted node's disk tier is read back in the background. Its index keeps the version of
   * every value found, so digests count what the disk holds and sync brings over only what is
   * newer elsewhere (whose apply deletes the stale disk copy). Until it ends the disk only misses.
   */
  private recoverDisk(disk: DiskTier): void {
    disk.recover((summary) => {
      this.store.reserveBytes(disk.indexBytes());
      // The warnings first: whoever waits for the disk-recovered line has them by then.
      this.warnDiskKeys(summary);
      this.ctx.env.log.info({ event: 'disk-recovered', ...summary }, `disk tier recovered: ${summary.entries} entries in ${summary.regions} regions`);
    });
  }

  /**
   * What the tier's keys mean for the operator, at warn: regions under a key the node lacks were
   * dropped (a wrong or removed --data-key-file: a warm tier lost), and regions still under an
   * older key need it kept (a rotation under way: the tier is not re-sealed at start, it would
   * cost the whole tier's size in writes; regions move to the primary as they are reused).
   */
  private warnDiskKeys(summary: RecoverySummary): void {
    const keys = summary.keyIds;
    if (keys === null) return;
    const log = this.ctx.env.log;
    for (const { keyId, regions, key } of summary.regionsByKey) {
      if (key === 'missing') {
        log.warn(
          { event: 'disk-key-missing', keyId, regions, keyIds: keys.all },
          `disk tier: ${regions} regions were sealed with at-rest key ${keyId}, which is not among this node's at-rest keys (${keys.all.join(', ')}): their entries are dropped; to keep them, stop the node and start it with that key in --data-key-file after the primary`,
        );
      } else if (key === 'older') {
        log.warn(
          { event: 'disk-key-older', keyId, regions, primaryKeyId: keys.primary },
          `disk tier: ${regions} regions are still sealed with at-rest key ${keyId}, not the primary ${keys.primary}: they are sealed again only as the tier reuses them, so a start without key ${keyId} drops their entries (docs/SECURITY.md, "Encryption at rest")`,
        );
      }
    }
  }

  /** The partition's actor, spawning it if this node does not hold the partition yet. */
  hold(partition: number): PartitionActor {
    let actor = this.partitions.get(partition);
    if (!actor) {
      const { store, shadow } = this;
      const { clock } = this.ctx.env;
      const grace = this.ctx.config.tombstoneGraceMs;
      actor = new PartitionActor({
        partition,
        mailboxCapacity: this.mailboxCapacity,
        scheduler: this.scheduler,
        replica: () => new PartitionReplica(partition, store, clock, grace, shadow, this.disk, () => this.floors.of(partition), this.ctx.config.bugs?.bucketDigestSkipsNewKeys === true),
        invalidationSeq: this.lastSequence.get(partition) ?? 0,
        fencingEpoch: this.lastFencing.get(partition) ?? 0,
        onChange: (p, seq, key, version) => this.invalidations.changed(p, seq, key, version),
        onExpiry: (p, expiresAtMs) => this.expiries.noteExpiry(p, expiresAtMs),
        onEpoch: (p, epoch, seq) => this.invalidations.setHead(p, epoch, seq),
        log: this.ctx.env.log,
      });
      actor.setEpoch(this.epochOf(partition));
      this.partitions.set(partition, actor);
      this.onNewPartition(partition);
    }
    return actor;
  }

  /**
   * Stops the partition's actor (jobs still queued are dropped: a write among them is never
   * acknowledged and gets hinted), then drops its records: with the actor gone, nothing else owns
   * them. Safe from inside that actor's own turn.
   */
  release(partition: number): void {
    const actor = this.partitions.get(partition);
    if (!actor) return;
    this.partitions.delete(partition);
    this.invalidations.dropHead(partition);
    this.retire(actor);
    this.store.dropPartition(partition);
    this.disk?.dropPartition(partition);
    this.shadow.dropPartition(partition);
  }

  /**
   * Raises partition flush floors (flush-floors.ts) and returns how many rose. The floor holds at
   * once (every access to the replica deletes what it flushes first, PartitionReplica.settleFloor);
   * a job per held partition deletes it now and tells near caches. The HLC observes each floor, so
   * a write this node coordinates after it learned of a flush is versioned after it.
   */
  raiseFloors(floors: readonly (readonly [number, Version])[]): number {
    let raised = 0;
    for (const [p, floor] of floors) {
      if (!this.floors.raise(p, floor)) continue;
      raised++;
      this.hlc.observe(floor);
      this.partitions.get(p)?.tell((actor) => actor.replica.settleFloor());
    }
    this.stats.floorsRaised += raised;
    return raised;
  }

  /**
   * This node's clock, sent to a peer in sync answers (`sr` `hc`): a node that restarted folds its
   * peers' clocks in before it coordinates, so its writes version above every record of its
   * predecessor a live peer has received (docs/REPLICATION.md, "Versions across restarts").
   */
  clockReading(): Version {
    return this.hlc.peek();
  }

  /**
   * Folds in a peer's clock from its sync answer. Not one further ahead of this node's wall clock
   * than MAX_REMOTE_CLOCK_AHEAD_MS (the bound a record's version is held to, hlc-remote-bounded):
   * a peer whose clock ran away would drag every node's versions with it (a malformed one never
   * gets here: the codec refuses it).
   */
  foldPeerClock(clock: Version): void {
    if (this.ctx.config.bugs?.peerClocksIgnored) return;
    if (clock.wallMs - Math.floor(this.ctx.env.clock.wallMs()) > MAX_REMOTE_CLOCK_AHEAD_MS) return;
    this.hlc.observe(clock);
  }

  /** The ring changed: every held partition takes its epoch from `epochOf`. */
  applyEpochs(): void {
    for (const [p, actor] of this.partitions) actor.setEpoch(this.epochOf(p));
  }

  /** Runs `job` in the partition's actor; false (counted) when its mailbox is full. */
  run(partition: number, job: PartitionJob, dropped?: () => void): boolean {
    if (this.hold(partition).tell(job, dropped)) return true;
    this.stats.busy++;
    return false;
  }

  /**
   * Runs `job` in each listed partition's actor, then `done` once every job ran, was refused or
   * was dropped. Jobs may run later than this call (see TurnScheduler), so `done` may too.
   */
  runEach(partitions: readonly number[], job: PartitionJob, done: () => void): void {
    let outstanding = partitions.length + 1;
    const finish = () => {
      if (--outstanding === 0) done();
    };
    for (const p of partitions) {
      const queued = this.run(
        p,
        (actor) => {
          job(actor);
          finish();
        },
        finish,
      );
      if (!queued) finish();
    }
    finish();
  }

  ownsPartition(partition: number): boolean {
    return this.ctx.placement().owners(partition).includes(this.ctx.selfName);
  }

  /**
   * Whether a read comes routed by a ring other than this node's that gives the partition fewer
   * owners than this node's ring does (`n`, coordinator.ts readRequest): this node is behind a
   * ring change that shrank the partition's owner set (a drain it has not heard of; one it has
   * moved past, with other owners, refuses instead). Its replica then does not count as caught up:
   * a write acknowledged by W owners of its ring need not meet R owners of the reader's, and the
   * owners that left may hold it alone (the gate an owner on the newer ring waits behind,
   * sync.ts gateOnDeparted). It counts once it has moved to that ring and synced with them.
   */
  private behindLargerRing(message: { p: number; v?: string; n?: number }): boolean {
    if (message.n === undefined) return false;
    const placement = this.ctx.placement();
    return message.v !== placement.version && placement.owners(message.p).length > message.n;
  }

  /**
   * The version of the record `key` holds when the write's own node stamped it, newer than the
   * write or as new with other bytes: a version one of that node's earlier incarnations handed
   * out (a new incarnation's HLC starts from its wall clock and can fall behind it), which the
   * write's coordinator learns from the ack (coordinator.ts, onWriteAck). Undefined otherwise.
   */
  private predecessorVersion(actor: PartitionActor, key: string, record: Uint8Array): Version | undefined {
    const held = actor.replica.peek(key);
    if (held === null) return undefined;
    const version = versionOfEncoded(held);
    const incoming = versionOfEncoded(record);
    if (version.node !== incoming.node) return undefined;
    const order = compareVersions(version, incoming);
    return order > 0 || (order === 0 && !sameBytes(held, record)) ? version : undefined;
  }

  /**
   * Applies a record (inside the partition actor's turn), folding its version into the HLC. The
   * read-modify-write ids standing for the record it replaces move on to it (rmw-requests.ts),
   * taken as built on it, unless `builtOn` is false: a fenced result known not to have read it.
   * `copy`: the record comes from another replica (sync, catch-up, handoff, read repair, a claim),
   * not from a client's write, so the store's analytics and hot keys leave it out.
   */
  apply(actor: PartitionActor, key: string, record: Uint8Array, builtOn = true, copy = false): ApplyOutcome {
    const incoming = decodeRecord(record);
    if (!this.ctx.config.bugs?.hlcIgnoresRemote) this.hlc.observe(incoming.version);
    // Only a key some remembered id stands for pays the lookup and the version strings.
    const replaced = builtOn && actor.requests.tracks(key) ? actor.replica.peek(key) : null;
    const outcome = actor.apply(key, record, incoming, copy);
    if (outcome === 'applied' && replaced !== null) actor.requests.advance(key, versionToString(versionOfEncoded(replaced)), versionToString(incoming.version));
    if (outcome === 'applied') {
      this.stats.writesApplied++;
    } else if (outcome === 'stale') {
      this.stats.writesStale++;
    } else {
      this.stats.writesRefused++;
    }
    return outcome;
  }

  mailboxStats(): MailboxStats {
    let { peakDepth, rejected } = this.retired;
    let queued = 0;
    for (const actor of this.partitions.values()) {
      peakDepth = Math.max(peakDepth, actor.mailboxHighWater);
      rejected += actor.counts.rejected;
      queued += actor.queued;
    }
    return { peakDepth, capacity: this.mailboxCapacity, rejected, queued };
  }

  /** Stops every partition actor and the scheduler (the node is stopping); the store keeps the records. */
  stop(): void {
    for (const actor of this.partitions.values()) this.retire(actor);
    this.scheduler.stop();
    this.expiries.stop();
    this.invalidations.stop();
  }

  /** Handles a replica-side message; returns false for message types that are not the replica's. */
  onMessage(from: string, message: KvMessage): boolean {
    switch (message.t) {
      case 'w': {
        if (message.h !== undefined) {
          // A sloppy-quorum fallback keeps the write as a hint for the owner it stands in for.
          this.stats.fallbackHintsTaken++;
          // Its clock passes the record's version like an owner's: a restarted coordinator folds it in from the sync answers.
          if (!this.ctx.config.bugs?.hlcIgnoresRemote && !this.ctx.config.bugs?.peerClocksIgnored) this.hlc.observe(versionOfEncoded(message.r));
          if (!this.ctx.config.bugs?.forgetHints) this.hints.add(message.h, message.p, message.k, message.r, this.ctx.env.clock.monoMs(), true);
          this.ctx.send(from, { t: 'wa', id: message.id });
          return true;
        }
        const { id, k, r } = message;
        if (this.refusedRoute(from, message)) return true;
        const startMs = this.observer === null ? 0 : this.ctx.env.clock.monoMs();
        const queued = this.run(message.p, (actor) => {
          const dropped = this.ctx.config.bugs?.dropWritesOn === this.ctx.selfName;
          const outcome = dropped ? 'applied' : this.apply(actor, k, r);
          const sv = outcome === 'stale' ? this.predecessorVersion(actor, k, r) : undefined;
          if (outcome === 'refused') this.ctx.send(from, { t: 'wo', id });
          else this.ctx.send(from, sv === undefined ? { t: 'wa', id } : { t: 'wa', id, sv });
          if (this.observer !== null) this.observer('write', (this.ctx.env.clock.monoMs() - startMs) / 1000);
        });
        if (!queued) this.ctx.send(from, { t: 'nb', id });
        return true;
      }
      case 'r': {
        const { id, p, k } = message;
        if (this.refusedReadRoute(from, message)) return true;
        if (!this.partitions.has(p)) {
          this.ctx.send(from, { t: 'ra', id, r: null, ready: false });
          return true;
        }
        const startMs = this.observer === null ? 0 : this.ctx.env.clock.monoMs();
        const queued = this.run(p, (actor) => {
          const ready = actor.ready && this.ctx.ringConfirmed() && this.ownsPartition(p) && !this.behindLargerRing(message);
          // The answer callback is written inline: under tsx a named closure costs a defineProperty per read.
          this.readHeld(
            actor,
            k,
            (record) => {
              if (record !== null) this.ctx.send(from, this.answerHeld(actor, from, id, record, ready));
              else this.ctx.send(from, this.answerNotHeld(actor, id, k, ready, message.pk === true));
              if (this.observer !== null) this.observer('read', (this.ctx.env.clock.monoMs() - startMs) / 1000);
            },
            message.pk === true,
          );
        });
        if (!queued) this.ctx.send(from, { t: 'nb', id });
        return true;
      }
      case 'rp': {
        const { k, r } = message;
        // Unacknowledged: if the mailbox is full, anti-entropy repairs the replica later.
        this.run(message.p, (actor) => {
          if (!this.ctx.config.bugs?.takeEveryRepair && actor.replica.declinesRepair(k, r, actor.forgettingHorizon)) {
            this.stats.readRepairsDeclined++;
            return;
          }
          if (this.apply(actor, k, r, true, true) === 'applied') this.stats.readRepairsApplied++;
        });
        return true;
      }
      case 'hd': {
        const { id, k, r } = message;
        // Unanswered when busy: the hint stays with its sender, which resends it.
        this.run(message.p, (actor) => {
          if (this.apply(actor, k, r) === 'refused') return;
          this.stats.hintsApplied++;
          this.ctx.send(from, { t: 'ha', id }, 'bulk');
        });
        return true;
      }
      case 'fl':
        this.raiseFloors(unflattenFloors(message.f));
        this.ctx.send(from, { t: 'fla', id: message.id }, 'bulk');
        return true;
      default:
        return false;
    }
  }

  /**
   * A write or read routed by a ring this node has moved past, for a partition whose owners
   * changed since, is refused with this node's ring (`ns`): the coordinator retries on the owners
   * named (docs/REPLICATION.md, "Ring changes").
   */
  private refusedRoute(from: string, message: { id: number; p: number; v?: string }): boolean {
    const refusal = this.refusalOf(message);
    if (refusal === null) return false;
    this.ctx.send(from, refusal);
    return true;
  }

  /**
   * A read refused like a write (refusedRoute), except that while this node still holds the
   * partition (its handoff has not finished) the refusal carries its record of the key. The
   * reader adopts the newer ring, whose owners may not have this node's records yet: a write it
   * acknowledged alone as an owner (ONE), or with owners that are gone, would be missing from the
   * answer (kv-drain seed 400229, 3 nodes: n2 acknowledged a delete at ONE, drained, and an ALL
   * read through n3, still on the ring of n2 and n3, adopted the ring of n3 alone from n2's
   * refusal and answered n3's older value while n2's handoff to n3 was clogged).
   */
  private refusedReadRoute(from: string, message: { id: number; p: number; k: string; v?: string; pk?: boolean }): boolean {
    const refusal = this.refusalOf(message);
    if (refusal === null) return false;
    if (this.ctx.config.bugs?.readRefusalWithoutRecord || !this.partitions.has(message.p)) {
      this.ctx.send(from, refusal);
      return true;
    }
    // Dropped (the partition was released meanwhile: handed off): the plain refusal.
    const queued = this.run(
      message.p,
      (actor) => this.readHeld(actor, message.k, (record) => this.ctx.send(from, record === null ? refusal : { ...refusal, r: record }), message.pk === true),
      () => this.ctx.send(from, refusal),
    );
    if (!queued) this.ctx.send(from, { t: 'nb', id: message.id });
    return true;
  }

  /**
   * The partition's record of `k` (inside its actor's turn), or null: at once, or once the disk
   * tier has read it. `peek` (an `r` with `pk`): read without counting a use, as the replica's
   * `peek` does; the disk tier counts no hit and the record is not stored again.
   */
  private readHeld(actor: PartitionActor, k: string, answer: (record: Uint8Array | null) => void, peek: boolean): void {
    const record = peek ? actor.replica.peek(k) : actor.replica.read(k);
    if (record !== null) return answer(record);
    // A store miss the disk tier holds is answered when the device is, and stored again.
    const p = actor.partition;
    const fromDisk = actor.replica.readFromDisk(k, (found) => {
      answer(found);
      // Not `run`: that would take the partition back if it was released meanwhile.
      if (found !== null && !peek) this.partitions.get(p)?.tell((again) => again.replica.promote(k, found));
    }, !peek);
    if (!fromDisk) answer(null);
  }

  /**
   * The answer to a read of `k`, which the partition does not hold: which version was evicted (or,
   * forgotten by the shadow, a version at or above it, marked `ei`), or else the partition's flush
   * floor, so the coordinator answers nothing older (and repairs nobody with it); and, with no
   * eviction known, its forgetting horizon where newer than the floor: this replica may have
   * evicted the key and forgotten it past its filter, at a version at or below the horizon, so the
   * coordinator does not take "nothing here" for the answer (docs/REPLICATION.md, "A key forgotten
   * past the filter"). A partition that never forgot anything answers as before.
   */
  private answerNotHeld(actor: PartitionActor, id: number, k: string, ready: boolean, peek: boolean): Extract<KvMessage, { t: 'ra' }> {
    const p = actor.partition;
    const evicted = this.shadow.evictionBound(p, k);
    if (evicted !== undefined) return { t: 'ra', id, r: null, ready, e: evicted.version, ...(evicted.exact ? {} : { ei: true }) };
    const floor = this.floors.of(p);
    const horizon = actor.forgettingHorizon;
    const forgot = horizon !== undefined && (floor === undefined || compareVersions(horizon, floor) > 0);
    if (forgot) {
      this.stats.horizonAnswers++;
      // The read repair this answer may bring is taken only for a key wanted often enough (declinesRepair).
      if (!peek && !this.ctx.config.bugs?.takeEveryRepair) this.store.noteWanted(k);
    }
    // Inherited from catch-up sources rather than (only) forgotten here: the coordinator weighs it even where a copy made the level.
    const inherited = forgot && actor.replica.inheritedHorizon() !== undefined;
    return { t: 'ra', id, r: null, ready, ...(floor !== undefined ? { f: floor } : {}), ...(forgot ? { h: horizon } : {}), ...(inherited ? { vh: horizon } : {}) };
  }

  /**
   * The answer to a read of a key the partition holds: the record, and where the partition caught
   * up from sources that had forgotten keys newer than it, their horizon (`vh`): this replica may
   * have rebuilt it from a source that had forgotten a newer version, so the coordinator does not
   * count it among the owners holding nothing newer (docs/REPLICATION.md, "A replica rebuilt from
   * forgetful sources"). Only to coordinators that decode it; older ones get the record, as before.
   */
  private answerHeld(actor: PartitionActor, from: string, id: number, record: Uint8Array, ready: boolean): Extract<KvMessage, { t: 'ra' }> {
    const inherited = actor.ready ? actor.replica.inheritedHorizon() : undefined;
    if (inherited === undefined || compareVersions(versionOfEncoded(record), inherited) >= 0 || !this.decodesVouch(from)) return { t: 'ra', id, r: record, ready };
    this.stats.vouchAnswers++;
    return { t: 'ra', id, r: record, ready, vh: inherited };
  }

  /** Whether `node` decodes a record after an inherited horizon (VOUCH_PROTOCOL); itself always. */
  private decodesVouch(node: string): boolean {
    return node === this.ctx.selfName || (this.ctx.protocolOf?.(node) ?? VOUCH_PROTOCOL) >= VOUCH_PROTOCOL;
  }

  /** The `ns` refusing a request routed by a ring this node has moved past, or null to serve it. */
  private refusalOf(message: { id: number; p: number; v?: string }): Extract<KvMessage, { t: 'ns' }> | null {
    const newer = message.v === undefined ? null : (this.ctx.checkRoute?.(message.v, message.p) ?? null);
    if (newer === null) return null;
    this.stats.routesRefused++;
    return { t: 'ns', id: message.id, rv: message.v!, v: newer.version, o: [...newer.owners] };
  }

  private retire(actor: PartitionActor): void {
    this.retired.peakDepth = Math.max(this.retired.peakDepth, actor.mailboxHighWater);
    this.retired.rejected += actor.counts.rejected;
    this.lastSequence.set(actor.partition, actor.invalidationSeq);
    this.lastFencing.set(actor.partition, actor.fencingEpoch);
    actor.stop();
  }
}
