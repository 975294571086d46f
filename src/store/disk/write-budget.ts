/**
 * The device write budget: a token bucket of bytes per second (CacheLib's "device write rate").
 * SSDs wear with writes, and a cache that writes everything it evicts can burn a drive; when the
 * budget is spent the tier admits nothing more until it refills, so admission tightens under load.
 */
export class WriteBudget {
  private tokens: number;
  private lastMs: number;

  /** `bytesPerSecond` 0 means unlimited. A burst of one second's budget may be spent at once. */
  constructor(private readonly bytesPerSecond: number, private readonly nowMs: () => number) {
    this.tokens = bytesPerSecond;
    this.lastMs = nowMs();
  }

  /** Takes `bytes` from the budget if they are there. */
  take(bytes: number): boolean {
    if (this.bytesPerSecond === 0) return true;
    const now = this.nowMs();
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.lastMs) * this.bytesPerSecond) / 1000);
    this.lastMs = now;
    if (this.tokens < bytes) return false;
    this.tokens -= bytes;
    return true;
  }
}
