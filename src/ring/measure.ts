/**
 * Measurements of the claim algorithm against its targets (issue 4): balance (max/mean partition
 * replicas per node, primaries and replicas counted alike) and movement (partition replicas that
 * change holder when one node joins or leaves, over the ideal share). Used by the benchmark, the
 * `ring-balance` / `ring-move` simulator scenarios and the property tests.
 */
import { MAX_LOAD_OVER_MEAN } from './claim.ts';
import { chooseClaimSeed, joinInOrder } from './claim-seed.ts';
import { diffRings } from './diff.ts';
import { DEFAULT_PARTITION_COUNT } from './partition.ts';
import { DEFAULT_REPLICAS, buildRing } from './ring.ts';
import type { Ring, RingMember } from './ring.ts';

/** Target for measureBalance's maxOverMean. */
export const BALANCE_TARGET = MAX_LOAD_OVER_MEAN;
/** Target for measureMovement's movedOverIdeal, for a join and for a leave. */
export const MOVEMENT_TARGET = 1.2;

export interface MeasureOptions {
  readonly partitions?: number;
  readonly replicas?: number;
  /** Spread members round-robin over this many zones (default: one zone). */
  readonly zones?: number;
  /** Joins and leaves tried per size; movement reports the worst. Default 4. */
  readonly trials?: number;
  /** Picks the member names (see sampleMembers). Default 1. */
  readonly seed?: number;
}

/**
 * A deterministic member set of `count` nodes named `node-0`.. (`s<seed>-node-0`.. for another
 * seed, so a sweep of seeds measures different name sets), zones `zone-0`.. round-robin, each
 * with the claim seed it would have chosen joining in name order (claim-seed.ts): the cluster a
 * node sees after growing by joins.
 */
export function sampleMembers(
  count: number,
  zones = 1,
  seed = 1,
  partitions = DEFAULT_PARTITION_COUNT,
  replicas = DEFAULT_REPLICAS,
): RingMember[] {
  const prefix = seed === 1 ? 'node-' : `s${seed}-node-`;
  const key = `${prefix}/${zones}/${partitions}/${replicas}`;
  // Joining in order makes every sample a prefix of the next larger one: grow the cached one.
  let grown = sampleCache.get(key) ?? [];
  if (grown.length < count) {
    const names = Array.from({ length: count }, (_, i) => ({ name: `${prefix}${i}`, zone: `zone-${i % zones}` }));
    grown = [...grown, ...joinInOrder(names.slice(grown.length), partitions, replicas, grown)];
    sampleCache.set(key, grown);
  }
  return grown.slice(0, count);
}
const sampleCache = new Map<string, RingMember[]>();

export interface Balance {
  readonly nodes: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly maxOverMean: number;
}

/** Balance of a built ring. */
export function balanceOf(ring: Ring): Balance {
  const loads = ring.members.map((name) => ring.loadOf(name));
  const mean = (ring.partitions * ring.width) / ring.members.length;
  const max = Math.max(...loads);
  return { nodes: ring.members.length, mean, min: Math.min(...loads), max, maxOverMean: max / mean };
}

/** Balance of the ring for `nodes` sample members. */
export function measureBalance(nodes: number, options: MeasureOptions = {}): Balance {
  const size = ringSize(options);
  return balanceOf(buildRing({ members: sampleMembers(nodes, options.zones, options.seed, size.partitions, size.replicas), ...size }));
}

/** Partition replicas that gain a holder going from `before` to `after`. */
export function movedReplicas(before: Ring, after: Ring): number {
  return diffRings(before, after).reduce((sum, move) => sum + move.toNodes.length, 0);
}

export interface Movement {
  readonly moved: number;
  /** The ideal: the joiner's fair share of the new ring, or the leaver's fair share of the old one. */
  readonly ideal: number;
  readonly movedOverIdeal: number;
}

export interface MovementReport {
  readonly nodes: number;
  /** The worst of `trials` joins of a new node to `nodes` members. */
  readonly join: Movement;
  /** The worst of `trials` leaves of one of `nodes` members (null below N + 1 nodes, where nothing can move). */
  readonly leave: Movement | null;
}

/** Movement of the join that takes `before` to `after` (which must have one more member). */
export function joinMovement(before: Ring, after: Ring): Movement {
  const moved = movedReplicas(before, after);
  const ideal = (after.partitions * after.width) / after.members.length;
  return { moved, ideal, movedOverIdeal: moved / ideal };
}

/** Movement of the leave that takes `before` to `after` (which must have one member fewer). */
export function leaveMovement(before: Ring, after: Ring): Movement {
  const moved = movedReplicas(before, after);
  const ideal = (before.partitions * before.width) / before.members.length;
  return { moved, ideal, movedOverIdeal: moved / ideal };
}

/** Worst-case join and leave movement around `nodes` sample members. */
export function measureMovement(nodes: number, options: MeasureOptions = {}): MovementReport {
  const trials = options.trials ?? 4;
  const size = ringSize(options);
  const zones = options.zones ?? 1;
  const members = sampleMembers(nodes, zones, options.seed, size.partitions, size.replicas);
  const ring = buildRing({ members, ...size });
  let join: Movement | null = null;
  let leave: Movement | null = null;
  for (let t = 0; t < trials; t++) {
    const named = { name: `joiner-${t}-s${options.seed ?? 1}`, zone: `zone-${(nodes + t) % zones}` };
    const joiner = { ...named, claimSeed: chooseClaimSeed(members, named, size.partitions, size.replicas) };
    const j = joinMovement(ring, buildRing({ members: [...members, joiner], ...size }));
    if (!join || j.movedOverIdeal > join.movedOverIdeal) join = j;
    // Nothing moves when a leave still leaves every member holding every partition.
    if (nodes - 1 >= ring.replicas && nodes > 1) {
      const leaver = Math.floor((nodes * t) / trials);
      const l = leaveMovement(ring, buildRing({ members: members.filter((_, i) => i !== leaver), ...size }));
      if (!leave || l.movedOverIdeal > leave.movedOverIdeal) leave = l;
    }
  }
  return { nodes, join: join!, leave };
}

function ringSize(options: MeasureOptions): { partitions: number; replicas: number } {
  return { partitions: options.partitions ?? DEFAULT_PARTITION_COUNT, replicas: options.replicas ?? DEFAULT_REPLICAS };
}
