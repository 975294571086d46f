/**
 * The workload every target runs: batched sets, then batched gets, of 100-byte values over a fixed
 * key space. Two phases per operation:
 *
 * - max: a closed loop with many calls outstanding (the clients batch the calls made in one tick
 *   into one message) for a fixed time: the throughput.
 * - half: an open loop at half of that throughput, calls issued on a fixed schedule and latency
 *   measured from when each call was due (so a stall counts against every call it delayed):
 *   the latency an application sees when the cache is not saturated.
 */
import * as hdr from 'hdr-histogram-js';

export interface Target {
  set(key: string, value: Uint8Array): Promise<unknown>;
  get(key: string): Promise<unknown>;
  close(): Promise<void>;
}

export interface WorkloadOptions {
  seconds: number;
  /** Calls outstanding in the closed loop. */
  concurrency: number;
  keys: number;
  valueBytes: number;
}

export const DEFAULT_WORKLOAD: WorkloadOptions = { seconds: 3, concurrency: 256, keys: 10_000, valueBytes: 100 };

export interface PhaseResult {
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  errors: number;
}

export interface OpResult {
  max: PhaseResult;
  /** Open loop at half of max.opsPerSec. */
  half: PhaseResult & { targetOpsPerSec: number };
}

/** Open-loop ticks: calls due in each 1 ms slot are issued together. */
const TICK_MS = 1;
/** Beyond this many calls in flight the open loop is saturated: it stops issuing and counts errors. */
const OPEN_LOOP_MAX_IN_FLIGHT = 20_000;

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

function summary(h: hdr.Histogram, ops: number, seconds: number, errors: number): PhaseResult {
  return {
    opsPerSec: Math.round(ops / seconds),
    p50Us: h.getValueAtPercentile(50),
    p99Us: h.getValueAtPercentile(99),
    p999Us: h.getValueAtPercentile(99.9),
    errors,
  };
}

const keyOf = (i: number): string => `bench:key:${i}`;

export async function runOp(target: Target, op: 'set' | 'get', options: WorkloadOptions): Promise<OpResult> {
  const value = new Uint8Array(options.valueBytes).fill(120);
  const call = op === 'set' ? (k: string) => target.set(k, value) : (k: string) => target.get(k);
  if (op === 'get') {
    // Every key exists, so gets return values rather than misses.
    for (let i = 0; i < options.keys; i += 1000) await Promise.all(Array.from({ length: Math.min(1000, options.keys - i) }, (_, j) => target.set(keyOf(i + j), value)));
  }
  const max = await closedLoop(call, options);
  const rate = Math.max(1, Math.round(max.opsPerSec / 2));
  const half = await openLoop(call, rate, options);
  return { max, half: { ...half, targetOpsPerSec: rate } };
}

async function closedLoop(call: (key: string) => Promise<unknown>, options: WorkloadOptions): Promise<PhaseResult> {
  const h = histogram();
  let ops = 0;
  let errors = 0;
  let n = 0;
  const start = performance.now();
  const end = start + options.seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await call(keyOf(n++ % options.keys));
        h.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        ops++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return summary(h, ops, (performance.now() - start) / 1000, errors);
}

async function openLoop(call: (key: string) => Promise<unknown>, rate: number, options: WorkloadOptions): Promise<PhaseResult> {
  const h = histogram();
  let ops = 0;
  let errors = 0;
  let inFlight = 0;
  let issued = 0;
  let n = 0;
  const start = performance.now();
  const durationMs = options.seconds * 1000;
  const outstanding = new Set<Promise<void>>();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const elapsed = Math.min(now - start, durationMs);
      const due = Math.floor((elapsed * rate) / 1000);
      while (issued < due) {
        // When this call was due, by the schedule: waiting behind a stall is latency too.
        const dueAt = start + (issued * 1000) / rate;
        issued++;
        if (inFlight >= OPEN_LOOP_MAX_IN_FLIGHT) {
          errors++;
          continue;
        }
        inFlight++;
        const p: Promise<void> = call(keyOf(n++ % options.keys)).then(
          () => {
            h.recordValue(Math.max(1, Math.round((performance.now() - dueAt) * 1000)));
            ops++;
          },
          () => {
            errors++;
          },
        ).finally(() => {
          inFlight--;
          outstanding.delete(p);
        });
        outstanding.add(p);
      }
      if (now - start >= durationMs) resolve();
      else setTimeout(tick, TICK_MS);
    };
    tick();
  });
  await Promise.all(outstanding);
  return summary(h, ops, options.seconds, errors);
}
