/**
 * The one retry backoff: capped exponential growth, then jitter. Used by the client SDK
 * (reconnects, read retries), the `ws` transport (redials) and gossip (seed joins); it lives in
 * `protocol` because that is the one folder all three may import. Pure arithmetic: the caller
 * passes its random source, so core code stays behind the seam.
 */

export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Growth per attempt (>= 1). */
  factor: number;
  /**
   * Fraction of each delay that is randomised away (0 = none, 1 = "full jitter"), so that peers
   * cut off together do not retry together.
   */
  jitter: number;
}

/** The delay before retry `attempt` (0-based) without jitter: initial × factor^attempt, capped at the maximum. */
export function cappedBackoff(attempt: number, p: Omit<BackoffPolicy, 'jitter'>): number {
  return Math.min(p.maxDelayMs, p.initialDelayMs * p.factor ** attempt);
}

/** The delay before retry `attempt` (0-based): the capped delay minus up to `jitter` of it. */
export function backoffDelay(attempt: number, p: BackoffPolicy, random: () => number): number {
  return cappedBackoff(attempt, p) * (1 - p.jitter * random());
}
