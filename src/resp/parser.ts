/**
 * The incremental RESP request parser: bytes from the socket in, commands (argument lists) out.
 *
 * Zero-copy: chunks are kept in a list as the socket delivered them and never joined. An argument
 * that lies inside one chunk is a `subarray` view of it; only an argument split across chunks is
 * copied (into a buffer of exactly its size). A command may be split anywhere, and one chunk may
 * hold thousands of pipelined commands: `next()` returns them one at a time.
 *
 * The parser keeps its place inside a half-received multibulk (how many arguments are still
 * missing, the length of the bulk being received), so bytes are looked at once, not re-scanned on
 * every chunk.
 *
 * Behaviour and error texts follow Redis 7.0's networking.c (processMultibulkBuffer and
 * processInlineBuffer): lengths are parsed as strictly as string2ll (no sign '+', no leading zeros,
 * no spaces), the two bytes after a bulk are skipped without being checked, a multibulk count of
 * zero or less is an empty command that gets no reply, and inline requests are split as
 * sdssplitargs splits them. A protocol error is fatal: the connection replies and closes.
 */

/** Redis's PROTO_INLINE_MAX_SIZE: the longest inline request, and the longest count line. */
export const INLINE_MAX_BYTES = 64 * 1024;
/** Redis's proto-max-bulk-len default (512 MB): a longer bulk length is a protocol error. */
export const PROTO_MAX_BULK_LEN = 512 * 1024 * 1024;
/**
 * The most arguments one multibulk may announce. Redis 7.0 accepts up to INT_MAX and grows its
 * argv as arguments arrive; we refuse more than 1024*1024 (Redis 6's limit) with Redis's own
 * error text, because nothing a cache does needs more and the count bounds what a client can make
 * us hold per command.
 */
export const MAX_MULTIBULK_COUNT = 1024 * 1024;
/**
 * The default of `maxArguments` (the daemon's --resp-max-arguments): one command's keys are
 * walked synchronously several times (parse, ACL, routing, grouping by partition), and a DEL of
 * a million keys held the event loop for 3 to 10 s, long enough for the peers to declare the node
 * dead. Measured on a 3-node cluster on a 2-core machine at load 10 to 17 (a PING on another
 * connection waited): a DEL of 20,000 keys 0.2 to 0.5 s, of 50,000 0.5 to 1.0 s, of 100,000 0.7 to
 * 1.2 s (at 1.2 s its peers suspected it). The LAN profile's probe timeout is 0.5 s (src/gossip/
 * config.ts): 20,000 stays about under it even on a machine that loaded, far under on an idle one.
 */
export const DEFAULT_MAX_ARGUMENTS = 20_000;

export interface ParserOptions {
  /** Bulk lengths above this are a protocol error (Redis: proto-max-bulk-len). */
  maxBulkLength?: number;
  /**
   * Arguments longer than this are not kept: their bytes are skipped as they arrive and the
   * command is answered with `oversizedError` (the connection stays open). Shoal's largest value
   * (src/protocol/limits.ts) is far below Redis's 512 MB, and buffering what can never be stored
   * would only let one client hold that much of our memory.
   */
  maxArgumentBytes?: number;
  /**
   * A command with more arguments than this (the command name counts, as in Redis's argc; at
   * most MAX_MULTIBULK_COUNT, above which the count is a protocol error) is not kept: its
   * arguments are skipped as they arrive and it is answered with an error (the connection stays
   * open). Default: MAX_MULTIBULK_COUNT.
   */
  maxArguments?: number;
}

/** What `next()` reports besides a command. */
export interface ParseFailure {
  /** The error reply, without the leading '-'. */
  readonly error: string;
  /** A protocol error: reply, then close the connection. Otherwise only this command failed. */
  readonly fatal: boolean;
}

const CR = 13;
const LF = 10;

/** Multibulk parsing state: where inside a command we are. */
const enum State {
  /** Between commands. */
  Start,
  /** Inside a multibulk: expecting a `$len` line. */
  BulkHeader,
  /** Inside a multibulk: receiving `bulkLength` bytes plus CRLF. */
  BulkBody,
}

export class RespParser {
  /** Unconsumed chunks; `chunks[0]` starts at `offset`. */
  private chunks: Uint8Array[] = [];
  private offset = 0;
  private buffered = 0;

