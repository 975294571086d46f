/**
 * The syntax of durations and sizes, as operators write them in flags, `SHOAL_*` variables and the
 * config file (and the commands' `--ttl`): `500ms`, `60s`, `256mb`, `1GiB`. Here, not in src/cli,
 * because the daemon's option schema reads them and the daemon does not depend on the CLI.
 */

/** Text that is not a duration or a size; callers add which option it was given for. */
export class UnitSyntaxError extends Error {
  override readonly name = 'UnitSyntaxError';
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** Parses `60s`, `500ms`, `2m`, `1h`, or a bare number of milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UnitSyntaxError(`"${text}" is not a duration; use a number with ms, s, m or h, like 60s`);
  return Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']!;
}

/** Parses `64mb`, `1GiB`, `1048576`. */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = BYTE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined) throw new UnitSyntaxError(`"${text}" is not a size; use a number with kb, mb, gb, kib, mib or gib, like 256mb`);
  return Math.floor(Number(m[1]) * unit);
}
