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

/** A value as an error message quotes it: strings quoted, other primitives as String() writes them. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
