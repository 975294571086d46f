/**
 * Hill climbing on the hit ratio to size W-TinyLFU's admission window (Caffeine's adaptive
 * window, after "Adaptive Software Cache Management", Einziger et al. 2018).
 *
 * Every `sampleSize` reads the climber compares the sample's hit ratio with the previous one. If it
 * improved it keeps moving the window in the same direction, otherwise it turns around; the step
 * shrinks geometrically while the ratio is stable (so the window settles) and jumps back to its
 * full size when the ratio changes by more than the restart threshold (the workload shifted).
 * Recency-skewed traces (a write followed by a read a few hundred requests later) drive the window
 * up; frequency-skewed ones (loops, scans over a hot set) drive it down.
 */

/** Full step, as a fraction of the cache's maximum weight. */
export const CLIMBER_STEP_FRACTION = 0.0625;
/** Multiplier applied to the step after each sample without a big change. */
export const CLIMBER_STEP_DECAY = 0.98;
/** A hit-ratio change at least this large (absolute, 0..1) restarts with a full step. */
export const CLIMBER_RESTART_THRESHOLD = 0.05;

export interface ClimberOptions {
  /** The cache's maximum weight; steps are fractions of it. */
  maximum: number;
  /** Reads per sample. */
  sampleSize: number;
}

export class HillClimber {
  private hits = 0;
  private misses = 0;
  private previousHitRate = 0;
  private step: number;
  private maximum: number;
  private sampleSizeValue: number;
  private adaptations = 0;

  constructor(options: ClimberOptions) {
    this.maximum = options.maximum;
    this.sampleSizeValue = Math.max(1, Math.floor(options.sampleSize));
    // Start by growing the window: it begins at its smallest useful size, so shrinking first is wasted.
    this.step = CLIMBER_STEP_FRACTION * options.maximum;
  }

  get adaptationCount(): number {
    return this.adaptations;
  }

  get sampleSize(): number {
    return this.sampleSizeValue;
  }

  resize(maximum: number, sampleSize: number): void {
    this.maximum = maximum;
    this.sampleSizeValue = Math.max(1, Math.floor(sampleSize));
    this.step = Math.sign(this.step || 1) * CLIMBER_STEP_FRACTION * maximum;
  }

  recordHit(): void {
    this.hits++;
  }

  recordMiss(): void {
    this.misses++;
  }

  /**
   * Call after recording: returns the signed change to apply to the window's maximum weight (0
   * until a sample completes).
   */
  adjustment(): number {
    const requests = this.hits + this.misses;
    if (requests < this.sampleSizeValue) return 0;
    const hitRate = this.hits / requests;
    const change = hitRate - this.previousHitRate;
    const amount = change >= 0 ? this.step : -this.step;
    const fullStep = CLIMBER_STEP_FRACTION * this.maximum;
    this.step = Math.abs(change) >= CLIMBER_RESTART_THRESHOLD ? Math.sign(amount || 1) * fullStep : CLIMBER_STEP_DECAY * amount;
    this.previousHitRate = hitRate;
    this.hits = 0;
    this.misses = 0;
    this.adaptations++;
    return amount;
  }
}
