/**
 * Argument parsing shared by the keyspace commands, with Redis 7.0's exact rules and error texts:
 * numbers as `string2ll` reads them, SET/GETEX options as `parseExtendedStringArgumentsOrReply`
 * reads them (t_string.c), EXPIRE options as `parseExtendedExpireArgumentsOrReply` (expire.c), and
 * the absolute expiry times those commands compute, overflow checks included.
 */
import { parseRedisInteger } from '../replication/redis-numbers.ts';
import type { KvError, RmwErrorCode } from '../replication/api.ts';

export const LLONG_MAX = (1n << 63n) - 1n;
export const LLONG_MIN = -(1n << 63n);

export const ERR_SYNTAX = 'ERR syntax error';
export const ERR_NOT_INTEGER = 'ERR value is not an integer or out of range';
export const ERR_CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot";

export function wrongArity(command: string): string {
  return `ERR wrong number of arguments for '${command}' command`;
}

export function invalidExpireTime(command: string): string {
  return `ERR invalid expire time in '${command}' command`;
}

/** Redis's reply for each way a read-modify-write can fail. */
export function rmwErrorText(code: RmwErrorCode): string {
  switch (code) {
    case 'not-integer':
      return ERR_NOT_INTEGER;
    case 'overflow':
      return 'ERR increment or decrement would overflow';
    case 'not-float':
      return 'ERR value is not a valid float';
    case 'nan-or-infinity':
      return 'ERR increment would produce NaN or Infinity';
    case 'no-such-key':
      return 'ERR no such key';
    case 'too-large':
      return STRING_TOO_LARGE;
  }
}

/** Redis's text when a string would outgrow its limit (ours is the node's maximum value size). */
export const STRING_TOO_LARGE = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';

/** Redis's reply to a write refused under maxmemory-policy noeviction (server.c, shared.oomerr). */
export const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";

/**
 * A keyspace failure as a Redis error. Redis has no quorum, so these have no Redis text; the
 * prefixes are the ones Redis Cluster clients already treat as retryable (TRYAGAIN, CLUSTERDOWN).
 */
export function kvErrorText(error: KvError): string {
  const detail = error.message.replace(/[\r\n]+/g, ' ');
  switch (error.code) {
    case 'too-large':
      // A key over the limit has no Redis text (Redis keys can be 512 MB); say what it is.
      return detail.startsWith('key ') ? `ERR ${detail}` : STRING_TOO_LARGE;
    case 'unavailable':
    case 'not-ready':
      return `CLUSTERDOWN ${detail}`;
    case 'timeout':
    case 'overloaded':
      return `TRYAGAIN ${detail}`;
    case 'out-of-memory':
      return OOM_ERROR;
    default:
      return `ERR ${detail}`;
  }
}

/** string2ll of an argument. */
export function parseInteger(arg: Uint8Array): bigint | null {
  return parseRedisInteger(arg);
}

/**
 * A database index as Redis's getIntFromObjectOrReply reads it (SELECT, COPY ... DB): an integer
 * in C int range, or the error Redis answers.
 */
export function parseDbIndex(arg: Uint8Array): bigint | string {
  const index = parseInteger(arg);
  if (index === null) return ERR_NOT_INTEGER;
  if (index > 2147483647n || index < -2147483648n) return 'ERR value is out of range, value must between -2147483648 and 2147483647';
  return index;
}

/**
 * True when the argument is `word` in any case (ASCII); `word` is given in lower case. Redis
 * compares options as C strings (strcasecmp), so the argument ends at its first NUL byte:
 * `nx\0anything` is NX there, and here.
 */
