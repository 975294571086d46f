/**
 * Where a store get-hit spends its time: a V8 tick profile of the benchmark's get-hit loop (100k
 * entries, 16-byte keys, 100-byte values, default options, random order), without TurboFan
 * inlining so each step keeps its own name in the profile. Inlining is off, so the absolute time is
 * higher than bench/store/run.ts's; the shares say which steps to work on.
 *
 *   node --prof --no-turbo-inlining --import tsx bench/store/profile-get.ts
 *   node --prof-process isolate-*.log | head -40      # the largest isolate log is the main thread
 */
import { Store } from '../../src/store/store.ts';
import { benchKey, VALUE_LENGTH } from './memory.ts';

const ENTRIES = 100_000;
const OPS = 4_000_000;
const clock = { wallMs: () => 0, monoMs: () => 0 };
const keys = Array.from({ length: ENTRIES }, (_, i) => benchKey(i));
const value = new Uint8Array(VALUE_LENGTH).fill(3);
const store = new Store({ maxMemory: 256 * 1024 * 1024, clock });
for (const key of keys) store.set(key, value, { partition: 0 });
// The same xorshift order as run.ts, drawn as it goes (4M indices would not fit the point).
let x = 0x9e3779b9;
let sink = 0;
for (let i = 0; i < OPS; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  const got = store.get(keys[(x >>> 0) % ENTRIES]!)!;
  sink += got.length + got[got.length - 1]!;
}
console.log(`sink ${sink}`);
