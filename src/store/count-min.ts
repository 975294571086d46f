/**
 * A Count-Min Sketch of 4-bit counters, depth 4, with periodic aging: the frequency filter of
 * TinyLFU (Einziger, Friedman, Manes 2017) in the layout Caffeine's FrequencySketch made popular.
 *
 * Why 4 bits: admission only compares "how popular is this key relative to that one", so counts
 * saturate at 15 and the whole history of a cache of N entries fits in about 8N bytes. Why aging:
 * after `sampleSize` increments (10x the expected entry count) every counter is halved, so
 * yesterday's favourites fade and the sketch keeps describing the recent past.
 *
 * Each 32-bit word holds eight counters. Row i of the sketch picks a word with its own hash and a
 * counter inside that word, so the four rows are spread over the whole table rather than four
 * separate tables, and a key's estimate is the minimum of its four counters.
 */
import { mix32 } from './hash.ts';

/** Counters saturate here: a 4-bit counter cannot go higher. */
export const MAX_COUNT = 15;
/** Number of rows (hash functions). Four is the usual trade between accuracy and cost. */
export const SKETCH_DEPTH = 4;
/** Aging period as a multiple of the expected entry count (Caffeine uses 10). */
export const SAMPLE_FACTOR = 10;
/** Smallest table, so a tiny cache still has a usefully sized sketch. */
const MIN_WORDS = 64;

/** Per-row seeds, odd so multiplying by them is a bijection. */
const ROW_SEEDS = [0x97cb3127, 0xb0ad2cb5, 0xfa10a2d1, 0xcf3ac7ad] as const;
/** Clears the top bit of every 4-bit counter after a right shift by one (the halving step). */
const HALVE_MASK = 0x77777777;

export interface CountMinOptions {
  /** Expected number of distinct entries the owner keeps; sizes the table and the aging period. */
  expectedEntries: number;
}

export class CountMinSketch {
  private table: Uint32Array;
  private mask: number;
  private additions = 0;
  /** Increments between agings. */
  private sampleSizeValue: number;
  private agings = 0;

  constructor(options: CountMinOptions) {
    const { table, mask, sampleSize } = CountMinSketch.layout(options.expectedEntries);
    this.table = table;
    this.mask = mask;
    this.sampleSizeValue = sampleSize;
  }

  private static layout(expectedEntries: number): { table: Uint32Array; mask: number; sampleSize: number } {
    const entries = Math.max(1, Math.floor(expectedEntries));
    // Two words (16 counters) per expected entry, as Caffeine's one long per entry.
    let words = MIN_WORDS;
    while (words < entries * 2 && words < 1 << 30) words *= 2;
    return { table: new Uint32Array(words), mask: words - 1, sampleSize: SAMPLE_FACTOR * entries };
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
   * a quarter of it). Counts are lost; like Caffeine, we accept that for a rare event.
   */
  ensureCapacity(expectedEntries: number): void {
    const words = this.table.length;
    if (expectedEntries * 2 <= words && (expectedEntries * 8 >= words || words === MIN_WORDS)) return;
    const { table, mask, sampleSize } = CountMinSketch.layout(expectedEntries);
    this.table = table;
    this.mask = mask;
    this.sampleSizeValue = sampleSize;
    this.additions = 0;
  }

  /** The estimated number of occurrences of a key (by its 32-bit hash), at most 15. */
  frequency(hash: number): number {
    let min = MAX_COUNT;
    for (let row = 0; row < SKETCH_DEPTH; row++) {
      const h = mix32(Math.imul(hash, ROW_SEEDS[row]!) + row);
      const shift = (h >>> 29) << 2;
      const count = (this.table[h & this.mask]! >>> shift) & 0xf;
      if (count < min) min = count;
    }
    return min;
  }

  /** Records one occurrence; returns true when it triggered an aging (halving) of all counters. */
  increment(hash: number): boolean {
    let added = false;
    const table = this.table;
    for (let row = 0; row < SKETCH_DEPTH; row++) {
      const h = mix32(Math.imul(hash, ROW_SEEDS[row]!) + row);
      const index = h & this.mask;
      const shift = (h >>> 29) << 2;
      const word = table[index]!;
      if (((word >>> shift) & 0xf) < MAX_COUNT) {
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
