/**
 * A Count-Min Sketch of 4-bit counters, depth 4, with periodic aging: the frequency filter of
 * TinyLFU (Einziger, Friedman, Manes 2017) in the layout Caffeine's FrequencySketch made popular.
 *
 * Why 4 bits: admission only compares "how popular is this key relative to that one", so counts
 * saturate at 15 and the whole history of a cache of N entries fits in about 8N bytes. Why aging:
 * after `sampleSize` increments (10x the expected entry count) every counter is halved, so
 * yesterday's favourites fade and the sketch keeps describing the recent past.
 *
 * Each 32-bit word holds eight counters. A key's four counters all live in one 64-byte block of
 * sixteen words (Caffeine's block-based layout since 3.0): the key's hash picks the block, and a
 * second hash picks, for each row i, one of the block's four words reserved for row i and a counter
 * inside it. An estimate is the minimum of the four counters. Spreading the rows over the whole
 * table, as a textbook sketch does, costs four cache misses on every cache hit; one block costs
 * one, with the same table size and, as measured by bench/hitratio, no loss of hit ratio.
 */
import { fmix32 } from '../protocol/hash.ts';

/** Counters saturate here: a 4-bit counter cannot go higher. */
const COUNTER_MAX = 15;
/** COUNTER_MAX for other modules; this module's hot loops read the private binding (see charCodeAt in key-index.ts). */
export const MAX_COUNT = COUNTER_MAX;
/** Number of rows (hash functions). Four is the usual trade between accuracy and cost. */
const SKETCH_DEPTH = 4;
/** Aging period as a multiple of the expected entry count (Caffeine uses 10). */
export const SAMPLE_FACTOR = 10;
/** Smallest table, so a tiny cache still has a usefully sized sketch. */
const MIN_WORDS = 64;

/** A block is 2^4 = 16 words (64 bytes, one cache line); row i owns words 4i .. 4i + 3 of it. */
const BLOCK_SHIFT = 4;
/** Seed of the in-block hash, odd so multiplying by it is a bijection. */
const COUNTER_SEED = 0x97cb3127;
/** Clears the top bit of every 4-bit counter after a right shift by one (the halving step). */
const HALVE_MASK = 0x77777777;

export interface CountMinOptions {
  /** Expected number of distinct entries the owner keeps; sizes the table and the aging period. */
  expectedEntries: number;
}

export class CountMinSketch {
  private table: Uint32Array;
  /** Blocks in the table, minus one (the table holds a power of two of them). */
  private blockMask: number;
  private additions = 0;
  /** Increments between agings. */
  private sampleSizeValue: number;
  private agings = 0;

  constructor(options: CountMinOptions) {
    const { table, blockMask, sampleSize } = CountMinSketch.layout(options.expectedEntries);
    this.table = table;
    this.blockMask = blockMask;
    this.sampleSizeValue = sampleSize;
  }

  private static layout(expectedEntries: number): { table: Uint32Array; blockMask: number; sampleSize: number } {
    const entries = Math.max(1, Math.floor(expectedEntries));
    // Two words (16 counters) per expected entry, as Caffeine's one long per entry.
    let words = MIN_WORDS;
    while (words < entries * 2 && words < 1 << 30) words *= 2;
    return { table: new Uint32Array(words), blockMask: (words >>> BLOCK_SHIFT) - 1, sampleSize: SAMPLE_FACTOR * entries };
  }

  /** The number of increments after which all counters are halved. */
  get sampleSize(): number {
    return this.sampleSizeValue;
  }

  /** How many times counters have been halved so far. */
  get agingCount(): number {
    return this.agings;
  }

  /** Bytes held by the counter table. */
  get byteSize(): number {
    return this.table.byteLength;
  }

  /**
   * Resizes for a new expected entry count when it has outgrown the table (or shrunk to less than
   * a quarter of it). Growing keeps every count: a key's block is its hash's low bits, so in a
   * table k times larger the keys of old block b spread over the blocks b + i x (old blocks), and
   * the old table copied k times over gives each key the counters it had (and the collisions it
   * had, which fade as its new block alone counts on). Caffeine clears instead, as this did: a
   * store sized by bytes grows its sketch on the way up from its guess (an entry per 256 bytes, at
   * most 65,536), twice on the way to 200,000 entries, and forgot every count each time (P6 @
   * 100000 sized by bytes: 70.66% with the counts cleared, 71.81% kept; docs/research/eviction-policy.md,
   * tuner35). Shrinking, which no caller does, still starts afresh.
   */
  ensureCapacity(expectedEntries: number): void {
    const words = this.table.length;
    if (expectedEntries * 2 <= words && (expectedEntries * 8 >= words || words === MIN_WORDS)) return;
    const old = this.table;
    const { table, blockMask, sampleSize } = CountMinSketch.layout(expectedEntries);
    if (table.length > old.length) {
      for (let at = 0; at < table.length; at += old.length) table.set(old, at);
    } else {
      this.additions = 0;
    }
    this.table = table;
    this.blockMask = blockMask;
    this.sampleSizeValue = sampleSize;
  }

  /** The estimated number of occurrences of a key (by its 32-bit hash), at most 15. */
  frequency(hash: number): number {
    const block = (hash & this.blockMask) << BLOCK_SHIFT;
    const counterHash = fmix32(Math.imul(hash, COUNTER_SEED));
    let min = COUNTER_MAX;
    for (let row = 0; row < SKETCH_DEPTH; row++) {
      const h = counterHash >>> (row << 3);
      const count = (this.table[block + (row << 2) + (h & 3)]! >>> (h & 0x1c)) & 0xf;
      if (count < min) min = count;
    }
    return min;
  }

  /** Records one occurrence; returns true when it triggered an aging (halving) of all counters. */
  increment(hash: number): boolean {
    const table = this.table;
    const block = (hash & this.blockMask) << BLOCK_SHIFT;
    const counterHash = fmix32(Math.imul(hash, COUNTER_SEED));
    let added = false;
    for (let row = 0; row < SKETCH_DEPTH; row++) {
      const h = counterHash >>> (row << 3);
      const index = block + (row << 2) + (h & 3);
      const shift = h & 0x1c;
      const word = table[index]!;
      if (((word >>> shift) & 0xf) < COUNTER_MAX) {
        table[index] = word + (1 << shift);
        added = true;
      }
    }
    // Saturated keys do not advance the aging clock, as in Caffeine: only real information does.
    if (added && ++this.additions >= this.sampleSizeValue) {
      this.age();
      return true;
    }
    return false;
  }

  /** Halves every counter (and the addition count): the sketch's notion of forgetting. */
  age(): void {
    const table = this.table;
    for (let i = 0; i < table.length; i++) table[i] = (table[i]! >>> 1) & HALVE_MASK;
    this.additions = this.additions >>> 1;
    this.agings++;
  }

  clear(): void {
    this.table.fill(0);
    this.additions = 0;
  }
}
