/**
 * Fast, well-mixed 32-bit hashing of string and byte keys.
 *
 * The store, the Count-Min Sketch and the Bloom filter all index tables with these hashes, so two
 * properties matter more than cryptographic strength: every input bit must reach every output bit
 * (keys like `user:1000` and `user:1001` differ in one character and must land far apart), and it
 * must be cheap enough to run on every cache access. The mixing step is a multiply-rotate per
 * character (in the spirit of MurmurHash3) followed by MurmurHash3's 32-bit finaliser (fmix32),
 * which is what gives the avalanche.
 *
 * Strings are hashed by UTF-16 code unit. Keys arriving from the replication layer are binary-safe
 * latin1 strings (one code unit per byte), so `hashString(bytes.toString('latin1'))` equals
 * `hashBytes(bytes)` for the same seed: both paths agree on the same key.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** The default seed. Any constant works; a fixed one keeps every run reproducible. */
export const DEFAULT_HASH_SEED = 0x9747b28c;

/** MurmurHash3's finaliser: a bijection on 32-bit integers with full avalanche. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A second, independent-looking hash derived from a first one (for double hashing). */
export function rehash(h: number): number {
  return mix32(Math.imul(h ^ 0x27d4eb2f, 0x165667b1) + 0x9e3779b9);
}

function step(h: number, unit: number): number {
  let k = Math.imul(unit, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Hashes a string's UTF-16 code units to an unsigned 32-bit integer. */
export function hashString(key: string, seed: number = DEFAULT_HASH_SEED): number {
  let h = seed | 0;
  const n = key.length;
  for (let i = 0; i < n; i++) h = step(h, key.charCodeAt(i));
  return mix32(h ^ n);
}

/** Hashes bytes to an unsigned 32-bit integer; equal to `hashString` of the latin1 decoding. */
export function hashBytes(bytes: Uint8Array, seed: number = DEFAULT_HASH_SEED): number {
  let h = seed | 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) h = step(h, bytes[i]!);
  return mix32(h ^ n);
}
