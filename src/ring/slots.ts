/**
 * Key -> slot, Redis Cluster's way: CRC-16/XMODEM of the key, or of its hash tag, mod 16384.
 * Shoal places keys by slot (partition.ts maps a slot to one of the Q partitions), so a Redis
 * Cluster client that computes `CLUSTER KEYSLOT` itself sends each key to a node that owns it,
 * and keys sharing a `{hash tag}` always share a partition.
 *
 * A string key is hashed as its UTF-8 bytes, so `keySlot('k') === keySlot(utf8('k'))`.
 */
import { crc16 } from '../protocol/hash.ts';

/** Redis Cluster's slot count. Part of the wire contract with Redis clients: never change it. */
export const SLOT_COUNT = 16384;

const OPEN_BRACE = 0x7b; // '{'
const CLOSE_BRACE = 0x7d; // '}'

const encoder = new TextEncoder();
/** Reused UTF-8 buffer so the slot of a string key allocates nothing in the common case. */
let scratch = new Uint8Array(256);

/**
 * The bytes `[start, end)` of `bytes[0, length)` that decide its slot: the hash tag when there is
 * one (Redis's rule: the bytes between the first `{` and the first `}` after it, if not empty),
 * otherwise the whole key.
 */
export function hashTagRange(bytes: Uint8Array, length = bytes.length): [start: number, end: number] {
  let open = -1;
  for (let i = 0; i < length; i++) {
    if (bytes[i] === OPEN_BRACE) {
      open = i;
      break;
    }
  }
  if (open < 0) return [0, length];
  for (let i = open + 1; i < length; i++) {
    if (bytes[i] === CLOSE_BRACE) {
      // `{}` is not a tag: the whole key is hashed, exactly as Redis does.
      return i === open + 1 ? [0, length] : [open + 1, i];
    }
  }
  return [0, length];
}

/** The Redis Cluster slot (0..16383) of a key given as bytes or as a string (its UTF-8 bytes). */
export function keySlot(key: Uint8Array | string): number {
  let bytes: Uint8Array;
  let length: number;
  if (typeof key === 'string') {
    // A UTF-16 code unit becomes at most 3 UTF-8 bytes (a surrogate pair, 2 units, becomes 4).
    if (key.length * 3 > scratch.length) scratch = new Uint8Array(key.length * 3);
    length = encoder.encodeInto(key, scratch).written;
    bytes = scratch;
  } else {
    bytes = key;
    length = key.length;
  }
  const [start, end] = hashTagRange(bytes, length);
  // 16384 is a power of two: mod is a mask, as in Redis.
  return crc16(bytes, start, end) & (SLOT_COUNT - 1);
}

/**
 * The partition (of Q) that holds a slot. With the default Q = 1024 that is `slot >> 4`: each
 * partition holds 16 consecutive slots. For any Q <= 16384 it is `floor(slot * Q / 16384)`, which
 * gives every partition a contiguous run of floor(16384 / Q) or ceil(16384 / Q) slots (so a Redis
 * slot range maps to few partitions and CLUSTER SLOTS stays short); Q > 16384 would leave
 * partitions with no slot at all, so partition.ts refuses it. Exact: slot * Q < 2^28.
 */
export function slotToPartition(slot: number, partitions: number): number {
  return Math.floor((slot * partitions) / SLOT_COUNT);
}

/** The slots `[first, last]` (inclusive) of a partition: the inverse of `slotToPartition`. */
export function partitionSlotRange(partition: number, partitions: number): [first: number, last: number] {
  // The first slot s with floor(s * Q / 16384) >= p is ceil(p * 16384 / Q).
  const first = Math.ceil((partition * SLOT_COUNT) / partitions);
  const next = Math.ceil(((partition + 1) * SLOT_COUNT) / partitions);
  return [first, next - 1];
}
