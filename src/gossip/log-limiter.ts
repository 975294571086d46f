/**
 * Rate limit for log lines about a condition that persists (an unreachable seed, a peer of another
 * cluster knocking every few seconds): a key passes at most once per interval, by the caller's
 * clock, so the condition is logged while it lasts without flooding the log.
 */
export class LogLimiter {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    /** Keys remembered at most (peers are external input); past it, new keys wait for old ones to expire. */
    private readonly maxKeys = 256,
  ) {}

  /** Whether a line under `key` may be logged at `nowMs` (and if so, the interval restarts). */
  allow(key: string, nowMs: number): boolean {
    const at = this.last.get(key);
    if (at !== undefined && nowMs - at < this.intervalMs) return false;
    if (at === undefined && this.last.size >= this.maxKeys) {
      for (const [k, t] of this.last) if (nowMs - t >= this.intervalMs) this.last.delete(k);
      if (this.last.size >= this.maxKeys) return false;
    }
    this.last.set(key, nowMs);
    return true;
  }
}
