/**
 * One member's view of the partitions: the order in which it wants them, derived from its name and
 * its claim seed alone (so adding or removing another member never changes how two members
 * compare). The claim seed picks one of CLAIM_SEEDS candidate orders per name; a member chooses it
 * once, when it joins (claim-seed.ts).
 *
 * The order is an affine map over the prime field GF(P), P the smallest prime above Q:
 * level(p) = (a * p + b) mod P, with a != 0 and b drawn from the member's name hash. Like a
 * pseudo-random permutation it gives every member exactly one partition per level (stratified, so
 * no member is born lucky), but two members' orders are no longer independent: their levels lie
 * on a lattice line, so across the partitions each pair of members splits the wins nearly
 * evenly. That trims the spread of natural loads at large clusters a little (sd of replicas per
 * node at 48 nodes: 4.0 against 4.3 for independent permutations, `bench/ring/variants.ts`), and
 * the nodes pushed over the balance cap are what drives the claim's movement; see claim.ts.
 *
 * P - Q levels hold no partition (7 of 1031 at Q = 1024), a different few for every member.
 */
import { hashPair, murmur3String } from '../protocol/hash.ts';

/** Seeds the orders. Changing it reshuffles every cluster: bump CLAIM_ALGORITHM_VERSION too. */
const ORDER_SEED = 0x7368_6f61; // "shoa"

/** Jitter bits under the level: break ties between two members that put a partition on the same level. */
const JITTER_BITS = 16;

/** How many candidate orders each name has: the claim seeds a member may choose from (claim-seed.ts). */
export const CLAIM_SEEDS = 64;

/** Whether `x` is a claim seed a member may carry. */
export function isClaimSeed(x: unknown): x is number {
  return Number.isInteger(x) && (x as number) >= 0 && (x as number) < CLAIM_SEEDS;
}

/** Marks a level of `byLevel` that holds no partition. */
export const NO_PARTITION = -1;

export interface MemberOrder {
  /** P: the number of levels. */
  readonly levels: number;
  /** `byLevel[v]` is the partition this member puts on level v (higher = wanted more), or NO_PARTITION. */
  readonly byLevel: Int32Array;
  /** score(p) = level(p) * 2^JITTER_BITS + jitter(p): distinct per member, comparable across members. */
  readonly score: Float64Array;
}

/** The smallest prime strictly greater than `n` (n >= 1). Trial division: called once per Q. */
export function smallestPrimeAbove(n: number): number {
  for (let candidate = n + 1; ; candidate++) {
    if (candidate < 2) continue;
    let prime = true;
    for (let d = 2; d * d <= candidate; d++) {
      if (candidate % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) return candidate;
  }
}

/**
 * Orders are pure functions of (name, Q), and the same names come back on every membership
 * change, so they are memoised. The bound only caps memory under heavy churn of names.
 */
const MEMBER_ORDER_CACHE_LIMIT = 4096;
const memberOrderCache = new Map<string, MemberOrder>();
const primeCache = new Map<number, number>();

export function memberOrder(name: string, claimSeed: number, partitions: number): MemberOrder {
  const cacheKey = `${partitions}:${claimSeed}:${name}`;
  const cached = memberOrderCache.get(cacheKey);
  if (cached) return cached;
  let levels = primeCache.get(partitions);
  if (levels === undefined) primeCache.set(partitions, (levels = smallestPrimeAbove(partitions)));
  const seed = hashPair(murmur3String(name, ORDER_SEED), claimSeed, ORDER_SEED);
  const a = 1 + (hashPair(seed, 0, ORDER_SEED) % (levels - 1));
  const b = hashPair(seed, 1, ORDER_SEED) % levels;
  const byLevel = new Int32Array(levels).fill(NO_PARTITION);
  const score = new Float64Array(partitions);
  const jitterMask = (1 << JITTER_BITS) - 1;
  for (let p = 0; p < partitions; p++) {
    // a * p + b < 2^41 for Q <= 2^20: exact in a double.
    const level = (a * p + b) % levels;
    byLevel[level] = p;
    score[p] = level * (jitterMask + 1) + (hashPair(seed, p, ORDER_SEED + 1) & jitterMask);
  }
  const order = { levels, byLevel, score };
  if (memberOrderCache.size >= MEMBER_ORDER_CACHE_LIMIT) memberOrderCache.clear();
  memberOrderCache.set(cacheKey, order);
  return order;
}
