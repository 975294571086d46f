/**
 * The claim seed: which of CLAIM_SEEDS candidate partition orders (member-order.ts) a member uses.
 * A member chooses it once, when it joins, as the candidate that leaves the natural loads of the
 * cluster it joins most even; it is then a member attribute like the zone (gossiped in the
 * member's metadata, kept across restarts), so the ring stays a pure function of the member set.
 *
 * Why: the claim (claim.ts) caps every node at 1.10x the mean, and the cap is what makes a join
 * or leave move more than the joiner's or leaver's own share: each size change moves the cap by
 * about one replica, and every node sitting at it sheds or reclaims one. How many nodes sit at the
 * cap depends on the spread of natural (uncapped) loads, and with orders fixed by names alone that
 * spread is about 4 replicas at 64 nodes (mean 48), which put 10-15 nodes at the cap and moved up
 * to 1.30x the ideal share. Choosing the best of 64 orders at each join is the "power of choices"
 * applied to placement: the spread falls to about 1.5 (`npm run bench:ring-variants`) and the
 * worst join or leave measured moves about 1.11x (`npm run bench:ring`, seeds 1..7). It is the same idea as Cassandra's token allocation for new nodes, which
 * picks tokens against the current ring, except that only a small integer is chosen and stored.
 *
 * What the choice cannot do: a leave is never chosen, so a long run of leaves without joins lets
 * the spread drift back towards the unchosen one. Each later join pulls it back.
 */
import { zoneCap } from './claim.ts';
import { CLAIM_SEEDS, memberOrder } from './member-order.ts';
import { DEFAULT_ZONE } from './ring.ts';
import type { RingMember } from './ring.ts';

/**
 * The claim seed for `joiner` joining `members` (each with the seed it chose; a member with the
 * joiner's name is ignored): the candidate minimising the sum of squared deviations of natural
 * loads from the mean, lowest seed on ties. Natural load: the partitions a member would hold if
 * every partition simply took its best-scoring members (zone rule applied, no load cap).
 */
export function chooseClaimSeed(members: readonly RingMember[], joiner: RingMember, partitions: number, replicas: number): number {
  const others = members.filter((m) => m.name !== joiner.name);
  const n = others.length + 1;
  const width = Math.min(replicas, n);
  // With width == n every member holds every partition whatever its order.
  if (width === n) return 0;

  const zoneIds = new Map<string, number>();
  const zoneIdOf = (zone: string | undefined): number => {
    const key = zone ?? DEFAULT_ZONE;
    let id = zoneIds.get(key);
    if (id === undefined) zoneIds.set(key, (id = zoneIds.size));
    return id;
  };
  const zoneOf = Int32Array.from(others, (m) => zoneIdOf(m.zone));
  const joinerZone = zoneIdOf(joiner.zone);
  const zoneSizes = new Array<number>(zoneIds.size).fill(0);
  for (const z of zoneOf) zoneSizes[z]!++;
  zoneSizes[joinerZone]!++;
  const perZone = zoneCap(zoneSizes, width);

  const scores = others.map((m) => memberOrder(m.name, m.claimSeed ?? 0, partitions).score);
  // Every partition's members by descending score (ties: the earlier name, as in the claim).
  const byScore = others.map((_, i) => i);
  const ranked: Int32Array[] = [];
  const baseLoads = new Float64Array(n);
  const baseCut = new Float64Array(partitions); // score of the last member a partition took
  const baseFull = new Uint8Array(partitions);
  const zoneUse = new Int32Array(zoneIds.size);
  for (let p = 0; p < partitions; p++) {
    byScore.sort((a, b) => scores[b]![p]! - scores[a]![p]! || compareNames(others[a]!.name, others[b]!.name));
    const row = Int32Array.from(byScore);
    ranked.push(row);
    zoneUse.fill(0);
    let taken = 0;
    for (const i of row) {
      if (zoneUse[zoneOf[i]!]! >= perZone) continue;
      zoneUse[zoneOf[i]!]!++;
      baseLoads[i]!++;
      baseCut[p] = scores[i]![p]!;
      if (++taken === width) break;
    }
    baseFull[p] = taken === width ? 1 : 0;
  }

  const mean = (partitions * width) / n;
  let best = 0;
  let bestCost = Infinity;
  const loads = new Float64Array(n);
  let taken = 0; // holders retake has counted so far for the partition it redoes
  for (let seed = 0; seed < CLAIM_SEEDS; seed++) {
    const own = memberOrder(joiner.name, seed, partitions).score;
    loads.set(baseLoads);
    for (let p = 0; p < partitions; p++) {
      // The joiner changes partition p only if it outscores the member p took last (or p had room).
      if (baseFull[p] === 1 && own[p]! < baseCut[p]!) continue;
      retake(p, own[p]!);
    }
    let cost = 0;
    for (let i = 0; i < n; i++) cost += (loads[i]! - mean) ** 2;
    if (cost < bestCost) {
      bestCost = cost;
      best = seed;
    }
  }
  return best;

  // Redoes partition p's natural holders with the joiner (index n - 1, score `s`) in the race.
  function retake(p: number, s: number): void {
    const row = ranked[p]!;
    zoneUse.fill(0);
    taken = 0;
    for (const i of row) {
      if (taken === width) break;
      if (zoneUse[zoneOf[i]!]! >= perZone) continue;
      zoneUse[zoneOf[i]!]!++;
      loads[i]!--;
      taken++;
    }
    zoneUse.fill(0);
    taken = 0;
    let joinerIn = false;
    for (const i of row) {
      const other = scores[i]![p]!;
      if (!joinerIn && (s > other || (s === other && compareNames(joiner.name, others[i]!.name) < 0))) {
        joinerIn = true;
        if (takeIsLast(n - 1, joinerZone)) return;
      }
      if (takeIsLast(i, zoneOf[i]!)) return;
    }
    if (!joinerIn) takeIsLast(n - 1, joinerZone);
  }

  // Member i (in `zone`) holds the partition retake redoes if its zone has room; true when that
  // filled the last place. A function of chooseClaimSeed, not a closure made on each retake call:
  // under tsx every named closure costs a defineProperty each time it is created.
  function takeIsLast(i: number, zone: number): boolean {
    if (zoneUse[zone]! >= perZone) return false;
    zoneUse[zone]!++;
    loads[i]!++;
    return ++taken === width;
  }
}

/**
 * `joiners` as they would be after joining `existing` one at a time in the given order, each
 * choosing its claim seed against those before it. This is how the simulator, tests and
 * benchmarks build a realistic member set from names: a cluster that grew by joins.
 */
export function joinInOrder(
  joiners: readonly RingMember[],
  partitions: number,
  replicas: number,
  existing: readonly RingMember[] = [],
): RingMember[] {
  const all = [...existing];
  for (const m of joiners) all.push({ ...m, claimSeed: chooseClaimSeed(all, m, partitions, replicas) });
  return all.slice(existing.length);
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
