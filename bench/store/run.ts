/**
 * The storage engine benchmark: ns/op for get-hit, get-miss, set and a mixed workload at 100k
 * entries (16-byte keys, 100-byte values), side by side with lru-cache in the same run, and memory
 * per entry at 1M entries beside lru-cache, a plain Map of objects and redis-server.
 *
 *   node --import tsx bench/store/run.ts [--json] [--no-memory] [--only get-hit,mixed] [--rounds N] [--analytics]
 *
 * --analytics adds a third side to the same alternating rounds: the store with access analytics
 * switched off (`analytics: false`), and prints the cost of analytics as the ratio between the two.
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
 * Each memory figure comes from its own child process (bench/store/memory.ts, --expose-gc) so one
 * structure's garbage cannot inflate another's. Prints a table, then one JSON object with --json.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import { Store } from '../../src/store/store.ts';
import { benchKey, VALUE_LENGTH } from './memory.ts';
import { measureRedis } from './redis-memory.ts';

const ENTRIES = 100_000;
const OPS = 500_000;
const DEFAULT_ROUNDS = 7;
const HERE = dirname(fileURLToPath(import.meta.url));
const clock = { wallMs: () => 0, monoMs: () => 0 };

interface Cache {
  get(key: string): Uint8Array | undefined;
  /** Zero-copy read where the implementation has one (Store.getView); otherwise get. */
  view(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array): void;
}

function shoal(): Cache {
  // Default options, as the node builds its store (W-TinyLFU, hot-key tracking on). The budget is
  // well above 100k entries so the speed runs measure lookups, not eviction.
  const store = new Store({ maxMemory: 256 * 1024 * 1024, clock });
  return { get: (k) => store.get(k), view: (k) => store.getView(k), set: (k, v) => void store.set(k, v, { partition: 0 }) };
}

/** The store as `shoal()` builds it but with access analytics off (`--analytics` compares the two). */
function shoalNoAnalytics(): Cache {
  const store = new Store({ maxMemory: 256 * 1024 * 1024, clock, analytics: false });
  return { get: (k) => store.get(k), view: (k) => store.getView(k), set: (k, v) => void store.set(k, v, { partition: 0 }) };
}

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

const hitKeys = Array.from({ length: ENTRIES }, (_, i) => benchKey(i));
const missKeys = Array.from({ length: ENTRIES }, (_, i) => benchKey(ENTRIES * 10 + i));
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
  const start = process.hrtime.bigint();
  workload(cache);
  return Number(process.hrtime.bigint() - start) / OPS;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Alternating rounds after one warm-up each; returns each side's median ns/op. */
function compare(workload: Workload, rounds: number, withBare: boolean): { shoal: number; lruCache: number; noAnalytics?: number } {
  timeRound(shoal, workload);
  timeRound(lruCache, workload);
  if (withBare) timeRound(shoalNoAnalytics, workload);
  const s: number[] = [];
  const l: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < rounds; round++) {
    s.push(timeRound(shoal, workload));
    l.push(timeRound(lruCache, workload));
    if (withBare) b.push(timeRound(shoalNoAnalytics, workload));
  }
  return withBare ? { shoal: median(s), lruCache: median(l), noAnalytics: median(b) } : { shoal: median(s), lruCache: median(l) };
}

