/**
 * The store's key -> slot index: open addressing with linear probing over one Int32Array, at most
 * three quarters full. A bucket holds slot + 1 in its low bits (0 is an empty bucket) and, in the
 * bits the slot numbers do not need, the low bits of the key's hash as a tag. A key's home bucket
 * is its hash's place in the table scaled to the bucket count (multiply-shift, Lemire's "fastrange"),
 * which takes the hash's high bits and lets the bucket count be any number.
 *
 * Why not a `Map<string, number>`: a Map entry costs V8 about 29 bytes per key (its hash table
 * and entry with key, value and chain link, with doubling slack), a sixth of a small entry's
 * memory; this table costs 4 bytes per bucket, 5.3 to 8 per key. No hash is stored: the keys are
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
 *
 * Growth: by half when three quarters full, so from the first growth on the table is between half
 * and three quarters full. Doubling a power of two at half full, as it did, left it between a
 * quarter and a half full: 8 to 16 bytes per key, redis-server's dict's bucket cost, where this is
 * 5.3 to 8 (docs/STORE.md, "Memory at several sizes"). The price: probe runs are longer (a hit
 * reads 1.5 to 2.5 buckets on average, a miss 2.5 to 8.5, against 1.2 to 1.5 and 1.4 to 2.5), but
 * the buckets of a run share a cache line and a tag that differs is passed over without reading
 * its key; and each growth reads every key again to hash it (about 2.4 times per key over a fill
 * from empty, against once).
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

/** Smallest table, in buckets. */
const MIN_BUCKETS = 64;
/** The table grows when an insert would make it fuller than MAX_LOAD_NUMERATOR / MAX_LOAD_DENOMINATOR... */
const MAX_LOAD_NUMERATOR = 3;
const MAX_LOAD_DENOMINATOR = 4;
/** ...by this factor (to half full). */
const GROWTH = 1.5;
/** 2^-32: a hash times the bucket count times this is the hash's home bucket. */
const HASH_SCALE = 2 ** -32;

export class KeyIndex {
  /** Per bucket: tag << slotBits | (slot + 1); 0 when empty. */
  private table = new Int32Array(MIN_BUCKETS);
  /** The bucket count times 2^-32 (see homeOf). */
  private scale = MIN_BUCKETS * HASH_SCALE;
  private count = 0;
  /** Bits of a bucket holding slot + 1; the rest hold the tag... */
  private slotBits: number;
  private slotMask: number;
  /** ...which is the hash's low 32 - slotBits bits. */
  private tagMask: number;

  /**
   * `keys`: the owner's key per slot, one element per slot it has room for, read (never written) by
   * the index. The owner changes that array in place, and hands over a new one when it has more
   * slots (`setKeys`).
   */
  constructor(private keys: readonly (string | undefined)[]) {
    this.slotBits = KeyIndex.bitsFor(keys.length);
    this.slotMask = 2 ** this.slotBits - 1;
    this.tagMask = KeyIndex.tagMaskFor(this.slotBits);
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
    const oldMask = this.slotMask;
    const tagMask = KeyIndex.tagMaskFor(bits);
    const table = this.table;
    // Tags are the hash's low bits: a narrower tag is the old one without its highest bits.
    for (let i = 0; i < table.length; i++) {
      const entry = table[i]!;
      if (entry !== 0) table[i] = (((entry >>> this.slotBits) & tagMask) << bits) | (entry & oldMask);
    }
    this.slotBits = bits;
    this.slotMask = 2 ** bits - 1;
    this.tagMask = tagMask;
  }

  /** The slot of `key`, or -1. */
  find(key: string): number {
    return this.findHashed(key, keyHash(key));
  }

  /** `find` for a caller that has `keyHash(key)` already (the store hands it on to the hot-key tracker). */
  findHashed(key: string, hash: number): number {
    const table = this.table;
    const buckets = table.length;
    const bits = this.slotBits;
    const tag = hash & this.tagMask;
    for (let at = this.homeOf(hash); ; at = at + 1 === buckets ? 0 : at + 1) {
      const entry = table[at]!;
      if (entry === 0) return -1;
      if (entry >>> bits !== tag) continue;
      const slot = (entry & this.slotMask) - 1;
      if (this.keys[slot] === key) return slot;
    }
  }

  /** Indexes `slot`, holding `key`, which must not be indexed already; `hash` is its keyHash. */
  insert(slot: number, key: string, hash: number = keyHash(key)): void {
    if (MAX_LOAD_DENOMINATOR * (this.count + 1) > MAX_LOAD_NUMERATOR * this.table.length) this.resize(Math.ceil(this.table.length * GROWTH));
    this.place(this.encode(slot, hash), hash);
    this.count++;
  }

  /** Removes `slot`, holding `key`; nothing if it is not indexed. */
  remove(slot: number, key: string): void {
    const hash = keyHash(key);
    const table = this.table;
    const wanted = this.encode(slot, hash);
    let hole = this.homeOf(hash);
    while (table[hole] !== wanted) {
      if (table[hole] === 0) return;
      hole = this.after(hole);
    }
    this.count--;
    // Shift back each later entry of the run whose home bucket is not between the hole and it.
    for (let at = this.after(hole); table[at] !== 0; at = this.after(at)) {
      const home = this.homeOf(this.hashOf((table[at]! & this.slotMask) - 1));
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

  /** The hash's low 32 - slotBits bits: what a tag can hold (none when the slots take every bit). */
  private static tagMaskFor(slotBits: number): number {
    return slotBits >= 32 ? 0 : 2 ** (32 - slotBits) - 1;
  }

  /**
   * The home bucket of a hash: floor(hash x buckets / 2^32), the hash read as unsigned, in doubles.
   * The product is rounded (by at most 2^-53 of itself), so a hash may land in the bucket next to
   * the exact one, always the same one; never on `buckets` itself, which the exact product is at
   * least buckets / 2^32 below.
   */
  private homeOf(hash: number): number {
    return Math.floor((hash >>> 0) * this.scale);
  }

  /** The bucket after `at`, wrapping at the table's end. */
  private after(at: number): number {
    return at + 1 === this.table.length ? 0 : at + 1;
  }

  private hashOf(slot: number): number {
    return keyHash(this.keys[slot]!);
  }

  private encode(slot: number, hash: number): number {
    return (((hash & this.tagMask) << this.slotBits) | (slot + 1)) | 0;
  }

  private place(entry: number, hash: number): void {
    const table = this.table;
    let at = this.homeOf(hash);
    while (table[at] !== 0) at = this.after(at);
    table[at] = entry;
  }

  /**
   * Rehashes every key into a table of `buckets`, in slot order: an owner fills its slots in order
   * as keys arrive, so their strings lie in about that order in memory, where the old table's
   * order reads them at random, a cache miss each (a 1M first fill spent a fifth of its time here).
   */
  private resize(buckets: number): void {
    const old = this.table;
    const indexed = new Uint8Array(this.keys.length);
    for (let i = 0; i < old.length; i++) {
      const entry = old[i]!;
      if (entry !== 0) indexed[(entry & this.slotMask) - 1] = 1;
    }
    this.table = new Int32Array(buckets);
    this.scale = buckets * HASH_SCALE;
    for (let slot = 0; slot < indexed.length; slot++) {
      if (indexed[slot] === 0) continue;
      const hash = this.hashOf(slot);
      this.place(this.encode(slot, hash), hash);
    }
  }
}
