/**
 * What the store's small hash-keyed tables share (hot-keys.ts, the window tuner's minis,
 * turned-away.ts): a bucket chosen by Fibonacci hashing of a 32-bit hash, and, for the tables that
 * probe linearly, deletion that shifts the rest of the probe run back (Knuth's algorithm R), so
 * there are no tombstones and a lookup stops at the first empty bucket.
 */

/** Multiplier of Fibonacci hashing: hashes sharing their low bits (the tuner samples hash % rate === 0) still spread. */
const GOLDEN = 0x9e3779b1;

/** The home bucket of a 32-bit hash in a table of 2^(32 - shift) buckets. */
export function homeBucket(hash: number, shift: number): number {
  return Math.imul(hash, GOLDEN) >>> shift;
}

/**
 * Empties the bucket holding `entry` in a linearly probed table whose members are id + 1 (0: empty)
 * and whose member id's hash is `hashes[id]`, moving each later member of the probe run whose home
 * does not lie between the hole and it into the hole.
 */
export function removeShifting(table: Int32Array, shift: number, hashes: Uint32Array, entry: number): void {
  const mask = table.length - 1;
  let hole = homeBucket(hashes[entry - 1]!, shift);
  while (table[hole] !== entry) hole = (hole + 1) & mask;
  for (let at = (hole + 1) & mask; table[at] !== 0; at = (at + 1) & mask) {
    const home = homeBucket(hashes[table[at]! - 1]!, shift);
    // The member at `at` may move into the hole unless its home lies in (hole, at].
    if (((at - home) & mask) >= ((at - hole) & mask)) {
      table[hole] = table[at]!;
      hole = at;
    }
  }
  table[hole] = 0;
}
