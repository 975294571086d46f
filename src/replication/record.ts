/**
 * A replica's stored record: the value bytes behind a compact fixed header that carries what the
 * store does not know about (the HLC version, the absolute expiry, the tombstone flag).
 *
 * Layout (big-endian), HEADER_BYTES = 25:
 *   0      u8   flags (bit 0: tombstone; bits 1 and 2: how the value was written, see StoredRecord.writtenAs)
 *   1..8   f64  version.wallMs
 *   9..12  u32  version.logical
 *   13..16 u32  version.node
 *   17..24 f64  expiresAtMs (0 = never; at most MAX_EXPIRY_MS)
 *   25..        value bytes (empty for a tombstone)
 *
 * The store keys are strings; byte keys are mapped one byte to one UTF-16 code unit (latin1), which
 * is binary-safe and reversible, and costs the store nothing extra for ASCII keys.
 */
import type { Version } from './hlc.ts';
import { entryCost } from '../store/index.ts';

export const HEADER_BYTES = 25;

/**
 * The latest expiry a record holds: 2^53 - 1 ms, about the year 287,396, the last whole number of
 * ms a double holds exactly and the most the client protocol carries. Redis takes expiries up to
 * 2^63 - 1 ms; a later one (`SET k v PXAT 9223372036854775807`, or an SDK `ttlMs` near
 * Number.MAX_SAFE_INTEGER) is held as this, which expires just as surely never, instead of as an
 * inexact double that a client could not decode.
 */
export const MAX_EXPIRY_MS = Number.MAX_SAFE_INTEGER;
const FLAG_TOMBSTONE = 1;
/**
 * Spare bits of the flags byte, so the mark costs no memory per entry. Builds before them ignore
 * the bits (they read bit 0, or bits 0 and 1) and write records without them.
 */
const FLAG_BUILT_IN_PLACE = 2;
const FLAG_FLOAT = 4;

/**
 * How a value was written, where Redis's OBJECT ENCODING depends on it and not only on the bytes:
 * - `in-place`: APPEND or SETRANGE changed it where it was; Redis keeps such a string `raw`;
 * - `float`: INCRBYFLOAT wrote it; Redis keeps its text as a string (`embstr` up to 44 bytes,
 *   else `raw`), never as `int`, even when the text is `3`.
 * EXPIRE, PERSIST, GETEX, RENAME and COPY keep the mark, as Redis keeps the object; other writes
 * clear it.
 */
export type WrittenAs = 'in-place' | 'float';

export interface StoredRecord {
  readonly version: Version;
  /** Absolute expiry in wall ms, or 0 when the value never expires; at most MAX_EXPIRY_MS once encoded. */
  readonly expiresAtMs: number;
  readonly tombstone: boolean;
  /** The value; empty for a tombstone. */
  readonly value: Uint8Array;
  /** How the value was written (WrittenAs); absent: written whole, so Redis encodes it by its bytes. */
  readonly writtenAs?: WrittenAs;
}

/** Thrown when bytes read back from the store are not a record (a bug or memory corruption). */
export class CorruptRecordError extends Error {
  override readonly name = 'CorruptRecordError';
}

export function encodeRecord(record: StoredRecord): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + record.value.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, (record.tombstone ? FLAG_TOMBSTONE : 0) | (record.writtenAs === 'in-place' ? FLAG_BUILT_IN_PLACE : record.writtenAs === 'float' ? FLAG_FLOAT : 0));
  view.setFloat64(1, record.version.wallMs);
  view.setUint32(9, record.version.logical);
  view.setUint32(13, record.version.node);
  view.setFloat64(17, Math.min(record.expiresAtMs, MAX_EXPIRY_MS));
  out.set(record.value, HEADER_BYTES);
  return out;
}

export function decodeRecord(bytes: Uint8Array): StoredRecord {
  if (bytes.length < HEADER_BYTES) throw new CorruptRecordError(`stored record of ${bytes.length} bytes is shorter than its ${HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = view.getUint8(0);
  return {
    tombstone: (flags & FLAG_TOMBSTONE) !== 0,
    // Always present (undefined when unmarked), so every decoded record has one shape on the read path.
    writtenAs: (flags & FLAG_BUILT_IN_PLACE) !== 0 ? 'in-place' : (flags & FLAG_FLOAT) !== 0 ? 'float' : undefined,
    version: { wallMs: view.getFloat64(1), logical: view.getUint32(9), node: view.getUint32(13) },
    // Records written before MAX_EXPIRY_MS (a restarted node's disk tier) may hold a later time.
    expiresAtMs: Math.min(view.getFloat64(17), MAX_EXPIRY_MS),
    value: bytes.subarray(HEADER_BYTES),
  };
}

/** Only the version, without copying or decoding the rest. */
export function versionOfEncoded(bytes: Uint8Array): Version {
  return decodeRecord(bytes).version;
}

/** True when the record holds no live value at wall time `nowMs` (deleted or expired). */
export function isDeadAt(record: StoredRecord, nowMs: number): boolean {
  return record.tombstone || (record.expiresAtMs !== 0 && record.expiresAtMs <= nowMs);
}

/** The expiry field's 8 bytes, copied out to read as a double without a DataView per call. */
const expiryScratch = new DataView(new ArrayBuffer(8));

/**
 * `!isDeadAt(decodeRecord(bytes), nowMs)` from the header alone, without decoding or allocating:
 * PartitionReplica.read checks each record it reads, to count a tombstone or an expired one as a miss.
 */
export function holdsLiveValue(bytes: Uint8Array, nowMs: number): boolean {
  if (bytes.length < HEADER_BYTES) throw new CorruptRecordError(`stored record of ${bytes.length} bytes is shorter than its ${HEADER_BYTES}-byte header`);
  if ((bytes[0]! & FLAG_TOMBSTONE) !== 0) return false;
  for (let i = 0; i < 8; i++) expiryScratch.setUint8(i, bytes[17 + i]!);
  const expiresAtMs = expiryScratch.getFloat64(0);
  return expiresAtMs === 0 || expiresAtMs > nowMs;
}

/** Bytes per String.fromCharCode call, well below any engine's argument limit. */
const KEY_CHUNK = 4096;

/**
 * The bytes a replica's store is charged for the record of `key` holding a value of `valueLength`
 * bytes (its version and expiry header included): what counts toward --max-memory, MEMORY USAGE.
 */
export function storedRecordCost(key: Uint8Array, valueLength: number): number {
  return entryCost(keyToStoreKey(key), HEADER_BYTES + valueLength);
}

/** Byte key -> store key: one byte per UTF-16 code unit (latin1), reversible for any bytes. */
export function keyToStoreKey(key: Uint8Array): string {
  // apply() takes the typed array as it is; spreading it would run the iterator protocol per byte.
  if (key.length <= KEY_CHUNK) return String.fromCharCode.apply(null, key as unknown as number[]);
  let s = '';
  // Chunked so a long key never overflows the argument limit of fromCharCode.
  for (let i = 0; i < key.length; i += KEY_CHUNK) s += String.fromCharCode.apply(null, key.subarray(i, i + KEY_CHUNK) as unknown as number[]);
  return s;
}


export function storeKeyToKey(storeKey: string): Uint8Array {
  const out = new Uint8Array(storeKey.length);
  for (let i = 0; i < storeKey.length; i++) out[i] = storeKey.charCodeAt(i);
  return out;
}
