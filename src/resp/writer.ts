/**
 * Encoding replies: `ReplySink` collects bytes for the socket, `RespReplyWriter` (the
 * `ReplyWriter` of command.ts) encodes one command's reply into a sink in RESP2 or RESP3.
 *
 * The sink writes into a slab (a 64 KiB buffer) and hands out views of the part written since the
 * last `take()`, so the replies of one socket read become one contiguous buffer (usually one
 * `socket.write`) without per-reply allocations. A slab is never written again where a view was
 * handed out; when it is full, a new one is started.
 */
import type { ReplyWriter } from './command.ts';

const DEFAULT_SLAB_BYTES = 64 * 1024;
/** Values at least this long are kept as their own part instead of being copied into a slab. */
const OWN_PART_BYTES = 16 * 1024;


export class ReplySink {
  private slab: Buffer;
  /** Start of the bytes not handed out yet, and the end of what is written. */
  private start = 0;
  private pos = 0;
  /** Finished parts (views of old slabs, large values) in order, before the slab's current part. */
  private parts: Uint8Array[] = [];
  private partBytes = 0;
  /** Bytes taken so far: with `length`, what was ever written (`written`). */
  private takenBytes = 0;

  /** The size of the next slab: doubling from the first up to DEFAULT_SLAB_BYTES, so a small sink that is given a large reply does not cut it in 256-byte parts. */
  private nextSlabBytes: number;

  constructor(slabBytes = DEFAULT_SLAB_BYTES) {
    this.slab = Buffer.allocUnsafe(slabBytes);
    this.nextSlabBytes = Math.min(DEFAULT_SLAB_BYTES, slabBytes * 2);
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.partBytes + (this.pos - this.start);
  }

  /** Bytes written since the sink was made, taken or not (what one reply added is the difference). */
  get written(): number {
    return this.takenBytes + this.length;
  }

  ascii(text: string): void {
    // Every byte of an ASCII header is one char; reserve the worst case of UTF-8 anyway.
    this.reserve(text.length);
    this.pos += this.slab.write(text, this.pos, 'latin1');
  }

  utf8(text: string): void {
    const bytes = Buffer.byteLength(text);
    this.reserve(bytes);
    this.pos += this.slab.write(text, this.pos, 'utf8');
  }

  bytes(value: Uint8Array): void {
    if (value.length >= OWN_PART_BYTES) {
      // A copy: the value may be a view of something its owner reuses after the call returns.
      this.pushPart(Buffer.from(value));
      return;
    }
    this.reserve(value.length);
    this.slab.set(value, this.pos);
    this.pos += value.length;
  }

  crlf(): void {
    this.reserve(2);
    this.slab[this.pos++] = 13;
    this.slab[this.pos++] = 10;
  }

  /** Appends everything another sink holds (a buffered reply joining the connection's output). */
  append(other: ReplySink): void {
    for (const part of other.take()) {
      if (part.length >= OWN_PART_BYTES) this.pushPart(part);
      else this.bytes(part);
    }
  }

  /** Everything written since the last take, as parts in order (usually one). */
  take(): Uint8Array[] {
    this.sealCurrent();
    const parts = this.parts;
    this.parts = [];
    this.takenBytes += this.partBytes;
    this.partBytes = 0;
    return parts;
  }

  private pushPart(part: Uint8Array): void {
    this.sealCurrent();
    this.parts.push(part);
    this.partBytes += part.length;
  }

  private sealCurrent(): void {
    if (this.pos > this.start) {
      this.parts.push(this.slab.subarray(this.start, this.pos));
      this.partBytes += this.pos - this.start;
      this.start = this.pos;
    }
  }

  private reserve(n: number): void {
    if (this.slab.length - this.pos >= n) return;
    this.sealCurrent();
    this.slab = Buffer.allocUnsafe(Math.max(this.nextSlabBytes, n));
    this.nextSlabBytes = Math.min(DEFAULT_SLAB_BYTES, this.nextSlabBytes * 2);
    this.start = 0;
    this.pos = 0;
  }
}

/** Who decides the protocol a writer speaks (the connection: HELLO changes it mid-stream). */
export interface ProtocolSource {
  protocol: 2 | 3;
  /** Told of every error reply written (INFO's total_error_replies, errorstats, commandstats' failed_calls). */
  noteErrorReply?(text: string | Uint8Array): void;
}

