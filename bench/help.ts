/**
 * The command line of every benchmark and fuzz script, those package.json runs and those run by
 * hand (`node --import tsx bench/...`): each declares its options (and arguments) once, and this
 * one table gives `--help` (usage and options, exit 0) and refuses anything else before a thing
 * is measured: an unknown option, a stray or missing argument, or a bad value prints the error and
 * the usage line and exits 2, as the `shoal` command does. A typo (`npm run bench:store -- --sizez
 * 1000`) used to run the default benchmark, for minutes.
 */
import { formatHelp, parseArgs, UsageError, type FlagSpec, type Parsed } from '../src/cli/args.ts';

export interface BenchOption extends FlagSpec {
  /** What the usage line shows after the option (`N`, `get-hit,mixed`; else its default); a boolean takes none. */
  value?: string;
  /**
   * What is wrong with a value of the right kind (a count below 1, a name no target has), or
   * undefined when it will do; said as `--name PROBLEM`. Checked for defaults too.
   */
  check?(value: string | number | boolean): string | undefined;
}

export type BenchOptions = Record<string, BenchOption>;

/**
 * What is wrong with two or more options taken together (`--fresh` with `--blind`, seeds in both
 * `--train` and `--heldout`), said as is, or undefined; given the flags over their defaults.
 */
export type BenchTogetherCheck = (flags: Parsed['flags']) => string | undefined;

/** An argument given without a flag (a file, a checkout to compare with), in order. */
export interface BenchArgument {
  /** As the usage line shows it: `FILE.cpuprofile`. */
  name: string;
  description: string;
  /** May be left out (the usage line shows it in brackets); only the last ones may be. */
  optional?: boolean;
  /** What is wrong with it, said as `NAME PROBLEM`, or undefined. */
  check?(text: string): string | undefined;
}

const HELP: BenchOption = { kind: 'boolean', description: 'show this help and measure nothing' };

/** A check for counts and sizes: above zero. */
export const positive = (value: string | number | boolean): string | undefined => (typeof value === 'number' && value > 0 ? undefined : `must be above 0, not ${String(value)}`);

/**
 * A check for a comma-separated list whose every name must be one of `known`, and that names at
 * least one (`--only ,` would otherwise select nothing).
 */
export function namesFrom(known: readonly string[]): (value: string | number | boolean) => string | undefined {
  return (value) => {
    const names = String(value)
      .split(',')
      .map((s) => s.trim())
      .filter((name) => name !== '');
    if (names.length === 0) return `names none of ${known.join(', ')}`;
    const unknown = names.find((name) => !known.includes(name));
    return unknown === undefined ? undefined : `names "${unknown}", which is none of ${known.join(', ')}`;
  };
}

/** Seeds written as `61..100` or `64,68`; undefined when `spec` is neither. */
export function seedList(spec: string): number[] | undefined {
  const m = /^(\d+)\.\.(\d+)$/.exec(spec);
  const seeds = m ? Array.from({ length: Number(m[2]) - Number(m[1]) + 1 }, (_, i) => Number(m[1]) + i) : spec.split(',').map(Number);
  return seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0) ? undefined : seeds;
}

/** A check for an option read with seedList. */
export const seedListCheck = (value: string | number | boolean): string | undefined => (seedList(String(value)) === undefined ? `takes seeds as 61..100 or 64,68, not "${String(value)}"` : undefined);

/** `command ARG [ARG] [--flag] [--name VALUE] ...`, in the order the arguments and options are declared. */
export function usageLine(command: string, options: BenchOptions, args: readonly BenchArgument[] = []): string {
  const given = args.map((a) => (a.optional ? `[${a.name}]` : a.name));
  const shown = Object.entries(options).map(([name, o]) => (o.kind === 'boolean' ? `[--${name}]` : `[--${name} ${o.value ?? String(o.default ?? 'VALUE')}]`));
  return [command, ...given, ...shown].join(' ');
}

function defaults(options: BenchOptions): Parsed['flags'] {
  const given = Object.entries(options).filter(([, o]) => o.default !== undefined);
  return Object.fromEntries(given.map(([name, o]) => [name, o.default!]));
}

/** The arguments, checked against their declarations: none too many, none missing, each as its check wants. */
function checkArguments(positionals: readonly string[], args: readonly BenchArgument[]): void {
  if (positionals.length > args.length) throw new UsageError(`unexpected argument "${positionals[args.length]}"`);
  const missing = args.find((a, i) => !a.optional && positionals[i] === undefined);
  if (missing !== undefined) throw new UsageError(`${missing.name} is missing: ${missing.description}`);
  args.forEach((a, i) => {
    const problem = positionals[i] === undefined ? undefined : a.check?.(positionals[i]);
    if (problem !== undefined) throw new UsageError(`${a.name} ${problem}`);
  });
}

function helpText(usage: string, specs: BenchOptions, args: readonly BenchArgument[]): string {
  const argRows = args.map((a) => `  ${a.name.padEnd(24)} ${a.description}`);
  const options = formatHelp(`Usage: ${usage}`, specs);
  return (args.length === 0 ? options : options.replace('\n\nOptions:\n', `\n\nArguments:\n${argRows.join('\n')}\n\nOptions:\n`)) + 'bench/README.md says more of what each option does.\n';
}

/**
 * The flags of the command line over the declared defaults (an option with neither is absent), and
 * its arguments; or the process exits: 0 after `--help`, 2 on a usage error (an unknown option, a
 * value of the wrong kind or that its check refuses, options `together` refuses, an argument too
 * many or missing). `command` is how the script is run, e.g. `npm run bench:ring --`.
 */
export function benchCommandLine(
  command: string,
  options: BenchOptions,
  args: readonly BenchArgument[] = [],
  argv: readonly string[] = process.argv.slice(2),
  together?: BenchTogetherCheck,
): Parsed {
  const usage = usageLine(command, options, args);
  const specs = { ...options, help: HELP };
  try {
    const { flags, positionals } = parseArgs(argv, specs);
    if (flags.help) {
      process.stdout.write(helpText(usage, specs, args));
      process.exit(0);
    }
    const all = { ...defaults(options), ...flags };
    for (const [name, value] of Object.entries(all)) {
      const problem = options[name]?.check?.(value);
      if (problem !== undefined) throw new UsageError(`--${name} ${problem}`);
    }
    const problem = together?.(all);
    if (problem !== undefined) throw new UsageError(problem);
    checkArguments(positionals, args);
    return { flags: all, positionals };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\nUsage: ${usage}\n`);
    process.exit(2);
  }
}

/** benchCommandLine's flags, for a script that takes no arguments. */
export function benchArgs(command: string, options: BenchOptions, together?: BenchTogetherCheck): Parsed['flags'] {
  return benchCommandLine(command, options, [], process.argv.slice(2), together).flags;
}
