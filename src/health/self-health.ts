/**
 * This node's own signals, sampled once a store tick into a sliding window: event-loop lag and
 * utilisation, heap used, RSS (from an injected source: the daemon's reads the process, the
 * simulator's is absent or fake), and the node's request error and timeout counts and hint
 * backlog (from the node). For heap, lag and error rate: the least-squares slope over the window
 * and the time until the current trend crosses its threshold (trend extrapolation, the first
 * step of prediction; null while the trend is flat, falling or the window short).
 */

/** What the process says about itself; null fields are unknown. */
export interface ProcessSample {
  eventLoopLagMs: number | null;
  /** 0..1 share of the last interval the event loop was busy. */
  eventLoopUtilisation: number | null;
  heapUsedBytes: number | null;
  rssBytes: number | null;
}

export interface ProcessSignalSource {
  sample(): ProcessSample;
}

/** What the node counts itself (cumulative counters; rates are taken over the window). */
export interface NodeCounters {
  requests: number;
  /** Requests answered with an error (unavailable, overloaded...). */
  errors: number;
  hintBacklog: number;
}

export interface SelfHealthThresholds {
  heapBytes: number | null;
  eventLoopLagMs: number;
  errorRate: number;
}

interface Sample extends ProcessSample, NodeCounters {
  atMs: number;
}

export interface Trend {
  value: number | null;
  /** The least-squares line's value now: the level without the last sample's noise (null with fewer than 3 points). */
  fittedValue: number | null;
  /** Units per second. */
  slopePerSecond: number | null;
  /** Seconds until the trend crosses the threshold; null when it does not head there. */
  secondsToThreshold: number | null;
}

export interface SelfHealthView {
  samples: number;
  eventLoopUtilisation: number | null;
  rssBytes: number | null;
  hintBacklog: number;
  heap: Trend;
  eventLoopLag: Trend;
  /** Errors per request over each tick. */
  errorRate: Trend;
}

export const SELF_WINDOW = 60;

export class SelfHealth {
  private readonly window: Sample[] = [];

  constructor(
    private readonly thresholds: SelfHealthThresholds,
    private readonly source: ProcessSignalSource | null,
  ) {}

  record(atMs: number, counters: NodeCounters): void {
    const process = this.source?.sample() ?? { eventLoopLagMs: null, eventLoopUtilisation: null, heapUsedBytes: null, rssBytes: null };
    this.window.push({ atMs, ...process, ...counters });
    if (this.window.length > SELF_WINDOW) this.window.shift();
  }

  view(): SelfHealthView {
    const last = this.window.at(-1);
    const errorRates = this.window.slice(1).map((s, i) => {
      const prev = this.window[i]!;
      const requests = s.requests - prev.requests;
      return { atMs: s.atMs, value: requests > 0 ? (s.errors - prev.errors) / requests : 0 };
    });
    return {
      samples: this.window.length,
      eventLoopUtilisation: last?.eventLoopUtilisation ?? null,
      rssBytes: last?.rssBytes ?? null,
      hintBacklog: last?.hintBacklog ?? 0,
      heap: trend(this.series((s) => s.heapUsedBytes), this.thresholds.heapBytes),
      eventLoopLag: trend(this.series((s) => s.eventLoopLagMs), this.thresholds.eventLoopLagMs),
      errorRate: trend(errorRates, this.thresholds.errorRate),
    };
  }

  private series(pick: (s: Sample) => number | null): { atMs: number; value: number }[] {
    return this.window.flatMap((s) => {
      const value = pick(s);
      return value === null ? [] : [{ atMs: s.atMs, value }];
    });
  }
}

/** Least-squares slope of the points (per second) and when the line reaches `threshold`. */
export function trend(points: readonly { atMs: number; value: number }[], threshold: number | null): Trend {
  const value = points.at(-1)?.value ?? null;
  if (points.length < 3 || value === null) return { value, fittedValue: null, slopePerSecond: null, secondsToThreshold: null };
  const n = points.length;
  const meanT = points.reduce((a, p) => a + p.atMs, 0) / n;
  const meanV = points.reduce((a, p) => a + p.value, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.atMs - meanT) * (p.value - meanV);
    den += (p.atMs - meanT) ** 2;
  }
  const slopePerMs = den === 0 ? 0 : num / den;
  const slopePerSecond = slopePerMs * 1000;
  // From the fitted line's value now, not the last (noisy) sample.
  const fittedValue = meanV + slopePerMs * (points[n - 1]!.atMs - meanT);
  if (threshold === null || slopePerMs <= 0) return { value, fittedValue, slopePerSecond, secondsToThreshold: null };
  return { value, fittedValue, slopePerSecond, secondsToThreshold: Math.max(0, (threshold - fittedValue) / slopePerSecond) };
}
