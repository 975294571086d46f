/**
 * The one seeded random stream type. It implements the seam's `Random` (env.ts) over any
 * generator of floats in [0, 1), so the simulator's named streams (alea, built in src/sim/rng.ts,
 * which may import seedrandom) and the store's default stream (mulberry32, below: core folders
 * may not import seedrandom) share one API. The generators stay different on purpose: each
 * stream must keep producing exactly the sequence it always has, or seeds would stop replaying.
 * Pure code: core folders may import this file as they import env.ts.
 */
import type { Random } from './env.ts';

export class SeededRandom implements Random {
  constructor(private readonly source: () => number) {}

  /** A stream from mulberry32: small and fast, for stores and samplers built without an injected stream. */
  static mulberry32(seed: number): SeededRandom {
    let state = seed | 0;
    return new SeededRandom(() => {
      state = (state + 0x6d2b79f5) | 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    });
  }

  next(): number {
    return this.source();
  }

  int(n: number): number {
    return Math.floor(this.source() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.source() < p;
  }

  /** A float in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.source();
  }

  /** Exponentially distributed with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.source());
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }
}
