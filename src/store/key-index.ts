/**
 * The store's key -> slot index: open addressing with linear probing over one Int32Array, at most
 * half full. A bucket holds slot + 1 in its low bits (0 is an empty bucket) and, in the bits the
 * slot numbers do not need, the top bits of the key's hash as a tag.
 *
 * Why not a `Map<string, number>`: a Map entry costs V8 about 29 bytes per key (its hash table
 * and entry with key, value and chain link, with doubling slack), a sixth of a small entry's
 * memory; this table costs 4 bytes per bucket, 8 to 16 per key. No hash is stored: the keys are
 * the store's own `keys` array, which the index reads, and a key's hash is computed again when a
 * delete or a resize moves its bucket. A lookup hashes the key in JavaScript (`keyHash`: two UTF-16
 * units per multiply, a quarter of the cost of the store's `unitHashString`, which V8's Map does not
 * pay because strings cache their own hash); a bucket whose tag differs is passed over without
 * reading its key, a matching one compares the key.
 *
 * The owner's keys array has one element per slot it has room for; when it grows, the owner hands
 * the index the new array (`setKeys`): the slot field is just wide enough for its slots, and each
 * bit more it needs is taken from the tags, in place.
 *
 * Deletion shifts the following entries of the probe run back (Knuth's algorithm R), so there are
 * no tombstones and a lookup stops at the first empty bucket.
 */

import { fmix32 } from '../protocol/hash.ts';

/**
 * String.prototype.charCodeAt, called as a function: `key.charCodeAt` looks the method up on the
 * key, and keys arrive as several kinds of V8 string (flat, concatenated, sliced, internalised,
 * two-byte), each with its own hidden class; past four the lookup goes megamorphic and optimised
 * code calls the generic LoadIC for every character (keyHash of a 16-character key: 22 ns on one
 * kind, 108 ns on five; 52 ns so). The call's target is the same builtin every time, so TurboFan
 * turns it into a direct character load whatever the kinds.
 *
 * Not exported, and other modules must not import it: an exported binding lives in a module cell
 * whose value TurboFan does not treat as a constant, so `charCodeAt.call` became a generic call of
 * Function.prototype.call and then of the charCodeAt builtin, per character (keyHash of a 16-byte
 * key over 100k keys in random order, the key's cache miss included: 115-126 ns exported, 64-68 ns
 * module-private; bench/store/ab.ts get-miss 0.55x, mixed 0.78x).
 * Modules that need it declare their own private copy, or call `isLatin1` below.
 */
const charCodeAt = String.prototype.charCodeAt;

/** True when every UTF-16 unit of the key fits a byte, so V8 stores it one byte per character. */
export function isLatin1(key: string): boolean {
  for (let i = 0; i < key.length; i++) if (charCodeAt.call(key, i) > 0xff) return false;
  return true;
}

/** The index's hash of a key: FxHash-style, two UTF-16 units per step, then MurmurHash3's finaliser (the bucket takes low bits, the tag high ones). */
export function keyHash(key: string): number {
  const n = key.length;
  let h = n;
  let i = 0;
  for (; i + 1 < n; i += 2) h = Math.imul(((h << 5) | (h >>> 27)) ^ (charCodeAt.call(key, i) | (charCodeAt.call(key, i + 1) << 16)), 0x9e3779b9);
  if (i < n) h = Math.imul(((h << 5) | (h >>> 27)) ^ charCodeAt.call(key, i), 0x9e3779b9);
  return fmix32(h) | 0;
}

/** Smallest table: buckets, a power of two. */
const MIN_BUCKETS = 64;

export class KeyIndex {
  /** Per bucket: tag << slotBits | (slot + 1); 0 when empty. */
  private table = new Int32Array(MIN_BUCKETS);
  private mask = MIN_BUCKETS - 1;
  private count = 0;
  /** Bits of a bucket holding slot + 1; the rest hold the tag. */
  private slotBits: number;
  private slotMask: number;

  /**
   * `keys`: the owner's key per slot, one element per slot it has room for, read (never written) by
   * the index. The owner changes that array in place, and hands over a new one when it has more
   * slots (`setKeys`).
   */
  constructor(private keys: readonly (string | undefined)[]) {
    this.slotBits = KeyIndex.bitsFor(keys.length);
    this.slotMask = 2 ** this.slotBits - 1;
  }

