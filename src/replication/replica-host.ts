/**
 * The replica side of one node: the partition actors it holds (one per partition replica, in the
 * node's ActorSystem), and the handlers for replica messages (writes, reads, read repairs, hint
 * deliveries, fallback writes). Every access to a partition's records is a job run by that
 * partition's actor (partition-actor.ts); what the host itself keeps per partition is metadata
 * only: the catch-up sources (`ready`) and the actor's reference.
 *
 * A node holds an actor for every partition it owns, and keeps one for a partition it no longer
 * owns until ownership handoff (sync.ts) has passed the data on.
 *
 * Backpressure: a job refused because the partition's mailbox is full is counted (`busy`); a
 * replica write or read refused that way is answered `nb` (busy), which the coordinator turns into
 * an `overloaded` error when too few replicas are left to reach the consistency level.
 */
import { ActorSystem, type ActorRef } from '../actors/index.ts';
import type { Store } from '../store/index.ts';
import type { ReplicationContext } from './context.ts';
import { EvictionShadow, evictionShadowCapacity } from './eviction-shadow.ts';
import type { HintStore } from './hints.ts';
import type { HybridLogicalClock } from './hlc.ts';
import type { KvMessage } from './messages.ts';
import { PartitionActor, partitionActorName, type PartitionJob } from './partition-actor.ts';
import { PartitionReplica, type ApplyOutcome } from './partition-replica.ts';
import { decodeRecord, versionOfEncoded } from './record.ts';

export interface ReplicaStats {
  writesApplied: number;
  writesStale: number;
  writesRefused: number;
  fallbackHintsTaken: number;
  readRepairsApplied: number;
  hintsApplied: number;
  /** Jobs refused because a partition actor's mailbox was full. */
  busy: number;
  /** Writes and reads refused because they were routed by a ring this node has moved past. */
  routesRefused: number;
}

/** What the node keeps about a partition it holds, besides its records (which only its actor touches). */
export class HeldPartition {
  /** Sources not yet synced from; the replica is ready when this is empty. */
  readonly pendingSources = new Set<string>();

  constructor(
    readonly partition: number,
    readonly ref: ActorRef<PartitionJob>,
    private readonly store: Store,
  ) {}

  get ready(): boolean {
    return this.pendingSources.size === 0;
  }

  /** Entries the store holds for the partition (a store counter, not a read of the records). */
  get size(): number {
    return this.store.partitionStats(this.partition).entries;
  }

  /**
   * Diagnostics for checkers and tests, outside the protocol: the record held for `key`, read
   * without going through the actor and without touching the cache policy.
   */
  peek(key: string): Uint8Array | null {
    return this.store.peek(key) ?? null;
  }
}

export interface MailboxStats {
  /** Deepest any partition mailbox has been, and the bound. */
  peakDepth: number;
  capacity: number;
  /** Messages refused by full mailboxes. */
  rejected: number;
}

export class ReplicaHost {
  readonly partitions = new Map<number, HeldPartition>();
  readonly stats: ReplicaStats = { writesApplied: 0, writesStale: 0, writesRefused: 0, fallbackHintsTaken: 0, readRepairsApplied: 0, hintsApplied: 0, busy: 0, routesRefused: 0 };
  /** Called after a record changed a partition (sync.ts uses it to restart a handoff's coverage). */
  onChange: (partition: number) => void = () => {};
  /** Called when this node starts holding a partition it had not held (see PartitionSync). */
  onNewPartition: (partition: number) => void = () => {};
  /** What the store evicted, so older copies are not taken for news (eviction-shadow.ts). */
  readonly shadow: EvictionShadow;
  private readonly system: ActorSystem;
  /** Deepest mailbox of actors already stopped (handed-off partitions), so the peak survives them. */
  private retiredPeakDepth = 0;

  constructor(
    private readonly ctx: ReplicationContext,
    private readonly store: Store,
    private readonly hints: HintStore,
    private readonly hlc: HybridLogicalClock,
    private readonly mailboxCapacity: number,
  ) {
    this.system = new ActorSystem({ node: ctx.selfName, timers: ctx.env.timers, log: ctx.env.log });
    this.shadow = new EvictionShadow(evictionShadowCapacity(store.maxMemory));
    store.onEviction((key, value, partition) => this.shadow.record(partition, key, versionOfEncoded(value)));
  }

  /** The partition's metadata, spawning its actor if this node does not hold it yet. */
  hold(partition: number): HeldPartition {
    let held = this.partitions.get(partition);
    if (!held) {
      const { store, shadow } = this;
      const { clock } = this.ctx.env;
      const grace = this.ctx.config.tombstoneGraceMs;
      const ref = this.system.spawn<PartitionJob>(partitionActorName(partition), () => new PartitionActor(new PartitionReplica(partition, store, clock, grace, shadow)), {
        mailboxCapacity: this.mailboxCapacity,
      });
      held = new HeldPartition(partition, ref, store);
      this.partitions.set(partition, held);
      this.onNewPartition(partition);
    }
    return held;
  }

  /**
   * Stops the partition's actor (jobs still queued become dead letters: a write among them is
   * never acknowledged and gets hinted), then drops its records: with the actor gone, nothing else
   * owns them. Safe from inside that actor's own turn.
   */
  release(partition: number): void {
    const held = this.partitions.get(partition);
    if (!held) return;
    this.partitions.delete(partition);
    this.stopActor(held.ref.address.name);
    this.store.dropPartition(partition);
    this.shadow.dropPartition(partition);
  }

