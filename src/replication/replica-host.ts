/**
 * The replica side of one node: the partition actors it holds, and the handlers for replica
 * messages (writes, reads, read repairs, hint deliveries, fallback writes). Every record for a
 * partition goes through that partition's actor.
 *
 * A node holds an actor for every partition it owns, and keeps one for a partition it no longer
 * owns until ownership handoff (sync.ts) has passed the data on.
 */
import type { ReplicaBackend } from './backend.ts';
import type { ReplicationContext } from './context.ts';
import type { HintStore } from './hints.ts';
import type { HybridLogicalClock } from './hlc.ts';
import type { KvMessage } from './messages.ts';
import { PartitionActor, type ApplyOutcome } from './partition-actor.ts';
import { decodeRecord } from './record.ts';

export interface ReplicaStats {
  writesApplied: number;
  writesStale: number;
  writesRefused: number;
  fallbackHintsTaken: number;
  readRepairsApplied: number;
  hintsApplied: number;
  purged: number;
}

export class ReplicaHost {
  readonly actors = new Map<number, PartitionActor>();
  readonly stats: ReplicaStats = { writesApplied: 0, writesStale: 0, writesRefused: 0, fallbackHintsTaken: 0, readRepairsApplied: 0, hintsApplied: 0, purged: 0 };
  /** Called after a record changed a partition (sync.ts uses it to restart a handoff's coverage). */
  onChange: (partition: number) => void = () => {};
  private purgeTimer: number | null = null;

  constructor(
    private readonly ctx: ReplicationContext,
    private readonly backend: ReplicaBackend,
    private readonly hints: HintStore,
    private readonly hlc: HybridLogicalClock,
  ) {}

  start(): void {
    this.schedulePurge();
  }

  stop(): void {
    if (this.purgeTimer !== null) this.ctx.env.timers.cancelTimer(this.purgeTimer);
    this.purgeTimer = null;
  }

  actorFor(partition: number): PartitionActor {
    let actor = this.actors.get(partition);
    if (!actor) this.actors.set(partition, (actor = new PartitionActor(partition, this.backend)));
    return actor;
  }

  ownsPartition(partition: number): boolean {
    return this.ctx.placement().owners(partition).includes(this.ctx.selfName);
  }

  /** Applies a record through the partition's actor, folding its version into the HLC. */
  apply(partition: number, key: string, record: Uint8Array): ApplyOutcome {
    this.hlc.observe(decodeRecord(record).version);
    const outcome = this.actorFor(partition).apply(key, record);
    if (outcome === 'applied') {
      this.stats.writesApplied++;
      this.onChange(partition);
    } else if (outcome === 'stale') {
      this.stats.writesStale++;
    } else {
      this.stats.writesRefused++;
    }
    return outcome;
  }

  /** Handles a replica-side message; returns false for message types that are not the replica's. */
  onMessage(from: string, message: KvMessage): boolean {
    switch (message.t) {
      case 'w': {
        if (message.h !== undefined) {
          this.stats.fallbackHintsTaken++;
          this.hints.add(message.h, message.p, message.k, message.r, this.ctx.env.clock.monoMs());
          this.ctx.send(from, { t: 'wa', id: message.id });
        } else if (this.apply(message.p, message.k, message.r) !== 'refused') {
          this.ctx.send(from, { t: 'wa', id: message.id });
        }
        return true;
      }
      case 'r': {
        const actor = this.actors.get(message.p);
        const ready = actor !== undefined && actor.ready && this.ownsPartition(message.p);
        this.ctx.send(from, { t: 'ra', id: message.id, r: actor?.read(message.k) ?? null, ready });
        return true;
      }
      case 'rp':
        if (this.apply(message.p, message.k, message.r) === 'applied') this.stats.readRepairsApplied++;
        return true;
      case 'hd':
        if (this.apply(message.p, message.k, message.r) !== 'refused') {
          this.stats.hintsApplied++;
          this.ctx.send(from, { t: 'ha', id: message.id }, 'bulk');
        }
        return true;
      default:
        return false;
    }
  }

  private schedulePurge(): void {
    this.purgeTimer = this.ctx.env.timers.setTimer(this.ctx.config.purgeIntervalMs, () => {
      const now = this.ctx.env.clock.wallMs();
      for (const actor of this.actors.values()) this.stats.purged += actor.purge(now, this.ctx.config.tombstoneGraceMs);
      this.schedulePurge();
    });
  }
}
