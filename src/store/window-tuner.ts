/**
 * Chooses W-TinyLFU's window size by miniature simulation (Waldspurger et al., "Cache Modeling
 * and Optimization using Miniature Simulations", USENIX ATC 2017).
 *
 * Why not only Caffeine's temporal hill climber: it compares the hit ratio of one sample period
 * with the previous one, so a change in the workload between periods looks exactly like the effect
 * of its own last step. On the reference traces that noise kept it from climbing far enough for
 * recency-heavy workloads (sprite wants a window near 80%, corda more than 10%) while loop and gli
 * want 1%. Here, a spatially hashed sample of the keys (1 in `rate`) is replayed through a ladder
 * of small W-TinyLFU caches with fixed window fractions, each scaled down by the same rate. All
 * rungs see the same requests in the same period, so comparing them measures the window's effect
 * and nothing else. At the end of each period the real cache's window moves to the rung with the
 * best smoothed hit count (moving one rung at a time was measured too: it lags on sprite and
 * corda, see docs/STORE.md).
 */
import type { Random } from '../runtime/env.ts';
import { CountMinSketch } from './count-min.ts';
import type { PolicyHost } from './policy.ts';
import { WTinyLfuPolicy } from './policy-wtinylfu.ts';

/** Window fractions simulated; the first is the starting point (Caffeine's 1%). */
export const WINDOW_LADDER: readonly number[] = [0.01, 0.05, 0.2, 0.5, 0.8, 0.99];
/** Target entries per miniature cache: big enough to behave like the real one, small enough to be cheap. */
export const MINI_CACHE_ENTRIES = 1024;
/** Sampled requests per decision, as a multiple of the mini cache's size. */
export const TUNER_PERIOD_FACTOR = 3;
/** Weight kept from earlier periods when scoring rungs (exponential smoothing). */
export const TUNER_SMOOTHING = 0.8;
/** Smallest miniature cache; below it, window fractions cannot be told apart. */
const MIN_MINI_ENTRIES = 64;

/** A small entry-counted cache keyed by 32-bit hash, run only to count its hits. */
class MiniCache implements PolicyHost {
  private readonly slotOf = new Map<number, number>();
  private hashes: Uint32Array;
  private readonly free: number[] = [];
  private next = 0;
  private maximum: number;
  readonly policy: WTinyLfuPolicy;
  hits = 0;

  constructor(windowFraction: number, entries: number, random: Random, sharedSketch: CountMinSketch) {
    this.maximum = entries;
    this.hashes = new Uint32Array(entries + 1);
    this.policy = new WTinyLfuPolicy(this, entries + 1, { random, expectedEntries: entries, windowFraction, adaptation: 'static', sharedSketch });
    this.policy.setMaximum(entries);
  }

  hashOf(slot: number): number {
    return this.hashes[slot]!;
  }
  weightOf(): number {
    return 1;
  }
  overBudget(): boolean {
    return this.slotOf.size > this.maximum;
  }
  evictForSize(slot: number): void {
    this.policy.onRemove(slot);
    this.slotOf.delete(this.hashes[slot]!);
    this.free.push(slot);
  }

  access(hash: number): void {
    const slot = this.slotOf.get(hash);
    if (slot !== undefined) {
      this.hits++;
      this.policy.onAccess(slot);
      return;
    }
    const fresh = this.free.length > 0 ? this.free.pop()! : this.next++;
    this.hashes[fresh] = hash;
    this.slotOf.set(hash, fresh);
    this.policy.onInsert(fresh);
    this.policy.evict();
  }
}

export interface WindowTunerOptions {
  /** Expected entries in the real cache; sets the sampling rate. */
  expectedEntries: number;
  random: Random;
}

export class WindowTuner {
  private readonly rate: number;
  private readonly minis: MiniCache[];
  /** The minis' frequency sketch, one for all (WTinyLfuOptions.sharedSketch), incremented once per sampled request. */
  private readonly sketch: CountMinSketch;
  private readonly scores: Float64Array;
  private readonly period: number;
  private sampled = 0;
  private current = 0;
  private decisionCount = 0;
  private readsSeen = false;

  constructor(options: WindowTunerOptions) {
    this.rate = Math.max(1, Math.floor(options.expectedEntries / MINI_CACHE_ENTRIES));
    const entries = Math.max(MIN_MINI_ENTRIES, Math.round(options.expectedEntries / this.rate));
    this.sketch = new CountMinSketch({ expectedEntries: entries });
    this.minis = WINDOW_LADDER.map((fraction) => new MiniCache(fraction, entries, options.random, this.sketch));
    this.scores = new Float64Array(WINDOW_LADDER.length);
    this.period = TUNER_PERIOD_FACTOR * entries;
  }

  /** 1 in this many keys is simulated. */
  get samplingRate(): number {
    return this.rate;
  }

  get decisions(): number {
    return this.decisionCount;
  }

  /** The window fraction the real cache should use now. */
  get fraction(): number {
    return WINDOW_LADDER[this.current]!;
  }

  /** The store served a read (hit or miss); until the first, the load is treated as write-only. */
  noteRead(): void {
    this.readsSeen = true;
  }

  /** Feeds one request; returns true when the recommended fraction changed. */
  record(hash: number): boolean {
    // Spatial sampling: a key is in or out for good, so the minis see whole key histories.
    if (this.rate > 1 && hash % this.rate !== 0) return false;
    this.sketch.increment(hash);
    for (const mini of this.minis) mini.access(hash);
    if (++this.sampled < this.period) return false;
    this.sampled = 0;
    this.decisionCount++;
    let best = this.current;
    for (let i = 0; i < this.minis.length; i++) {
      const mini = this.minis[i]!;
      this.scores[i] = TUNER_SMOOTHING * this.scores[i]! + mini.hits;
      mini.hits = 0;
      // Ties keep the current rung: only a measured improvement moves the window.
      if (this.scores[i]! > this.scores[best]!) best = i;
    }
    // Writes only so far (a bulk load): nothing says one written key will be read more than another,
    // and a 1% window's admission ties would keep the first keys written. Keep the newest, as LRU.
    if (!this.readsSeen) best = WINDOW_LADDER.length - 1;
    if (best === this.current) return false;
    this.current = best;
    return true;
  }
}