  /** Keys indexed. */
  get size(): number {
    return this.count;
  }

  /** Bytes of the table. */
  get byteSize(): number {
    return this.table.byteLength;
  }

  /** The owner's keys array, grown (never shorter than before): its slots may be indexed from now on. */
  setKeys(keys: readonly (string | undefined)[]): void {
    this.keys = keys;
    const bits = KeyIndex.bitsFor(keys.length);
    if (bits === this.slotBits) return;
    const shed = bits - this.slotBits;
    const oldMask = this.slotMask;
    const table = this.table;
    // Tags are the hash's top bits: a narrower tag is the old one without its lowest bits.
    for (let i = 0; i < table.length; i++) {
      const entry = table[i]!;
      if (entry !== 0) table[i] = (((entry >>> this.slotBits) >>> shed) << bits) | (entry & oldMask);
    }
    this.slotBits = bits;
    this.slotMask = 2 ** bits - 1;
  }

  /** The slot of `key`, or -1. */
  find(key: string): number {
    return this.findHashed(key, keyHash(key));
  }

  /** `find` for a caller that has `keyHash(key)` already (the store hands it on to the hot-key tracker). */
  findHashed(key: string, hash: number): number {
    const table = this.table;
    const mask = this.mask;
    const bits = this.slotBits;
    const tag = this.tagOf(hash);
    for (let at = hash & mask; ; at = (at + 1) & mask) {
      const entry = table[at]!;
      if (entry === 0) return -1;
      if (entry >>> bits !== tag) continue;
      const slot = (entry & this.slotMask) - 1;
      if (this.keys[slot] === key) return slot;
    }
  }

  /** Indexes `slot`, holding `key`, which must not be indexed already; `hash` is its keyHash. */
  insert(slot: number, key: string, hash: number = keyHash(key)): void {
    if (2 * (this.count + 1) > this.table.length) this.resize(this.table.length * 2);
    this.place(this.encode(slot, hash), hash);
    this.count++;
  }

  /** Removes `slot`, holding `key`; nothing if it is not indexed. */
  remove(slot: number, key: string): void {
    const hash = keyHash(key);
    const table = this.table;
    const mask = this.mask;
    const wanted = this.encode(slot, hash);
    let hole = hash & mask;
    while (table[hole] !== wanted) {
      if (table[hole] === 0) return;
      hole = (hole + 1) & mask;
    }
    this.count--;
    // Shift back each later entry of the run whose home bucket is not between the hole and it.
    for (let at = (hole + 1) & mask; table[at] !== 0; at = (at + 1) & mask) {
      const home = this.hashOf((table[at]! & this.slotMask) - 1) & mask;
      const stays = hole <= at ? hole < home && home <= at : hole < home || home <= at;
      if (stays) continue;
      table[hole] = table[at]!;
      hole = at;
    }
    table[hole] = 0;
  }

  /** Bits that hold slot + 1 for every slot below `slotCapacity`. */
  private static bitsFor(slotCapacity: number): number {
    return 32 - Math.clz32(slotCapacity);
  }

  private hashOf(slot: number): number {
    return keyHash(this.keys[slot]!);
  }

  private tagOf(hash: number): number {
    return this.slotBits >= 32 ? 0 : hash >>> this.slotBits;
  }

  private encode(slot: number, hash: number): number {
    return ((this.tagOf(hash) << this.slotBits) | (slot + 1)) | 0;
  }

  private place(entry: number, hash: number): void {
    const table = this.table;
    const mask = this.mask;
    let at = hash & mask;
    while (table[at] !== 0) at = (at + 1) & mask;
    table[at] = entry;
  }

  private resize(buckets: number): void {
    const old = this.table;
    this.table = new Int32Array(buckets);
    this.mask = buckets - 1;
    for (let i = 0; i < old.length; i++) {
      const entry = old[i]!;
      if (entry !== 0) this.place(entry, this.hashOf((entry & this.slotMask) - 1));
    }
  }
}
