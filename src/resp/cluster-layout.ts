/**
 * The ring as Redis Cluster clients see it: which node is each slot's primary and which are its
 * replicas, with adjacent slot ranges of the same nodes merged. A pure function of the ring (a
 * TopologySnapshot) and the members' liveness and RESP addresses, built once per change.
 *
 * A partition's primary is its first owner (in preference-list order) that is not dead and has a
 * RESP listener: the node read-modify-write runs on. Its other such owners are its replicas. A
 * partition with no such owner has no slot range (clients see its slots unassigned).
 */
import type { TopologySnapshot } from '../replication/api.ts';
import { partitionSlotRange, slotToPartition, SLOT_COUNT } from '../ring/slots.ts';
import type { ClusterMember } from './cluster-view.ts';

export interface SlotRange {
  /** First and last slot, inclusive. */
  readonly start: number;
  readonly end: number;
  readonly primary: ClusterMember;
  readonly replicas: readonly ClusterMember[];
}

/** CLUSTER INFO's slot counts and state. */
export interface SlotHealth {
  /** Every partition has an owner that is not dead (its data is reachable). */
  ok: boolean;
  assigned: number;
  /** Slots whose primary is alive / suspect; `fail` is the rest of the assigned ones. */
  slotsOk: number;
  slotsPfail: number;
  slotsFail: number;
}

export class ClusterLayout {
  readonly partitions: number;
  /** The Redis-visible primary of each partition, or null. */
  private readonly primaries: (ClusterMember | null)[] = [];
  private readonly replicaLists: (readonly ClusterMember[])[] = [];
  private merged: SlotRange[] | null = null;

  constructor(
    private readonly topology: TopologySnapshot,
    private readonly members: ReadonlyMap<string, ClusterMember>,
    readonly selfName: string,
  ) {
    this.partitions = topology.partitions;
    for (let p = 0; p < topology.partitions; p++) {
      let primary: ClusterMember | null = null;
      const replicas: ClusterMember[] = [];
      for (const name of topology.owners[p] ?? []) {
        const member = members.get(name);
        if (member === undefined || member.liveness === 'dead' || member.resp === null) continue;
        if (primary === null) primary = member;
        else replicas.push(member);
      }
      this.primaries.push(primary);
      this.replicaLists.push(replicas);
    }
  }

  /** The partition that holds `slot`. */
  partitionOfSlot(slot: number): number {
    return slotToPartition(slot, this.partitions);
  }

  /** The Redis-visible primary of a partition, or null when no owner is reachable over RESP. */
  primaryOf(partition: number): ClusterMember | null {
    return this.primaries[partition] ?? null;
  }

  /** Whether `name` is in the partition's preference list (primary or replica). */
  isOwner(partition: number, name: string): boolean {
    return (this.topology.owners[partition] ?? []).includes(name);
  }

  /** Slot ranges in slot order, adjacent ranges with the same primary and replicas merged. */
  ranges(): readonly SlotRange[] {
    if (this.merged !== null) return this.merged;
    const out: SlotRange[] = [];
    for (let p = 0; p < this.partitions; p++) {
      const primary = this.primaries[p]!;
      if (primary === null) continue;
      const replicas = this.replicaLists[p]!;
      const [start, end] = partitionSlotRange(p, this.partitions);
      const last = out[out.length - 1];
      if (last !== undefined && last.end === start - 1 && last.primary === primary && sameMembers(last.replicas, replicas)) {
        out[out.length - 1] = { ...last, end };
      } else {
        out.push({ start, end, primary, replicas });
      }
    }
    this.merged = out;
    return out;
  }

  /** Each member's primary slot runs (CLUSTER NODES), adjacent runs merged whatever their replicas. */
  primarySlots(name: string): [start: number, end: number][] {
    const runs: [number, number][] = [];
    for (const range of this.ranges()) {
      if (range.primary.name !== name) continue;
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === range.start - 1) last[1] = range.end;
      else runs.push([range.start, range.end]);
    }
    return runs;
  }

  /** Distinct primaries: Redis's cluster_size (masters serving at least one slot). */
  size(): number {
    return new Set(this.ranges().map((r) => r.primary.name)).size;
  }

  health(): SlotHealth {
    let ok = this.partitions > 0;
    let assigned = 0;
    let slotsOk = 0;
    let slotsPfail = 0;
    for (let p = 0; p < this.partitions; p++) {
      const owners = this.topology.owners[p] ?? [];
      const [start, end] = partitionSlotRange(p, this.partitions);
      const slots = end - start + 1;
      if (owners.length > 0) assigned += slots;
      if (!owners.some((name) => this.members.get(name)?.liveness !== undefined && this.members.get(name)?.liveness !== 'dead')) ok = false;
      const primary = this.primaries[p];
      if (primary?.liveness === 'alive') slotsOk += slots;
      else if (primary?.liveness === 'suspect') slotsPfail += slots;
    }
    if (assigned < SLOT_COUNT) ok = false;
    return { ok, assigned, slotsOk, slotsPfail, slotsFail: assigned - slotsOk - slotsPfail };
  }
}

function sameMembers(a: readonly ClusterMember[], b: readonly ClusterMember[]): boolean {
  return a.length === b.length && a.every((m, i) => m === b[i]);
}
