/**
 * Event-loop figures for `/metrics` that do not depend on who reads them (docs/METRICS.md,
 * "Process"). Figures "since the previous scrape" are reset by every reader: a second Prometheus,
 * a monitoring agent or an operator's `curl` would shorten the window the first one sees and could
 * hide a lag spike from it. So:
 *
 * - busy time is a cumulative counter (`performance.eventLoopUtilization().active`), which each
 *   reader turns into a utilisation with `rate()` over its own range;
 * - lag is a summary over a window the process keeps (LAG_WINDOWS windows of LAG_WINDOW_MS, the
 *   newest one filling), sampled by one timer for the whole process, so a read only looks.
 *
 * The lag sampler is a `setInterval` of LAG_SAMPLE_MS whose lateness is recorded into an HDR
 * histogram per window; `monitorEventLoopDelay` would measure the same but its histogram cannot be
 * copied or merged (`RecordableHistogram.add` refuses it), which a sliding window needs. One sampler
 * serves every registry of the process (tests and `shoal dev` run several nodes in one process:
 * they all report the process's figures), started by the first user and stopped with the last.
 */
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';

/** How often the lag sampler runs (its lateness is the lag it records). */
export const LAG_SAMPLE_MS = 20;
/** One window of lag samples... */
export const LAG_WINDOW_MS = 10_000;
/** ...and how many the summary covers (the newest one still filling): about the last minute. */
export const LAG_WINDOWS = 6;
/** The quantiles `shoal_event_loop_lag_seconds` reports (1 is the largest lag in the window). */
export const LAG_QUANTILES = [0.5, 0.99, 1] as const;

export interface LagSummary {
  /** Lag in seconds at each of LAG_QUANTILES over the window (0 when it holds no sample). */
  quantiles: { quantile: number; seconds: number }[];
  /** Every sample since the sampler started: their total lag in seconds and their number. */
  sumSeconds: number;
  count: number;
}

/**
 * Lag samples kept in LAG_WINDOWS histograms, the newest one filling. `record` and `rotate` are
 * driven by the sampler (or a test); `summary` reads without changing anything.
 */
export class LagWindows {
  private readonly windows: RecordableHistogram[] = [];
  private sumSeconds = 0;
  private count = 0;

  constructor(private readonly size = LAG_WINDOWS) {
    this.windows.push(createHistogram());
  }

  /** One sample of `ms` of lag, into the newest window. */
  record(ms: number): void {
    // The HDR histogram takes positive integers (nanoseconds); a timer on time records 1 ns.
    this.windows[this.windows.length - 1]!.record(Math.max(1, Math.round(ms * 1e6)));
    this.sumSeconds += ms / 1000;
    this.count++;
  }

  /** Starts a new window, forgetting the oldest once `size` are kept. */
  rotate(): void {
    if (this.windows.length === this.size) {
      const oldest = this.windows.shift()!;
      oldest.reset();
      this.windows.push(oldest);
    } else {
      this.windows.push(createHistogram());
    }
  }

  summary(): LagSummary {
    const merged = createHistogram();
    for (const w of this.windows) merged.add(w);
    const quantiles = LAG_QUANTILES.map((quantile) => ({ quantile, seconds: merged.count === 0 ? 0 : (quantile === 1 ? merged.max : merged.percentile(quantile * 100)) / 1e9 }));
    return { quantiles, sumSeconds: this.sumSeconds, count: this.count };
  }
}

let shared: { windows: LagWindows; timer: NodeJS.Timeout; users: number } | null = null;

/** Starts (or joins) the process's lag sampler; the returned function leaves it (the last one stops it). */
export function useLagSampler(): { windows: LagWindows; release: () => void } {
  if (shared === null) {
    const windows = new LagWindows();
    let last = performance.now();
    let windowStart = last;
    const timer = setInterval(() => {
      const now = performance.now();
      windows.record(Math.max(0, now - last - LAG_SAMPLE_MS));
      last = now;
      if (now - windowStart >= LAG_WINDOW_MS) {
        windows.rotate();
        windowStart = now;
      }
    }, LAG_SAMPLE_MS);
    timer.unref(); // never keeps a process alive on its own
    shared = { windows, timer, users: 0 };
  }
  const mine = shared;
  mine.users++;
  let released = false;
  return {
    windows: mine.windows,
    release: () => {
      if (released) return;
      released = true;
      if (--mine.users === 0) {
        clearInterval(mine.timer);
        if (shared === mine) shared = null;
      }
    },
  };
}

/** Seconds the event loop has been busy since the process started (cumulative: `rate()` gives the utilisation). */
export function eventLoopBusySeconds(): number {
  return performance.eventLoopUtilization().active / 1000;
}
