/**
 * Redis's number rules, byte for byte: which strings are integers (`string2ll`), which are floats
 * (`string2ld`, i.e. glibc `strtold` on an x86-64 80-bit long double) and how INCRBYFLOAT prints
 * its result (`ld2string` in LD_STR_HUMAN mode: `%.17Lf`, trailing zeros cut).
 *
 * The long double is emulated exactly with BigInt rather than approximated with a JS double: a
 * value is sign * mantissa * 2^exponent with a 64-bit mantissa and the x87 extended exponent range
 * (subnormals included), every parse and every addition rounds the exact result to nearest-even,
 * as glibc and the x87 unit do, and formatting prints the exact binary value rounded to 17
 * decimals, as glibc's printf does. So INCRBYFLOAT gives Redis's bytes, including its famous
 * `0.1 + 0.2 = 0.30000000000000000` and its 4933-digit integers near the top of the range.
 */

/** Redis's LONG_STR_SIZE: a string this long or longer is never an integer. */
const LONG_STR_SIZE = 21;
const LLONG_MAX = (1n << 63n) - 1n;
const LLONG_MIN = -(1n << 63n);

/**
 * Redis's string2ll: an optional '-', then '0' alone or a digit 1-9 followed by digits, nothing
 * else (no spaces, no '+', no leading zeros, no "-0"), fewer than 21 bytes, within a signed 64-bit
 * integer. Null when the bytes are not such an integer.
 */
export function parseRedisInteger(bytes: Uint8Array): bigint | null {
  const n = bytes.length;
  if (n === 0 || n >= LONG_STR_SIZE) return null;
  if (n === 1 && bytes[0] === 0x30) return 0n;
  let i = 0;
  let negative = false;
  if (bytes[0] === 0x2d) {
    negative = true;
    i = 1;
    if (i === n) return null;
  }
  const first = bytes[i]!;
  if (first < 0x31 || first > 0x39) return null;
  let v = 0n;
  for (; i < n; i++) {
    const c = bytes[i]!;
    if (c < 0x30 || c > 0x39) return null;
    v = v * 10n + BigInt(c - 0x30);
  }
  if (negative) {
    v = -v;
    return v < LLONG_MIN ? null : v;
  }
  return v > LLONG_MAX ? null : v;
}

/** The decimal text Redis writes for a 64-bit integer (its ll2string). */
export function formatRedisInteger(value: bigint): Uint8Array {
  return asciiBytes(value.toString());
}

export function isInt64(value: bigint): boolean {
  return value >= LLONG_MIN && value <= LLONG_MAX;
}

// ---------------------------------------------------------------------------------------------
// The 80-bit long double.

/** Mantissa bits of the x87 extended format (the integer bit is explicit). */
const MANT_BITS = 64n;
/** Smallest exponent of the mantissa's last bit: the subnormal step, 2^-16445. */
const MIN_EXP = -16445;
/** Largest exponent of the mantissa's last bit for a finite value (2^16383 * (2 - 2^-63)). */
const MAX_EXP = 16320;
/** Redis's MAX_LONG_DOUBLE_CHARS: string2ld refuses strings this long or longer. */
export const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

/** sign * mant * 2^exp with mant < 2^64 (mant 0 = a signed zero), or an infinity. */
export type LongDouble = { kind: 'finite'; negative: boolean; mant: bigint; exp: number } | { kind: 'inf'; negative: boolean };

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * The long double nearest to num/den (both >= 0, den > 0), ties to even, with overflow to infinity
 * and gradual underflow to subnormals and zero, as the x87 unit and strtold round.
 */
