/**
 * The storage engine benchmark: ns/op for get-hit, get-miss, set and a mixed workload at 100k
 * entries (16-byte keys, 100-byte values), side by side with lru-cache in the same run, and memory
 * per entry beside redis-server's at several entry counts (MEMORY_SIZES: 100k, 300k, 700k, 1M, or
 * --memory-sizes), and lru-cache's and a plain Map of objects' at the largest.
 *
 *   node --import tsx bench/store/run.ts [--json] [--no-memory] [--memory-sizes N,N] [--only get-hit,mixed] [--rounds N]
 *                                        [--analytics] [--adaptation] [--hot-keys] [--fresh-keys] [--entries N]
 *
 * Each of --analytics, --adaptation and --hot-keys adds a side to the same alternating rounds: the
 * store with that part switched off (access analytics `analytics: false`; the window's adaptation
 * `windowAdaptation: 'static'`, at the same 1% window the adaptive store starts from; the hot-key
 * tracker `hotKeys: false`), and prints the part's cost as the ratio shoal / that side (1.03 = the
 * part makes an operation 3% slower).
 *
 * Fairness, because the machine this runs on is usually shared:
 * - both implementations see the same keys (the same string objects), the same value bytes, the
 *   same pre-generated access order and the same fill before every round;
 * - rounds alternate (shoal, lru-cache, shoal, lru-cache...) after one untimed warm-up round each,
 *   so a burst of load elsewhere lands on both sides instead of skewing one; each side's figure is
 *   the median of its rounds and the ratio is taken between those medians;
 * - every result is consumed (length and last byte of each value read go into a sink that is
 *   printed), so no read can be optimised away;
 * - lru-cache is configured like the store under test: a `max` entry bound above the working set
 *   (neither side evicts), no TTL, no autopurge, no size calculation. It stores the reference it is
 *   given, so its set is handed a copy, as the store copies into its arena.
 *
 * --fresh-keys: every round looks keys up with string objects never used before (copies made before
 * the timing), as a node's keys are decoded from each request's bytes; V8 caches a string's hash
 * in the string, so reusing the same objects round after round gives Map-based caches hashing
 * for free, which a node never gets.
 *
 * Each structure's memory comes from its own child process (bench/store/memory.ts, --expose-gc) so
 * one structure's garbage cannot inflate another's; that process fills one structure through every
 * count, measuring at each. Some of the store's tables grow by doubling (key index, sketch), so its
 * bytes per entry depend on where a count falls between two powers of two, and one count alone can
 * flatter it (1M is just under 2^20). Prints a table, then one JSON object with --json.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import { Store } from '../../src/store/store.ts';
import type { StoreOptions } from '../../src/store/store.ts';
import { benchKey, parseSizes, sizesProblem, VALUE_LENGTH } from './memory.ts';
import { measureRedis } from './redis-memory.ts';
import { benchArgs } from '../help.ts';

const flags = benchArgs('npm run bench:store --', {
  json: { kind: 'boolean', description: 'print one JSON object after the table' },
  'no-memory': { kind: 'boolean', description: 'skip the memory per entry measurement' },
  'memory-sizes': { kind: 'string', value: 'N,N', description: 'ascending entry counts to measure memory at (default: 100k, 300k, 700k, 1M)', check: (v) => sizesProblem(String(v)) },
  only: { kind: 'string', value: 'get-hit,mixed', description: 'comma-separated workloads to time (get-hit, get-hit-view, get-miss, set, mixed). Default: all' },
  rounds: { kind: 'number', value: 'N', description: 'timed rounds per side (the median is reported)', default: 7 },
  analytics: { kind: 'boolean', description: 'add a side without access analytics, and print its cost' },
  adaptation: { kind: 'boolean', description: "add a side without the window's adaptation, and print its cost" },
  'hot-keys': { kind: 'boolean', description: 'add a side without the hot-key tracker, and print its cost' },
  'fresh-keys': { kind: 'boolean', description: 'look keys up with string objects never used before, as a node does' },
  entries: { kind: 'number', value: 'N', description: 'entries held', default: 100_000 },
});

/** Entries held (--entries N; default 100k). At 1000 everything a get touches stays in the CPU's caches, so the ratio is the code's own cost without cache misses. */
const ENTRIES = Number(flags.entries);
const OPS = 500_000;
const HERE = dirname(fileURLToPath(import.meta.url));
const clock = { wallMs: () => 0, monoMs: () => 0 };

