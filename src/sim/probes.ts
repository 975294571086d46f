/**
 * A simulated run's side of src/runtime/probes.ts: it counts the rare paths node code reports,
 * keeps the assertions that failed (the driver turns each into a violation), and answers BUGGIFY.
 *
 * BUGGIFY (FoundationDB's): off unless the run asks for it (`ScenarioOptions.buggify`, `--buggify`;
 * hunts switch it on for half their seeds), so every seed without it replays exactly as before.
 * When on, each fault point is enabled for the whole run with probability ENABLE_CHANCE (decided
 * from the seed and the point's name, so it does not depend on which point is reached first), and
 * an enabled point fires with probability FIRE_CHANCE each time it is reached, drawn from the
 * run's own `buggify` stream: node streams draw exactly what they would without it.
 */
import type { AssertionName, BuggifyPoint, Probes, RarePath } from '../runtime/probes.ts';
import type { SeededRandom } from '../runtime/seeded-random.ts';
import { murmur3String } from '../protocol/hash.ts';
import { namedStream } from './rng.ts';

export const ENABLE_CHANCE = 0.5;
export const FIRE_CHANCE = 0.05;

export interface AssertionFailure {
  name: AssertionName;
  node: string;
  atMs: number;
  detail: string;
}

export class RunProbes {
  /** How many times each rare path ran in this run. */
  readonly coverage = new Map<RarePath, number>();
  /** How many times each enabled buggify point fired. */
  readonly fired = new Map<BuggifyPoint, number>();
  readonly failures: AssertionFailure[] = [];
  private readonly stream: SeededRandom | null;
  private readonly enabled = new Map<BuggifyPoint, boolean>();

  /** `buggifySeed`: the run's seed when buggify is on, null when off. */
  constructor(private readonly buggifySeed: number | null = null) {
    this.stream = buggifySeed === null ? null : namedStream(buggifySeed, 'buggify');
  }

  get buggifyOn(): boolean {
    return this.stream !== null;
  }

  /** The probes one node's Env carries; `now` reads virtual time. */
  forNode(node: string, now: () => number): Probes {
    return {
      cover: (path) => this.coverage.set(path, (this.coverage.get(path) ?? 0) + 1),
      buggify: (point) => this.buggify(point),
      assertionFailed: (name, detail) => this.failures.push({ name, node, atMs: now(), detail }),
    };
  }

  /** Whether `point` is enabled in this run (false with buggify off). */
  isEnabled(point: BuggifyPoint): boolean {
    if (this.buggifySeed === null) return false;
    let on = this.enabled.get(point);
    if (on === undefined) {
      on = (murmur3String(point, this.buggifySeed) >>> 0) / 2 ** 32 < ENABLE_CHANCE;
      this.enabled.set(point, on);
    }
    return on;
  }

  private buggify(point: BuggifyPoint): boolean {
    if (this.stream === null || !this.isEnabled(point) || !this.stream.chance(FIRE_CHANCE)) return false;
    this.fired.set(point, (this.fired.get(point) ?? 0) + 1);
    return true;
  }
}