/** Redis's error lines cannot hold CR or LF: it replaces them with spaces (addReplyErrorLength). */
function sanitizeLine(text: string): string {
  return /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text;
}

/**
 * A double as Redis 7.0 prints it (addReplyDouble: "%.17g", inf and -inf spelled so). JavaScript
 * has no %g, so the shortest form is built from toPrecision(17) with C's rules: exponent form when
 * the exponent is below -4 or at least 17, trailing zeros dropped, a two-digit exponent at least.
 */
export function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const exponential = value.toExponential(16); // d.dddddddddddddddde±x: 17 significant digits
  const [mantissa, exp] = exponential.split('e') as [string, string];
  const exponent = Number(exp);
  const trim = (digits: string): string => (digits.includes('.') ? digits.replace(/0+$/, '').replace(/\.$/, '') : digits);
  if (exponent < -4 || exponent >= 17) {
    const sign = exponent < 0 ? '-' : '+';
    const magnitude = Math.abs(exponent).toString().padStart(2, '0');
    return `${trim(mantissa)}e${sign}${magnitude}`;
  }
  return trim(value.toFixed(Math.max(0, 16 - exponent)));
}

/** Encodes one reply into a sink, in the protocol its connection speaks at the moment of each call. */
export class RespReplyWriter implements ReplyWriter {
  constructor(
    private readonly sink: ReplySink,
    private readonly source: ProtocolSource,
  ) {}

  get protocol(): 2 | 3 {
    return this.source.protocol;
  }

  simple(text: string): void {
    this.sink.ascii('+');
    this.sink.utf8(sanitizeLine(text));
    this.sink.crlf();
  }

  ok(): void {
    this.sink.ascii('+OK\r\n');
  }

  error(text: string | Uint8Array): void {
    this.source.noteErrorReply?.(text);
    this.sink.ascii('-');
    if (typeof text === 'string') this.sink.utf8(sanitizeLine(text));
    else this.sink.bytes(text.includes(13) || text.includes(10) ? text.map((b) => (b === 13 || b === 10 ? 32 : b)) : text);
    this.sink.crlf();
  }

  integer(value: number | bigint): void {
    this.sink.ascii(`:${typeof value === 'number' ? Math.trunc(value) : value}\r\n`);
  }

  bulk(value: Uint8Array | string | null): void {
    if (value === null) {
      this.sink.ascii(this.protocol === 3 ? '_\r\n' : '$-1\r\n');
      return;
    }
    if (typeof value === 'string') {
      this.sink.ascii(`$${Buffer.byteLength(value)}\r\n`);
      this.sink.utf8(value);
    } else {
      this.sink.ascii(`$${value.length}\r\n`);
      this.sink.bytes(value);
    }
    this.sink.crlf();
  }

  nullArray(): void {
    this.sink.ascii(this.protocol === 3 ? '_\r\n' : '*-1\r\n');
  }

  array(length: number): void {
    this.sink.ascii(`*${length}\r\n`);
  }

  map(length: number): void {
    this.sink.ascii(this.protocol === 3 ? `%${length}\r\n` : `*${length * 2}\r\n`);
  }

  set(length: number): void {
    this.sink.ascii(this.protocol === 3 ? `~${length}\r\n` : `*${length}\r\n`);
  }

  double(value: number): void {
    const text = formatDouble(value);
    if (this.protocol === 3) this.sink.ascii(`,${text}\r\n`);
    else this.bulk(text);
  }

  boolean(value: boolean): void {
    if (this.protocol === 3) this.sink.ascii(value ? '#t\r\n' : '#f\r\n');
    else this.integer(value ? 1 : 0);
  }

  verbatim(format: string, text: string): void {
    if (this.protocol !== 3) {
      this.bulk(text);
      return;
    }
    const body = `${format.padEnd(3, ' ').slice(0, 3)}:${text}`;
    this.sink.ascii(`=${Buffer.byteLength(body)}\r\n`);
    this.sink.utf8(body);
    this.sink.crlf();
  }

  push(length: number): void {
    this.sink.ascii(this.protocol === 3 ? `>${length}\r\n` : `*${length}\r\n`);
  }
}