interface Cache {
  get(key: string): Uint8Array | undefined;
  /** Zero-copy read where the implementation has one (Store.getView); otherwise get. */
  view(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array): void;
}

/** The store with default options, as the node builds it (W-TinyLFU, hot keys, analytics), but for `without`. */
function shoalWith(without: Partial<StoreOptions>): Cache {
  // The budget is well above 100k entries so the speed runs measure lookups, not eviction.
  const store = new Store({ maxMemory: 256 * 1024 * 1024, clock, ...without });
  return { get: (k) => store.get(k), view: (k) => store.getView(k), set: (k, v) => void store.set(k, v, { partition: 0 }) };
}

const shoal = (): Cache => shoalWith({});

/** The parts whose cost --analytics, --adaptation and --hot-keys measure: the store without each. */
const PARTS: Record<string, { label: string; without: Partial<StoreOptions> }> = {
  '--analytics': { label: 'access analytics (shoal stats)', without: { analytics: false } },
  '--adaptation': { label: 'window adaptation (mini-sim tuner)', without: { windowAdaptation: 'static' } },
  '--hot-keys': { label: 'hot-key tracker', without: { hotKeys: false } },
};

function lruCache(): Cache {
  const cache = new LRUCache<string, Uint8Array>({ max: ENTRIES * 2 });
  // lru-cache stores the reference, so hand it its own copy like the store makes.
  return { get: (k) => cache.get(k), view: (k) => cache.get(k), set: (k, v) => void cache.set(k, v.slice()) };
}

/** Deterministic pseudo-random indices (xorshift), generated before timing starts. */
function indices(n: number, range: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) % range;
  }
  return out;
}

let hitKeys = Array.from({ length: ENTRIES }, (_, i) => benchKey(i));
let missKeys = Array.from({ length: ENTRIES }, (_, i) => benchKey(ENTRIES * 10 + i));
const freshKeys = flags['fresh-keys'] === true;
const value = new Uint8Array(VALUE_LENGTH).fill(3);
const order = indices(OPS, ENTRIES, 0x9e3779b9);
const mixChoice = indices(OPS, 100, 12345);
let sink = 0;

/** Reads something out of every value returned, so neither side can skip producing it. */
function consume(v: Uint8Array | undefined): number {
  return v === undefined ? 1 : v.length + v[v.length - 1]!;
}

type Workload = (c: Cache) => void;
const WORKLOADS: Record<string, { run: Workload; what: string }> = {
  'get-hit': {
    what: 'get of a present key; shoal returns a copy the caller may keep, lru-cache its stored array',
    run: (c) => {
      for (let i = 0; i < OPS; i++) sink += consume(c.get(hitKeys[order[i]!]!));
    },
  },
  'get-hit-view': {
    what: 'shoal getView (zero-copy, valid until the next change) vs lru-cache get',
    run: (c) => {
      for (let i = 0; i < OPS; i++) sink += consume(c.view(hitKeys[order[i]!]!));
    },
  },
  'get-miss': {
    what: 'get of an absent key',
    run: (c) => {
      for (let i = 0; i < OPS; i++) sink += consume(c.get(missKeys[order[i]!]!));
    },
  },
  set: {
    what: 'overwrite of a present key with a 100-byte value (both copy it)',
    run: (c) => {
      for (let i = 0; i < OPS; i++) c.set(hitKeys[order[i]!]!, value);
    },
  },
  mixed: {
    what: '70% get-hit, 10% get-miss, 20% overwrite',
    run: (c) => {
      for (let i = 0; i < OPS; i++) {
        const r = mixChoice[i]!;
        const k = order[i]!;
        if (r < 70) sink += consume(c.get(hitKeys[k]!));
        else if (r < 80) sink += consume(c.get(missKeys[k]!));
        else c.set(hitKeys[k]!, value);
      }
    },
  },
};

