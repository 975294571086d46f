/**
 * Faults that end in a failure, and the noise of healthy processes, for failure prediction
 * (issue 18; src/health/failure-predictor.ts). The node's own signals come from a fake process
 * (ProcessSignalSource, as src/runtime/process-signals.ts is the real one) whose heap and
 * event-loop lag the run shapes:
 *
 * - a slow memory leak: the heap grows linearly on top of its GC sawtooth until it reaches its
 *   limit, and the node crashes;
 * - lag creep: the event loop's lag grows linearly (its replies slow down with it, through the
 *   gray faults' slow replies) until a watchdog kills the node at CRASH_LAG_MS;
 * - an error storm (disk-full-like): a growing share of the node's messages is lost, so its
 *   requests fail and its peers see it erroring, until it is removed at STORM_REMOVAL_LOSS;
 *
 * and, in every run, healthy noise: GC sawtooth and sample noise, load bursts (more requests,
 * more heap, more lag), a cache warm-up (the heap climbs then levels off), short packet loss, and
 * GC-style pauses (lag spikes). Every draw comes from named seeded streams.
 */
import type { ProcessSample, ProcessSignalSource } from '../health/self-health.ts';
import type { SeededRandom } from '../runtime/seeded-random.ts';

export const FAKE_HEAP_LIMIT_BYTES = 512 * 2 ** 20;
/** Lag at which the watchdog kills a lag-creeping node. */
export const CRASH_LAG_MS = 2_000;
/** Loss share of the error storm at which the node is removed. */
export const STORM_REMOVAL_LOSS = 0.9;

export type SlowDeathKind = 'leak' | 'lag-creep' | 'error-storm';

/** A window of more load on the whole cluster: `intensity` times the request rate. */
export interface LoadBurst {
  fromMs: number;
  untilMs: number;
  intensity: number;
}

/** One node's fake process: its heap and lag as functions of virtual time, plus noise on each sample. */
export class FakeProcess implements ProcessSignalSource {
  readonly heapLimitBytes = FAKE_HEAP_LIMIT_BYTES;
  /** Heap growth of a leak, share of the limit per ms, from `fromMs` (leakUntil). */
  private leak: { fromMs: number; perMs: number } | null = null;
  /** Lag growth, ms per ms, from `fromMs`. */
  lagCreep: { fromMs: number; perMs: number } | null = null;
  /** A cache warm-up: the heap gains `share` of the limit between the two times, then keeps it. */
  warmUp: { fromMs: number; untilMs: number; share: number } | null = null;
  private readonly baseHeap: number;
  private readonly sawAmplitude: number;
  private readonly sawPeriodMs: number;
  private readonly sawPhaseMs: number;
  private readonly baseLagMs: number;
  private lastSampleMs: number | null = null;

  constructor(
    private readonly now: () => number,
    private readonly random: SeededRandom,
    private readonly bursts: readonly LoadBurst[],
  ) {
    this.baseHeap = random.between(0.2, 0.4);
    this.sawAmplitude = random.between(0.03, 0.08);
    this.sawPeriodMs = random.between(5_000, 20_000);
    this.sawPhaseMs = random.between(0, this.sawPeriodMs);
    this.baseLagMs = random.between(2, 10);
  }

  /** A leak from `fromMs` that takes the heap to its limit by `untilMs` at the latest (its sawtooth may get there first). */
  leakUntil(fromMs: number, untilMs: number): void {
    this.leak = { fromMs, perMs: (1 - this.baseHeap) / (untilMs - fromMs) };
  }

  /** The heap as a share of its limit, without sample noise (a crash is decided on it). */
  heapShare(atMs: number): number {
    const saw = this.sawAmplitude * (((atMs + this.sawPhaseMs) % this.sawPeriodMs) / this.sawPeriodMs);
    const leak = this.leak && atMs > this.leak.fromMs ? this.leak.perMs * (atMs - this.leak.fromMs) : 0;
    const w = this.warmUp;
    const warm = w && atMs > w.fromMs ? w.share * Math.min(1, (atMs - w.fromMs) / (w.untilMs - w.fromMs)) : 0;
    return this.baseHeap + saw + leak + warm + 0.05 * (this.intensity(atMs) - 1);
  }

  /** The event loop's lag without noise or pauses, ms. */
  lagMs(atMs: number): number {
    const creep = this.lagCreep && atMs > this.lagCreep.fromMs ? this.lagCreep.perMs * (atMs - this.lagCreep.fromMs) : 0;
    return this.baseLagMs + creep + 15 * (this.intensity(atMs) - 1);
  }

  sample(): ProcessSample {
    const at = this.now();
    // A pause shows as the late sample's lag (the timer fired that late): spread over the lag histogram's samples, as perf_hooks would.
    const late = this.lastSampleMs === null ? 0 : Math.max(0, at - this.lastSampleMs - 1_000);
    this.lastSampleMs = at;
    const heap = this.heapShare(at) + this.random.between(-0.01, 0.01);
    return {
      eventLoopLagMs: this.lagMs(at) * this.random.between(0.7, 1.3) + late / 2,
      eventLoopUtilisation: Math.min(1, 0.1 * this.intensity(at) + this.random.between(0, 0.1)),
      heapUsedBytes: heap * FAKE_HEAP_LIMIT_BYTES,
      rssBytes: (heap + 0.2) * FAKE_HEAP_LIMIT_BYTES,
    };
  }

  private intensity(atMs: number): number {
    let x = 1;
    for (const b of this.bursts) if (atMs >= b.fromMs && atMs < b.untilMs) x = Math.max(x, b.intensity);
    return x;
  }
}
