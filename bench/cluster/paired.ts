/**
 * Paired measurement of two targets whose difference is small (metrics on vs off: issue 15 asks
 * for under 5%) on a machine whose speed drifts while it runs (other processes, CPU frequency):
 * both are started before the first round, and each round measures both back to back, alternating
 * which goes first, so drift hits them alike. Per round, the ratio second/first of max ops/s; the
 * report is the median ratio over rounds with its range, and each target's median round.
 */
import type { OpResult } from './workload.ts';

export type Pair = { set: OpResult; get: OpResult };

export interface RatioSummary {
  /** second/first max ops/s of each round, in round order. */
  ratios: number[];
  median: number;
  min: number;
  max: number;
}

export interface PairedResult {
  rounds: number;
  first: Pair;
  second: Pair;
  set: RatioSummary;
  get: RatioSummary;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The round whose max ops/s is the median one (lower middle for an even count). */
function medianRound(results: readonly OpResult[]): OpResult {
  const sorted = [...results].sort((a, b) => a.max.opsPerSec - b.max.opsPerSec);
  return sorted[(sorted.length - 1) >> 1]!;
}

/**
 * Runs `rounds` rounds of `measureFirst` and `measureSecond` (the first goes first in even rounds,
 * second in odd ones); `say` hears each round's ratios.
 */
export async function measurePaired(rounds: number, measureFirst: () => Promise<Pair>, measureSecond: () => Promise<Pair>, say: (line: string) => void): Promise<PairedResult> {
  const firsts: Pair[] = [];
  const seconds: Pair[] = [];
  const ratios = { set: [] as number[], get: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    let a: Pair;
    let b: Pair;
    if (round % 2 === 0) {
      a = await measureFirst();
      b = await measureSecond();
    } else {
      b = await measureSecond();
      a = await measureFirst();
    }
    firsts.push(a);
    seconds.push(b);
    for (const op of ['set', 'get'] as const) ratios[op].push(b[op].max.opsPerSec / a[op].max.opsPerSec);
    say(`  round ${round + 1}/${rounds}: set ${ratios.set.at(-1)!.toFixed(3)}, get ${ratios.get.at(-1)!.toFixed(3)}`);
  }
  const summary = (values: number[]): RatioSummary => ({ ratios: values.map((r) => Number(r.toFixed(4))), median: Number(median(values).toFixed(4)), min: Number(Math.min(...values).toFixed(4)), max: Number(Math.max(...values).toFixed(4)) });
  const pick = (list: Pair[]): Pair => ({ set: medianRound(list.map((p) => p.set)), get: medianRound(list.map((p) => p.get)) });
  return { rounds, first: pick(firsts), second: pick(seconds), set: summary(ratios.set), get: summary(ratios.get) };
}
