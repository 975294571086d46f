/**
 * The production ProcessSignalSource (src/health/self-health.ts): event-loop lag (the mean of
 * perf_hooks' delay histogram since the last sample) and utilisation, heap used and RSS. Like
 * real.ts, only the daemon uses it; core code sees the interface.
 */
import { getHeapStatistics } from 'node:v8';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';

export interface ProcessSignals {
  sample(): { eventLoopLagMs: number | null; eventLoopUtilisation: number | null; heapUsedBytes: number | null; rssBytes: number | null };
  /** The heap's hard limit (V8's heap_size_limit): the threshold heap growth heads for. */
  readonly heapLimitBytes: number;
}

export function processSignals(): ProcessSignals {
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  let lastUtilisation: EventLoopUtilization = performance.eventLoopUtilization();
  return {
    heapLimitBytes: getHeapStatistics().heap_size_limit,
    sample() {
      const lagMs = delay.count > 0 ? delay.mean / 1e6 : null;
      delay.reset();
      const now = performance.eventLoopUtilization();
      const since = performance.eventLoopUtilization(now, lastUtilisation);
      lastUtilisation = now;
      const memory = process.memoryUsage();
      return { eventLoopLagMs: lagMs, eventLoopUtilisation: since.utilization, heapUsedBytes: memory.heapUsed, rssBytes: memory.rss };
    },
  };
}
