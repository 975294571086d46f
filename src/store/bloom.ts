/**
 * Bloom filters: a set membership test that may answer "maybe" for a key never added (at a chosen
 * false-positive rate) but never "no" for one that was. Used as TinyLFU's doorkeeper and reusable
 * wherever a lookup would otherwise cost more than a memory probe (an SSTable, a peer, a disk).
 *
 * Layout: one bit array in a Uint32Array, k probes by double hashing (Kirsch & Mitzenmacher 2006:
 * probe i = h1 + i*h2), sized from the expected insertions n and the target false-positive rate p
 * with the textbook formulas m = -n ln p / (ln 2)^2 bits and k = (m / n) ln 2 probes.
 */
import { rehash } from '../protocol/hash.ts';

/** Default target false-positive rate. */
export const DEFAULT_FALSE_POSITIVE_RATE = 0.01;

export class BloomConfigError extends Error {
  override readonly name = 'BloomConfigError';
}

export interface BloomOptions {
  /** How many distinct keys the filter is sized for. */
  expectedInsertions: number;
  /** Target false-positive rate at `expectedInsertions` keys, in (0, 1). */
  falsePositiveRate?: number;
}

/** A fixed-size Bloom filter over 32-bit key hashes (see hash.ts for producing them). */
export class BloomFilter {
  readonly bits: number;
  readonly probes: number;
  readonly expectedInsertions: number;
  private readonly words: Uint32Array;
  private insertions = 0;

  constructor(options: BloomOptions) {
    const n = Math.max(1, Math.floor(options.expectedInsertions));
    const p = options.falsePositiveRate ?? DEFAULT_FALSE_POSITIVE_RATE;
    if (!(p > 0 && p < 1)) throw new BloomConfigError(`falsePositiveRate must be in (0, 1), got ${p}`);
    if (!Number.isFinite(options.expectedInsertions) || options.expectedInsertions < 0) {
      throw new BloomConfigError(`expectedInsertions must be a non-negative number, got ${options.expectedInsertions}`);
    }
    const bits = Math.max(64, Math.ceil((-n * Math.log(p)) / (Math.LN2 * Math.LN2)));
    this.words = new Uint32Array(Math.ceil(bits / 32));
    this.bits = this.words.length * 32;
    this.probes = Math.max(1, Math.round((this.bits / n) * Math.LN2));
    this.expectedInsertions = n;
  }

  /** Keys added since the last clear (counting repeats that set no new bit as well). */
  get size(): number {
    return this.insertions;
  }

  get byteSize(): number {
    return this.words.byteLength;
  }

  /** True when the filter holds as many keys as it was sized for; past that the FP rate climbs. */
  get isFull(): boolean {
    return this.insertions >= this.expectedInsertions;
  }

  /** Adds a key by hash; returns true if it was (probably) already present. */
  add(hash: number): boolean {
    const h2 = rehash(hash) | 1;
    let h = hash;
    let present = true;
    for (let i = 0; i < this.probes; i++) {
      const bit = (h >>> 0) % this.bits;
      const word = bit >>> 5;
      const mask = 1 << (bit & 31);
      if ((this.words[word]! & mask) === 0) {
        present = false;
        this.words[word] = this.words[word]! | mask;
      }
      h = (h + h2) | 0;
    }
    this.insertions++;
    return present;
  }

  /** False means definitely absent; true means present or a false positive. */
  mightContain(hash: number): boolean {
    const h2 = rehash(hash) | 1;
    let h = hash;
    for (let i = 0; i < this.probes; i++) {
      const bit = (h >>> 0) % this.bits;
      if ((this.words[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
      h = (h + h2) | 0;
    }
    return true;
  }

  clear(): void {
    this.words.fill(0);
    this.insertions = 0;
  }
}

/**
 * Two generations of Bloom filters: inserts go to the current one; when it fills, it becomes the
 * previous generation and a cleared filter takes its place. Lookups consult both, so a key is
 * remembered for between one and two generations and the false-positive rate stays near its
 * target however long the stream runs (a single filter would saturate to all ones).
 */
export class RotatingBloomFilter {
  private current: BloomFilter;
  private previous: BloomFilter;
  private rotationCount = 0;

  constructor(options: BloomOptions) {
    this.current = new BloomFilter(options);
    this.previous = new BloomFilter(options);
  }

  get rotations(): number {
    return this.rotationCount;
  }

  get byteSize(): number {
    return this.current.byteSize + this.previous.byteSize;
  }

  /** Adds a key; returns true if it was (probably) already present in either generation. */
  add(hash: number): boolean {
    if (this.previous.mightContain(hash)) {
      // Refresh it into the current generation so it survives the next rotation.
      this.current.add(hash);
      this.maybeRotate();
      return true;
    }
    const present = this.current.add(hash);
    this.maybeRotate();
    return present;
  }

  mightContain(hash: number): boolean {
    return this.current.mightContain(hash) || this.previous.mightContain(hash);
  }

  /** Forces a rotation: the current generation becomes the previous, the old previous is dropped. */
  rotate(): void {
    const recycled = this.previous;
    recycled.clear();
    this.previous = this.current;
    this.current = recycled;
    this.rotationCount++;
  }

  clear(): void {
    this.current.clear();
    this.previous.clear();
  }

  private maybeRotate(): void {
    if (this.current.isFull) this.rotate();
  }
}