  private state = State.Start;
  private args: Uint8Array[] = [];
  private argsMissing = 0;
  private bulkLength = 0;
  /** The bulk being received is too long to keep: its bytes are skipped. */
  private skipping = false;
  /** Length of the longest argument of the current command that was skipped (0: none). */
  private oversized = 0;
  /** The argument count of the current command when it is over `maxArguments` (0: it is not). */
  private tooMany = 0;
  private failed: ParseFailure | null = null;

  private readonly maxBulkLength: number;
  private readonly maxArgumentBytes: number;
  private readonly maxArguments: number;

  constructor(options: ParserOptions = {}) {
    this.maxBulkLength = options.maxBulkLength ?? PROTO_MAX_BULK_LEN;
    this.maxArgumentBytes = options.maxArgumentBytes ?? this.maxBulkLength;
    this.maxArguments = options.maxArguments ?? MAX_MULTIBULK_COUNT;
  }

  /** Bytes received and not yet parsed into commands (held, not copied). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds bytes received from the socket. The chunk is kept (not copied): do not reuse it. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.failed !== null) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next complete command, null when more bytes are needed, or a failure. After a fatal
   * failure every call returns the same failure.
   */
  next(): Uint8Array[] | ParseFailure | null {
    if (this.failed !== null) return this.failed;
    for (;;) {
      if (this.state === State.Start) {
        if (this.buffered === 0) return null;
        if (this.peekByte(0) === 0x2a /* '*' */) {
          const started = this.startMultibulk();
          if (started === null) return null;
          if (started !== true) return started;
          if (this.state === State.Start) continue; // *0 or negative: an empty command, no reply
        } else {
          const inline = this.parseInline();
          if (inline === null) return null;
          if ('error' in inline) return inline;
          if (inline.length === 0) continue; // an empty line
          return inline;
        }
      }
      const result = this.continueMultibulk();
      if (result === null) return null;
      return result;
    }
  }

  // ---- multibulk ----

  /** Reads `*count\r\n`: true when read (state moved on), null when incomplete, or a failure. */
  private startMultibulk(): true | ParseFailure | null {
    const cr = this.indexOf(CR, 0);
    if (cr < 0) {
      if (this.buffered > INLINE_MAX_BYTES) return this.fail('Protocol error: too big mbulk count string');
      return null;
    }
    if (cr + 1 >= this.buffered) return null; // the LF has not arrived
    const count = this.parseInteger(1, cr);
    if (count === null || count > MAX_MULTIBULK_COUNT) return this.fail('Protocol error: invalid multibulk length');
    this.consume(cr + 2);
    if (count <= 0) return true; // state stays Start
    this.args = [];
    this.argsMissing = count;
    this.oversized = 0;
    // Too many arguments: every one is skipped as it arrives (as an oversized one is), none kept.
    this.tooMany = count > this.maxArguments ? count : 0;
    this.state = State.BulkHeader;
    return true;
  }

  /** Reads bulks until the command is complete (returned) or the bytes run out (null). */
  private continueMultibulk(): Uint8Array[] | ParseFailure | null {
    while (this.argsMissing > 0) {
      if (this.state === State.BulkHeader) {
        if (this.buffered === 0) return null;
        const cr = this.indexOf(CR, 0);
        if (cr < 0) {
          if (this.buffered > INLINE_MAX_BYTES) return this.fail('Protocol error: too big bulk count string');
          return null; // Redis checks the '$' only once the line is complete; so do we
        }
        if (cr + 1 >= this.buffered) return null;
        const first = this.peekByte(0);
        if (first !== 0x24 /* '$' */) {
          return this.fail(`Protocol error: expected '$', got '${String.fromCharCode(first)}'`);
        }
        const length = this.parseInteger(1, cr);
        if (length === null || length < 0 || length > this.maxBulkLength) {
          return this.fail('Protocol error: invalid bulk length');
        }
        this.consume(cr + 2);
        this.bulkLength = length;
        this.skipping = length > this.maxArgumentBytes;
        if (this.skipping) this.oversized = Math.max(this.oversized, length);
        if (this.tooMany > 0) this.skipping = true;
        this.state = State.BulkBody;
      }
      // BulkBody
      if (this.skipping) {
        // Drop what has arrived of an argument we will not keep, so it never accumulates.
        const drop = Math.min(this.bulkLength + 2, this.buffered);
        this.consume(drop);
        this.bulkLength -= drop; // may reach -2..0 while the CRLF is dropped
        if (this.bulkLength > -2) return null;
        this.skipping = false;
        this.argsMissing--;
        this.state = State.BulkHeader;
        continue;
      }
      if (this.buffered < this.bulkLength + 2) return null;
      this.args.push(this.take(this.bulkLength));
      this.consume(2); // Redis skips the CRLF without looking at it
      this.argsMissing--;
      this.state = State.BulkHeader;
    }
    this.state = State.Start;
    const args = this.args;
    this.args = [];
    if (this.tooMany > 0) {
      const count = this.tooMany;
      this.tooMany = 0;
      this.oversized = 0;
      return this.tooManyArguments(count);
    }
    if (this.oversized > 0) {
      const length = this.oversized;
      this.oversized = 0;
      return { error: `ERR argument of ${length} bytes exceeds Shoal's maximum value size (${this.maxArgumentBytes} bytes)`, fatal: false };
    }
    return args;
  }

