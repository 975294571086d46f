/**
 * Where the store's bytes per entry go, at several entry counts (16-byte keys, 100-byte values, as
 * memory.ts fills it):
 *
 *   node --expose-gc --import tsx bench/store/memory-breakdown.ts [N,N,...]
 *
 * For each count: the measured total (memory.ts's method) and, per field of the store (and of its
 * eviction policy), the bytes of the typed arrays it holds, each buffer counted once; the store's
 * slot capacity and the sketch's entry count, the sizes those tables double through; the key
 * strings (32 bytes each: V8's 16-byte header and 16 one-byte characters); and the rest, the heap
 * objects no typed array holds: the keys array (a JS array of pointers, grown by half each time)
 * and fixed objects such as the partitions' counters. A table of bytes per entry.
 */
import type { Store } from '../../src/store/store.ts';
import { benchCommandLine } from '../help.ts';
import { addTo, benchStore, parseSizes, SIZES_ARGUMENT, used, VALUE_LENGTH, warmUp } from './memory.ts';

/** V8's one-byte string: map, hash and length, then the 16 characters. */
const KEY_STRING_BYTES = 32;

/** Adds to `buffers` every ArrayBuffer reachable from `o` through objects and arrays (not Maps), skipping objects in `seen`. */
function collectBuffers(o: unknown, seen: Set<object>, buffers: Set<ArrayBufferLike>): void {
  if (o === null || typeof o !== 'object' || seen.has(o)) return;
  seen.add(o);
  if (ArrayBuffer.isView(o)) buffers.add(o.buffer);
  else if (o instanceof ArrayBuffer) buffers.add(o);
  else if (Array.isArray(o)) {
    // Arrays of pages or of small objects; the keys array holds strings only.
    for (const x of o as unknown[]) if (typeof x === 'object') collectBuffers(x, seen, buffers);
  } else if (!(o instanceof Map)) for (const v of Object.values(o)) collectBuffers(v, seen, buffers);
}

/** Typed-array bytes per named part: the store's fields, the policy's split out; each buffer counted once, under the first part that reaches it. */
function parts(store: Store): Map<string, number> {
  const seen = new Set<object>();
  const counted = new Set<ArrayBufferLike>();
  const out = new Map<string, number>();
  const add = (name: string, o: unknown): void => {
    const buffers = new Set<ArrayBufferLike>();
    collectBuffers(o, seen, buffers);
    let bytes = 0;
    for (const b of buffers) if (!counted.has(b)) bytes += (counted.add(b), b.byteLength);
    if (bytes > 0) out.set(name, (out.get(name) ?? 0) + bytes);
  };
  const fields = Object.entries(store as unknown as Record<string, unknown>);
  // The rows first: the policy's lists and byte live in them.
  for (const [name, v] of fields) if (name === 'rows') add(name, v);
  for (const [name, v] of fields) {
    if (name !== 'policy') add(name, v);
    else for (const [sub, w] of Object.entries(v as Record<string, unknown>)) add(`policy.${sub}`, w);
  }
  return out;
}

const { positionals } = benchCommandLine('node --expose-gc --import tsx bench/store/memory-breakdown.ts', {}, [SIZES_ARGUMENT]);
const sizes = parseSizes(positionals[0]);
const value = new Uint8Array(VALUE_LENGTH).fill(7);
warmUp('shoal');
const before = used();
const store = benchStore();
const columns: { entries: number; total: number; slots: number; sketchEntries: number; parts: Map<string, number> }[] = [];
let i = 0;
for (const entries of sizes) {
  for (; i < entries; i++) addTo(store, i, value);
  // Measured before the walk: the walk's own Sets are garbage after it.
  const total = used() - before;
  const internals = store as unknown as { policy: { sketchEntries: number } };
  columns.push({ entries, total, slots: store.slotCapacity, sketchEntries: internals.policy.sketchEntries, parts: parts(store) });
}
const names = [...new Set(columns.flatMap((c) => [...c.parts.keys()]))];
const row = (label: string, of: (c: (typeof columns)[number]) => string): string => `${label.padEnd(22)}${columns.map((c) => ` ${of(c).padStart(9)}`).join('')}`;
const lines = ['bytes per entry by part (typed arrays held by each field of the store, and of its policy)'];
lines.push(row('entries', (c) => String(c.entries)), row('slot capacity', (c) => String(c.slots)), row('sketch entries', (c) => String(c.sketchEntries)));
const perEntry = (label: string, bytes: (c: (typeof columns)[number]) => number): string => row(label, (c) => (bytes(c) / c.entries).toFixed(1));
for (const name of names) lines.push(perEntry(name, (c) => c.parts.get(name) ?? 0));
lines.push(perEntry('key strings', (c) => KEY_STRING_BYTES * c.entries));
lines.push(perEntry('rest (keys array...)', (c) => c.total - KEY_STRING_BYTES * c.entries - [...c.parts.values()].reduce((a, b) => a + b, 0)));
lines.push(perEntry('total (measured)', (c) => c.total));
process.stdout.write(lines.join('\n') + '\n');
