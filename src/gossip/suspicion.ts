/**
 * Suspicion timeouts. Plain SWIM waits a fixed time before a suspect is declared dead. Lifeguard
 * starts the timer at a maximum and shrinks it toward a minimum as independent members confirm
 * the suspicion: a suspicion raised by one slow member and confirmed by nobody lasts long enough
 * for the suspect to hear of it and refute, while a real failure that many members notice is
 * declared after the minimum. Both bounds grow with log(n) because dissemination does.
 */
import type { Timers, TimerId } from '../runtime/env.ts';
import type { GossipConfig } from './config.ts';

export interface SuspicionBounds {
  minMs: number;
  maxMs: number;
  /** Confirmations that drive the timeout down to the minimum (Lifeguard's K). */
  confirmationsWanted: number;
}

/** The suspicion timeout bounds for a cluster of `members` members. */
export function suspicionBounds(config: Pick<GossipConfig, 'suspicionMult' | 'suspicionMaxTimeoutMult' | 'probeIntervalMs' | 'lifeguard'>, members: number): SuspicionBounds {
  const minMs = config.suspicionMult * Math.max(1, Math.log10(Math.max(1, members))) * config.probeIntervalMs;
  if (!config.lifeguard) return { minMs, maxMs: minMs, confirmationsWanted: 0 };
  // Fewer other members than wanted confirmations: nobody could ever confirm, so do not wait for them.
  const wanted = Math.max(0, config.suspicionMult - 2);
  return { minMs, maxMs: config.suspicionMaxTimeoutMult * minMs, confirmationsWanted: members - 2 < wanted ? 0 : wanted };
}

/**
 * The total timeout after `confirmations` independent confirmations:
 * max - (max - min) * log(c + 1) / log(k + 1), never below min.
 */
export function suspicionTimeoutMs(confirmations: number, bounds: SuspicionBounds): number {
  const { minMs, maxMs, confirmationsWanted: k } = bounds;
  if (k <= 0) return minMs;
  const fraction = Math.log(confirmations + 1) / Math.log(k + 1);
  return Math.max(minMs, Math.floor(maxMs - fraction * (maxMs - minMs)));
}

/** One member's pending suspicion: a timer that confirmations from distinct accusers bring forward. */
export class Suspicion {
  private readonly accusers = new Set<string>();
  private timer: TimerId;
  private confirmations = 0;

  constructor(
    private readonly timers: Timers,
    private readonly nowMs: () => number,
    readonly incarnation: number,
    firstAccuser: string,
    private readonly bounds: SuspicionBounds,
    private readonly onTimeout: () => void,
    private readonly startedMs = nowMs(),
  ) {
    // The first accuser is not a confirmation: our own rumor may come back to us.
    this.accusers.add(firstAccuser);
    this.timer = timers.setTimer(suspicionTimeoutMs(0, bounds), onTimeout);
  }

  get confirmationCount(): number {
    return this.confirmations;
  }

  /** Registers an accuser; returns true when it was new information (worth re-gossiping). */
  confirm(accuser: string): boolean {
    if (this.confirmations >= this.bounds.confirmationsWanted) return false;
    if (this.accusers.has(accuser)) return false;
    this.accusers.add(accuser);
    this.confirmations++;
    const remaining = suspicionTimeoutMs(this.confirmations, this.bounds) - (this.nowMs() - this.startedMs);
    this.timers.cancelTimer(this.timer);
    this.timer = this.timers.setTimer(Math.max(0, remaining), this.onTimeout);
    return true;
  }

  cancel(): void {
    this.timers.cancelTimer(this.timer);
  }
}
