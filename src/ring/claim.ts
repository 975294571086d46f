/**
 * The claim algorithm: which nodes hold each partition. A pure function of the member set (names,
 * zones and claim seeds), so every node computes the same assignment without any coordination or
 * history.
 *
 * Why not plain consistent hashing: with random tokens, or plain rendezvous (HRW) hashing, each
 * partition picks its owners independently, so a node's share is binomial: at 64 nodes x 1024
 * partitions x 3 replicas (mean 48 per node, sd ~7) the fullest node holds ~1.4x the mean. Riak
 * fixed balance with a claim that depends on join history (riak#348 is what goes wrong with it).
 *
 * What we do, in three steps:
 *
 * 1. Stratified, lattice-structured rendezvous scores (member-order.ts). Each node orders the Q
 *    partitions by an affine map over a prime field derived only from its own name and claim
 *    seed: score(p, i) = level of p in node i's order. Every node holds at most one score per
 *    level, instead of an independent random draw per partition, which roughly halves the spread
 *    of natural shares. Because a score depends on one member's attributes only, adding a node
 *    does not change how the others compare, which is what gives rendezvous hashing its minimal
 *    movement.
 *
 * 2. Chosen orders (claim-seed.ts). A joining member picks, once, the one of 64 candidate orders
 *    (its claim seed) that leaves the cluster's natural loads most even, and keeps it as a member
 *    attribute. This cuts the spread of natural shares at 64 nodes from about 3.8 replicas to
 *    about 1.5 (`npm run bench:ring-variants`), so few nodes reach the cap of step 3.
 *
 * 3. A capped global greedy. All (partition, node) pairs are taken in descending score order;
 *    a pair is accepted while its partition still needs replicas, the node holds fewer than `cap`
 *    partitions, and the partition's zone rule allows it (see `zoneCap`). The cap is the largest
 *    whole number within the balance target (1.10 x mean), so only the few nodes whose natural
 *    share is too large are trimmed, and their surplus goes to each partition's next-best node.
 *    This greedy computes the unique stable assignment for these scores, so it does not depend on
 *    anything but the member set.
 *
 * A partition left short (only possible when zone sizes are lopsided, e.g. one node alone in a
 * zone that every partition needs) is filled in a second pass that ignores the node cap; such a
 * cluster cannot be balanced at all, and `overflowed` reports how often it happened.
 *
 * Why step 2 matters: the cap is what makes a join or leave move more than the joiner's or
 * leaver's own share. Every size change moves the cap by about one replica, and each node sitting
 * at the cap must then shed or reclaim one partition unless the joiner happened to take exactly
 * one from it (the joiner's take from one node is ~Poisson(0.8) at 64 nodes). With orders fixed
 * by names alone, 10-15 of 64 nodes sat at the cap and a join or leave moved up to ~1.30x the
 * ideal share above 42 nodes; tighter caps, exact-quota (Maglev-style) fills and weights
 * corrected toward the mean all measured worse (`bench/ring/variants.ts`). With chosen orders the
 * worst measured is ~1.1x (`npm run bench:ring`, `npm run bench:ring-variants`).
 *
 * Determinism: integer scores, comparisons that break ties by member name, Array.prototype.sort
 * (stable by specification) with total comparators. `bench/ring/index.ts` measures balance and
 * movement.
 */
import { NO_PARTITION, memberOrder } from './member-order.ts';

/** Identifies this algorithm in the ring version, so nodes running a different claim never agree by accident. */
export const CLAIM_ALGORITHM_VERSION = 'affine-hrw-capped-3';

/** The balance target: no node holds more than this multiple of the mean number of partition replicas. */
export const MAX_LOAD_OVER_MEAN = 1.1;

export interface ClaimInput {
  /** Member names, sorted ascending, distinct. */
  readonly names: readonly string[];
  /** Zone of each member, parallel to `names`. */
  readonly zones: readonly string[];
  /** Claim seed of each member (claim-seed.ts), parallel to `names`. */
  readonly claimSeeds: readonly number[];
  readonly partitions: number;
  readonly replicas: number;
}

export interface Claim {
  /** Replicas actually held per partition: min(replicas, members). */
  readonly width: number;
  /** `preference[p * width + r]` is the member index of partition p's r-th replica, best score first. */
  readonly preference: Int32Array;
  /** `score[p * members + i]`: how strongly member i wants partition p (higher wins). */
  readonly score: Float64Array;
  /**
   * `ranking[p * members + k]` is the member index at place k of partition p's walk: its
   * preference list first, then every other member by descending score. Sloppy quorum walks it
   * to find the next node along the ring.
   */
  readonly ranking: Int32Array;
  /** Partition replicas held per member index. */
  readonly loads: Int32Array;
  /** The most partition replicas the greedy lets one member hold. */
  readonly cap: number;
  /** Replicas placed past the cap because the zone rule left no other choice. */
  readonly overflowed: number;
}

