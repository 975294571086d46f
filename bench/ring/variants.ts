/**
 * Compares claim-algorithm variants on the movement target (issue 4), one zone, Q = 1024, N = 3:
 * how often a join or a leave moves more than 1.2x the ideal share, over many member sets. This
 * is the experiment behind the choices in src/ring/claim.ts and member-order.ts; the variants
 * other than `shipped` are re-implemented here (plainly, by sorting all pairs) and never used by
 * the node.
 *
 *   npx tsx bench/ring/variants.ts [--min 44] [--max 64] [--seeds 4] [--only name,name]
 *
 * Variants:
 *   shipped      buildRing: each member's claim seed chosen when it joins (best of 64 orders, in
 *                name order; src/ring/claim-seed.ts), affine orders over GF(P), capped greedy
 *                (cap = floor(1.10 x mean))
 *   unchosen     the same with every claim seed 0: orders fixed by names alone (claim v2)
 *   permutation  independent pseudo-random permutation per node + the same capped greedy (claim v1)
 *   cap-1.05     permutation orders, cap = floor(1.05 x mean): more nodes sit at the cap
 *   cap-ceil+1   permutation orders, cap = ceil(mean) + 1
 *   maglev       permutation orders, nodes take turns claiming their next wanted partition that
 *                still needs a replica (exact quotas, Maglev-style population)
 * It also prints the natural spread behind them: the standard deviation of replicas per node when
 * every partition simply takes its top N scores (no cap), at --max nodes over 16 member sets, for
 * the permutation orders, the affine orders by name alone, and the affine orders with chosen
 * claim seeds.
 * Prints a table on stderr and JSON on stdout.
 */
import { buildRing, chooseClaimSeed, murmur3String } from '../../src/ring/index.ts';
import type { RingMember } from '../../src/ring/index.ts';
import { hashPair } from '../../src/protocol/hash.ts';
import { memberOrder } from '../../src/ring/member-order.ts';
import { benchArgs } from '../help.ts';

const flags = benchArgs('npm run bench:ring-variants --', {
  min: { kind: 'number', description: 'smallest cluster', default: 44 },
  max: { kind: 'number', description: 'largest cluster', default: 64 },
  seeds: { kind: 'number', description: 'member sets per cluster size', default: 4 },
  only: { kind: 'string', value: 'name,name', description: 'comma-separated variants to run (shipped, unchosen, permutation, cap-1.05, cap-ceil+1, maglev). Default: all' },
});

const Q = 1024;
const N = 3;
const TARGET = 1.2;
const TRIALS = 4;

const min = Number(flags.min);
const max = Number(flags.max);
const seeds = Number(flags.seeds);
const only = flags.only === undefined ? null : new Set((flags.only as string).split(','));

/** Holder names per partition. */
type Assign = (names: readonly string[]) => string[][];

/**
 * Claim seeds by name, chosen the first time a name is assigned, against the names assigned with
 * it that already have one: a base set joins in name order, a joiner chooses against the base, and
 * a leave keeps everyone's seed, as in a real cluster.
 */
const chosenSeeds = new Map<string, number>();
function withChosenSeeds(names: readonly string[]): RingMember[] {
  const members: RingMember[] = [];
  for (const name of names) {
    let claimSeed = chosenSeeds.get(name);
    if (claimSeed === undefined) chosenSeeds.set(name, (claimSeed = chooseClaimSeed(members, { name }, Q, N)));
    members.push({ name, claimSeed });
  }
  return members;
}

const ringAssign =
  (membersOf: (names: readonly string[]) => RingMember[]): Assign =>
  (names) => {
    const ring = buildRing({ members: membersOf(names), partitions: Q, replicas: N });
    return Array.from({ length: Q }, (_, p) => [...ring.preferenceList(p)]);
  };
const shipped = ringAssign(withChosenSeeds);
const unchosen = ringAssign((names) => names.map((name) => ({ name })));

const permCache = new Map<string, Float64Array>();
/** Claim v1's orders: a pseudo-random permutation of the partitions per node, ties broken by jitter. */
function permutationScores(name: string): Float64Array {
  let score = permCache.get(name);
  if (score) return score;
  const seed = murmur3String(name, 0x7368_6f61);
  const draw = Array.from({ length: Q }, (_, p) => hashPair(seed, p, 0x7368_6f61) * Q + p);
  const byRank = Array.from({ length: Q }, (_, p) => p).sort((a, b) => draw[a]! - draw[b]!);
  score = new Float64Array(Q);
  byRank.forEach((p, rank) => (score![p] = rank * 65536 + (hashPair(seed, p, 0x7368_6f62) & 65535)));
  permCache.set(name, score);
  return score;
}

function cappedGreedy(capOf: (mean: number) => number): Assign {
  return (names) => {
    const n = names.length;
    const scores = names.map(permutationScores);
    const pairs = Array.from({ length: Q * n }, (_, k) => k).sort(
      (a, b) => scores[b % n]![Math.floor(b / n)]! - scores[a % n]![Math.floor(a / n)]! || (a % n) - (b % n),
    );
    const cap = capOf((Q * N) / n);
    const loads = new Int32Array(n);
    const out: string[][] = Array.from({ length: Q }, () => []);
    for (const k of pairs) {
      const p = Math.floor(k / n);
      const i = k % n;
      if (out[p]!.length < N && loads[i]! < cap) {
        out[p]!.push(names[i]!);
        loads[i]!++;
      }
    }
    if (out.some((holders) => holders.length < N)) throw new Error(`cap ${cap} cannot place every replica at ${n} nodes`);
    return out;
  };
}

