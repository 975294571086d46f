/**
 * Readers for cache trace files (see ../shared/traces/README.md), plain or gzip:
 *
 * - `lirs`:  text, one decimal key per line; lines starting with `*` are comments.
 * - `arc`:   text lines `start count ignored reqno`; each line stands for `count` consecutive keys
 *            starting at `start`.
 * - `u32be`: binary, one big-endian unsigned 32-bit key per request (cache2k traces).
 * - `u64be`: binary, one big-endian 64-bit key per request (Corda traces).
 *
 * Keys are interned to dense ids 0..unique-1 in order of first appearance, which is all a replay
 * or Belady's algorithm needs and keeps a half-million-request trace in a few megabytes.
 */
import { gunzipSync } from 'node:zlib';

export type TraceFormat = 'lirs' | 'arc' | 'u32be' | 'u64be';
export const TRACE_FORMATS: readonly TraceFormat[] = ['lirs', 'arc', 'u32be', 'u64be'];

export class TraceFormatError extends Error {
  override readonly name = 'TraceFormatError';
}

export interface Trace {
  /** Dense key id per request. */
  ids: Int32Array;
  /** Number of distinct keys. */
  uniqueKeys: number;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** Gunzips when the bytes start with the gzip magic number; otherwise returns them as they are. */
export function maybeGunzip(bytes: Uint8Array): Uint8Array {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1 ? gunzipSync(bytes) : bytes;
}

class Interner<K> {
  private readonly ids = new Map<K, number>();
  readonly out: number[] = [];
  add(key: K): void {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(key, id);
    }
    this.out.push(id);
  }
  finish(): Trace {
    return { ids: Int32Array.from(this.out), uniqueKeys: this.ids.size };
  }
}

/** Parses a trace file's bytes (gzip or plain) in the given format. */
export function parseTrace(bytes: Uint8Array, format: TraceFormat): Trace {
  const data = maybeGunzip(bytes);
  switch (format) {
    case 'lirs':
      return parseLirs(data);
    case 'arc':
      return parseArc(data);
    case 'u32be':
      return parseFixedWidth(data, 4, format);
    case 'u64be':
      return parseFixedWidth(data, 8, format);
    default:
      throw new TraceFormatError(`unknown trace format "${String(format)}"; use one of ${TRACE_FORMATS.join(', ')}`);
  }
}

function lines(data: Uint8Array): string[] {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1').split(/\r?\n/);
}

function parseLirs(data: Uint8Array): Trace {
  const interner = new Interner<string>();
  lines(data).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('*')) return;
    if (!/^\d+$/.test(line)) throw new TraceFormatError(`lirs trace line ${i + 1}: expected a decimal key, got "${line.slice(0, 40)}"`);
    interner.add(line.replace(/^0+(?=\d)/, ''));
  });
  return interner.finish();
}

function parseArc(data: Uint8Array): Trace {
  const interner = new Interner<number>();
  lines(data).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const fields = line.split(/\s+/);
    const start = Number(fields[0]);
    const count = Number(fields[1]);
    if (fields.length < 2 || !Number.isSafeInteger(start) || !Number.isSafeInteger(count) || count < 0) {
      throw new TraceFormatError(`arc trace line ${i + 1}: expected "start count ignored reqno", got "${line.slice(0, 60)}"`);
    }
    for (let k = 0; k < count; k++) interner.add(start + k);
  });
  return interner.finish();
}

function parseFixedWidth(data: Uint8Array, width: 4 | 8, format: TraceFormat): Trace {
  if (data.length % width !== 0) {
    throw new TraceFormatError(`${format} trace has ${data.length} bytes, not a multiple of ${width}; is the format right?`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (width === 4) {
    const interner = new Interner<number>();
    for (let off = 0; off < data.length; off += 4) interner.add(view.getUint32(off, false));
    return interner.finish();
  }
  // 64-bit keys: exact as a number while the high word keeps them below 2^53, a string beyond.
  const interner = new Interner<number | string>();
  for (let off = 0; off < data.length; off += 8) {
    const hi = view.getUint32(off, false);
    const lo = view.getUint32(off + 4, false);
    interner.add(hi < 0x200000 ? hi * 0x100000000 + lo : `${hi}:${lo}`);
  }
  return interner.finish();
}
