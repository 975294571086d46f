/**
 * Memory per entry at several entry counts (16-byte keys, 100-byte values), measured, not estimated:
 *
 *   node --expose-gc --import tsx bench/store/memory.ts shoal|map|lru-cache [N,N,...]   (one implementation per process)
 *
 * Prints one JSON line: {impl, sizes: [{entries, bytesPerEntry}]}. The heap and array-buffer growth
 * between an empty and a filled structure, each after a full GC, divided by the entry count. The
 * keys are counted (the structure keeps them alive); the one reused source value is not.
 *
 * One structure is filled once, in key order, and measured each time it holds one of the counts
 * (ascending): what it holds at N entries does not depend on having been measured on the way, and
 * the counts below 1M cost no fill of their own. lru-cache allocates its arrays for `max` up front,
 * so it is measured at the largest count only. Before the empty measurement a small structure of
 * the same kind is filled and dropped, so the code compiled for it and its type feedback, a cost of
 * the process (about 0.3 MB for the store, 3 bytes per entry at 100k), are not charged to the
 * entries; redis-server's figure (redis-memory.ts) does not include its code either.
 */
import { LRUCache } from 'lru-cache';
import { benchCommandLine, namesFrom, type BenchArgument } from '../help.ts';
import { Store } from '../../src/store/store.ts';

/**
 * Entry counts at which bench:store measures memory: 1M is just under 2^20, where the store's
 * tables that double (key index, sketch; the rows did until they grew by an eighth) are nearly
 * full; the others fall at different points of their doubling (100k at 0.76 of 2^17, 300k at 0.57
 * of 2^19, 700k at 0.67 of 2^20).
 */
export const MEMORY_SIZES = [100_000, 300_000, 700_000, 1_000_000];
export const KEY_LENGTH = 16;
export const VALUE_LENGTH = 100;
const WARM_UP_ENTRIES = 20_000;
/** Keys of the warm-up structure start here, far from the measured ones. */
const WARM_UP_KEYS = 50_000_000;

/**
 * The i-th key, as a flat string: the node's keys are decoded from bytes off the wire (RESP
 * arguments, replication records), never built by concatenation. A concatenation of 13 or more
 * characters is a V8 cons string, which a Map keeps beside its flattened copy: about 36 bytes more
 * per key, which would be measured in every structure here and in none of a node's.
 */
export function benchKey(i: number): string {
  return Buffer.from(`key:${String(i).padStart(KEY_LENGTH - 4, '0')}`, 'latin1').toString('latin1');
}

/** What is wrong with a comma-separated list of entry counts (they must be positive and ascending), or undefined. */
export function sizesProblem(list: string): string | undefined {
  const sizes = list.split(',').map(Number);
  return sizes.some((n, i) => !Number.isInteger(n) || n <= 0 || (i > 0 && n <= sizes[i - 1]!)) ? `must be ascending positive integers, not ${list}` : undefined;
}

/** Parses a comma-separated list of entry counts, ascending (checked with sizesProblem first). */
export function parseSizes(list: string | undefined): number[] {
  return list === undefined ? MEMORY_SIZES : list.split(',').map(Number);
}

/** The entry counts a memory script measures at, as its last argument. */
export const SIZES_ARGUMENT: BenchArgument = { name: 'SIZES', description: 'ascending entry counts, N,N,... (default: 100000,300000,700000,1000000)', optional: true, check: sizesProblem };

/** Heap plus array-buffer bytes in use after a full GC (run with --expose-gc). */
export function used(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

const clock = { wallMs: () => 0, monoMs: () => 0 };

/** The store as measured: a budget no fill reaches, hot-key tracking off. */
export function benchStore(): Store {
  return new Store({ maxMemory: 4 * 1024 ** 3, clock, hotKeys: false });
}

/** The i-th entry as the store is filled with it (a partition per 1024 keys, as on a node of 1024 partitions). */
export function addTo(store: Store, i: number, value: Uint8Array): void {
  store.set(benchKey(i), value, { partition: i & 1023 });
}

/** A structure under test: `add` stores the i-th key; `check` throws unless it holds `entries`. */
interface Filled {
  add(i: number): void;
  check(entries: number): void;
}

/** What memory.ts can fill, for comparison. */
const IMPLEMENTATIONS = ['shoal', 'map', 'lru-cache'];

/** The implementation's structure, built to hold up to `max` entries. */
function make(impl: string, max: number): Filled {
  const value = new Uint8Array(VALUE_LENGTH).fill(7);
  switch (impl) {
    case 'shoal': {
      const store = benchStore();
      return {
        add: (i) => addTo(store, i, value),
        check: (n) => {
          if (store.size !== n) throw new Error(`store kept ${store.size} of ${n}`);
        },
      };
    }
    case 'map': {
      // The naive layout: a Map of small objects, one Uint8Array per value.
      const map = new Map<string, { value: Uint8Array; expiresAtMs: number; partition: number }>();
      return { add: (i) => void map.set(benchKey(i), { value: value.slice(), expiresAtMs: 0, partition: i & 1023 }), check: () => {} };
    }
    case 'lru-cache': {
      const cache = new LRUCache<string, Uint8Array>({ max });
      return { add: (i) => void cache.set(benchKey(i), value.slice()), check: () => {} };
    }
    default:
      throw new Error(`unknown implementation "${impl}"; use shoal, map or lru-cache`);
  }
}

/** Fills a small structure of the kind and drops it: compiles the code the measured one runs. */
export function warmUp(impl: string): void {
  const structure = make(impl, WARM_UP_ENTRIES);
  for (let i = 0; i < WARM_UP_ENTRIES; i++) structure.add(WARM_UP_KEYS + i);
}

/** Bytes per entry of `impl` at each of `sizes` (ascending), filling one structure up through them. */
export function measure(impl: string, sizes: readonly number[]): { entries: number; bytesPerEntry: number }[] {
  warmUp(impl);
  const counts = impl === 'lru-cache' ? sizes.slice(-1) : sizes;
  const before = used();
  const structure = make(impl, counts[counts.length - 1]!);
  const out: { entries: number; bytesPerEntry: number }[] = [];
  let i = 0;
  for (const entries of counts) {
    for (; i < entries; i++) structure.add(i);
    structure.check(entries);
    out.push({ entries, bytesPerEntry: (used() - before) / entries });
  }
  return out;
}

if (process.argv[1]?.endsWith('/store/memory.ts')) {
  const { positionals } = benchCommandLine(
    'node --expose-gc --import tsx bench/store/memory.ts',
    {},
    [{ name: 'IMPLEMENTATION', description: `what to fill: ${IMPLEMENTATIONS.join(', ')} (default: shoal; one per process)`, optional: true, check: namesFrom(IMPLEMENTATIONS) }, SIZES_ARGUMENT],
  );
  const impl = positionals[0] ?? 'shoal';
  process.stdout.write(JSON.stringify({ impl, sizes: measure(impl, parseSizes(positionals[1])) }) + '\n');
}