const maglev: Assign = (names) => {
  const n = names.length;
  const orders = names.map((name) => {
    const s = permutationScores(name);
    return Array.from({ length: Q }, (_, p) => p).sort((a, b) => s[b]! - s[a]!);
  });
  const turns = Array.from({ length: n }, (_, i) => i).sort((a, b) => murmur3String(names[a]!, 99) - murmur3String(names[b]!, 99));
  const next = new Int32Array(n);
  const out: string[][] = Array.from({ length: Q }, () => []);
  for (let left = Q * N; left > 0; ) {
    for (const i of turns) {
      if (left === 0) break;
      const order = orders[i]!;
      while (next[i]! < Q && (out[order[next[i]!]!]!.length >= N || out[order[next[i]!]!]!.includes(names[i]!))) next[i]!++;
      if (next[i]! >= Q) continue;
      out[order[next[i]!]!]!.push(names[i]!);
      next[i]!++;
      left--;
    }
  }
  return out;
};

const variants: Record<string, Assign> = {
  shipped,
  unchosen,
  permutation: cappedGreedy((mean) => Math.max(Math.ceil(mean), Math.floor(mean * 1.1 * (1 - 1e-9)))),
  'cap-1.05': cappedGreedy((mean) => Math.max(Math.ceil(mean), Math.floor(mean * 1.05))),
  'cap-ceil+1': cappedGreedy((mean) => Math.ceil(mean) + 1),
  maglev,
};

function moved(before: string[][], after: string[][]): number {
  let count = 0;
  for (let p = 0; p < Q; p++) for (const name of after[p]!) if (!before[p]!.includes(name)) count++;
  return count;
}

const results: Record<string, { worstMaxOverMean: number; worstMovedOverIdeal: number; meanMovedOverIdeal: number; missed: number; cases: number }> = {};
for (const [label, assign] of Object.entries(variants)) {
  if (only && !only.has(label)) continue;
  let worstBalance = 0;
  let worstMove = 0;
  let sum = 0;
  let missed = 0;
  let cases = 0;
  for (let nodes = min; nodes <= max; nodes++) {
    for (let seed = 1; seed <= seeds; seed++) {
      const names = Array.from({ length: nodes }, (_, i) => `v${seed}-node-${i}`);
      const base = assign(names);
      const loads = new Map<string, number>();
      for (const holders of base) for (const name of holders) loads.set(name, (loads.get(name) ?? 0) + 1);
      worstBalance = Math.max(worstBalance, Math.max(...loads.values()) / ((Q * N) / nodes));
      for (let t = 0; t < TRIALS; t++) {
        const join = moved(base, assign([...names, `v${seed}-joiner-${t}`])) / ((Q * N) / (nodes + 1));
        const leave = moved(base, assign(names.filter((_, i) => i !== Math.floor((nodes * t) / TRIALS)))) / ((Q * N) / nodes);
        for (const ratio of [join, leave]) {
          cases++;
          sum += ratio;
          if (ratio > TARGET) missed++;
          worstMove = Math.max(worstMove, ratio);
        }
      }
    }
  }
  const r = (x: number) => Math.round(x * 1000) / 1000;
  results[label] = { worstMaxOverMean: r(worstBalance), worstMovedOverIdeal: r(worstMove), meanMovedOverIdeal: r(sum / cases), missed, cases };
  process.stderr.write(
    `${label.padEnd(12)} max/mean ${r(worstBalance).toFixed(3)}  moved/ideal worst ${r(worstMove).toFixed(3)} mean ${r(sum / cases).toFixed(3)}  over ${TARGET}: ${missed}/${cases}\n`,
  );
}
/** Standard deviation of uncapped top-N loads, averaged over `sets` member sets of `nodes` nodes. */
function naturalSpread(scoresOf: (names: string[]) => Float64Array[], nodes: number, sets: number): number {
  let total = 0;
  for (let set = 1; set <= sets; set++) {
    const scores = scoresOf(Array.from({ length: nodes }, (_, i) => `spread${set}-node-${i}`));
    const loads = new Array<number>(nodes).fill(0);
    for (let p = 0; p < Q; p++) {
      const top = Array.from({ length: nodes }, (_, i) => i).sort((a, b) => scores[b]![p]! - scores[a]![p]!);
      for (let r = 0; r < N; r++) loads[top[r]!]!++;
    }
    const mean = (Q * N) / nodes;
    total += Math.sqrt(loads.reduce((sum, load) => sum + (load - mean) ** 2, 0) / nodes);
  }
  return Math.round((total / sets) * 100) / 100;
}
const spread = {
  nodes: max,
  permutation: naturalSpread((names) => names.map(permutationScores), max, 16),
  affine: naturalSpread((names) => names.map((name) => memberOrder(name, 0, Q).score), max, 16),
  chosen: naturalSpread((names) => withChosenSeeds(names).map((m) => memberOrder(m.name, m.claimSeed!, Q).score), max, 16),
};
process.stderr.write(
  `natural spread at ${max} nodes (sd of replicas per node, no cap): permutation ${spread.permutation}, affine ${spread.affine}, chosen claim seeds ${spread.chosen}\n`,
);
process.stdout.write(JSON.stringify({ bench: 'ring-variants', options: { min, max, seeds, trials: TRIALS }, results, spread }) + '\n');
