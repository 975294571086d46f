/**
 * Hot-key detection with the Space-Saving algorithm (Metwally, Agrawal, El Abbadi 2005), plus
 * exponential decay so "hot" means hot recently.
 *
 * Space-Saving keeps k counters. A tracked key's counter is incremented; an untracked key replaces
 * the key with the smallest counter and inherits that count (+1) as its overestimate, remembered as
 * its `error`. Every key whose true count exceeds total/k is guaranteed to be tracked, and
 * `count - error` is a guaranteed lower bound on its true count, which is what share reports use
 * (so a key is never reported hot on an overestimate). Counters live in a binary min-heap.
 *
 * Time enters only through `tick(nowMs)`, called by the owner: at each window boundary all counts
 * are multiplied by `decay` and the once-per-window report memory is cleared.
 *
 * Rates: besides the decayed count, each counter sums what it received since the previous tick;
 * each tick turns that into `rate` (estimated accesses per second over the last tick interval, on
 * the owner's clock), which `shoal hotkeys` and the node's hot-key alerts read. A key that takes
 * over a counter starts from its own accesses (it inherits the count, never the rate).
 *
 * Sampling: the store records every read and write, and on a large key space almost every record is
 * a Space-Saving replacement (a Map delete, a Map insert and a heap walk), which cost about a tenth
 * of a cache hit. So by default one access in about `sampleInterval` is counted, weighted by
 * `sampleInterval` (gaps drawn uniformly from 1 .. 2 x interval - 1 by a seeded stream, so periodic
 * traffic cannot alias with the sampler and runs replay exactly). A key with share s of the traffic
 * gets share s of the samples in expectation, which is what the threshold is about; the bounds
 * above then hold for the sampled stream, and counts are estimates of the true ones. Set
 * `sampleInterval: 1` to count every access exactly.
 *
 * Index: key -> counter id is an open-addressing table of id + 1 (0: empty; open-addressing.ts),
 * probed linearly and kept at most a quarter full, with each counter's key hash kept beside it. On a wide key space
 * nearly every counted access is a replacement; with a `Map` its delete, insert and periodic
 * rehash cost ~450 ns per counted access (~55 per access at the default interval, a tenth of a
 * store hit), the table about a fifth of that. The counters and their order are the same.
 */
import { SeededRandom } from '../runtime/seeded-random.ts';
import { keyHash } from './key-index.ts';
import { siftDown, siftUp } from './count-heap.ts';
import { homeBucket, removeShifting } from './open-addressing.ts';

export const DEFAULT_HOT_KEY_CAPACITY = 64;
/** Share of the (decayed) traffic that makes a key hot. */
export const DEFAULT_HOT_KEY_SHARE = 0.05;
export const DEFAULT_HOT_KEY_WINDOW_MS = 10_000;
/** Counts are multiplied by this at each window boundary (0.5 = a half-life of one window). */
export const DEFAULT_HOT_KEY_DECAY = 0.5;
/** No report until the decayed traffic total reaches this, so a quiet node reports nothing. */
export const DEFAULT_HOT_KEY_MIN_TRAFFIC = 1000;
/** One access in about this many is counted (with this weight); see the module comment. */
export const DEFAULT_HOT_KEY_SAMPLE_INTERVAL = 8;
/** Seed of the sampler's own stream (it never draws from the node's shared one). */
export const DEFAULT_HOT_KEY_SEED = 0x40717e75;

export class HotKeyConfigError extends Error {
  override readonly name = 'HotKeyConfigError';
}

export interface HotKey {
  key: string;
  /** Estimated (decayed) count; with `sampleInterval: 1`, at least the true count. */
  count: number;
  /** How much of `count` may be overestimate. */
  error: number;
  /** Share of the decayed traffic, (count - error) / total: guaranteed with `sampleInterval: 1`, estimated from the sample otherwise. */
  share: number;
  /** Estimated accesses per second over the last tick interval (0 before the second tick). */
  rate: number;
}

export interface HotKeyReport extends HotKey {
  /** Start of the window (caller's clock) in which the key crossed the threshold. */
  windowStartMs: number;
}

