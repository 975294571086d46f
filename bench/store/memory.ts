/**
 * Memory per entry at 1M entries (16-byte keys, 100-byte values), measured, not estimated:
 *
 *   node --expose-gc --import tsx bench/store/memory.ts shoal|map|lru-cache   (one implementation per process)
 *
 * Prints one JSON line: {impl, entries, bytesPerEntry}. The heap and array-buffer growth between
 * an empty and a filled structure, each after a full GC, divided by the entry count. The keys are
 * counted (the structure keeps them alive); the one reused source value is not.
 */
import { LRUCache } from 'lru-cache';
import { Store } from '../../src/store/store.ts';

export const ENTRIES = 1_000_000;
export const KEY_LENGTH = 16;
export const VALUE_LENGTH = 100;

/**
 * The i-th key, as a flat string: the node's keys are decoded from bytes off the wire (RESP
 * arguments, replication records), never built by concatenation. A concatenation of 13 or more
 * characters is a V8 cons string, which a Map keeps beside its flattened copy: about 36 bytes more
 * per key, which would be measured in every structure here and in none of a node's.
 */
export function benchKey(i: number): string {
  return Buffer.from(`key:${String(i).padStart(KEY_LENGTH - 4, '0')}`, 'latin1').toString('latin1');
}

function used(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

const clock = { wallMs: () => 0, monoMs: () => 0 };

function fill(impl: string): { keep: unknown; stats?: unknown } {
  const value = new Uint8Array(VALUE_LENGTH).fill(7);
  switch (impl) {
    case 'shoal': {
      const store = new Store({ maxMemory: 4 * 1024 ** 3, clock, hotKeys: false });
      for (let i = 0; i < ENTRIES; i++) store.set(benchKey(i), value, { partition: i & 1023 });
      if (store.size !== ENTRIES) throw new Error(`store kept ${store.size} of ${ENTRIES}`);
      return { keep: store, stats: { accountedBytesPerEntry: store.usedBytes / ENTRIES } };
    }
    case 'map': {
      // The naive layout: a Map of small objects, one Uint8Array per value.
      const map = new Map<string, { value: Uint8Array; expiresAtMs: number; partition: number }>();
      for (let i = 0; i < ENTRIES; i++) map.set(benchKey(i), { value: value.slice(), expiresAtMs: 0, partition: i & 1023 });
      return { keep: map };
    }
    case 'lru-cache': {
      const cache = new LRUCache<string, Uint8Array>({ max: ENTRIES });
      for (let i = 0; i < ENTRIES; i++) cache.set(benchKey(i), value.slice());
      return { keep: cache };
    }
    default:
      throw new Error(`unknown implementation "${impl}"; use shoal, map or lru-cache`);
  }
}

if (process.argv[1]?.endsWith('/store/memory.ts')) {
  const impl = process.argv[2] ?? 'shoal';
  const before = used();
  const filled = fill(impl);
  const after = used();
  process.stdout.write(JSON.stringify({ impl, entries: ENTRIES, bytesPerEntry: (after - before) / ENTRIES, ...(filled.stats ?? {}) }) + '\n');
  if (filled.keep === undefined) process.exitCode = 1;
}
