/**
 * The phi accrual failure detector (Hayashibara et al., 2004), as Akka implements it: instead of
 * a yes/no timeout, a suspicion level phi = -log10(P(a heartbeat arrives later than now)), from
 * the mean and standard deviation of the intervals between recent heartbeats. Any reply from a
 * peer is a heartbeat here. The acceptable pause is added to the mean, so a silence that long
 * (a GC pause) barely raises phi; the minimum standard deviation keeps a very regular peer from
 * being suspected on the first late beat.
 *
 * Phi ranks peers and defers reads from a silent one; SWIM alone decides membership.
 */

export interface PhiOptions {
  /** Phi at or above which the peer is taken as unavailable (Akka: 8). */
  threshold: number;
  /** Intervals kept (Akka: 1000). */
  maxSamples: number;
  /** Floor of the standard deviation, so a perfectly regular peer is not suspected at once (Akka: 100 ms). */
  minStdDevMs: number;
  /** Silence that barely raises phi (Akka: 3 s). */
  acceptablePauseMs: number;
  /** The interval assumed before the second heartbeat (Akka: 1 s). */
  firstIntervalEstimateMs: number;
}

export const AKKA_PHI: PhiOptions = { threshold: 8, maxSamples: 1000, minStdDevMs: 100, acceptablePauseMs: 3000, firstIntervalEstimateMs: 1000 };

export class PhiAccrual {
  private readonly intervals: Float64Array;
  private count = 0;
  private next = 0;
  private sum = 0;
  private sumSquares = 0;
  private lastMs: number | null = null;

  constructor(private readonly options: PhiOptions = AKKA_PHI) {
    this.intervals = new Float64Array(options.maxSamples);
  }

  heartbeat(nowMs: number): void {
    if (this.lastMs === null) {
      // Akka seeds the history with the first estimate, so phi is defined after one heartbeat.
      const first = this.options.firstIntervalEstimateMs;
      this.add(first - first / 4);
      this.add(first + first / 4);
    } else {
      this.add(nowMs - this.lastMs);
    }
    this.lastMs = nowMs;
  }

  /**
   * The suspicion level now: 0 before any heartbeat. `sinceMs`: the silence counts from it when it
   * is later than the last heartbeat (a peer nobody asked anything is not silent, only idle).
   */
  phi(nowMs: number, sinceMs = Number.NEGATIVE_INFINITY): number {
    if (this.lastMs === null || sinceMs === Number.POSITIVE_INFINITY) return 0;
    const mean = this.sum / this.count + this.options.acceptablePauseMs;
    const variance = Math.max(0, this.sumSquares / this.count - (this.sum / this.count) ** 2);
    const stdDev = Math.max(Math.sqrt(variance), this.options.minStdDevMs);
    return phiOf(nowMs - Math.max(this.lastMs, sinceMs), mean, stdDev);
  }

  suspected(nowMs: number, sinceMs = Number.NEGATIVE_INFINITY): boolean {
    return this.phi(nowMs, sinceMs) >= this.options.threshold;
  }

  private add(interval: number): void {
    if (this.count === this.intervals.length) {
      const old = this.intervals[this.next]!;
      this.sum -= old;
      this.sumSquares -= old * old;
    } else {
      this.count++;
    }
    this.intervals[this.next] = interval;
    this.next = (this.next + 1) % this.intervals.length;
    this.sum += interval;
    this.sumSquares += interval * interval;
  }
}

/** Akka's logistic approximation of the normal distribution's tail (error under 0.01%). */
export function phiOf(elapsedMs: number, meanMs: number, stdDevMs: number): number {
  const y = (elapsedMs - meanMs) / stdDevMs;
  const exponent = -y * (1.5976 + 0.070566 * y * y);
  const e = Math.exp(exponent);
  if (!Number.isFinite(e)) return 0;
  // Past the mean, -log10(e / (1 + e)) in logarithms: e underflows to 0 a few dozen deviations out,
  // and phi would be Infinity, which status (JSON, the wire) cannot carry; this stays finite and exact.
  return elapsedMs > meanMs ? (Math.log1p(e) - exponent) / Math.LN10 : -Math.log10(1 - 1 / (1 + e));
}
