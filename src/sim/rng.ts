/**
 * Seeded random streams. Every consumer draws from its own named stream derived from the run's
 * seed, so that, for example, adding a node or a fault kind does not shift the numbers any other
 * part of the run sees.
 */
import seedrandom from 'seedrandom';
import type { Random } from '../runtime/env.ts';

export class SeededRandom implements Random {
  private readonly prng: () => number;

  constructor(seed: number, stream: string) {
    this.prng = seedrandom.alea(`${seed}/${stream}`);
  }

  next(): number {
    return this.prng();
  }

  int(n: number): number {
    return Math.floor(this.prng() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.prng() < p;
  }

  /** A float in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.prng();
  }

  /** Exponentially distributed with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.prng());
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }
}
