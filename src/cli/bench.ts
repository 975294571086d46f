/**
 * `shoal bench <subcommand>`: benchmarks that print a readable table (or JSON with --json).
 *
 * Subcommands are rows in BENCHMARKS; add one by adding a row with its own flags and runner.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { bar, eta, Progress } from './progress.ts';
import { formatHelp, parseArgs, UsageError } from './args.ts';
import type { FlagSpecs } from './args.ts';
import { parseTrace, TraceFormatError, TRACE_FORMATS } from '../store/trace/parse.ts';
import type { Trace, TraceFormat } from '../store/trace/parse.ts';
import { replay, REPLAY_POLICIES } from '../store/trace/replay.ts';
import type { ReplayPolicy, ReplayResult } from '../store/trace/replay.ts';
import { WINDOW_ADAPTATIONS } from '../store/policy-wtinylfu.ts';
import { DEFAULT_STORE_SEED } from '../store/store.ts';
import type { WindowAdaptation } from '../store/policy-wtinylfu.ts';

interface Benchmark {
  summary: string;
  usage: string;
  flags: FlagSpecs;
  run(flags: Record<string, string | number | boolean>, positionals: string[]): Promise<number>;
}

const HITRATIO_FLAGS: FlagSpecs = {
  trace: { kind: 'string', description: 'trace file (plain or gzip); several may be given comma-separated' },
  format: { kind: 'string', description: `trace format: ${TRACE_FORMATS.join('|')} (one, or one per trace, comma-separated)` },
  sizes: { kind: 'string', description: 'cache capacities in entries, comma-separated', default: '1000' },
  policies: { kind: 'string', description: `policies, comma-separated: ${REPLAY_POLICIES.join(',')}`, default: 'wtinylfu,lru,lfu,opt' },
  'window-adaptation': { kind: 'string', description: `W-TinyLFU window adaptation: ${WINDOW_ADAPTATIONS.join('|')}`, default: 'mini-sim' },
  seed: { kind: 'number', description: 'seed for W-TinyLFU random admission', default: DEFAULT_STORE_SEED },
  json: { kind: 'boolean', description: 'print one JSON object per (trace, size, policy) line instead of a table' },
  help: { kind: 'boolean', description: 'show this help' },
};

/** One row of hit-ratio output, as printed with --json. */
export interface HitRatioRow extends ReplayResult {
  trace: string;
}

/** A readable name for a trace file: its base name without `.trace`, `.gz` and the like. */
export function traceName(file: string): string {
  return basename(file).replace(/(\.gz)$/, '').replace(/\.(trace|txt|bin|lirs|arc)$/, '');
}

function list(raw: string | number | boolean | undefined, what: string): string[] {
  const items = String(raw ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`--${what} needs at least one value`);
  return items;
}

export function loadTrace(file: string, format: TraceFormat): Trace {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read trace ${file}: ${(e as Error).message}`);
  }
  try {
    return parseTrace(bytes, format);
  } catch (e) {
    // A file in another format than --format says, or a damaged gzip: the operator's to fix.
    if (e instanceof TraceFormatError) throw new UsageError(`trace ${file} is not in the ${format} format (--format): ${e.message}`);
    if (/^Z_/.test(String((e as NodeJS.ErrnoException).code))) throw new UsageError(`trace ${file} starts like gzip but does not unpack: ${(e as Error).message}`);
    throw e;
  }
}

/** Replays every (size, policy) pair on one trace. */
export function hitRatios(
  trace: Trace,
  name: string,
  sizes: number[],
  policies: ReplayPolicy[],
  adaptation: WindowAdaptation,
  seed: number,
  /** Called before each replay (the progress line). */
  onReplay: (size: number, policy: ReplayPolicy) => void = () => {},
): HitRatioRow[] {
  const rows: HitRatioRow[] = [];
  for (const size of sizes) {
    for (const policy of policies) {
      onReplay(size, policy);
      rows.push({ trace: name, ...replay(trace, size, policy, { seed, windowAdaptation: adaptation }) });
    }
  }
  return rows;
}

/** A table with one line per (trace, size) and one column per policy. */
export function formatHitRatioTable(rows: HitRatioRow[]): string {
  const policies = [...new Set(rows.map((r) => r.policy))];
  const groups = new Map<string, HitRatioRow[]>();
  for (const r of rows) {
    const key = `${r.trace} @ ${r.size}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const width = Math.max(16, ...[...groups.keys()].map((k) => k.length));
  const header = `${'trace @ entries'.padEnd(width)}  ${'requests'.padStart(9)}  ${policies.map((p) => p.padStart(9)).join('  ')}`;
  const lines = [...groups.entries()].map(([key, rs]) => {
    const cells = policies.map((p) => {
      const r = rs.find((x) => x.policy === p);
      return (r ? r.hitRatio.toFixed(2) : '-').padStart(9);
    });
    return `${key.padEnd(width)}  ${String(rs[0]!.requests).padStart(9)}  ${cells.join('  ')}`;
  });
  return `hit ratio (%)\n${header}\n${lines.join('\n')}\n`;
}

