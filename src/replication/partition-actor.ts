/**
 * The partition actor: the one home of everything a node keeps per partition it holds (Riak's
 * vnode). It owns
 *
 * - the replica's records (`replica`, a PartitionReplica view over the node's shared Store): every
 *   read or change of them is a job run in the actor's turn, one at a time, from a bounded mailbox;
 * - its ownership epoch (`epoch`, set by the node when the ring gives the partition a new owner set);
 * - its read-modify-write fencing epoch (`fencingEpoch`, the highest primary claim this replica
 *   promised, comparable cluster-wide) and the request ids it applied results for (`requests`),
 *   see rmw-primary.ts;
 * - its sync state machine (`syncPhase`): catching up from the sources that may hold acknowledged
 *   writes, ready, or handing off to the owners after the ring moved it away (sync.ts drives it);
 * - the queue that serialises read-modify-write operations (`serialise`);
 * - the invalidation sequence (`invalidationSeq`): bumped on every change applied to the replica
 *   (and on every value the store evicted from it, or that expired where a subscriber asked for
 *   expiries), each told to `onChange`, which feeds the node's invalidation streams
 *   (invalidation.ts), so a near cache can tell what it holds may be stale.
 *
 * Jobs are closures run by the node's TurnScheduler (src/actors): no caller may assume that a job
 * it queued has run when `tell` returns. A full mailbox refuses the job (`tell` returns false) and
 * the caller answers busy, which the coordinator turns into a retryable `overloaded`.
 */
import { BoundedQueue, SerialQueue, type QueuedOp, type Schedulable, type SerialOp, type TurnScheduler } from '../actors/index.ts';
import type { Logger } from '../runtime/env.ts';
import type { Version } from './hlc.ts';
import type { ApplyOutcome, PartitionReplica } from './partition-replica.ts';
import type { StoredRecord } from './record.ts';
import { DEFAULT_RMW_REQUEST_MEMORY_MS, DEFAULT_RMW_REQUESTS_REMEMBERED, RequestMemory, RMW_REQUEST_RETENTION } from './rmw-requests.ts';

/** Work on one partition, run in its actor's turn. */
export type PartitionJob = (actor: PartitionActor) => void;

/** A read-modify-write operation: it runs in the actor's turn and calls `done` once its write is settled. */
export type ReadModifyWrite = SerialOp<PartitionActor>;

/**
 * Where the partition stands in sync (sync.ts):
 * - `catching-up`: owned, and some source may hold acknowledged writes this replica lacks, or
 *   another owner holds values a source evicted (a value hunt, value-hunts.ts); its reads do
 *   not count towards a quorum until every source has synced with it and every hunt is answered.
 * - `ready`: owned and caught up (or held without owning it, with nothing to hand off yet).
 * - `handing-off`: held but no longer owned: pushing its records to the owners, dropped once enough
 *   of them are known to hold everything.
 */
export type SyncPhase = 'catching-up' | 'ready' | 'handing-off';

export interface PartitionActorOptions {
  readonly partition: number;
  readonly mailboxCapacity: number;
  readonly scheduler: TurnScheduler;
  /** Builds the replica view; called again after a job failed, so no half-updated cache survives it. */
  readonly replica: () => PartitionReplica;
  /** Where the sequence starts: the last one this node handed out for the partition, so it never goes back. */
  readonly invalidationSeq?: number;
  /** Told of every bump of the invalidation sequence: the key changed and its version now. */
  readonly onChange?: (partition: number, seq: number, key: string, version: Version) => void;
  /** Told of every value applied with an expiry (the node's ExpiryWatch, expiry-watch.ts). */
  readonly onExpiry?: (partition: number, expiresAtMs: number) => void;
  /** Told when the ownership epoch changes (and once at the start), with the sequence then. */
  readonly onEpoch?: (partition: number, epoch: number, seq: number) => void;
  /** Where the fencing epoch starts: the last one this node promised for the partition. */
  readonly fencingEpoch?: number;
  readonly log: Logger;
}