export interface HotKeyOptions {
  capacity?: number;
  shareThreshold?: number;
  windowMs?: number;
  decay?: number;
  minTraffic?: number;
  /** Count one access in about this many, weighted by it (default DEFAULT_HOT_KEY_SAMPLE_INTERVAL); 1 counts every access. */
  sampleInterval?: number;
  /** Seed for the sampler's gaps (default DEFAULT_HOT_KEY_SEED). */
  seed?: number;
  /** Called at most once per key per window when its guaranteed share reaches the threshold. */
  onHotKey?: (report: HotKeyReport) => void;
}

export class HotKeyTracker {
  private readonly capacity: number;
  private readonly shareThreshold: number;
  private readonly windowMs: number;
  private readonly decay: number;
  private readonly minTraffic: number;
  private readonly onHotKey: ((report: HotKeyReport) => void) | undefined;
  private readonly sampleInterval: number;
  private readonly sampler: SeededRandom;
  /** Accesses left until the next one that is counted. */
  private untilSample = 1;
  /** Buckets of counter id + 1 (0: empty); a power of two, at least 4 x capacity. */
  private readonly table: Int32Array;
  private readonly tableMask: number;
  /** 32 - log2 of the table's buckets (homeBucket). */
  private readonly tableShift: number;
  /** Each counter's key and its `keyHash`. */
  private readonly keys: string[] = [];
  private readonly hashes: Uint32Array;
  private readonly counts: Float64Array;
  private readonly errors: Float64Array;
  /** Weight each counter received since the last tick, and the rate that made at the last tick. */
  private readonly recent: Float64Array;
  private readonly rates: Float64Array;
  private lastTickMs: number | undefined;
  /** Min-heap of counter ids ordered by count; heapPos[id] is its place. */
  private readonly heap: Int32Array;
  private readonly heapPos: Int32Array;
  private size = 0;
  private total = 0;
  private windowStart: number | undefined;
  private readonly reported = new Set<string>();

  constructor(options: HotKeyOptions = {}) {
    this.capacity = options.capacity ?? DEFAULT_HOT_KEY_CAPACITY;
    this.shareThreshold = options.shareThreshold ?? DEFAULT_HOT_KEY_SHARE;
    this.windowMs = options.windowMs ?? DEFAULT_HOT_KEY_WINDOW_MS;
    this.decay = options.decay ?? DEFAULT_HOT_KEY_DECAY;
    this.minTraffic = options.minTraffic ?? DEFAULT_HOT_KEY_MIN_TRAFFIC;
    this.onHotKey = options.onHotKey;
    this.sampleInterval = options.sampleInterval ?? DEFAULT_HOT_KEY_SAMPLE_INTERVAL;
    this.sampler = SeededRandom.mulberry32(options.seed ?? DEFAULT_HOT_KEY_SEED);
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new HotKeyConfigError(`hot-key capacity must be a positive integer, got ${this.capacity}`);
    if (!(this.shareThreshold > 0 && this.shareThreshold <= 1)) throw new HotKeyConfigError(`hot-key shareThreshold must be in (0, 1], got ${this.shareThreshold}`);
    if (!(this.decay >= 0 && this.decay <= 1)) throw new HotKeyConfigError(`hot-key decay must be in [0, 1], got ${this.decay}`);
    if (!(this.windowMs > 0)) throw new HotKeyConfigError(`hot-key windowMs must be positive, got ${this.windowMs}`);
    if (!Number.isInteger(this.sampleInterval) || this.sampleInterval < 1) throw new HotKeyConfigError(`hot-key sampleInterval must be a positive integer, got ${this.sampleInterval}`);
    this.counts = new Float64Array(this.capacity);
    this.errors = new Float64Array(this.capacity);
    this.recent = new Float64Array(this.capacity);
    this.rates = new Float64Array(this.capacity);
    this.heap = new Int32Array(this.capacity);
    this.heapPos = new Int32Array(this.capacity);
    this.hashes = new Uint32Array(this.capacity);
    const bits = Math.ceil(Math.log2(4 * this.capacity));
    this.table = new Int32Array(2 ** bits);
    this.tableMask = 2 ** bits - 1;
    this.tableShift = 32 - bits;
  }

  /** Decayed total of recorded accesses. */
  get traffic(): number {
    return this.total;
  }

  /**
   * Notes one access to `key` (counted if the sampler picks it; see the module comment). `hash`,
   * when given, must be `keyHash(key)`: the store's index has computed it, and hashing the key
   * again was a tenth of a counted access.
   */
  record(key: string, hash?: number): void {
    if (--this.untilSample > 0) return;
    const interval = this.sampleInterval;
    this.untilSample = interval === 1 ? 1 : 1 + this.sampler.int(2 * interval - 1);
    this.count(key, (hash ?? keyHash(key)) | 0, interval);
  }

