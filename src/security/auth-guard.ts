import { LogLimiter, REFUSAL_LOG_INTERVAL_MS } from '../runtime/log-limiter.ts';

/**
 * Failed authentications per remote address: a token bucket each (burst `burst`, one token back
 * every `refillMs`); an address with no token left is refused without checking its password until
 * a token comes back. Counts every failure and refusal for status and INFO.
 */
export interface AuthGuardOptions {
  /** Failures allowed in a burst. Default 10. */
  burst: number;
  /** One failure forgiven every refillMs. Default 1000. */
  refillMs: number;
  /** Addresses tracked at most (the oldest are forgotten first). Default 10000. */
  maxAddresses: number;
}

export const AUTH_RATE_LIMITED = 'ERR too many failed authentication attempts from this address, try again later';

export class AuthGuard {
  /** Failed authentications (wrong password, unknown or disabled user). */
  failures = 0;
  /** Attempts refused because their address was over its limit. */
  refused = 0;
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  private readonly options: AuthGuardOptions;
  /** A refused address's attempts, logged once a minute: one client can make thousands a second (a pipeline of AUTHs). */
  private readonly refusalLog = new LogLimiter(REFUSAL_LOG_INTERVAL_MS);

  constructor(
    private readonly nowMs: () => number,
    options: Partial<AuthGuardOptions> = {},
  ) {
    this.options = { burst: 10, refillMs: 1000, maxAddresses: 10_000, ...options };
  }

  /** Whether `host` may try to authenticate now; counts a refusal when not. */
  mayTry(host: string): boolean {
    const bucket = this.refill(host);
    if (bucket === undefined || bucket.tokens >= 1) return true;
    this.refused++;
    return false;
  }

  /**
   * After `mayTry(host)` said no: null when this refusal is not to be logged (one of `host`'s was,
   * less than a minute ago), else how many were held back since the last logged (`suppressed`).
   */
  refusalToLog(host: string): number | null {
    return this.refusalLog.pass(host, this.nowMs());
  }

  /** Records a failed attempt from `host`. */
  failed(host: string): void {
    this.failures++;
    const bucket = this.refill(host) ?? { tokens: this.options.burst, atMs: this.nowMs() };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.buckets.delete(host);
    this.buckets.set(host, bucket);
    if (this.buckets.size > this.options.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
  }

  private refill(host: string): { tokens: number; atMs: number } | undefined {
    const bucket = this.buckets.get(host);
    if (bucket === undefined) return undefined;
    const now = this.nowMs();
    const gained = Math.floor((now - bucket.atMs) / this.options.refillMs);
    if (gained > 0) {
      bucket.tokens = Math.min(this.options.burst, bucket.tokens + gained);
      bucket.atMs += gained * this.options.refillMs;
    }
    if (bucket.tokens >= this.options.burst) {
      this.buckets.delete(host);
      return undefined;
    }
    return bucket;
  }
}

/** The host part of `ip:port` (IPv6 addresses keep their colons). */
export function hostOf(address: string): string {
  const colon = address.lastIndexOf(':');
  return colon < 0 ? address : address.slice(0, colon);
}