function roundToLongDouble(negative: boolean, num: bigint, den: bigint): LongDouble {
  if (num === 0n) return { kind: 'finite', negative, mant: 0n, exp: 0 };
  // Choose exp so that num / (den * 2^exp) lies in [2^63, 2^64).
  let exp = bitLength(num) - bitLength(den) - Number(MANT_BITS);
  const scaled = (e: number): [bigint, bigint] => (e >= 0 ? [num, den << BigInt(e)] : [num << BigInt(-e), den]);
  for (;;) {
    const [n, d] = scaled(exp);
    const q = n / d;
    if (q >= 1n << MANT_BITS) exp++;
    else if (q < 1n << (MANT_BITS - 1n)) exp--;
    else break;
  }
  if (exp < MIN_EXP) exp = MIN_EXP;
  const [n, d] = scaled(exp);
  let mant = n / d;
  const rem2 = (n % d) * 2n;
  if (rem2 > d || (rem2 === d && (mant & 1n) === 1n)) mant++;
  if (mant === 1n << MANT_BITS) {
    mant >>= 1n;
    exp++;
  }
  if (exp > MAX_EXP) return { kind: 'inf', negative };
  return { kind: 'finite', negative, mant, exp };
}

function isZero(v: LongDouble): boolean {
  return v.kind === 'finite' && v.mant === 0n;
}

/** a + b in long double arithmetic (null: NaN, from inf + -inf). */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.kind === 'inf' || b.kind === 'inf') {
    if (a.kind === 'inf' && b.kind === 'inf' && a.negative !== b.negative) return null;
    return a.kind === 'inf' ? a : b;
  }
  if (isZero(a) && isZero(b)) return { kind: 'finite', negative: a.negative && b.negative, mant: 0n, exp: 0 };
  const e = Math.min(a.exp, b.exp);
  const signed = (v: { negative: boolean; mant: bigint; exp: number }): bigint => (v.negative ? -1n : 1n) * (v.mant << BigInt(v.exp - e));
  const sum = signed(a) + signed(b);
  // An exact zero sum is +0 under round-to-nearest.
  const negative = sum < 0n;
  const magnitude = negative ? -sum : sum;
  return e >= 0 ? roundToLongDouble(negative, magnitude << BigInt(e), 1n) : roundToLongDouble(negative, magnitude, 1n << BigInt(-e));
}

export function isInfinite(v: LongDouble): boolean {
  return v.kind === 'inf';
}

const DIGIT = /^[0-9]$/;
const HEX_DIGIT = /^[0-9a-fA-F]$/;

/**
 * Redis's string2ld: the whole string must be what strtold reads (decimal or hex float, inf or
 * infinity in any case, an optional sign), with no leading space, shorter than
 * MAX_LONG_DOUBLE_CHARS, not NaN, and neither overflowing nor underflowing to zero. Null otherwise.
 */
export function parseRedisLongDouble(bytes: Uint8Array): LongDouble | null {
  if (bytes.length === 0 || bytes.length >= MAX_LONG_DOUBLE_CHARS) return null;
  for (const b of bytes) if (b >= 0x80 || b === 0) return null;
  const text = String.fromCharCode(...bytes);
  let i = 0;
  let negative = false;
  if (text[0] === '+' || text[0] === '-') {
    negative = text[0] === '-';
    i = 1;
  }
  const rest = text.slice(i).toLowerCase();
  if (rest === 'inf' || rest === 'infinity') return { kind: 'inf', negative };
  if (rest.startsWith('0x')) return parseHex(negative, rest.slice(2));
  return parseDecimal(negative, rest);
}

/**
 * The mantissa's digits (the point dropped), how many of them follow the point, and the exponent
 * after `expLetter` (decimal digits, with a sign): what strtold reads of a decimal (`e`) or, after
 * the 0x, a hexadecimal (`p`) number. null unless the whole string is used and the mantissa has a digit.
 */
