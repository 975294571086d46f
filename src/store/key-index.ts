/**
 * The store's key -> slot index: open addressing with linear probing over one Int32Array of slot
 * numbers (plus one; 0 is an empty bucket), at most half full.
 *
 * Why not a `Map<string, number>`: a Map entry costs V8 about 29 bytes per key (its hash table
 * and entry with key, value and chain link, with doubling slack), a sixth of a small entry's
 * memory; this table costs 4 bytes per bucket, 8 to 16 per key. The key hash is not stored here:
 * every slot's row already holds it (the frequency sketch's hash), and the keys are the store's
 * `keys` array, so the owner answers both (`KeyIndexHost`). A lookup hashes the key in JavaScript
 * (`unitHashString`), then compares a candidate's row hash before its key.
 *
 * Deletion shifts the following entries of the probe run back (Knuth's algorithm R), so there are
 * no tombstones and a lookup stops at the first empty bucket.
 */

export interface KeyIndexHost {
  /** The key hash of a held slot (its row's). */
  hashOf(slot: number): number;
  /** The key of a held slot. */
  keyOf(slot: number): string | undefined;
}

/** Smallest table: buckets, a power of two. */
const MIN_BUCKETS = 64;

export class KeyIndex {
  /** Slot + 1 per bucket; 0 when empty. */
  private table = new Int32Array(MIN_BUCKETS);
  private mask = MIN_BUCKETS - 1;
  private count = 0;

  constructor(private readonly host: KeyIndexHost) {}

  /** Keys indexed. */
  get size(): number {
    return this.count;
  }

  /** Bytes of the table. */
  get byteSize(): number {
    return this.table.byteLength;
  }

  /** The slot of `key` (whose hash is `hash`), or -1. */
  find(key: string, hash: number): number {
    const table = this.table;
    const mask = this.mask;
    for (let at = hash & mask; ; at = (at + 1) & mask) {
      const entry = table[at]!;
      if (entry === 0) return -1;
      const slot = entry - 1;
      if (this.host.hashOf(slot) === hash && this.host.keyOf(slot) === key) return slot;
    }
  }

  /** Indexes `slot` under `hash`; its key must not be indexed already. */
  insert(slot: number, hash: number): void {
    if (2 * (this.count + 1) > this.table.length) this.resize(this.table.length * 2);
    this.place(slot, hash);
    this.count++;
  }

  /** Removes `slot`, indexed under `hash`; nothing if it is not indexed. */
  remove(slot: number, hash: number): void {
    const table = this.table;
    const mask = this.mask;
    let hole = hash & mask;
    while (table[hole] !== slot + 1) {
      if (table[hole] === 0) return;
      hole = (hole + 1) & mask;
    }
    this.count--;
    // Shift back each later entry of the run whose home bucket is not between the hole and it.
    for (let at = (hole + 1) & mask; table[at] !== 0; at = (at + 1) & mask) {
      const home = this.host.hashOf(table[at]! - 1) & mask;
      const stays = hole <= at ? hole < home && home <= at : hole < home || home <= at;
      if (stays) continue;
      table[hole] = table[at]!;
      hole = at;
    }
    table[hole] = 0;
  }

  private place(slot: number, hash: number): void {
    const table = this.table;
    const mask = this.mask;
    let at = hash & mask;
    while (table[at] !== 0) at = (at + 1) & mask;
    table[at] = slot + 1;
  }

  private resize(buckets: number): void {
    const old = this.table;
    this.table = new Int32Array(buckets);
    this.mask = buckets - 1;
    for (let i = 0; i < old.length; i++) {
      const entry = old[i]!;
      if (entry !== 0) this.place(entry - 1, this.host.hashOf(entry - 1));
    }
  }
}