function filled(make: () => Cache): Cache {
  const cache = make();
  for (const k of hitKeys) cache.set(k, value);
  return cache;
}

function timeRound(make: () => Cache, workload: Workload): number {
  const cache = filled(make);
  if (freshKeys) {
    hitKeys = hitKeys.map((k) => benchKey(Number(k.slice(4))));
    missKeys = missKeys.map((k) => benchKey(Number(k.slice(4))));
  }
  const start = process.hrtime.bigint();
  workload(cache);
  return Number(process.hrtime.bigint() - start) / OPS;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Alternating rounds after one warm-up each; returns each side's median ns/op, by side name. */
function compare(workload: Workload, rounds: number, sides: Record<string, () => Cache>): Record<string, number> {
  for (const make of Object.values(sides)) timeRound(make, workload);
  const times = Object.fromEntries(Object.keys(sides).map((name) => [name, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, make] of Object.entries(sides)) times[name]!.push(timeRound(make, workload));
  }
  return Object.fromEntries(Object.entries(times).map(([name, xs]) => [name, median(xs)]));
}

/** Bytes per entry of `impl` at each of `sizes` (lru-cache: the largest only), in a child process. */
function memoryOf(impl: string, sizes: readonly number[]): { entries: number; bytesPerEntry: number }[] {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(HERE, 'memory.ts'), impl, sizes.join(',')], { encoding: 'utf8' });
  return (JSON.parse(out) as { sizes: { entries: number; bytesPerEntry: number }[] }).sizes;
}

const json = flags.json === true;
const only = (flags.only as string | undefined)?.split(',');
const rounds = Number(flags.rounds);
const parts = Object.keys(PARTS).filter((flag) => flags[flag.slice(2)] === true);
const sides: Record<string, () => Cache> = { shoal, lruCache };
for (const flag of parts) sides[flag] = () => shoalWith(PARTS[flag]!.without);
const speed: Record<string, { shoal: number; lruCache: number; ratio: number; costs: Record<string, number> }> = {};
for (const [name, { run }] of Object.entries(WORKLOADS)) {
  if (only && !only.includes(name)) continue;
  const r = compare(run, rounds, sides);
  const costs = Object.fromEntries(parts.map((flag) => [flag.slice(2), r.shoal! / r[flag]!]));
  speed[name] = { shoal: r.shoal!, lruCache: r.lruCache!, ratio: r.shoal! / r.lruCache!, costs };
}
/** The speed target (issue 19): at most this many times lru-cache's time per op, in the same run. */
const SPEED_TARGET_RATIO = 1.5;
const SPEED_TARGET_OPS = ['get-hit', 'get-miss', 'set', 'mixed'];
/** The memory target (issue 19): at most redis-server's bytes per entry. */
const MEMORY_TARGET_RATIO = 1;
/** Bytes per entry at one count: shoal's and redis-server's (or why redis was skipped), and the target check. */
interface MemoryAt {
  entries: number;
  shoal: number;
  redis: number | string;
  ratio?: number;
  met?: boolean;
}
let memory: { sizes: MemoryAt[]; largest: { entries: number; lruCache: number; map: number } } | undefined;
if (!flags['no-memory']) {
  const memorySizes = parseSizes(flags['memory-sizes'] as string | undefined);
  const redis = await measureRedis(memorySizes);
  const sizes = memoryOf('shoal', memorySizes).map(({ entries, bytesPerEntry: shoal }, i): MemoryAt => {
    if ('skipped' in redis) return { entries, shoal, redis: redis.skipped };
    const ratio = shoal / redis.sizes[i]!.bytesPerEntry;
    return { entries, shoal, redis: redis.sizes[i]!.bytesPerEntry, ratio, met: ratio <= MEMORY_TARGET_RATIO };
  });
  const largest = memorySizes[memorySizes.length - 1]!;
  memory = { sizes, largest: { entries: largest, lruCache: memoryOf('lru-cache', [largest])[0]!.bytesPerEntry, map: memoryOf('map', [largest])[0]!.bytesPerEntry } };
}