export function isWord(arg: Uint8Array, word: string): boolean {
  const nul = arg.indexOf(0);
  const length = nul === -1 ? arg.length : nul;
  if (length !== word.length) return false;
  for (let i = 0; i < length; i++) {
    let c = arg[i]!;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== word.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * An argument as text for an error message, the way C's `%s` (`%.Ns`: at most `max` bytes) prints
 * it: up to its first NUL byte, one char per byte. Put it in a `quotingError`, so that its bytes
 * go back to the client as they came, as Redis echoes them (a string error is written as UTF-8).
 */
export function argText(arg: Uint8Array, max = Infinity): string {
  const nul = arg.indexOf(0);
  const end = Math.min(nul === -1 ? arg.length : nul, Math.max(0, max));
  return Buffer.from(arg.buffer, arg.byteOffset, end).toString('latin1');
}

/** An error line holding `argText`s: its chars written back as bytes (latin1), not as UTF-8. */
export function quotingError(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// SET and GETEX options.

export type ExpireOption = 'ex' | 'px' | 'exat' | 'pxat';

export interface StringOptions {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepTtl: boolean;
  persist: boolean;
  /** The expiry option given, with its (not yet parsed) argument. */
  expire: { option: ExpireOption; arg: Uint8Array } | null;
}

/**
 * SET's options (from args[3]) or GETEX's (from args[2]), exactly as Redis accepts them: an option
 * may repeat, but one that conflicts with an earlier one, an unknown word, or an expiry option with
 * nothing after it is a syntax error. Returns the options or the error text.
 */
export function parseStringOptions(args: Uint8Array[], kind: 'set' | 'getex'): StringOptions | string {
  const o: StringOptions = { nx: false, xx: false, get: false, keepTtl: false, persist: false, expire: null };
  const isSet = kind === 'set';
  const hasExpiry = (...allowed: ExpireOption[]): boolean => o.expire !== null && !allowed.includes(o.expire.option);
  for (let j = isSet ? 3 : 2; j < args.length; j++) {
    const opt = args[j]!;
    const next = j === args.length - 1 ? null : args[j + 1]!;
    if (isSet && isWord(opt, 'nx') && !o.xx) o.nx = true;
    else if (isSet && isWord(opt, 'xx') && !o.nx) o.xx = true;
    else if (isSet && isWord(opt, 'get')) o.get = true;
    else if (isSet && isWord(opt, 'keepttl') && !o.persist && o.expire === null) o.keepTtl = true;
    else if (!isSet && isWord(opt, 'persist') && o.expire === null && !o.keepTtl) o.persist = true;
    else {
      const option = (['ex', 'px', 'exat', 'pxat'] as const).find((name) => isWord(opt, name));
      // The same expiry option again is allowed (the last value counts); another one is not.
      if (option === undefined || o.keepTtl || o.persist || hasExpiry(option) || next === null) return ERR_SYNTAX;
      o.expire = { option, arg: next };
      j++;
    }
  }
  return o;
}

/**
 * The absolute expiry (ms) of a SET/SETEX/PSETEX/GETEX expiry argument, or the error text, as
 * getExpireMillisecondsOrReply computes it: not an integer, zero or negative, seconds that overflow
 * when made ms, or a relative time that overflows when added to now are errors.
 */
export function expireAtFromOption(option: ExpireOption, arg: Uint8Array, nowMs: number, command: string): bigint | string {
  const value = parseInteger(arg);
  if (value === null) return ERR_NOT_INTEGER;
  const seconds = option === 'ex' || option === 'exat';
  if (value <= 0n || (seconds && value > LLONG_MAX / 1000n)) return invalidExpireTime(command);
  let ms = seconds ? value * 1000n : value;
  if (option === 'ex' || option === 'px') ms += BigInt(nowMs);
  // Redis adds in signed 64 bits and reports the wrap-around as a non-positive time.
  if (ms > LLONG_MAX) return invalidExpireTime(command);
  return ms;
}

// ---------------------------------------------------------------------------------------------
// EXPIRE options.

export interface ExpireCondition {
  condition: 'always' | 'nx' | 'xx' | 'gt' | 'lt';
  /** XX given together with GT or LT: the key must also have an expiry. */
  xx: boolean;
}

/** EXPIRE's NX/XX/GT/LT (from args[3]): any repeats, but not NX with another, nor GT with LT. */
export function parseExpireCondition(args: Uint8Array[]): ExpireCondition | string | Uint8Array {
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  for (let j = 3; j < args.length; j++) {
    const opt = args[j]!;
    if (isWord(opt, 'nx')) nx = true;
    else if (isWord(opt, 'xx')) xx = true;
    else if (isWord(opt, 'gt')) gt = true;
    else if (isWord(opt, 'lt')) lt = true;
    else return quotingError(`ERR Unsupported option ${argText(opt)}`);
  }
  if (nx && (xx || gt || lt)) return 'ERR NX and XX, GT or LT options at the same time are not compatible';
  if (gt && lt) return 'ERR GT and LT options at the same time are not compatible';
  if (gt || lt) return { condition: gt ? 'gt' : 'lt', xx };
  return { condition: nx ? 'nx' : xx ? 'xx' : 'always', xx: false };
}

/**
 * EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT's time as an absolute ms, or the error text. Negative times
 * are allowed (they delete the key); only overflow of the unit conversion or of adding now fails.
 */
export function expireAtFromArg(arg: Uint8Array, seconds: boolean, baseMs: number, command: string): bigint | string {
  let when = parseInteger(arg);
  if (when === null) return ERR_NOT_INTEGER;
  if (seconds) {
    // C's LLONG_MIN / 1000 truncates toward zero, as BigInt division does.
    if (when > LLONG_MAX / 1000n || when < LLONG_MIN / 1000n) return invalidExpireTime(command);
    when *= 1000n;
  }
  const base = BigInt(baseMs);
  if (when > LLONG_MAX - base) return invalidExpireTime(command);
  return when + base;
}
