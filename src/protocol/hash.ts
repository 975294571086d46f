/**
 * Every non-cryptographic hash in Shoal, in one place. It lives in `protocol` because that is the
 * one folder every user may import: the ring and the client SDK (the key hash is part of the wire
 * contract), the store (sketches, filters), gossip (its view digest) and the simulator (its event
 * digest). Everything is plain 32-bit integer arithmetic (no crypto, no floating point), so every
 * node, every Node.js version and the SDK compute bit-identical results; the module uses only
 * `TextEncoder` and typed arrays, so it stays importable by the browser.
 *
 * The functions differ on purpose and none may change its output: ring placement, ring versions,
 * HLC node ids, sketches, Bloom filters and simulator digests all depend on the exact values.
 *
 * - `murmur3*`, `hashKey`, `hashPair`, `digestHex`: MurmurHash3 x86_32 (Austin Appleby, public
 *   domain) over UTF-8 bytes; the ring's key hash. Byte-exact implementations exist in every
 *   language an SDK might be written in.
 * - `unitHashString`/`unitHashBytes`, `rehash`: the store's table hash: one MurmurHash3 round per
 *   UTF-16 code unit (or per byte), then the finaliser. Cheaper than UTF-8 encoding on every cache
 *   access, and binary-safe latin1 keys hash the same as their bytes.
 * - `fnv1aString`/`fnv1aBytes`: FNV-1a, for digests that only have to tell inputs apart.
 * - `crc16`: CRC-16/XMODEM, exactly Redis Cluster's crc16.c; the key -> slot hash (src/ring/slots.ts),
 *   so Redis Cluster clients compute the same slot for a key as the nodes do.
 */

/** Seed of the key hash. Part of the wire contract with clients: never change it. */
export const KEY_HASH_SEED = 0;

/** Default seed of the store's table hash. Any constant works; a fixed one keeps runs reproducible. */
export const DEFAULT_UNIT_HASH_SEED = 0x9747b28c;

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

/** One MurmurHash3 block round: mixes the 32-bit word `k` into the running hash `h` (a signed int). */
export function murmurRound(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3 x86_32 of `bytes[0, length)`, as an unsigned 32-bit integer. */
export function murmur3(bytes: Uint8Array, seed = KEY_HASH_SEED, length = bytes.length): number {
  let h = seed >>> 0;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    h = murmurRound(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
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

/**
 * MurmurHash3 x86_32 of two little-endian 32-bit words, without building a byte array. The claim
 * algorithm uses it to give every (node, partition) pair an independent pseudo-random score.
 */
export function hashPair(a: number, b: number, seed: number): number {
  let h = murmurRound(seed >>> 0, a >>> 0);
  h = murmurRound(h, b >>> 0);
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

/** The ring's key hash: a key given as bytes or as a string (whose UTF-8 bytes are hashed). */
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

/**
 * The store's table hash of a string: one MurmurHash3 round per UTF-16 code unit, then the
 * finaliser. Keys arriving from the replication layer are binary-safe latin1 strings (one code
 * unit per byte), so it equals `unitHashBytes` of those bytes for the same seed.
 */
export function unitHashString(key: string, seed: number = DEFAULT_UNIT_HASH_SEED): number {
  let h = seed | 0;
  const n = key.length;
  for (let i = 0; i < n; i++) h = murmurRound(h, key.charCodeAt(i));
  return fmix32(h ^ n);
}

/** The store's table hash of bytes; equal to `unitHashString` of their latin1 decoding. */
export function unitHashBytes(bytes: Uint8Array, seed: number = DEFAULT_UNIT_HASH_SEED): number {
  let h = seed | 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) h = murmurRound(h, bytes[i]!);
  return fmix32(h ^ n);
}

/** A second, independent-looking hash derived from a first one (for double hashing). */
export function rehash(h: number): number {
  return fmix32(Math.imul(h ^ 0x27d4eb2f, 0x165667b1) + 0x9e3779b9);
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over bytes; cheap, and good enough to tell two payloads apart in a digest. */
export function fnv1aBytes(bytes: Uint8Array): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** FNV-1a over a string's UTF-16 code units. */
export function fnv1aString(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** CRC-16/XMODEM (poly 0x1021, init 0, no reflection), one table entry per byte value. */
const CRC16_TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

/**
 * CRC-16/XMODEM of `bytes[start, end)`, as Redis's crc16.c computes it (`crc16("123456789") ===
 * 0x31c3`). Redis Cluster's key slot is this mod 16384; the range lets a hash tag be hashed in
 * place.
 */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >>> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}
