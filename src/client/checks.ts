/**
 * The checks behind connect()'s options and every call's own (`timeoutMs`, `consistency`): a bad
 * value is a TypeError that names the call and the option. Internal to the SDK: options.ts and
 * client.ts use them; api.ts does not export them.
 */
import type { Consistency } from '../replication/api.ts';

/** Node fires a timer longer than this after 1 ms, so a longer delay would silently mean "now". */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A delay or timeout a timer can hold; `where` names the call it was given to (`connect()`, `set()`...). */
export function delayMs(name: string, value: unknown, where = 'connect()'): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_TIMER_DELAY_MS)) {
    throw new TypeError(`${where}: \`${name}\` must be a number of milliseconds from 0 to ${MAX_TIMER_DELAY_MS}, got ${shown(value)}`);
  }
  return value;
}

/** The consistency levels a call may ask for (the wire's; anything else would be sent as "the cluster's default"). */
const CONSISTENCY_LEVELS: readonly Consistency[] = ['one', 'quorum', 'all'];

export function consistencyLevel(name: string, value: unknown, where: string): Consistency | undefined {
  if (value === undefined || CONSISTENCY_LEVELS.includes(value as Consistency)) return value as Consistency | undefined;
  throw new TypeError(`${where}: \`${name}\` must be one of ${CONSISTENCY_LEVELS.map((c) => `'${c}'`).join(', ')} (or absent: the cluster's R and W), got ${shown(value)}`);
}

/**
 * Checks the options every call takes (`timeoutMs`, `consistency`) as connect() checks its own: a
 * timeout over what a timer holds would fire at once, and a negative or NaN one would mean no
 * timeout at all; an unknown consistency would be sent as none, so the cluster's default (maybe
 * weaker than asked) would apply.
 */
export function checkCallOptions(call: string, options: { timeoutMs?: number; consistency?: Consistency }): void {
  if (options.timeoutMs !== undefined) delayMs('timeoutMs', options.timeoutMs, `${call}()`);
  consistencyLevel('consistency', options.consistency, `${call}()`);
}

/** `ready(timeoutMs)`'s timeout, checked as connect()'s `connectTimeoutMs`. */
export function readyTimeoutMs(timeoutMs: unknown): number {
  return delayMs('timeoutMs', timeoutMs, 'ready()');
}

/**
 * An object of options (connect()'s own, or `reconnect`, `tls`, `credentials`, `nearCache`): a
 * plain object whose keys are all in `known`, so that a misspelt one is an error rather than
 * silently ignored. `name` is the option's path (null: connect()'s argument itself), `expected`
 * what it takes. Returned without the keys set to undefined or null: those are absent (defaults).
 */
export function optionsObject(name: string | null, value: unknown, known: readonly string[], expected: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`connect(): ${name === null ? 'the options' : `\`${name}\``} must be ${expected}, got ${shown(value)}`);
  }
  const present: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!known.includes(key)) throw new TypeError(`connect(): unknown option \`${name === null ? '' : `${name}.`}${key}\` (known: ${known.join(', ')})`);
    if (v !== undefined && v !== null) present[key] = v;
  }
  return present;
}

/** A string option (`clientName`, `credentials.password`...), well-formed: it is sent or used as UTF-8. */
export function stringOption(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`connect(): \`${name}\` must be a string, got ${shown(value)}`);
  wellFormed(value, `connect(): \`${name}\``);
  return value;
}

/**
 * Throws unless `text` is well-formed UTF-16. A lone surrogate has no UTF-8 form: TextEncoder
 * (and msgpack) write U+FFFD for it, so 'a\uD800' and 'a\uFFFD' would be the same bytes (one
 * key). `what` starts the message (`get(): a string key`, ``connect(): `keyPrefix` ``), `hint` ends it.
 */
export function wellFormed(text: string, what: string, hint = ''): void {
  // String.prototype.isWellFormed (ES2024: Node 20, browsers since 2023) when there; else the scan.
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed;
  if (typeof native === 'function' && native.call(text)) return;
  const at = loneSurrogateAt(text);
  if (at >= 0) throw new TypeError(`${what} must be well-formed UTF-16: it has a lone surrogate at index ${at}, which UTF-8 turns into U+FFFD${hint}`);
}

/** The index of the first unpaired surrogate in `text`, or -1. */
function loneSurrogateAt(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}

/** A value as an error message quotes it: strings quoted, other primitives as String() writes them. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