interface Envelope {
  readonly run: PartitionJob;
  /** Told when the job will never run (the actor stopped first). */
  readonly dropped: (() => void) | undefined;
}

export class PartitionActor implements Schedulable {
  readonly partition: number;
  /** Job counters (`rejected`: refused for a full mailbox; `failures`: jobs that threw). */
  readonly counts = { processed: 0, rejected: 0, failures: 0 };
  private replicaView: PartitionReplica;
  private readonly mailbox: BoundedQueue<Envelope>;
  private readonly rmw: SerialQueue<PartitionActor>;
  private ownershipEpoch = 0;
  private promised: number;
  /** Request ids of read-modify-write results applied here, with the results (rmw-requests.ts). */
  readonly requests = new RequestMemory(DEFAULT_RMW_REQUESTS_REMEMBERED, DEFAULT_RMW_REQUEST_MEMORY_MS, RMW_REQUEST_RETENTION);
  private sequence: number;
  /** Catch-up: sources not synced from yet. Empty unless `catching-up`. */
  private readonly sources = new Set<string>();
  /** Catch-up: owners asked for values a source evicted, not answered yet (value-hunts.ts). */
  private readonly hunted = new Set<string>();
  /** Handoff: the owners known to hold everything this replica has. Null unless `handing-off`. */
  private coverage: Set<string> | null = null;
  private stopped = false;

  constructor(private readonly options: PartitionActorOptions) {
    this.partition = options.partition;
    this.replicaView = this.newReplica();
    this.mailbox = new BoundedQueue<Envelope>(options.mailboxCapacity);
    this.sequence = options.invalidationSeq ?? 0;
    this.promised = options.fencingEpoch ?? 0;
    this.rmw = new SerialQueue<PartitionActor>(options.mailboxCapacity, (op, done, admitted) => this.startSerialised(op, done, admitted));
  }

  // ---- jobs -------------------------------------------------------------------------------

  /** The replica's records. Touch them only inside a job (or for diagnostics that change nothing). */
  get replica(): PartitionReplica {
    return this.replicaView;
  }

  /**
   * Queues `job`; false (counted) when the mailbox is full or the actor stopped. `dropped` is
   * called if the job was queued but the actor stopped before running it.
   */
  tell(job: PartitionJob, dropped?: () => void): boolean {
    return this.enqueue({ run: job, dropped }, false);
  }

  /**
   * Runs `op` after every read-modify-write queued before it has called its `done`, as a job of
   * this actor. False when too many wait already (answer `overloaded`). `dropped` is called if it
   * was accepted but will never run (the partition was handed off first).
   */
  serialise(op: ReadModifyWrite, dropped?: () => void): boolean {
    return this.rmw.offer(op, dropped);
  }

  /** Jobs queued and not yet run. */
  get queued(): number {
    return this.mailbox.size;
  }

  get mailboxHighWater(): number {
    return this.mailbox.highWater;
  }

  get mailboxCapacity(): number {
    return this.mailbox.capacity;
  }

  /** Read-modify-writes waiting behind the running one. */
  get serialisedWaiting(): number {
    return this.rmw.size;
  }

