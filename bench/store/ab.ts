/**
 * In-process A/B of two checkouts of the store, with lru-cache beside them: the same keys, value
 * bytes and access order as bench/store/run.ts, one store per side built and filled once per
 * workload, a warm-up round each, then rounds alternating base, this checkout, lru-cache. On a
 * shared machine the run-to-run spread of run.ts (separate processes) hides changes of 10-20%; here
 * every round of one side has a round of the other next to it under the same load, and the paired
 * ratio's median and the count of rounds each side won are printed.
 *
 *   node --import tsx bench/store/ab.ts /path/to/other/checkout/src/store/store.ts [--entries N] [--rounds N] [--only get-hit,mixed]
 *
 * The other checkout must sit in a directory with `"type": "module"` (a git worktree of this
 * repository): tsx compiles it to CommonJS otherwise, and its calls go through getters. It must
 * also import its own src modules, not this checkout's: an A/A against a copy of src/store that
 * imported this tree's src/runtime and src/protocol read 1.103 (0.983 against a worktree;
 * docs/research/store-speed.md, ninth pass).
 */
import { LRUCache } from 'lru-cache';
import { Store } from '../../src/store/store.ts';
import { benchCommandLine, positive } from '../help.ts';
import { benchKey, VALUE_LENGTH } from './memory.ts';

interface Cache {
  get(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array): void;
}

const { flags, positionals } = benchCommandLine(
  'node --import tsx bench/store/ab.ts',
  {
    entries: { kind: 'integer', value: 'N', description: 'entries each store holds', default: 100_000, check: positive },
    rounds: { kind: 'integer', value: 'N', description: 'timed rounds per side', default: 9, check: positive },
    only: { kind: 'string', value: 'get-hit,mixed', description: 'comma-separated workloads to time. Default: all' },
  },
  [{ name: 'OTHER_CHECKOUT/src/store/store.ts', description: "the store of the checkout to compare with (a git worktree of this repository)" }],
);
const basePath = positionals[0]!;
const { Store: BaseStore } = (await import(basePath)) as { Store: typeof Store };
const ENTRIES = Number(flags.entries);
const ROUNDS = Number(flags.rounds);
const only = (flags.only as string | undefined)?.split(',');
const OPS = 500_000;
const clock = { wallMs: () => 0, monoMs: () => 0 };

function store(S: typeof Store): () => Cache {
  return () => {
    const s = new S({ maxMemory: 256 * 1024 * 1024, clock });
    return { get: (k) => s.get(k), set: (k, v) => void s.set(k, v, { partition: 0 }) };
  };
}

function lruCache(): Cache {
  const cache = new LRUCache<string, Uint8Array>({ max: ENTRIES * 2 });
  return { get: (k) => cache.get(k), set: (k, v) => void cache.set(k, v.slice()) };
}

/** Deterministic pseudo-random indices (xorshift), as run.ts. */
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

function consume(v: Uint8Array | undefined): number {
  return v === undefined ? 1 : v.length + v[v.length - 1]!;
}

const WORKLOADS: Record<string, (c: Cache) => void> = {
  'get-hit': (c) => {
    for (let i = 0; i < OPS; i++) sink += consume(c.get(hitKeys[order[i]!]!));
  },
  'get-miss': (c) => {
    for (let i = 0; i < OPS; i++) sink += consume(c.get(missKeys[order[i]!]!));
  },
  set: (c) => {
    for (let i = 0; i < OPS; i++) c.set(hitKeys[order[i]!]!, value);
  },
  mixed: (c) => {
    for (let i = 0; i < OPS; i++) {
      const r = mixChoice[i]!;
      const k = order[i]!;
      if (r < 70) sink += consume(c.get(hitKeys[k]!));
      else if (r < 80) sink += consume(c.get(missKeys[k]!));
      else c.set(hitKeys[k]!, value);
    }
  },
};

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

const sides: Record<string, () => Cache> = { base: store(BaseStore), this: store(Store), lru: lruCache };
console.log(`A/B: ${ENTRIES} entries, ${OPS} ops per round, ${ROUNDS} rounds per side; base = ${basePath}; ns/op medians`);
for (const [name, run] of Object.entries(WORKLOADS)) {
  if (only && !only.includes(name)) continue;
  const caches = Object.entries(sides).map(([side, make]) => {
    const cache = make();
    for (const k of hitKeys) cache.set(k, value);
    run(cache);
    return [side, cache] as const;
  });
  const times: Record<string, number[]> = { base: [], this: [], lru: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // base and this swap places every other round, so neither always runs right after lru-cache.
    // An A/A run (the same code on both sides) still reads mixed 0.92 (get-hit 0.985): run a
    // change in both directions (each tree as `this`) before trusting a few percent.
    const order = round % 2 === 0 ? caches : [caches[1]!, caches[0]!, caches[2]!];
    for (const [side, cache] of order) {
      const start = process.hrtime.bigint();
      run(cache);
      times[side]!.push(Number(process.hrtime.bigint() - start) / OPS);
    }
  }
  const [base, mine, lru] = [median(times.base!), median(times.this!), median(times.lru!)];
  const paired = times.this!.map((t, i) => t / times.base![i]!);
  console.log(
    `${name.padEnd(9)} base ${base.toFixed(1).padStart(7)}  this ${mine.toFixed(1).padStart(7)}  lru-cache ${lru.toFixed(1).padStart(7)}  ` +
      `base/lru ${(base / lru).toFixed(2)}  this/lru ${(mine / lru).toFixed(2)}  this/base ${median(paired).toFixed(3)} (this faster in ${paired.filter((p) => p < 1).length}/${ROUNDS})`,
  );
}
console.log(`(sink ${sink}: every value read was consumed)`);
