/**
 * The storage engine benchmark: ns/op for get-hit, get-miss, set and a mixed workload at 100k
 * entries (16-byte keys, 100-byte values), side by side with lru-cache in the same run, and memory
 * per entry at 1M entries beside lru-cache, a plain Map of objects and redis-server.
 *
 *   node --import tsx bench/store/run.ts [--json] [--no-memory]
 *
 * Each memory figure comes from its own child process (bench/store/memory.ts, --expose-gc) so one
 * structure's garbage cannot inflate another's. Prints a table, then one JSON object.
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
const ROUNDS = 5;
const HERE = dirname(fileURLToPath(import.meta.url));
const clock = { wallMs: () => 0, monoMs: () => 0 };

interface Cache {
  get(key: string): Uint8Array | undefined;
  /** Zero-copy read where the implementation has one (Store.getView); otherwise get. */
  view(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array): void;
}

function shoal(): Cache {
  // Budget well above 100k entries so the speed runs measure lookups, not eviction.
  const store = new Store({ maxMemory: 256 * 1024 * 1024, clock });
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

type Workload = (c: Cache) => void;
const WORKLOADS: Record<string, Workload> = {
  'get-hit': (c) => {
    for (let i = 0; i < OPS; i++) sink += c.get(hitKeys[order[i]!]!)!.length;
  },
  // Store.get returns a copy the caller may keep; getView is the zero-copy path (lru-cache hands
  // out its stored reference in both rows).
  'get-hit-view': (c) => {
    for (let i = 0; i < OPS; i++) sink += c.view(hitKeys[order[i]!]!)!.length;
  },
  'get-miss': (c) => {
    for (let i = 0; i < OPS; i++) if (c.get(missKeys[order[i]!]!) === undefined) sink++;
  },
  set: (c) => {
    for (let i = 0; i < OPS; i++) c.set(hitKeys[order[i]!]!, value);
  },
  // 80% reads (of which one in eight misses), 20% overwrites.
  mixed: (c) => {
    for (let i = 0; i < OPS; i++) {
      const r = mixChoice[i]!;
      const k = order[i]!;
      if (r < 70) sink += c.get(hitKeys[k]!)?.length ?? 0;
      else if (r < 80) sink += c.get(missKeys[k]!)?.length ?? 0;
      else c.set(hitKeys[k]!, value);
    }
  },
};

function nsPerOp(make: () => Cache, workload: Workload): number {
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const cache = make();
    for (const k of hitKeys) cache.set(k, value);
    const start = process.hrtime.bigint();
    workload(cache);
    samples.push(Number(process.hrtime.bigint() - start) / OPS);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

function memoryOf(impl: string): number {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(HERE, 'memory.ts'), impl], { encoding: 'utf8' });
  return (JSON.parse(out) as { bytesPerEntry: number }).bytesPerEntry;
}

const json = process.argv.includes('--json');
const speed: Record<string, { shoal: number; lruCache: number; ratio: number }> = {};
for (const [name, workload] of Object.entries(WORKLOADS)) {
  const s = nsPerOp(shoal, workload);
  const l = nsPerOp(lruCache, workload);
  speed[name] = { shoal: s, lruCache: l, ratio: s / l };
}
const SPEED_TARGET_NS: Record<string, number> = { 'get-hit': 150, 'get-hit-view': 150, mixed: 250 };
let memory: Record<string, number | string> | undefined;
if (!process.argv.includes('--no-memory')) {
  const redis = await measureRedis();
  memory = { shoal: memoryOf('shoal'), lruCache: memoryOf('lru-cache'), map: memoryOf('map'), redis: 'skipped' in redis ? redis.skipped : redis.bytesPerEntry };
}

const lines = [`store microbenchmark: ${ENTRIES} entries, 16-byte keys, ${VALUE_LENGTH}-byte values, median of ${ROUNDS} x ${OPS} ops`];
lines.push(`${'op'.padEnd(13)} ${'shoal ns/op'.padStart(12)} ${'lru-cache'.padStart(10)} ${'ratio'.padStart(6)}  target`);
for (const [name, r] of Object.entries(speed)) {
  const limit = SPEED_TARGET_NS[name];
  const verdict = limit === undefined ? '' : r.shoal <= limit || r.ratio <= 2 ? `met (<= ${limit} ns or <= 2x lru-cache)` : `MISSED (${limit} ns / 2x lru-cache)`;
  lines.push(`${name.padEnd(13)} ${r.shoal.toFixed(1).padStart(12)} ${r.lruCache.toFixed(1).padStart(10)} ${r.ratio.toFixed(2).padStart(6)}  ${verdict}`);
}
if (memory) {
  lines.push('', 'memory per entry at 1M entries (bytes, measured after GC)');
  for (const [name, v] of Object.entries(memory)) lines.push(`${name.padEnd(10)} ${typeof v === 'number' ? v.toFixed(1).padStart(8) : v}`);
  if (typeof memory.redis === 'number') {
    const ratio = (memory.shoal as number) / memory.redis;
    lines.push(`shoal / redis-server = ${ratio.toFixed(2)} (target <= 1.5: ${ratio <= 1.5 ? 'met' : 'MISSED'})`);
  }
}
process.stdout.write(lines.join('\n') + '\n');
if (json) process.stdout.write(JSON.stringify({ entries: ENTRIES, ops: OPS, speed, memory }) + '\n');
if (sink === -1) process.stdout.write('');