async function runHitRatio(flags: Record<string, string | number | boolean>): Promise<number> {
  if (flags.trace === undefined) throw new UsageError('--trace FILE is required');
  if (flags.format === undefined) throw new UsageError(`--format is required (${TRACE_FORMATS.join(', ')})`);
  const files = list(flags.trace, 'trace');
  const formats = list(flags.format, 'format');
  if (formats.length !== 1 && formats.length !== files.length) throw new UsageError(`give one --format, or one per trace (${files.length})`);
  for (const f of formats) if (!TRACE_FORMATS.includes(f as TraceFormat)) throw new UsageError(`--format "${f}" is not one of ${TRACE_FORMATS.join(', ')}`);
  const sizes = list(flags.sizes ?? '1000', 'sizes').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--sizes: "${s}" is not a positive whole number of entries`);
    return n;
  });
  const policies = list(flags.policies ?? 'wtinylfu,lru,lfu,opt', 'policies').map((p) => {
    if (!REPLAY_POLICIES.includes(p as ReplayPolicy)) throw new UsageError(`--policies: "${p}" is not one of ${REPLAY_POLICIES.join(', ')}`);
    return p as ReplayPolicy;
  });
  const adaptation = String(flags['window-adaptation'] ?? 'mini-sim') as WindowAdaptation;
  if (!WINDOW_ADAPTATIONS.includes(adaptation)) throw new UsageError(`--window-adaptation must be one of ${WINDOW_ADAPTATIONS.join(', ')}`);
  const seed = Number(flags.seed ?? DEFAULT_STORE_SEED);
  const rows: HitRatioRow[] = [];
  // On a terminal (and without --json), one progress line on stderr while the replays run.
  const progress = new Progress({ enabled: flags.json !== true });
  const total = files.length * sizes.length * policies.length;
  const started = performance.now();
  let replays = 0;
  files.forEach((file, i) => {
    progress.update(`hitratio ${bar(replays, total)}: loading ${traceName(file)}`);
    let trace: Trace;
    try {
      trace = loadTrace(file, (formats[i] ?? formats[0]) as TraceFormat);
    } catch (e) {
      progress.done(); // the error's line, not under a half-drawn progress line
      throw e;
    }
    rows.push(
      ...hitRatios(trace, traceName(file), sizes, policies, adaptation, seed, (size, policy) => {
        progress.update(`hitratio ${bar(replays, total)}: ${traceName(file)} @ ${size}, ${policy} ${eta(replays, total, performance.now() - started)}`.trimEnd());
        replays++;
      }),
    );
  });
  progress.done();
  if (flags.json) process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  else process.stdout.write(formatHitRatioTable(rows));
  return 0;
}

const BENCHMARKS: Record<string, Benchmark> = {
  hitratio: {
    summary: 'replay cache traces through the storage engine and print hit ratios per policy and size',
    usage: 'Usage: shoal bench hitratio --trace FILE --format lirs|arc|u32be|u64be [--sizes 1000,2000] [--policies wtinylfu,lru,lfu,opt] [--json]',
    flags: HITRATIO_FLAGS,
    run: (flags) => runHitRatio(flags),
  },
};

function usage(): string {
  const rows = Object.entries(BENCHMARKS).map(([name, b]) => `  ${name.padEnd(10)} ${b.summary}`);
  return `Usage: shoal bench <benchmark> [options]\n\nBenchmarks:\n${rows.join('\n')}\n\nRun "shoal bench <benchmark> --help" for its options.\n`;
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const bench = BENCHMARKS[name];
  if (!bench) throw new UsageError(`unknown benchmark "${name}"; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  const { flags, positionals } = parseArgs(rest, bench.flags);
  if (flags.help) {
    process.stdout.write(formatHelp(bench.usage, bench.flags));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  return bench.run(flags, positionals);
}