  // ---- inline ----

  /** One inline request (a line split as sdssplitargs does), null when incomplete, or a failure. */
  private parseInline(): Uint8Array[] | ParseFailure | null {
    const lf = this.indexOf(LF, 0);
    if (lf < 0) {
      if (this.buffered > INLINE_MAX_BYTES) return this.fail('Protocol error: too big inline request');
      return null;
    }
    let end = lf;
    if (end > 0 && this.peekByte(end - 1) === CR) end--;
    const line = this.take(end);
    this.consume(lf - end + 1);
    const args = splitInlineArgs(line);
    if (args === null) return this.fail('Protocol error: unbalanced quotes in request');
    if (args.length > this.maxArguments) return this.tooManyArguments(args.length);
    return args;
  }

  private tooManyArguments(count: number): ParseFailure {
    return { error: `ERR command has ${count} arguments, more than this node's limit of ${this.maxArguments} (--resp-max-arguments)`, fatal: false };
  }

  // ---- the chunk list ----

  private fail(message: string): ParseFailure {
    this.failed = { error: `ERR ${message}`, fatal: true };
    this.chunks = [];
    this.buffered = 0;
    this.offset = 0;
    return this.failed;
  }

  /** The byte at `at` (relative to the unconsumed start); `at` < buffered. */
  private peekByte(at: number): number {
    let pos = this.offset + at;
    const first = this.chunks[0];
    if (first !== undefined && pos < first.length) return first[pos]!; // the usual case
    for (const chunk of this.chunks) {
      if (pos < chunk.length) return chunk[pos]!;
      pos -= chunk.length;
    }
    return -1;
  }

  /** Position of the first `byte` at or after `from`, relative to the unconsumed start; -1 if none. */
  private indexOf(byte: number, from: number): number {
    const first = this.chunks[0];
    if (first !== undefined) {
      const found = first.indexOf(byte, this.offset + from);
      if (found >= 0) return found - this.offset; // the usual case: found in the first chunk
      if (this.chunks.length === 1) return -1;
    }
    let base = 0;
    let start = this.offset + from;
    for (let i = 0; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      const skip = i === 0 ? this.offset : 0;
      if (start < chunk.length) {
        const found = chunk.indexOf(byte, start);
        if (found >= 0) return base + found - skip;
        start = 0;
      } else {
        start -= chunk.length;
      }
      base += chunk.length - skip;
    }
    return -1;
  }

  /**
   * A decimal integer between `from` and `to` parsed as Redis's string2ll: an optional '-', then
   * no leading zero (except "0" itself), digits only, within 64 bits (we stop at 2^53, which is
   * beyond every limit we check). null when not such a number.
   */
  private parseInteger(from: number, to: number): number | null {
    const length = to - from;
    if (length <= 0 || length > 20) return null;
    let at = from;
    let negative = false;
    let c = this.peekByte(at);
    if (length === 1 && c === 0x30) return 0;
    if (c === 0x2d /* '-' */) {
      negative = true;
      at++;
      if (at === to) return null;
      c = this.peekByte(at);
    }
    if (c < 0x31 || c > 0x39) return null; // first digit 1-9
    let value = 0;
    for (; at < to; at++) {
      c = this.peekByte(at);
      if (c < 0x30 || c > 0x39) return null;
      value = value * 10 + (c - 0x30);
    }
    if (value > Number.MAX_SAFE_INTEGER) value = Number.MAX_SAFE_INTEGER; // over every limit anyway
    return negative ? -value : value;
  }

