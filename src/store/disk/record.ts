/**
 * The disk tier's on-device formats.
 *
 * A region is a run of blocks written one after another from its start. A block on the device:
 *
 *   sealed length (u32) | generation (f64) | sealed plain text
 *
 * The generation is the region's: it grows every time a region is (re)written, so blocks left
 * behind by the region's previous use end a scan, and it is bound into the block's authenticated
 * data with the region and the block's offset (`blockAad`), so a block read from anywhere else
 * does not open. The plain text is records end to end:
 *
 *   kind (u8) | partition (u16) | expires at (u48, ms; 0 none) | seq (u48) | key length (varint) | value length (varint) | key | value
 *
 * `seq` orders every record the tier ever wrote (it survives restarts), so the newest record of a
 * key wins when a device is scanned back. Kinds: a value, a tombstone (the key was deleted), and a
 * partition drop (every older record of the partition is gone; key empty). The header is 15 to 23
 * bytes: with a 100-byte value it is most of what the tier writes beyond the application's bytes.
 */
export const BLOCK_PREFIX_BYTES = 12;
const FIXED_HEADER_BYTES = 15;

export const enum RecordKind {
  Value = 0,
  Tombstone = 1,
  PartitionDrop = 2,
}

export interface DiskRecord {
  kind: RecordKind;
  key: string;
  value: Uint8Array;
  partition: number;
  /** Wall-clock ms; 0 when the entry never expires. Encoded as at most LATEST_EXPIRY_MS. */
  expiresAtMs: number;
  seq: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const U48 = 2 ** 48;
/**
 * The latest expiry the 48-bit field holds (about the year 10889). A later one (a record holds up
 * to 2^53 - 1 ms, src/replication/record.ts) is written as this: the tier reads the field only to
 * tell whether the entry has expired, and the value's own record keeps its exact expiry.
 */
export const LATEST_EXPIRY_MS = U48 - 1;

function varintBytes(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

function readVarint(bytes: Uint8Array, at: number): { value: number; next: number } | null {
  let value = 0;
  for (let shift = 0, i = at; i < bytes.length && shift <= 28; shift += 7, i++) {
    value += (bytes[i]! & 0x7f) * 2 ** shift;
    if (bytes[i]! < 0x80) return { value, next: i + 1 };
  }
  return null;
}

/** A record's encoded size. */
export function recordBytes(keyBytes: number, valueBytes: number): number {
  return FIXED_HEADER_BYTES + varintBytes(keyBytes) + varintBytes(valueBytes) + keyBytes + valueBytes;
}

export function encodeRecord(record: DiskRecord): Uint8Array {
  const key = encoder.encode(record.key);
  if (record.partition > 0xffff) throw new RangeError(`disk tier: partition ${record.partition} is over 65535`);
  const out = new Uint8Array(recordBytes(key.length, record.value.length));
  const view = new DataView(out.buffer);
  view.setUint8(0, record.kind);
  view.setUint16(1, record.partition);
  writeU48(view, 3, Math.min(record.expiresAtMs, LATEST_EXPIRY_MS));
  writeU48(view, 9, record.seq);
  let at = writeVarint(out, FIXED_HEADER_BYTES, key.length);
  at = writeVarint(out, at, record.value.length);
  out.set(key, at);
  out.set(record.value, at + key.length);
  return out;
}

/** The record at `offset` of a block's plain text and where the next one starts, or null if it does not fit. */
export function decodeRecord(plain: Uint8Array, offset: number): { record: DiskRecord; next: number } | null {
  if (offset + FIXED_HEADER_BYTES > plain.length) return null;
  const view = new DataView(plain.buffer, plain.byteOffset + offset, FIXED_HEADER_BYTES);
  const kind = view.getUint8(0);
  const keyLength = readVarint(plain, offset + FIXED_HEADER_BYTES);
  const valueLength = keyLength === null ? null : readVarint(plain, keyLength.next);
  if (kind > RecordKind.PartitionDrop || keyLength === null || valueLength === null) return null;
  const start = valueLength.next;
  const next = start + keyLength.value + valueLength.value;
  if (next > plain.length) return null;
  let key: string;
  try {
    key = decoder.decode(plain.subarray(start, start + keyLength.value));
  } catch {
    return null;
  }
  return {
    record: {
      kind, key, value: plain.subarray(start + keyLength.value, next),
      partition: view.getUint16(1), expiresAtMs: readU48(view, 3), seq: readU48(view, 9),
    },
    next,
  };
}

function writeU48(view: DataView, at: number, n: number): void {
  if (!(n >= 0 && n < U48)) throw new RangeError(`disk tier: ${n} does not fit 48 bits`);
  view.setUint16(at, Math.floor(n / 2 ** 32));
  view.setUint32(at + 2, n % 2 ** 32);
}

function readU48(view: DataView, at: number): number {
  return view.getUint16(at) * 2 ** 32 + view.getUint32(at + 2);
}

const AAD_MAGIC = encoder.encode('SHOALDT1');

export function blockAad(region: number, offset: number, generation: number): Uint8Array {
  const aad = new Uint8Array(AAD_MAGIC.length + 16);
  aad.set(AAD_MAGIC);
  const view = new DataView(aad.buffer, AAD_MAGIC.length);
  view.setUint32(0, region);
  view.setUint32(4, offset);
  view.setFloat64(8, generation);
  return aad;
}

export function writeBlockPrefix(target: Uint8Array, at: number, sealedLength: number, generation: number): void {
  const view = new DataView(target.buffer, target.byteOffset + at, BLOCK_PREFIX_BYTES);
  view.setUint32(0, sealedLength);
  view.setFloat64(4, generation);
}

export function readBlockPrefix(source: Uint8Array, at: number): { sealedLength: number; generation: number } | null {
  if (at + BLOCK_PREFIX_BYTES > source.length) return null;
  const view = new DataView(source.buffer, source.byteOffset + at, BLOCK_PREFIX_BYTES);
  return { sealedLength: view.getUint32(0), generation: view.getFloat64(4) };
}
