/**
 * Connection and request limits shared by the client listeners (the SDK's WebSocket port and the
 * RESP port): how many connections a node and one remote address may hold, and a token bucket
 * for requests per second. Pure logic: the caller passes the time.
 *
 * Request rates are limited per connection (`--max-request-rate`) and per user
 * (`--max-user-request-rate`: every connection of one ACL user on this node shares one bucket).
 * A listener asks a `RateLimitPolicy` for the limiter of each connection and tells it, at each
 * request, which user the connection runs as (none before it authenticates), so a connection
 * that authenticates as another user moves to that user's bucket (`rateLimits`).
 */

/** A token bucket: `ratePerSecond` tokens a second, holding at most `burst`. */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    nowMs: number,
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new RangeError(`a token bucket needs a positive rate and a burst of at least 1, not ${ratePerSecond}/s and ${burst}`);
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Takes `n` tokens if there are that many (true), else takes none (false). */
  take(nowMs: number, n = 1): boolean {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.ratePerSecond) / 1000);
      this.lastMs = nowMs;
    }
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

/** Who a connection is, for a rate-limit policy. `user` once it has authenticated (ACLs). */
export interface ConnectionIdentity {
  /** The remote address, without the port. */
  readonly address: string;
  readonly user?: string;
}

/** Decides whether one connection may make `n` more requests now. */
export interface RequestLimiter {
  /** `user`: the ACL user the connection runs as now (undefined before it authenticates). */
  allow(nowMs: number, n?: number, user?: string): boolean;
  /** For the refusal's text: `1000 requests per second per connection`. */
  readonly describe: string;
  /** The option that set the limit the last refusal hit; default `--max-request-rate`. */
  readonly option?: string;
}

/** Hands each connection its limiter (null: unlimited). */
export interface RateLimitPolicy {
  limiterFor(who: ConnectionIdentity, nowMs: number): RequestLimiter | null;
}

/** No limit. */
export const UNLIMITED: RateLimitPolicy = { limiterFor: () => null };

/**
 * `requestsPerSecond` per connection, in bursts of up to one second's worth; 0 turns it off.
 * A refused request is answered with an error and not run; the connection stays open.
 */
export function perConnectionRateLimit(requestsPerSecond: number): RateLimitPolicy {
  if (requestsPerSecond <= 0) return UNLIMITED;
  const describe = `${requestsPerSecond} requests per second per connection`;
  return {
    limiterFor: (_who, nowMs) => {
      const bucket = new TokenBucket(requestsPerSecond, Math.max(1, requestsPerSecond), nowMs);
      return { allow: (now, n = 1) => bucket.take(now, n), describe };
    },
  };
}

/**
 * Both limits: `perConnection` requests per second on each connection, and `perUser` per second
 * for all the connections of one user on this node together (each in bursts of one second's
 * worth); 0 turns either off. A request must pass both; the refusal names the one it hit.
 */
export function rateLimits(perConnection: number, perUser: number): RateLimitPolicy {
  if (perUser <= 0) return perConnectionRateLimit(perConnection);
  const connection = perConnectionRateLimit(perConnection);
  // One bucket per user name that made a request here: bounded by the cluster's users.
  const users = new Map<string, TokenBucket>();
  const userDescribe = `${perUser} requests per second per user`;
  return {
    limiterFor: (who, nowMs) => {
      const own = connection.limiterFor(who, nowMs);
      const limiter = {
        describe: own?.describe ?? userDescribe,
        option: '--max-request-rate',
        allow(now: number, n = 1, user: string | undefined = who.user): boolean {
          if (user !== undefined) {
            let bucket = users.get(user);
            if (bucket === undefined) users.set(user, (bucket = new TokenBucket(perUser, Math.max(1, perUser), now)));
            if (!bucket.take(now, n)) {
              limiter.describe = userDescribe;
              limiter.option = '--max-user-request-rate';
              return false;
            }
          }
          if (own !== null && !own.allow(now, n)) {
            limiter.describe = own.describe;
            limiter.option = '--max-request-rate';
            return false;
          }
          return true;
        },
      };
      return limiter;
    },
  };
}

/** The error text a refused request gets (RESP adds `ERR `). */
export function rateLimitMessage(limiter: RequestLimiter): string {
  return `rate limit exceeded: at most ${limiter.describe} (${limiter.option ?? '--max-request-rate'})`;
}

export interface ConnectionLimitsConfig {
  /** Connections the listener holds at once (Redis's maxclients). */
  maxConnections: number;
  /** Connections one remote address may hold at once; 0: no per-address limit. */
  maxPerAddress: number;
}

export type Admission = { ok: true; release: () => void } | { ok: false; reason: 'node' | 'address'; message: string };

/**
 * Counts a listener's open connections, in all and per remote address, and admits a new one only
 * under both limits. Each admitted connection must call `release` once, when it closes.
 */
export class ConnectionLimiter {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly config: ConnectionLimitsConfig) {}

  get open(): number {
    return this.total;
  }

  get maxConnections(): number {
    return this.config.maxConnections;
  }

  admit(address: string): Admission {
    if (this.total >= this.config.maxConnections) {
      return { ok: false, reason: 'node', message: 'max number of clients reached' };
    }
    const held = this.perAddress.get(address) ?? 0;
    if (this.config.maxPerAddress > 0 && held >= this.config.maxPerAddress) {
      return { ok: false, reason: 'address', message: `max number of clients reached for address ${address} (${this.config.maxPerAddress}, --max-clients-per-address)` };
    }
    this.total++;
    this.perAddress.set(address, held + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const left = (this.perAddress.get(address) ?? 1) - 1;
        if (left <= 0) this.perAddress.delete(address);
        else this.perAddress.set(address, left);
      },
    };
  }
}

/** The remote address without IPv6's IPv4-mapped prefix, so `::ffff:10.0.0.1` and `10.0.0.1` count as one. */
export function remoteAddressKey(address: string | undefined): string {
  if (address === undefined) return '?';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** How slowly a ReplySizeEstimate forgets a large reply (1/64 of the gap per smaller reply). */
const REPLY_ESTIMATE_DECAY = 64;

/**
 * What a read in flight is expected to add to its connection's unread replies, used by both
 * client listeners to stop starting reads before their replies could pass the unread limit (a
 * burst of reads is started before the first of them answers). It jumps to any larger reply at
 * once and forgets one slowly, so a connection that has seen large values keeps few reads in
 * flight. A new connection has seen nothing: start it where the listener can afford a burst.
 */
export class ReplySizeEstimate {
  constructor(private estimate: number) {}

  get bytes(): number {
    return this.estimate;
  }

  /** A reply of `bytes` was made. */
  note(bytes: number): void {
    const estimate = this.estimate;
    this.estimate = bytes >= estimate ? bytes : estimate - (estimate - bytes) / REPLY_ESTIMATE_DECAY;
  }
}
