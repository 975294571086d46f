/**
 * The automatic drain policy (off by default; the daemon's --auto-drain): when this node's
 * predicted probability of failing stays at or above a threshold for long enough, ask for a
 * drain once, so its partitions move before it dies. A drain the node refuses (a peer is down, so
 * its partitions would be left without a quorum) is asked again every AUTO_DRAIN_RETRY_MS while
 * the prediction holds: the refusal is usually brief, and the node's failure is not. The drain
 * itself is someone else's (`shoal drain NODE`): the policy only calls a AutoDrainTarget.
 */
import { FAILURE_MODEL } from './failure-model.ts';

/** What starts a drain of this node. */
export interface AutoDrainTarget {
  /** Starts the drain: true once it is under way (or done), false when the node refused it for now. */
  drain(reason: string): boolean;
}

export interface AutoDrainOptions {
  /** Probability at or above which the clock starts. */
  threshold: number;
  /** How long the probability must stay there, ms. */
  sustainMs: number;
}

/** How long the probability must stay over the model's threshold before the policy asks (bench/health/predictor.ts --sustain). */
export const AUTO_DRAIN_SUSTAIN_MS = 10_000;

/**
 * How long after a refused drain the policy asks again (while the probability stays over the
 * threshold). Slow-death seed 64: the first ask came while a peer was suspect for a moment; asked
 * once only, the node died 88 s later still holding its partitions.
 */
export const AUTO_DRAIN_RETRY_MS = 5_000;

/** The policy `--auto-drain on` runs: the committed model's alarm threshold, held AUTO_DRAIN_SUSTAIN_MS. */
export const DEFAULT_AUTO_DRAIN: AutoDrainOptions = { threshold: FAILURE_MODEL.threshold, sustainMs: AUTO_DRAIN_SUSTAIN_MS };

export class AutoDrain {
  private aboveSinceMs: number | null = null;
  /** After a refusal: when to ask again. */
  private retryAtMs = Number.NEGATIVE_INFINITY;
  /** When the drain was asked for and started (monotonic ms); null until then. */
  drainedAtMs: number | null = null;
  /** Drains asked for and refused. */
  refusals = 0;

  constructor(
    private readonly options: AutoDrainOptions,
    private readonly control: AutoDrainTarget,
  ) {}

  /** Called with each new prediction; returns true when this call started the drain. */
  observe(atMs: number, probability: number): boolean {
    if (this.drainedAtMs !== null) return false;
    if (probability < this.options.threshold) {
      this.aboveSinceMs = null;
      return false;
    }
    this.aboveSinceMs ??= atMs;
    if (atMs - this.aboveSinceMs < this.options.sustainMs || atMs < this.retryAtMs) return false;
    const started = this.control.drain(`predicted failure: probability ${probability.toFixed(2)} at or above ${this.options.threshold} for ${Math.round((atMs - this.aboveSinceMs) / 1000)} s`);
    if (!started) {
      this.refusals++;
      this.retryAtMs = atMs + AUTO_DRAIN_RETRY_MS;
      return false;
    }
    this.drainedAtMs = atMs;
    return true;
  }
}