function memoryOf(impl: string): number {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(HERE, 'memory.ts'), impl], { encoding: 'utf8' });
  return (JSON.parse(out) as { bytesPerEntry: number }).bytesPerEntry;
}

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const json = process.argv.includes('--json');
const only = argValue('--only')?.split(',');
const rounds = Number(argValue('--rounds') ?? DEFAULT_ROUNDS);
const withAnalyticsCost = process.argv.includes('--analytics');
const speed: Record<string, { shoal: number; lruCache: number; ratio: number; noAnalytics?: number; analyticsCost?: number }> = {};
for (const [name, { run }] of Object.entries(WORKLOADS)) {
  if (only && !only.includes(name)) continue;
  const r = compare(run, rounds, withAnalyticsCost);
  speed[name] = { ...r, ratio: r.shoal / r.lruCache, ...(r.noAnalytics === undefined ? {} : { analyticsCost: r.shoal / r.noAnalytics }) };
}
/** The speed target (issue 6): at most this many ns/op, or at most 2x lru-cache in the same run. */
const SPEED_TARGET_NS: Record<string, number> = { 'get-hit': 150, 'get-hit-view': 150, mixed: 250 };
const SPEED_TARGET_RATIO = 2;
let memory: Record<string, number | string> | undefined;
if (!process.argv.includes('--no-memory')) {
  const redis = await measureRedis();
  memory = { shoal: memoryOf('shoal'), lruCache: memoryOf('lru-cache'), map: memoryOf('map'), redis: 'skipped' in redis ? redis.skipped : redis.bytesPerEntry };
}

const lines = [
  `store microbenchmark: ${ENTRIES} entries, 16-byte keys, ${VALUE_LENGTH}-byte values, ${OPS} ops per round, median of ${rounds} alternating rounds per side`,
  'columns: shoal ns/op = median wall time per operation of src/store (default options); lru-cache = the same for lru-cache in the',
  '         same run; ratio = shoal / lru-cache (below 1: shoal faster); target = issue 6: <= N ns/op or <= 2x lru-cache',
];
lines.push(`${'op'.padEnd(13)} ${'shoal ns/op'.padStart(12)} ${'lru-cache'.padStart(10)} ${'ratio'.padStart(6)}  target`);
for (const [name, r] of Object.entries(speed)) {
  const limit = SPEED_TARGET_NS[name];
  const verdict = limit === undefined ? '' : r.shoal <= limit || r.ratio <= SPEED_TARGET_RATIO ? `met (<= ${limit} ns or <= ${SPEED_TARGET_RATIO}x)` : `MISSED (${limit} ns / ${SPEED_TARGET_RATIO}x)`;
  lines.push(`${name.padEnd(13)} ${r.shoal.toFixed(1).padStart(12)} ${r.lruCache.toFixed(1).padStart(10)} ${r.ratio.toFixed(2).padStart(6)}  ${verdict}`);
}
if (withAnalyticsCost) {
  lines.push('', 'access analytics (shoal stats): the same rounds with analytics off; cost = shoal / no-analytics (1.03 = 3% slower with them)');
  lines.push(`${'op'.padEnd(13)} ${'shoal ns/op'.padStart(12)} ${'no-analytics'.padStart(13)} ${'cost'.padStart(6)}`);
  for (const [name, r] of Object.entries(speed)) lines.push(`${name.padEnd(13)} ${r.shoal.toFixed(1).padStart(12)} ${r.noAnalytics!.toFixed(1).padStart(13)} ${r.analyticsCost!.toFixed(3).padStart(6)}`);
  lines.push('');
}
lines.push('ops:');
for (const [name, { what }] of Object.entries(WORKLOADS)) if (speed[name]) lines.push(`  ${name.padEnd(13)} ${what}`);
if (memory) {
  lines.push('', 'memory per entry at 1M entries (bytes: heap + array-buffer growth after GC, divided by entries; redis: INFO used_memory growth)');
  for (const [name, v] of Object.entries(memory)) lines.push(`${name.padEnd(10)} ${typeof v === 'number' ? v.toFixed(1).padStart(8) : v}`);
  if (typeof memory.redis === 'number') {
    const ratio = (memory.shoal as number) / memory.redis;
    lines.push(`shoal / redis-server = ${ratio.toFixed(2)} (target <= 1.5: ${ratio <= 1.5 ? 'met' : 'MISSED'})`);
  }
}
lines.push(`(sink ${sink}: every value read was consumed)`);
process.stdout.write(lines.join('\n') + '\n');
if (json) process.stdout.write(JSON.stringify({ entries: ENTRIES, ops: OPS, rounds, speed, memory }) + '\n');
