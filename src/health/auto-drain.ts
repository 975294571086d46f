/**
 * The automatic drain policy (off by default; the daemon's --auto-drain): when this node's
 * predicted probability of failing stays at or above a threshold for long enough, ask for a
 * drain once, so its partitions move before it dies. The drain itself is someone else's
 * (`shoal drain NODE`): the policy only calls a AutoDrainTarget.
 */
import { FAILURE_MODEL } from './failure-model.ts';

/** What starts a drain of this node. */
export interface AutoDrainTarget {
  drain(reason: string): void;
}

export interface AutoDrainOptions {
  /** Probability at or above which the clock starts. */
  threshold: number;
  /** How long the probability must stay there, ms. */
  sustainMs: number;
}

/** How long the probability must stay over the model's threshold before the policy asks (bench/health/predictor.ts --sustain). */
export const AUTO_DRAIN_SUSTAIN_MS = 10_000;

/** The policy `--auto-drain on` runs: the committed model's alarm threshold, held AUTO_DRAIN_SUSTAIN_MS. */
export const DEFAULT_AUTO_DRAIN: AutoDrainOptions = { threshold: FAILURE_MODEL.threshold, sustainMs: AUTO_DRAIN_SUSTAIN_MS };

export class AutoDrain {
  private aboveSinceMs: number | null = null;
  /** When the drain was asked for (monotonic ms); null until then. */
  drainedAtMs: number | null = null;

  constructor(
    private readonly options: AutoDrainOptions,
    private readonly control: AutoDrainTarget,
  ) {}

  /** Called with each new prediction; returns true when this call asked for the drain. */
  observe(atMs: number, probability: number): boolean {
    if (this.drainedAtMs !== null) return false;
    if (probability < this.options.threshold) {
      this.aboveSinceMs = null;
      return false;
    }
    this.aboveSinceMs ??= atMs;
    if (atMs - this.aboveSinceMs < this.options.sustainMs) return false;
    this.drainedAtMs = atMs;
    this.control.drain(`predicted failure: probability ${probability.toFixed(2)} at or above ${this.options.threshold} for ${Math.round((atMs - this.aboveSinceMs) / 1000)} s`);
    return true;
  }
}
