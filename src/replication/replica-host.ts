/**
 * The replica side of one node: the partition actors it holds, and the handlers for replica
 * messages (writes, reads, read repairs, hint deliveries, fallback writes). Every record for a
 * partition goes through that partition's actor.
 *
 * A node holds an actor for every partition it owns, and keeps one for a partition it no longer
 * owns until ownership handoff (sync.ts) has passed the data on.
 */
import type { ReplicationContext } from './context.ts';
import type { HintStore } from './hints.ts';
import type { HybridLogicalClock } from './hlc.ts';
import type { KvMessage } from './messages.ts';
import type { Store } from '../store/index.ts';
import { PartitionReplica, type ApplyOutcome } from './partition-replica.ts';
import { decodeRecord } from './record.ts';

export interface ReplicaStats {
  writesApplied: number;
  writesStale: number;
  writesRefused: number;
  fallbackHintsTaken: number;
  readRepairsApplied: number;
  hintsApplied: number;
}

export class ReplicaHost {
  readonly replicas = new Map<number, PartitionReplica>();
  readonly stats: ReplicaStats = { writesApplied: 0, writesStale: 0, writesRefused: 0, fallbackHintsTaken: 0, readRepairsApplied: 0, hintsApplied: 0 };
  /** Called after a record changed a partition (sync.ts uses it to restart a handoff's coverage). */
  onChange: (partition: number) => void = () => {};

  constructor(
    private readonly ctx: ReplicationContext,
    private readonly store: Store,
    private readonly hints: HintStore,
    private readonly hlc: HybridLogicalClock,
  ) {}

  replicaFor(partition: number): PartitionReplica {
    let replica = this.replicas.get(partition);
    if (!replica) this.replicas.set(partition, (replica = new PartitionReplica(partition, this.store, this.ctx.env.clock, this.ctx.config.tombstoneGraceMs)));
    return replica;
  }

  ownsPartition(partition: number): boolean {
    return this.ctx.placement().owners(partition).includes(this.ctx.selfName);
  }

  /** Applies a record through the partition's actor, folding its version into the HLC. */
  apply(partition: number, key: string, record: Uint8Array): ApplyOutcome {
    this.hlc.observe(decodeRecord(record).version);
    const outcome = this.replicaFor(partition).apply(key, record);
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
        const replica = this.replicas.get(message.p);
        const ready = replica !== undefined && replica.ready && this.ownsPartition(message.p);
        this.ctx.send(from, { t: 'ra', id: message.id, r: replica?.read(message.k) ?? null, ready });
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
}
