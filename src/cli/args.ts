/**
 * A small, strict flag parser shared by every `shoal` command: unknown flags and bad values are
 * errors with a message that names the flag, never silently ignored.
 *
 * Hand-written rather than node's util.parseArgs: that reads `-1.5` as the short options 1, . and 5
 * where a negative number is an argument here (`shoal set k -1.5`), refuses a flag value that
 * starts with `-` (`--nodes -3`) in strict mode, and names no known option in its errors.
 */
import { parseBytes, parseDuration, UnitSyntaxError } from '../daemon/units.ts';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type FlagKind = 'string' | 'number' | 'integer' | 'boolean' | 'duration' | 'bytes';

export interface FlagSpec {
  kind: FlagKind;
  description: string;
  /** Shown in help; the parsed result omits flags that were not given. */
  default?: string | number | boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface Parsed {
  flags: Record<string, string | number | boolean>;
  positionals: string[];
}

export function parseValue(name: string, kind: FlagKind, raw: string): string | number | boolean {
  switch (kind) {
    case 'string':
      return raw;
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new UsageError(`--${name} takes true or false, not "${raw}"`);
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} takes a number, not "${raw}"`);
      return n;
    }
    case 'integer':
      // Plain digits (a sign allowed): not 1e4, 0x10 or 10.0, which Number() also reads.
      if (!/^[+-]?\d+$/.test(raw.trim())) throw new UsageError(`--${name} takes a whole number, not "${raw}"`);
      return Number(raw);
    case 'duration':
    case 'bytes':
      try {
        return kind === 'duration' ? parseDuration(raw) : parseBytes(raw);
      } catch (e) {
        if (!(e instanceof UnitSyntaxError)) throw e;
        throw new UsageError(`--${name}: ${e.message}`);
      }
  }
}

export function parseArgs(argv: readonly string[], specs: FlagSpecs): Parsed {
  const flags: Parsed['flags'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' && Object.hasOwn(specs, 'help')) {
      flags.help = true;
      continue;
    }
    // `-x` is a mistyped option far more often than a key; `--` passes one that starts with `-`.
    // A negative number (`-5`) and a lone `-` stay arguments.
    if (/^-[^-\d]/.test(arg)) {
      throw new UsageError(`unknown option ${arg}${Object.hasOwn(specs, 'help') ? ' (-h is --help)' : ''}; put -- before an argument that starts with -`);
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) {
      const known = Object.keys(specs).map((k) => `--${k}`).join(', ');
      throw new UsageError(`unknown option --${name}; known options: ${known || 'none'}`);
    }
    let raw: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (raw === undefined) {
      if (spec.kind === 'boolean') {
        flags[name] = true;
        continue;
      }
      raw = argv[++i];
      if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    }
    flags[name] = parseValue(name, spec.kind, raw);
  }
  return { flags, positionals };
}

export function formatHelp(usage: string, specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const def = spec.default === undefined ? '' : ` (default: ${String(spec.default)})`;
    return `  --${name.padEnd(22)} ${spec.description}${def}`;
  });
  return `${usage}\n\nOptions:\n${rows.join('\n')}\n`;
}
