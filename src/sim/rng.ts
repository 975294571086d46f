/**
 * Seeded random streams. Every consumer draws from its own named stream derived from the run's
 * seed, so that, for example, adding a node or a fault kind does not shift the numbers any other
 * part of the run sees.
 *
 * Keyed draws (`Draws` 'keyed', for shrinking): a named stream still shares one sequence among all
 * its draws, so one draw more or fewer (an operation removed from a run) shifts every later one.
 * Keyed draws come instead from a short stream per key (a message's link, send time and place
 * among that link's messages at that instant; a node's instant), so removing something changes
 * only the draws that share its key.
 */
import seedrandom from 'seedrandom';
import { SeededRandom } from '../runtime/seeded-random.ts';
import { fmix32, murmur3String, murmurRound } from '../protocol/hash.ts';

/** How a run draws its network, node and client randomness: one stream per consumer (as ever), or keyed draws. */
export type Draws = 'shared' | 'keyed';

/** The run's stream called `stream` (alea, seeded with `${seed}/${stream}`). */
export function namedStream(seed: number, stream: string): SeededRandom {
  return new SeededRandom(seedrandom.alea(`${seed}/${stream}`));
}

const float = new Float64Array(1);
const words = new Uint32Array(float.buffer);

/** Short streams of their own, one per key (numbers, fractional virtual times included), in the run's stream `stream`. */
export class KeyedStreams {
  private readonly base: number;

  constructor(seed: number, stream: string) {
    this.base = murmur3String(`${seed}/${stream}`) | 0;
  }

  at(...key: number[]): SeededRandom {
    let h = this.base;
    for (const part of key) {
      float[0] = part;
      h = murmurRound(murmurRound(h, words[0]!), words[1]!);
    }
    return SeededRandom.mulberry32(fmix32(h ^ (key.length * 8)));
  }
}

/**
 * The run's stream `stream` with keyed draws by virtual instant: every draw made at time `now()`
 * comes from the short stream keyed by that instant, so what is drawn at one instant never moves
 * the draws of another.
 */
export function instantKeyedStream(seed: number, stream: string, now: () => number): SeededRandom {
  const streams = new KeyedStreams(seed, stream);
  let instant = Number.NaN;
  let current: SeededRandom | null = null;
  return new SeededRandom(() => {
    const t = now();
    if (current === null || t !== instant) {
      instant = t;
      current = streams.at(t);
    }
    return current.next();
  });
}

/** The run's stream `stream` drawn as `draws` says. */
export function runStream(seed: number, stream: string, draws: Draws, now: () => number): SeededRandom {
  return draws === 'keyed' ? instantKeyedStream(seed, stream, now) : namedStream(seed, stream);
}