function scanNumber(s: string, digit: RegExp, expLetter: 'e' | 'p'): { digits: string; fractionDigits: number; exponent: number } | null {
  let i = 0;
  let digits = '';
  let fractionDigits = 0;
  while (i < s.length && digit.test(s[i]!)) digits += s[i++];
  if (s[i] === '.') {
    i++;
    while (i < s.length && digit.test(s[i]!)) {
      digits += s[i++];
      fractionDigits++;
    }
  }
  // No mantissa digit: strtold reads nothing (".") or, after a "0x" with no digit, the "0" alone, so
  // the string is not all used.
  if (digits.length === 0) return null;
  let exponent = 0;
  if (i < s.length) {
    if (s[i] !== expLetter) return null;
    i++;
    let expNegative = false;
    if (s[i] === '+' || s[i] === '-') {
      expNegative = s[i] === '-';
      i++;
    }
    const start = i;
    while (i < s.length && DIGIT.test(s[i]!)) i++;
    if (i === start || i !== s.length) return null;
    // Past ±100000 the value is 0 or infinite either way; keep the number small.
    const text = s.slice(start, i).replace(/^0+(?=.)/, '');
    const magnitude = text.length > 6 ? 100000 : Math.min(Number(text), 100000);
    exponent = expNegative ? -magnitude : magnitude;
  }
  return { digits, fractionDigits, exponent };
}

/** digits [. digits] [e [sign] digits]; at least one mantissa digit. */
function parseDecimal(negative: boolean, s: string): LongDouble | null {
  const scanned = scanNumber(s, DIGIT, 'e');
  if (scanned === null) return null;
  const { digits, fractionDigits, exponent: exp10 } = scanned;
  const mantissa = BigInt(digits);
  if (mantissa === 0n) return { kind: 'finite', negative, mant: 0n, exp: 0 };
  const scale = exp10 - fractionDigits;
  // Decimal magnitude of the value, to settle far overflow and underflow without huge powers.
  const magnitude = mantissa.toString().length + scale;
  if (magnitude > 5000) return null; // overflow: strtold says ERANGE with HUGE_VAL
  if (magnitude < -5000) return null; // underflow to zero: ERANGE with 0
  const result =
    scale >= 0 ? roundToLongDouble(negative, mantissa * 10n ** BigInt(scale), 1n) : roundToLongDouble(negative, mantissa, 10n ** BigInt(-scale));
  if (result.kind === 'inf' || result.mant === 0n) return null;
  return result;
}

/** hexdigits [. hexdigits] [p [sign] digits] (after the 0x); at least one mantissa digit. */
function parseHex(negative: boolean, s: string): LongDouble | null {
  const scanned = scanNumber(s, HEX_DIGIT, 'p');
  if (scanned === null) return null;
  const { digits, fractionDigits, exponent: exp2 } = scanned;
  const mantissa = BigInt('0x' + digits);
  if (mantissa === 0n) return { kind: 'finite', negative, mant: 0n, exp: 0 };
  const scale = exp2 - 4 * fractionDigits;
  const magnitude = bitLength(mantissa) + scale;
  if (magnitude > 17000 || magnitude < -17000) return null;
  const result = scale >= 0 ? roundToLongDouble(negative, mantissa << BigInt(scale), 1n) : roundToLongDouble(negative, mantissa, 1n << BigInt(-scale));
  if (result.kind === 'inf' || result.mant === 0n) return null;
  return result;
}

/**
 * ld2string(LD_STR_HUMAN): printf("%.17Lf") of the exact value (rounded half to even, as glibc
 * does), trailing zeros after the point removed, then the point if nothing follows it, and "-0"
 * written as "0". Finite values only (Redis never stores an infinity).
 */
export function formatLongDoubleHuman(v: LongDouble): string {
  if (v.kind === 'inf') throw new RangeError('an infinite long double has no human form');
  const SCALE = 10n ** 17n;
  let scaled: bigint;
  if (v.exp >= 0) scaled = (v.mant << BigInt(v.exp)) * SCALE;
  else {
    const num = v.mant * SCALE;
    const den = 1n << BigInt(-v.exp);
    scaled = num / den;
    const rem2 = (num % den) * 2n;
    if (rem2 > den || (rem2 === den && (scaled & 1n) === 1n)) scaled++;
  }
  const integer = (scaled / SCALE).toString();
  const fraction = (scaled % SCALE).toString().padStart(17, '0').replace(/0+$/, '');
  let text = (v.negative ? '-' : '') + integer + (fraction === '' ? '' : '.' + fraction);
  if (text === '-0') text = '0';
  return text;
}

export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
