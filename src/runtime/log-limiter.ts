/**
 * Rate limit for log lines: a key passes at most once per interval, by the caller's clock, so a
 * condition that lasts (an unreachable seed, a peer of another cluster knocking every few seconds)
 * or a state that flaps (a peer suspected and refuted again and again) is logged while it lasts
 * without flooding the log. `pass` also counts the lines held back under a key, so the next line
 * that passes can say how many were suppressed (the `suppressed` field of docs/OPERATIONS.md).
 */
/**
 * How often a line about a refused or misbehaving client is logged per remote address (and kind,
 * reason or origin): once a minute, with `suppressed` counting the lines held back. One client can
 * provoke thousands a second (a pipeline of AUTHs, a page or a peer redialing in a loop); one line
 * a minute still says who and why. Every listener's refusals use it, so they read alike.
 */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;

export class LogLimiter {
  private readonly last = new Map<string, number>();
  private readonly held = new Map<string, number>();

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
      for (const [k, t] of this.last) {
        if (nowMs - t < this.intervalMs) continue;
        this.last.delete(k);
        this.held.delete(k);
      }
      if (this.last.size >= this.maxKeys) return false;
    }
    this.last.set(key, nowMs);
    return true;
  }

  /**
   * As `allow`, counting what it holds back: null when the line under `key` must not be logged,
   * else how many lines under `key` were held back since the last one that passed.
   */
  pass(key: string, nowMs: number): number | null {
    if (!this.allow(key, nowMs)) {
      if (this.last.has(key)) this.held.set(key, (this.held.get(key) ?? 0) + 1);
      return null;
    }
    const suppressed = this.held.get(key) ?? 0;
    this.held.delete(key);
    return suppressed;
  }
}

/** The fields a story line adds when lines under its key were held back (nothing when none were). */
export function suppressedField(suppressed: number): { suppressed?: number } {
  return suppressed > 0 ? { suppressed } : {};
}