  /** Runs `job` in the partition's actor; false (counted) when its mailbox is full. */
  run(partition: number, job: PartitionJob): boolean {
    if (this.hold(partition).ref.tell(job)) return true;
    this.stats.busy++;
    return false;
  }

  /**
   * Runs `job` in each listed partition's actor, then `done` once every job ran or was refused.
   * (The actor system drains synchronously when called from outside a turn, as here, so in
   * practice `done` runs before this returns; the count makes that an optimisation, not a rule.)
   */
  runEach(partitions: readonly number[], job: (replica: PartitionReplica) => void, done: () => void): void {
    let outstanding = partitions.length + 1;
    const finish = () => {
      if (--outstanding === 0) done();
    };
    for (const p of partitions) {
      if (!this.run(p, (replica) => {
        job(replica);
        finish();
      })) finish();
    }
    finish();
  }

  ownsPartition(partition: number): boolean {
    return this.ctx.placement().owners(partition).includes(this.ctx.selfName);
  }

  /** Applies a record (inside the partition actor's turn), folding its version into the HLC. */
  apply(replica: PartitionReplica, key: string, record: Uint8Array): ApplyOutcome {
    const incoming = decodeRecord(record);
    this.hlc.observe(incoming.version);
    const outcome = replica.apply(key, record, incoming);
    if (outcome === 'applied') {
      this.stats.writesApplied++;
      this.onChange(replica.partition);
    } else if (outcome === 'stale') {
      this.stats.writesStale++;
    } else {
      this.stats.writesRefused++;
    }
    return outcome;
  }

  mailboxStats(): MailboxStats {
    let peakDepth = this.retiredPeakDepth;
    for (const held of this.partitions.values()) {
      const s = this.system.actorStats(held.ref.address.name);
      if (s && s.mailboxHighWater > peakDepth) peakDepth = s.mailboxHighWater;
    }
    return { peakDepth, capacity: this.mailboxCapacity, rejected: this.system.stats().rejected };
  }

  /** Stops every partition actor (the node is stopping); the store keeps the records. */
  stop(): void {
    this.system.shutdown();
  }

  /** Handles a replica-side message; returns false for message types that are not the replica's. */
  onMessage(from: string, message: KvMessage): boolean {
    switch (message.t) {
      case 'w': {
        if (message.h !== undefined) {
          // A sloppy-quorum fallback keeps the write as a hint for the owner it stands in for.
          this.stats.fallbackHintsTaken++;
          this.hints.add(message.h, message.p, message.k, message.r, this.ctx.env.clock.monoMs(), true);
          this.ctx.send(from, { t: 'wa', id: message.id });
          return true;
        }
        const { id, k, r } = message;
        if (this.refusedRoute(from, message)) return true;
        const queued = this.run(message.p, (replica) => {
          if (this.apply(replica, k, r) !== 'refused') this.ctx.send(from, { t: 'wa', id });
        });
        if (!queued) this.ctx.send(from, { t: 'nb', id });
        return true;
      }
      case 'r': {
        const { id, p, k } = message;
        if (this.refusedRoute(from, message)) return true;
        const held = this.partitions.get(p);
        if (!held) {
          this.ctx.send(from, { t: 'ra', id, r: null, ready: false });
          return true;
        }
        const queued = this.run(p, (replica) => {
          const ready = held.ready && this.ctx.ringConfirmed() && this.ownsPartition(p);
          const record = replica.read(k);
          // Nothing held: say which version was evicted, so the coordinator answers nothing older.
          const evicted = record === null ? this.shadow.versionOf(p, k) : undefined;
          this.ctx.send(from, evicted === undefined ? { t: 'ra', id, r: record, ready } : { t: 'ra', id, r: null, ready, e: evicted });
        });
        if (!queued) this.ctx.send(from, { t: 'nb', id });
        return true;
      }
      case 'rp': {
        const { k, r } = message;
        // Unacknowledged: if the mailbox is full, anti-entropy repairs the replica later.
        this.run(message.p, (replica) => {
          if (this.apply(replica, k, r) === 'applied') this.stats.readRepairsApplied++;
        });
        return true;
      }
      case 'hd': {
        const { id, k, r } = message;
        // Unanswered when busy: the hint stays with its sender, which resends it.
        this.run(message.p, (replica) => {
          if (this.apply(replica, k, r) === 'refused') return;
          this.stats.hintsApplied++;
          this.ctx.send(from, { t: 'ha', id }, 'bulk');
        });
        return true;
      }
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
    const newer = message.v === undefined ? null : (this.ctx.checkRoute?.(message.v, message.p) ?? null);
    if (newer === null) return false;
    this.stats.routesRefused++;
    this.ctx.send(from, { t: 'ns', id: message.id, rv: message.v!, v: newer.version, o: [...newer.owners] });
    return true;
  }

  private stopActor(name: string): void {
    const s = this.system.actorStats(name);
    if (s && s.mailboxHighWater > this.retiredPeakDepth) this.retiredPeakDepth = s.mailboxHighWater;
    this.system.stop(name);
  }
}