  /**
   * Space-Saving's update with a weighted occurrence of `key`, whose keyHash is `hash` as an int32:
   * this call is not inlined, and V8 passes an integer at or above 2^31 as a heap number it allocates.
   */
  private count(key: string, hash: number, weight: number): void {
    this.total += weight;
    const id = this.find(key, hash);
    if (id !== -1) {
      this.counts[id] = this.counts[id]! + weight;
      this.recent[id] = this.recent[id]! + weight;
      siftDown(this.heap, this.heapPos, this.counts, this.size, this.heapPos[id]!);
      return;
    }
    if (this.size < this.capacity) {
      const fresh = this.size++;
      this.keys[fresh] = key;
      this.index(fresh, hash);
      this.counts[fresh] = weight;
      this.errors[fresh] = 0;
      this.recent[fresh] = weight;
      this.rates[fresh] = 0;
      this.heap[fresh] = fresh;
      this.heapPos[fresh] = fresh;
      siftUp(this.heap, this.heapPos, this.counts, fresh);
      return;
    }
    // Replace the smallest counter: the newcomer inherits its count as possible overestimate.
    const victim = this.heap[0]!;
    this.unindex(victim);
    this.keys[victim] = key;
    this.index(victim, hash);
    this.errors[victim] = this.counts[victim]!;
    this.counts[victim] = this.counts[victim]! + weight;
    this.recent[victim] = weight;
    this.rates[victim] = 0;
    siftDown(this.heap, this.heapPos, this.counts, this.size, 0);
  }

  /** The counter tracking `key` (whose keyHash, as an int32, is `hash`), or -1. */
  private find(key: string, hash: number): number {
    const { table, tableMask } = this;
    for (let at = homeBucket(hash, this.tableShift); ; at = (at + 1) & tableMask) {
      const held = table[at]!;
      if (held === 0) return -1;
      if (this.hashes[held - 1] === hash >>> 0 && this.keys[held - 1] === key) return held - 1;
    }
  }

  private index(id: number, hash: number): void {
    const { table, tableMask } = this;
    this.hashes[id] = hash;
    let at = homeBucket(hash, this.tableShift);
    while (table[at] !== 0) at = (at + 1) & tableMask;
    table[at] = id + 1;
  }

  private unindex(id: number): void {
    removeShifting(this.table, this.tableShift, this.hashes, id + 1);
  }

  /** The `n` keys with the highest estimated counts, hottest first. */
  top(n: number = this.capacity): HotKey[] {
    const out: HotKey[] = [];
    for (let id = 0; id < this.size; id++) out.push(this.describe(id));
    out.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
    return out.slice(0, n);
  }

  /** Advances the window (decaying counts at each boundary) and reports keys over the threshold. */
  tick(nowMs: number): void {
    if (this.lastTickMs === undefined || nowMs > this.lastTickMs) {
      const seconds = this.lastTickMs === undefined ? 0 : (nowMs - this.lastTickMs) / 1000;
      for (let id = 0; id < this.size; id++) {
        if (seconds > 0) this.rates[id] = this.recent[id]! / seconds;
        this.recent[id] = 0;
      }
      this.lastTickMs = nowMs;
    }
    if (this.windowStart === undefined) this.windowStart = nowMs;
    if (nowMs - this.windowStart >= this.windowMs) {
      for (let id = 0; id < this.size; id++) {
        this.counts[id] = this.counts[id]! * this.decay;
        this.errors[id] = this.errors[id]! * this.decay;
      }
      this.total *= this.decay;
      this.windowStart = nowMs;
      this.reported.clear();
    }
    if (!this.onHotKey || this.total < this.minTraffic) return;
    for (let id = 0; id < this.size; id++) {
      const hot = this.describe(id);
      if (hot.share >= this.shareThreshold && !this.reported.has(hot.key)) {
        this.reported.add(hot.key);
        this.onHotKey({ ...hot, windowStartMs: this.windowStart });
      }
    }
  }

  private describe(id: number): HotKey {
    const count = this.counts[id]!;
    const error = this.errors[id]!;
    return { key: this.keys[id]!, count, error, share: this.total > 0 ? (count - error) / this.total : 0, rate: this.rates[id]! };
  }
}