  /** The next `n` bytes: a view when they sit in one chunk, a copy when they span chunks. */
  private take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first !== undefined && this.offset + n <= first.length) {
      const view = first.subarray(this.offset, this.offset + n);
      this.consume(n);
      return view;
    }
    const copy = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const part = Math.min(chunk.length - this.offset, n - filled);
      copy.set(chunk.subarray(this.offset, this.offset + part), filled);
      filled += part;
      this.consume(part);
    }
    return copy;
  }

  /** Drops `n` bytes from the front. */
  private consume(n: number): void {
    this.buffered -= n;
    let left = n;
    while (left > 0) {
      const chunk = this.chunks[0]!;
      const rest = chunk.length - this.offset;
      if (left < rest) {
        this.offset += left;
        return;
      }
      left -= rest;
      this.chunks.shift();
      this.offset = 0;
    }
    if (this.chunks.length > 0 && this.offset === this.chunks[0]!.length) {
      this.chunks.shift();
      this.offset = 0;
    }
  }
}

function isSpace(c: number): boolean {
  // C isspace: space, \t, \n, \v, \f, \r
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** What ends an unquoted argument (sdssplitargs: space, \n, \r, \t; not \v or \f). */
function endsToken(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * Splits an inline request line as Redis's sdssplitargs: arguments separated by whitespace,
 * "double quotes" with C escapes (\n \r \t \b \a \xHH, and \ before any other byte), 'single
 * quotes' where only \' is an escape. A closing quote must be followed by whitespace or the end.
 * null for unbalanced quotes.
 */
export function splitInlineArgs(line: Uint8Array): Uint8Array[] | null {
  const args: Uint8Array[] = [];
  let p = 0;
  // Redis splits a C string: a NUL ends the line.
  const nul = line.indexOf(0);
  const n = nul < 0 ? line.length : nul;
  for (;;) {
    while (p < n && isSpace(line[p]!)) p++;
    if (p >= n) return args;
    // Fast path: an unquoted word without quote characters is a view of the line.
    let q = p;
    while (q < n && !endsToken(line[q]!) && line[q] !== 0x22 && line[q] !== 0x27) q++;
    if (q >= n || endsToken(line[q]!)) {
      args.push(line.subarray(p, q));
      p = q;
      continue;
    }
    const current: number[] = [];
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      if (inDouble) {
        if (p >= n) return null;
        const c = line[p]!;
        if (c === 0x5c /* \ */ && p + 3 < n && line[p + 1] === 0x78 /* x */ && hexValue(line[p + 2]!) >= 0 && hexValue(line[p + 3]!) >= 0) {
          current.push(hexValue(line[p + 2]!) * 16 + hexValue(line[p + 3]!));
          p += 3;
        } else if (c === 0x5c && p + 1 < n) {
          p++;
          const e = line[p]!;
          current.push(e === 0x6e ? 10 : e === 0x72 ? 13 : e === 0x74 ? 9 : e === 0x62 ? 8 : e === 0x61 ? 7 : e);
        } else if (c === 0x22) {
          // the closing quote must be followed by a space or nothing
          if (p + 1 < n && !isSpace(line[p + 1]!)) return null;
          done = true;
        } else {
          current.push(c);
        }
      } else if (inSingle) {
        if (p >= n) return null;
        const c = line[p]!;
        if (c === 0x5c && p + 1 < n && line[p + 1] === 0x27) {
          p++;
          current.push(0x27);
        } else if (c === 0x27) {
          if (p + 1 < n && !isSpace(line[p + 1]!)) return null;
          done = true;
        } else {
          current.push(c);
        }
      } else {
        if (p >= n) break;
        const c = line[p]!;
        if (endsToken(c)) {
          done = true;
        } else if (c === 0x22) {
          inDouble = true;
        } else if (c === 0x27) {
          inSingle = true;
        } else {
          current.push(c);
        }
      }
      if (p < n) p++;
    }
    args.push(Uint8Array.from(current));
  }
}
