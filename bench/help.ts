/**
 * The command line of every benchmark and fuzz script that package.json runs: each declares its
 * options once, and this one table gives `--help` (usage and options, exit 0) and refuses anything
 * else before a thing is measured: an unknown option or a stray argument prints the error and the
 * usage line and exits 2, as the `shoal` command does. A typo (`npm run bench:store -- --sizez 1000`)
 * used to run the default benchmark, for minutes.
 */
import { formatHelp, parseArgs, UsageError, type FlagSpec, type Parsed } from '../src/cli/args.ts';

export interface BenchOption extends FlagSpec {
  /** What the usage line shows after the option (`N`, `get-hit,mixed`; else its default); a boolean takes none. */
  value?: string;
}

export type BenchOptions = Record<string, BenchOption>;

const HELP: BenchOption = { kind: 'boolean', description: 'show this help and measure nothing' };

/** `command [--flag] [--name VALUE] ...`, in the order the options are declared. */
export function usageLine(command: string, options: BenchOptions): string {
  const shown = Object.entries(options).map(([name, o]) => (o.kind === 'boolean' ? `[--${name}]` : `[--${name} ${o.value ?? String(o.default ?? 'VALUE')}]`));
  return [command, ...shown].join(' ');
}

function defaults(options: BenchOptions): Parsed['flags'] {
  const given = Object.entries(options).filter(([, o]) => o.default !== undefined);
  return Object.fromEntries(given.map(([name, o]) => [name, o.default!]));
}

/**
 * The flags of `argv` over the declared defaults (an option with neither is absent), or the process
 * exits: 0 after `--help`, 2 on a usage error. `command` is how the script is run, e.g.
 * `npm run bench:ring --`.
 */
export function benchArgs(command: string, options: BenchOptions, argv: readonly string[] = process.argv.slice(2)): Parsed['flags'] {
  const usage = usageLine(command, options);
  const specs = { ...options, help: HELP };
  try {
    const { flags, positionals } = parseArgs(argv, specs);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (!flags.help) return { ...defaults(options), ...flags };
    process.stdout.write(`${formatHelp(`Usage: ${usage}`, specs)}bench/README.md says more of what each option does.\n`);
    process.exit(0);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\nUsage: ${usage}\n`);
    process.exit(2);
  }
}
