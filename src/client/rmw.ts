/**
 * What the SDK's read-modify-write calls (incr, append, setNx, getSet, deleteIfExists...) share:
 * idempotency keys, the errors an operation's result maps to, and counters as decimal text.
 */
import { MAX_RMW_REQUEST_ID_LENGTH, type WireRmwResult } from '../protocol/index.ts';
import { NotIntegerError, OverflowError, ProtocolError, ShoalError, TooLargeError } from './errors.ts';

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/**
 * A fresh idempotency key for one logical call: 128 random bits in hex. The SDK sends it with
 * every copy of the call it sends (its own re-sends after a lost connection or a timeout), and the
 * key's primary applies the first and answers the others with its result.
 */
export function newRequestId(fallbackRandom: () => number): string {
  const bytes = new Uint8Array(16);
  // Web Crypto's getRandomValues exists in Node.js 20, browsers (secure context or not), Deno and Bun.
  const crypto = (globalThis as { crypto?: { getRandomValues?: (array: Uint8Array) => Uint8Array } }).crypto;
  if (crypto?.getRandomValues !== undefined) crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(fallbackRandom() * 256);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** Checks a caller's own request id (the node refuses empty and over-long ones). */
export function checkRequestId(call: string, requestId: unknown): string {
  if (typeof requestId !== 'string' || requestId.length === 0 || requestId.length > MAX_RMW_REQUEST_ID_LENGTH) {
    throw new TypeError(`${call}(): requestId must be a string of 1 to ${MAX_RMW_REQUEST_ID_LENGTH} characters`);
  }
  return requestId;
}

/** The amount of incrBy/decrBy as a 64-bit integer; a number must be a safe integer. */
export function int64Argument(call: string, by: number | bigint): bigint {
  if (typeof by === 'number' && !Number.isSafeInteger(by)) {
    throw new TypeError(`${call}(): the amount must be a safe integer (or a bigint), got ${by}`);
  }
  if (typeof by !== 'number' && typeof by !== 'bigint') throw new TypeError(`${call}(): the amount must be a number or a bigint`);
  const n = BigInt(by);
  if (n < INT64_MIN || n > INT64_MAX) throw new TypeError(`${call}(): the amount ${n} is outside the 64-bit signed range`);
  return n;
}

/** The error a failed operation's result maps to; `what` names the call and key for the message. */
export function rmwError(result: Extract<WireRmwResult, { kind: 'error' }>, what: string): ShoalError {
  switch (result.code) {
    case 'not-integer':
      return new NotIntegerError(
        `${what}: the value is not a decimal 64-bit integer. Counters are stored as decimal text: write them with incr, or with set through stringCodec ('42'); a value set through msgpackCodec is not one`,
      );
    case 'overflow':
      return new OverflowError(`${what}: the increment or decrement would overflow the 64-bit signed range`);
    case 'too-large':
      return new TooLargeError(`${what}: the value would exceed the cluster's maximum value size`, 'too-large');
    case 'unknown':
      return new ProtocolError(`${what}: failed with error number ${result.number}, which this client does not know`, 'internal');
    default:
      // not-float, nan-or-infinity, no-such-key: operations the SDK does not send yet.
      return new ShoalError(`${what}: failed (${result.code})`, result.code);
  }
}

/**
 * The integer a counter's bytes hold, parsed as Redis does (string2ll): an optional minus, no
 * plus, no leading zeros, no spaces, within 64 bits. Null when the bytes are not such an integer.
 */
export function parseDecimalInt64(bytes: Uint8Array): bigint | null {
  if (bytes.byteLength === 0 || bytes.byteLength > 20) return null;
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  if (!/^(0|-?[1-9][0-9]*)$/.test(text)) return null;
  const n = BigInt(text);
  return n < INT64_MIN || n > INT64_MAX ? null : n;
}
