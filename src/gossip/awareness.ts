/**
 * Lifeguard's local health awareness. A member that misses its own deadlines (probes whose
 * indirect helpers never even answered with a nack, suspicions of itself it had to refute) is
 * more likely slow itself than surrounded by failures; it stretches its probe interval and
 * timeout by (score + 1) instead of accusing healthy peers. Successful probes earn trust back.
 */
export class Awareness {
  private current = 0;

  /** `max` is the largest multiplier; the score ranges over 0..max-1. `enabled` false pins it at 0 (plain SWIM). */
  constructor(
    private readonly max: number,
    private readonly enabled: boolean,
  ) {}

  get score(): number {
    return this.current;
  }

  apply(delta: number): void {
    if (!this.enabled) return;
    this.current = Math.min(this.max - 1, Math.max(0, this.current + delta));
  }

  scale(ms: number): number {
    return ms * (this.current + 1);
  }
}