const lines = [
  `store microbenchmark: ${ENTRIES} entries, 16-byte keys, ${VALUE_LENGTH}-byte values, ${OPS} ops per round, median of ${rounds} alternating rounds per side`,
  'columns: shoal ns/op = median wall time per operation of src/store (default options); lru-cache = the same for lru-cache in the',
  `         same run; ratio = shoal / lru-cache (below 1: shoal faster); target = issue 19: <= ${SPEED_TARGET_RATIO}x lru-cache`,
];
lines.push(`${'op'.padEnd(13)} ${'shoal ns/op'.padStart(12)} ${'lru-cache'.padStart(10)} ${'ratio'.padStart(6)}  target`);
for (const [name, r] of Object.entries(speed)) {
  const verdict = !SPEED_TARGET_OPS.includes(name) ? '' : r.ratio <= SPEED_TARGET_RATIO ? 'met' : 'MISSED';
  lines.push(`${name.padEnd(13)} ${r.shoal.toFixed(1).padStart(12)} ${r.lruCache.toFixed(1).padStart(10)} ${r.ratio.toFixed(2).padStart(6)}  ${verdict}`);
}
if (parts.length > 0) {
  lines.push('', 'cost of a part = shoal / the store without it, in the same rounds (1.03 = 3% slower with it):');
  lines.push(`${'op'.padEnd(13)} ${parts.map((flag) => PARTS[flag]!.label.padStart(36)).join('')}`);
  for (const [name, r] of Object.entries(speed)) lines.push(`${name.padEnd(13)} ${parts.map((flag) => r.costs[flag.slice(2)]!.toFixed(3).padStart(36)).join('')}`);
  lines.push('');
}
lines.push('ops:');
for (const [name, { what }] of Object.entries(WORKLOADS)) if (speed[name]) lines.push(`  ${name.padEnd(13)} ${what}`);
if (memory) {
  lines.push('', 'memory per entry (bytes: heap + array-buffer growth after GC, divided by entries; redis: INFO used_memory growth, after its rehash)');
  lines.push(`ratio = shoal / redis-server; target = issue 19: <= ${MEMORY_TARGET_RATIO}x redis-server`);
  lines.push(`${'entries'.padEnd(10)} ${'shoal'.padStart(8)} ${'redis'.padStart(8)} ${'ratio'.padStart(6)}  target`);
  for (const m of memory.sizes) {
    if (typeof m.redis === 'string') lines.push(`${String(m.entries).padEnd(10)} ${m.shoal.toFixed(1).padStart(8)}  ${m.redis}`);
    else lines.push(`${String(m.entries).padEnd(10)} ${m.shoal.toFixed(1).padStart(8)} ${m.redis.toFixed(1).padStart(8)} ${m.ratio!.toFixed(2).padStart(6)}  ${m.met ? 'met' : 'MISSED'}`);
  }
  const { entries, lruCache, map } = memory.largest;
  lines.push(`at ${entries}: lru-cache ${lruCache.toFixed(1)}, Map of objects ${map.toFixed(1)}`);
}
lines.push(`(sink ${sink}: every value read was consumed)`);
process.stdout.write(lines.join('\n') + '\n');
if (json) process.stdout.write(JSON.stringify({ entries: ENTRIES, ops: OPS, rounds, speed, memory }) + '\n');
