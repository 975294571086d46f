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
 *   kind (u8) | key length (u16) | value length (u32) | partition (u32) | expires at (f64, 0 none) | seq (f64) | key | value
 *
 * `seq` orders every record the tier ever wrote (it survives restarts), so the newest record of a
 * key wins when a device is scanned back. Kinds: a value, a tombstone (the key was deleted), and a
 * partition drop (every older record of the partition is gone; key empty).
 */
export const BLOCK_PREFIX_BYTES = 12;
export const RECORD_HEADER_BYTES = 27;

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
  /** Wall-clock ms; 0 when the entry never expires. */
  expiresAtMs: number;
  seq: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeRecord(record: DiskRecord): Uint8Array {
  const key = encoder.encode(record.key);
  if (key.length > 0xffff) throw new RangeError(`disk tier: key of ${key.length} bytes is over 65535`);
  const out = new Uint8Array(RECORD_HEADER_BYTES + key.length + record.value.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, record.kind);
  view.setUint16(1, key.length);
  view.setUint32(3, record.value.length);
  view.setUint32(7, record.partition);
  view.setFloat64(11, record.expiresAtMs);
  view.setFloat64(19, record.seq);
  out.set(key, RECORD_HEADER_BYTES);
  out.set(record.value, RECORD_HEADER_BYTES + key.length);
  return out;
}

/** The record at `offset` of a block's plain text and where the next one starts, or null if it does not fit. */
export function decodeRecord(plain: Uint8Array, offset: number): { record: DiskRecord; next: number } | null {
  if (offset + RECORD_HEADER_BYTES > plain.length) return null;
  const view = new DataView(plain.buffer, plain.byteOffset + offset, RECORD_HEADER_BYTES);
  const kind = view.getUint8(0);
  const keyLength = view.getUint16(1);
  const valueLength = view.getUint32(3);
  const start = offset + RECORD_HEADER_BYTES;
  const next = start + keyLength + valueLength;
  if (kind > RecordKind.PartitionDrop || next > plain.length) return null;
  let key: string;
  try {
    key = decoder.decode(plain.subarray(start, start + keyLength));
  } catch {
    return null;
  }
  return {
    record: {
      kind,
      key,
      value: plain.subarray(start + keyLength, next),
      partition: view.getUint32(7),
      expiresAtMs: view.getFloat64(11),
      seq: view.getFloat64(19),
    },
    next,
  };
}

const AAD_MAGIC = encoder.encode('SHOALDT1');

/** What a block's seal binds it to: the format, its region, its offset there, and the region's generation. */
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