/**
 * The most replicas of one partition a single zone may hold: the smallest cap such that the zones
 * together can still fill `width` replicas. It is 1 (all zones distinct) when there are at least
 * `width` zones, and spreads replicas as evenly as the zones allow otherwise.
 */
export function zoneCap(zoneSizes: readonly number[], width: number): number {
  for (let cap = 1; cap < width; cap++) {
    let room = 0;
    for (const size of zoneSizes) room += Math.min(size, cap);
    if (room >= width) return cap;
  }
  return Math.max(width, 1);
}

/** The largest per-member load within MAX_LOAD_OVER_MEAN of the mean (but never below the mean). */
export function loadCap(partitions: number, width: number, members: number): number {
  const mean = (partitions * width) / members;
  // The tiny margin keeps floating-point rounding from ever landing exactly on 1.10.
  return Math.max(Math.ceil(mean), Math.floor(mean * MAX_LOAD_OVER_MEAN * (1 - 1e-9)));
}

/** Computes the assignment; see the module comment. */
export function claim(input: ClaimInput): Claim {
  const { names, partitions: q } = input;
  const n = names.length;
  const width = Math.min(input.replicas, n);

  const zoneIds = new Map<string, number>();
  const zoneOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const zone = input.zones[i]!;
    let id = zoneIds.get(zone);
    if (id === undefined) zoneIds.set(zone, (id = zoneIds.size));
    zoneOf[i] = id;
  }
  const zoneSizes = new Array<number>(zoneIds.size).fill(0);
  for (let i = 0; i < n; i++) zoneSizes[zoneOf[i]!]!++;
  const perZone = zoneCap(zoneSizes, width);
  const zones = zoneIds.size;

  const orders = names.map((name, i) => memberOrder(name, input.claimSeeds[i]!, q));
  const score = new Float64Array(q * n);
  for (let i = 0; i < n; i++) {
    const own = orders[i]!.score;
    for (let p = 0; p < q; p++) score[p * n + i] = own[p]!;
  }

  // Visits every (partition, member) pair by descending score; equal scores go to the earlier
  // name. Every member holds at most one score per level, so the pairs of level v are the pairs
  // (byLevel_i[v], i), and only those need sorting among themselves.
  const levels = orders[0]?.levels ?? 0;
  const level: number[] = [];
  const visitInScoreOrder = (visit: (p: number, i: number) => boolean): void => {
    for (let v = levels - 1; v >= 0; v--) {
      level.length = 0;
      for (let i = 0; i < n; i++) if (orders[i]!.byLevel[v] !== NO_PARTITION) level.push(i);
      const at = (i: number): number => score[orders[i]!.byLevel[v]! * n + i]!;
      level.sort((a, b) => at(b) - at(a) || a - b);
      for (const i of level) if (visit(orders[i]!.byLevel[v]!, i)) return;
    }
  };

  const cap = n === 0 ? 0 : loadCap(q, width, n);
  const loads = new Int32Array(n);
  const filled = new Int32Array(q);
  const zoneUse = new Int32Array(q * zones);
  const chosen = new Int32Array(q * width);
  const take = (p: number, i: number): void => {
    chosen[p * width + filled[p]!] = i;
    filled[p]!++;
    loads[i]!++;
    zoneUse[p * zones + zoneOf[i]!]!++;
  };
  const zoneAllows = (p: number, i: number): boolean => zoneUse[p * zones + zoneOf[i]!]! < perZone;

  let short = q;
  visitInScoreOrder((p, i) => {
    if (filled[p]! >= width || loads[i]! >= cap || !zoneAllows(p, i)) return false;
    take(p, i);
    if (filled[p] === width) short--;
    return short === 0;
  });

  let overflowed = 0;
  if (short > 0) {
    visitInScoreOrder((p, i) => {
      if (filled[p]! >= width || !zoneAllows(p, i) || holds(chosen, p, width, filled[p]!, i)) return false;
      take(p, i);
      overflowed++;
      return false;
    });
  }

  // Order each preference list best score first, so the primary is the strongest claimant; the
  // walk continues with everyone else in score order.
  const preference = new Int32Array(q * width);
  const ranking = new Int32Array(q * n);
  const inList = new Uint8Array(n);
  for (let p = 0; p < q; p++) {
    const byScore = (a: number, b: number): number => score[p * n + b]! - score[p * n + a]! || a - b;
    const row = Array.from(chosen.subarray(p * width, (p + 1) * width)).sort(byScore);
    preference.set(row, p * width);
    for (const i of row) inList[i] = 1;
    const rest = Array.from({ length: n }, (_, i) => i).filter((i) => inList[i] === 0).sort(byScore);
    for (const i of row) inList[i] = 0;
    ranking.set(row, p * n);
    ranking.set(rest, p * n + width);
  }
  return { width, preference, score, ranking, loads, cap, overflowed };
}

function holds(chosen: Int32Array, p: number, width: number, count: number, i: number): boolean {
  for (let r = 0; r < count; r++) if (chosen[p * width + r] === i) return true;
  return false;
}
