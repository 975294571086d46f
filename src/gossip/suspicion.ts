/**
 * Suspicion timeouts. Plain SWIM waits a fixed time before a suspect is declared dead. Lifeguard
 * starts the timer at a maximum and shrinks it toward a minimum as independent members confirm
 * the suspicion: a suspicion raised by one slow member and confirmed by nobody lasts long enough
 * for the suspect to hear of it and refute, while a real failure that many members notice is
 * declared after the minimum. Both bounds grow with log(n) because dissemination does.
 *
 * `Suspicions` keeps one such timer per suspect; what a suspicion means for the table (raising,
 * confirming, refuting, the death verdict) is decided in member-updates.ts.
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

/** The pending suspicions of one member's table: at most one timer per suspect, for its current incarnation. */
export class Suspicions {
  private readonly pending = new Map<string, Suspicion>();

  constructor(
    private readonly timers: Timers,
    private readonly nowMs: () => number,
    private readonly config: Parameters<typeof suspicionBounds>[0],
    /** The suspicion of `name` at `incarnation` ran out unrefuted. */
    private readonly onExpired: (name: string, incarnation: number) => void,
  ) {}

  /**
   * Starts the suspicion of `name` at `incarnation`, sized for a cluster of `members`, replacing
   * one of an older incarnation. False when one at this incarnation already runs (it keeps its timer).
   */
  start(name: string, incarnation: number, firstAccuser: string, members: number): boolean {
    const existing = this.pending.get(name);
    if (existing && existing.incarnation === incarnation) return false;
    existing?.cancel();
    const suspicion = new Suspicion(this.timers, this.nowMs, incarnation, firstAccuser, suspicionBounds(this.config, members), () => {
      this.pending.delete(name);
      this.onExpired(name, incarnation);
    });
    this.pending.set(name, suspicion);
    return true;
  }

  /** Registers an independent accuser of `name`; true when it was new information (worth re-gossiping). */
  confirm(name: string, accuser: string): boolean {
    const s = this.pending.get(name);
    return s !== undefined && s.confirm(accuser);
  }

  /** `name` is no longer suspect (refuted, dead, left): its timer goes. */
  cancel(name: string): void {
    const s = this.pending.get(name);
    if (!s) return;
    s.cancel();
    this.pending.delete(name);
  }

  stop(): void {
    for (const s of this.pending.values()) s.cancel();
    this.pending.clear();
  }
}
