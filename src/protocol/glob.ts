/**
 * Redis's glob matching (KEYS, SCAN MATCH): a transcription of `stringmatchlen` from Redis 7.0's
 * src/util.c, case-sensitive. It lives in `protocol` because both the replica (which filters a
 * partition's keys before sending them) and the RESP front end (which filters what it already
 * holds) must match exactly alike.
 *
 * - `*` any run of bytes, `?` one byte, `\x` the byte x literally;
 * - `[abc]`, `[^abc]`, ranges `[a-z]` (reversed ranges such as `[z-a]` are swapped, as Redis does),
 *   `\]` inside a class; an unterminated class such as `[abc` matches as if it ended there.
 *
 * Redis compares range bounds as C `char`, which is signed on the platforms it is built for, so
 * a range with one bound of 0x80 or more behaves as there (`[a-\xff]` covers 0xff and 0..'a', not
 * 0x80..0xfe); `rangeCode` reproduces that. Keys and patterns are bytes: a JS string given here is
 * taken as latin1 (one code unit per byte), as store keys are (replication/record.ts).
 *
 * Redis 7.0.15 has no bound on the recursion that `*` causes; recursion past MAX_NESTING gives up
 * (no match) instead of overflowing the stack, as later Redis versions do.
 */

/** Bytes, or a latin1 string (one code unit per byte). */
export type GlobText = Uint8Array | string;

/** Deeper `*` recursion than this is refused (no match), as Redis 7.2 refuses past 1000. */
export const MAX_NESTING = 1000;

/** The byte at `i`, or 0 past the end (what the NUL after a Redis sds string reads as). */
function codeAt(text: GlobText, i: number): number {
  if (i >= text.length) return 0;
  return typeof text === 'string' ? text.charCodeAt(i) : text[i]!;
}

/** A byte as C's signed `char` sees it. */
function rangeCode(byte: number): number {
  return byte >= 0x80 ? byte - 0x100 : byte;
}

/** True when `subject` matches the Redis glob `pattern`. */
export function globMatch(pattern: GlobText, subject: GlobText): boolean {
  const skipLongerMatches = { value: false };
  return matchFrom(pattern, 0, pattern.length, subject, 0, subject.length, skipLongerMatches, 0);
}

/** A pattern that matches everything: Redis skips matching for exactly `*`. */
export function matchesEverything(pattern: GlobText): boolean {
  return pattern.length === 1 && codeAt(pattern, 0) === 0x2a;
}

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const BACKSLASH = 0x5c;
const DASH = 0x2d;

function matchFrom(
  pattern: GlobText,
  p: number,
  patternLen: number,
  subject: GlobText,
  s: number,
  stringLen: number,
  skipLongerMatches: { value: boolean },
  nesting: number,
): boolean {
  if (nesting > MAX_NESTING) return false;
  while (patternLen > 0 && stringLen > 0) {
    switch (codeAt(pattern, p)) {
      case STAR: {
        while (patternLen > 0 && codeAt(pattern, p + 1) === STAR) {
          p++;
          patternLen--;
        }
        if (patternLen === 1) return true;
        while (stringLen > 0) {
          if (matchFrom(pattern, p + 1, patternLen - 1, subject, s, stringLen, skipLongerMatches, nesting + 1)) return true;
          if (skipLongerMatches.value) return false;
          s++;
          stringLen--;
        }
        // No match for the rest of the pattern from anywhere in the rest of the string: an earlier
        // `*` taking a longer run cannot help either (Redis's skipLongerMatches).
        skipLongerMatches.value = true;
        return false;
      }
      case QUESTION:
        s++;
        stringLen--;
        break;
      case OPEN: {
        p++;
        patternLen--;
        const not = codeAt(pattern, p) === CARET;
        if (not) {
          p++;
          patternLen--;
        }
        let match = false;
        const c = codeAt(subject, s);
        for (;;) {
          const pc = codeAt(pattern, p);
          if (pc === BACKSLASH && patternLen >= 2) {
            p++;
            patternLen--;
            if (codeAt(pattern, p) === c) match = true;
          } else if (pc === CLOSE && patternLen > 0) {
            break;
          } else if (patternLen === 0) {
            // Unterminated class: step back so the common advance below lands on the end.
            p--;
            patternLen++;
            break;
          } else if (patternLen >= 3 && codeAt(pattern, p + 1) === DASH) {
            let start = rangeCode(pc);
            let end = rangeCode(codeAt(pattern, p + 2));
            if (start > end) [start, end] = [end, start];
            p += 2;
            patternLen -= 2;
            const signed = rangeCode(c);
            if (signed >= start && signed <= end) match = true;
          } else if (pc === c) {
            match = true;
          }
          p++;
          patternLen--;
        }
        if (not) match = !match;
        if (!match) return false;
        s++;
        stringLen--;
        break;
      }
      case BACKSLASH:
        if (patternLen >= 2) {
          p++;
          patternLen--;
        }
        if (codeAt(pattern, p) !== codeAt(subject, s)) return false;
        s++;
        stringLen--;
        break;
      default:
        if (codeAt(pattern, p) !== codeAt(subject, s)) return false;
        s++;
        stringLen--;
        break;
    }
    p++;
    patternLen--;
    if (stringLen === 0) {
      while (codeAt(pattern, p) === STAR && p < pattern.length) {
        p++;
        patternLen--;
      }
      break;
    }
  }
  return patternLen === 0 && stringLen === 0;
}
