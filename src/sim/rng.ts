/**
 * Seeded random streams. Every consumer draws from its own named stream derived from the run's
 * seed, so that, for example, adding a node or a fault kind does not shift the numbers any other
 * part of the run sees.
 */
import seedrandom from 'seedrandom';
import { SeededRandom } from '../runtime/seeded-random.ts';

/** The run's stream called `stream` (alea, seeded with `${seed}/${stream}`). */
export function namedStream(seed: number, stream: string): SeededRandom {
  return new SeededRandom(seedrandom.alea(`${seed}/${stream}`));
}
