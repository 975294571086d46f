/**
 * The hash functions of the ring. Everything here is plain 32-bit integer arithmetic (no crypto,
 * no floating-point transcendental functions), so every node, every Node.js version and the client
 * SDK compute bit-identical results. This module must stay importable by the browser/SDK: it uses
 * only `TextEncoder` and typed arrays.
 *
 * The key hash is MurmurHash3 x86_32 (Austin Appleby, public domain) with seed 0. It was chosen
 * because it is fast in JavaScript (`Math.imul`), has good avalanche, and has byte-exact
 * implementations in every language an SDK might be written in.
 */

/** Seed of the key hash. Part of the wire contract with clients: never change it. */
export const KEY_HASH_SEED = 0;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** MurmurHash3's 32-bit finalizer: a bijective mix with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86_32 of `bytes[0, length)`, as an unsigned 32-bit integer. */
export function murmur3(bytes: Uint8Array, seed = KEY_HASH_SEED, length = bytes.length): number {
  let h = seed >>> 0;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    h = mixBlock(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  // The 1-3 trailing bytes, little-endian, as one last partial block.
  const tail = length & 3;
  if (tail > 0) {
    let k = bytes[blocks]!;
    if (tail > 1) k |= bytes[blocks + 1]! << 8;
    if (tail > 2) k |= bytes[blocks + 2]! << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= length;
  return fmix32(h);
}

/** One MurmurHash3 block round: mixes the 32-bit word `k` into the running hash `h`. */
function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * MurmurHash3 x86_32 of two little-endian 32-bit words, without building a byte array. The claim
 * algorithm uses it to give every (node, partition) pair an independent pseudo-random score.
 */
export function hashPair(a: number, b: number, seed: number): number {
  let h = mixBlock(seed >>> 0, a >>> 0);
  h = mixBlock(h, b >>> 0);
  return fmix32(h ^ 8);
}

const encoder = new TextEncoder();
/** Reused UTF-8 buffer so hashing a string key allocates nothing in the common case. */
let scratch = new Uint8Array(256);

/** MurmurHash3 x86_32 of a string's UTF-8 bytes (equal to `murmur3(utf8(s))`). */
export function murmur3String(s: string, seed = KEY_HASH_SEED): number {
  // A UTF-16 code unit becomes at most 3 UTF-8 bytes (a surrogate pair, 2 units, becomes 4).
  if (s.length * 3 > scratch.length) scratch = new Uint8Array(s.length * 3);
  const { written } = encoder.encodeInto(s, scratch);
  return murmur3(scratch, seed, written);
}

/** Hashes a key given as bytes or as a string (whose UTF-8 bytes are hashed). */
export function hashKey(key: Uint8Array | string): number {
  return typeof key === 'string' ? murmur3String(key) : murmur3(key);
}

/**
 * A 128-bit hex digest of a string: four MurmurHash3 runs with different seeds. Not
 * cryptographic; it only has to make two different ring inputs produce different versions with
 * overwhelming probability so nodes notice that their views differ.
 */
export function digestHex(s: string): string {
  let out = '';
  for (const seed of [0x5eed0001, 0x5eed0002, 0x5eed0003, 0x5eed0004]) {
    out += murmur3String(s, seed).toString(16).padStart(8, '0');
  }
  return out;
}
