/**
 * The hard limit on a RESP connection's unread replies (--resp-output-buffer-limit). Backpressure
 * (connection.ts) stops starting commands while a connection's replies, written or expected, pass
 * --resp-max-unread-replies; what it cannot foresee (a pipeline of large values after many small
 * ones, the estimate still low) may still pile up. A connection holding more than the hard limit
 * unsent is closed at once and its replies dropped, as redis-server closes a client past the hard
 * limit of its client-output-buffer-limit class. Logged at most once a minute per address.
 */
import type { Logger } from '../runtime/env.ts';
import { LogLimiter, REFUSAL_LOG_INTERVAL_MS, suppressedField } from '../runtime/log-limiter.ts';

/** The warning for connections closed as above, rate-limited per remote address. */
export class OutputLimitLog {
  private readonly limiter = new LogLimiter(REFUSAL_LOG_INTERVAL_MS);

  note(log: Logger | undefined, remote: string, nowMs: number, heldBytes: number, limitBytes: number): void {
    const suppressed = this.limiter.pass(remote, nowMs);
    if (suppressed === null) return;
    log?.warn(
      { remote, heldBytes, limitBytes, ...suppressedField(suppressed) },
      `closed a RESP connection from ${remote}: it left ${heldBytes} bytes of replies unread, more than --resp-output-buffer-limit (${limitBytes}); its client must read its replies, or pipeline fewer large values at once`,
    );
  }
}