  /** For the scheduler: runs the oldest job. A job that throws is logged and counted; the actor lives on. */
  runNext(): boolean {
    const envelope = this.stopped ? undefined : this.mailbox.shift();
    if (envelope === undefined) return false;
    try {
      envelope.run(this);
      this.counts.processed++;
    } catch (err) {
      this.counts.failures++;
      this.options.log.warn({ partition: this.partition, err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, 'partition job failed; its replica view is rebuilt');
      // The store keeps the records; only the view's caches (the digest) may be half-updated.
      this.replicaView = this.newReplica();
    }
    return !this.stopped && this.mailbox.size > 0;
  }

  /** Stops for good: queued jobs and waiting read-modify-writes are dropped (their owners told). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.options.scheduler.forget(this);
    this.rmw.stop();
    for (const envelope of this.mailbox.drain()) envelope.dropped?.();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private enqueue(envelope: Envelope, force: boolean): boolean {
    if (this.stopped || !this.mailbox.push(envelope, force)) {
      this.counts.rejected++;
      return false;
    }
    this.options.scheduler.wake(this);
    return true;
  }

  private startSerialised(op: QueuedOp<PartitionActor>, done: () => void, admitted: boolean): boolean {
    // An operation that throws before calling done would hold the queue forever: it is done.
    const run = (actor: PartitionActor) => {
      let called = false;
      try {
        op.run(actor, () => {
          called = true;
          done();
        });
      } catch (err) {
        if (!called) done();
        throw err;
      }
    };
    // One already admitted by the serial queue's bound is not refused again for mailbox room.
    return this.enqueue({ run, dropped: op.dropped }, admitted);
  }

  // ---- writes and the invalidation sequence -----------------------------------------------

  /**
   * Applies a record last-writer-wins (inside a job). An applied write bumps the invalidation
   * sequence and, while handing off, voids what the owners were known to hold. `copy`: from
   * another replica, not a client's write (PartitionReplica.apply).
   */
  apply(key: string, record: Uint8Array, incoming: StoredRecord, copy = false): ApplyOutcome {
    const outcome = this.replicaView.apply(key, record, incoming, copy);
    if (outcome === 'applied') {
      this.changed();
      this.options.onChange?.(this.partition, this.sequence, key, incoming.version);
      if (!incoming.tombstone && incoming.expiresAtMs !== 0) this.options.onExpiry?.(this.partition, incoming.expiresAtMs);
    }
    return outcome;
  }

  /**
   * A sync source evicted `key` at `version` (PartitionReplica.noteEvicted). A change bumps the
   * invalidation sequence (a cached older value is superseded) but leaves handoff coverage alone:
   * the version came from a peer, and no value this replica could push was added.
   */
  noteEvicted(key: string, version: Version): boolean {
    const changed = this.replicaView.noteEvicted(key, version);
    if (changed) this.bump(key, version);
    return changed;
  }

  /**
   * The store evicted `key` (at `version`) from this replica for lack of memory: a near cache
   * holding it would serve what the cluster no longer has, so it is a change like any other.
   */
  storeEvicted(key: string, version: Version): void {
    this.bump(key, version);
  }

  /**
   * The value of `key` at `version` passed its expiry on this node's clock (ExpiryWatch, only for
   * partitions a subscriber asked expiries of): a client that cached it without knowing its TTL
   * must drop it. Nothing in the replica changes (the store keeps the expired record for the grace).
   */
  expired(key: string, version: Version): void {
    this.bump(key, version);
  }

  /** A replica from the options' factory whose flush-floor deletions are changes like any other. */
  private newReplica(): PartitionReplica {
    const replica = this.options.replica();
    replica.onFlushed = (key, floor) => this.bump(key, floor);
    return replica;
  }

  private bump(key: string, version: Version): void {
    this.sequence++;
    this.options.onChange?.(this.partition, this.sequence, key, version);
  }

  /** Bumped on every change applied to the replica; never goes back while this node runs. */
  get invalidationSeq(): number {
    return this.sequence;
  }

  private changed(): void {
    this.sequence++;
    this.coverage?.clear();
  }

  // ---- ownership epoch --------------------------------------------------------------------

  /** The ownership epoch this replica serves under (0 until the node sets one). */
  get epoch(): number {
    return this.ownershipEpoch;
  }

  /** The ring gave the partition a new owner set. Epochs only grow: a smaller one is a bug upstream. */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < this.ownershipEpoch) {
      throw new RangeError(`partition ${this.partition}: ownership epoch ${epoch} is not an integer at least the current ${this.ownershipEpoch}`);
    }
    this.ownershipEpoch = epoch;
    this.options.onEpoch?.(this.partition, epoch, this.sequence);
  }

  // ---- read-modify-write fencing (rmw-primary.ts) ------------------------------------------

  /** The highest primary claim this replica promised: it refuses read-modify-write results of older ones. */
  get fencingEpoch(): number {
    return this.promised;
  }

  /** A primary claims the partition with `epoch`: promised (true) unless a higher claim was promised already. */
  promise(epoch: number): boolean {
    if (epoch < this.promised) return false;
    this.promised = epoch;
    return true;
  }

  // ---- sync state machine (driven by sync.ts) ---------------------------------------------

  get syncPhase(): SyncPhase {
    if (this.coverage !== null) return 'handing-off';
    return this.ready ? 'ready' : 'catching-up';
  }

  /** Caught up with every source, every value hunt answered (a replica handing off has neither). */
  get ready(): boolean {
    return this.sources.size === 0 && this.hunted.size === 0;
  }

  /**
   * The partition's forgetting horizon (ForgottenKeys.horizon), once it has caught up: sync leaves
   * out what this replica lacks at or below it, and a read of a key it lacks answers it (`h`).
   * Until then what it lacks is what a restart or a ring change took from it, not what it evicted:
   * its catch-up wants all of it, as before, and the store's policy chooses what stays, rather
   * than the order in which the keys came.
   */
  get forgettingHorizon(): Version | undefined {
    return this.ready ? this.replica.forgettingHorizon() : undefined;
  }

  /**
   * The forgetting horizon sync announces to peers (`fh`), caught up or not: what this replica
   * forgot (also while catching up) and inherited so far. A replica that catches up from this one
   * while it is still catching up itself may lack, or hold older versions of, those keys too, and
   * must inherit it: announced only once ready, a QUORUM write acknowledged by this replica and
   * one that then crashed, evicted and forgotten here, was answered with the rebuilt one's older
   * copy (test/sim/eviction-inexact-answer.test.ts, "A, itself catching up").
   */
  get announcedHorizon(): Version | undefined {
    return this.replica.forgettingHorizon();
  }

  /** Sources still to sync from. */
  get pendingSources(): ReadonlySet<string> {
    return this.sources;
  }

  /** The node owns the partition (again): no handoff; these sources must sync with it first. */
  catchUpFrom(sources: Iterable<string>): void {
    this.coverage = null;
    for (const source of sources) this.sources.add(source);
  }

  /** `source` gave this replica all it has (or will never answer); true when that made it ready. */
  sourceDone(source: string): boolean {
    return this.sources.delete(source) && this.ready;
  }

  /** Owners asked for values a source evicted: the catch-up also waits for their answers. */
  get pendingHunts(): ReadonlySet<string> {
    return this.hunted;
  }

  /** The catch-up waits for `owner`'s answer to a value hunt too. */
  awaitHunt(owner: string): void {
    this.hunted.add(owner);
  }

  /** `owner` answered its value hunt (or never will); true when that made it ready. */
  huntDone(owner: string): boolean {
    return this.hunted.delete(owner) && this.ready;
  }

  /** The node no longer owns the partition: stop catching up, start (or keep) handing off. */
  startHandoff(): void {
    this.sources.clear();
    this.hunted.clear();
    this.coverage ??= new Set();
  }

  /**
   * `owner` holds everything this replica has. Returns the owners known to, or null when not
   * handing off.
   */
  coveredBy(owner: string): ReadonlySet<string> | null {
    this.coverage?.add(owner);
    return this.coverage;
  }

  /** Entries the store holds for the partition (a store counter, not a read of the records). */
  get size(): number {
    return this.replicaView.size;
  }

  /**
   * Diagnostics for checkers and tests, outside the protocol: the record held for `key`, read
   * without a job and without touching the cache policy.
   */
  peek(key: string): Uint8Array | null {
    return this.replicaView.peek(key);
  }
}
