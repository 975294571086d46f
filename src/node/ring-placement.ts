/**
 * Adapts src/ring's Ring to replication's Placement. Which members hold data: everyone membership
 * still remembers except those that left, those leaving (meta `leaving`), those drained (meta
 * `draining`: drain.ts) and those still joining (no claim seed chosen yet, meta `claimSeed`), so
 * a crash does not move partitions (sloppy quorum, hints and catch-up cover a down node) while a
 * join, a leave or a drain does.
 */
import type { Member } from '../gossip/membership.ts';
import { buildRing } from '../ring/ring.ts';
import type { RingMember } from '../ring/ring.ts';
import { isClaimSeed } from '../ring/member-order.ts';
import { keySlot, slotToPartition } from '../ring/slots.ts';
import type { Placement } from '../replication/context.ts';

/** Member metadata keys the ring reads. */
export const RING_META = {
  /** Set (1) while the member hands its partitions off before leaving. */
  leaving: 'leaving',
  /** Set (1) while the member is drained: a live member that holds no partitions (drain.ts). */
  draining: 'draining',
  /** The member's claim seed (src/ring/claim-seed.ts), chosen when it first joins. */
  claimSeed: 'claimSeed',
  /**
   * The ring the member routes by (announcedRing: a prefix of its version), set at every ring it
   * installs: a peer keeping a joint quorum over an older ring sees it past that ring within a
   * gossip round, even if it dies before answering a sync (ring-lifecycle.ts, retireJointRings).
   */
  ring: 'ring',
} as const;

/** The metadata form of a ring version: 64 bits of it (the full digest is 128; metadata rides on every probe). */
export function announcedRing(version: string): string {
  return version.slice(0, 16);
}

/** Whether a member holds partitions. */
export function holdsData(member: Member): boolean {
  return member.state !== 'left' && !member.meta[RING_META.leaving] && !member.meta[RING_META.draining] && isClaimSeed(member.meta[RING_META.claimSeed]);
}

/** Builds the placement from the members that hold data (the caller filters with `holdsData`). */
export function buildPlacement(members: readonly Member[], partitions: number, replicas: number): Placement {
  // The last member leaving (or a lone node stopping) leaves nobody to place data on.
  if (members.length === 0) return emptyPlacement(partitions, 'no-members');
  const ringMembers = members.map(ringMemberOf).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const ring = buildRing({ members: ringMembers, partitions, replicas });
  // Preference lists are read on every request and every sync round: build each array once.
  const owners: (readonly string[])[] = [];
  for (let p = 0; p < partitions; p++) owners.push(ring.preferenceList(p));
  return {
    version: ring.version,
    partitions,
    width: ring.width,
    members: ringMembers,
    owners: (p) => owners[p] ?? [],
    ranking: (p) => ring.walk(p),
    partitionOfKey: (key) => slotToPartition(keySlot(key), partitions),
  };
}

/**
 * A placement with no members, for a node that has not joined a cluster yet or whose cluster has
 * no data-holding member left: it owns nothing, coordinates nothing (every request is
 * `unavailable`) and counts towards no quorum.
 */
export function emptyPlacement(partitions: number, version = 'not-joined'): Placement {
  return {
    version,
    partitions,
    width: 0,
    members: [],
    owners: () => [],
    ranking: () => [],
    partitionOfKey: (key) => slotToPartition(keySlot(key), partitions),
  };
}

/** The ring's view of a member that holds data. */
export function ringMemberOf(member: Member): RingMember & { zone: string } {
  return { name: member.name, zone: member.zone, claimSeed: Number(member.meta[RING_META.claimSeed]) };
}

/** A cheap identity of a ring's inputs (names, zones and claim seeds), to skip rebuilding an unchanged ring. */
export function ringInputsKey(members: readonly Member[]): string {
  return members
    .map((m) => `${m.name}\u0000${m.zone}\u0000${m.meta[RING_META.claimSeed]}`)
    .sort()
    .join('\u0001');
}
