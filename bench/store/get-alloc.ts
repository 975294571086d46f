/**
 * Bytes a get allocates, for keys whose row hash (`unitHashString`) is below 2^31 or at or above
 * it: a hash of the second kind is not a small integer, and V8 boxes it into a heap number
 * wherever it crosses a call that is not inlined (docs/research/store-speed.md, "Issue 19, sixth pass"). Counts
 * scavenges over 20M gets on a 1,000-entry store; with a fixed new space each scavenge follows
 * 16 MiB of allocation, so scavenges x 16 MiB / gets approximates bytes per get. Run it as:
 *
 *   node --expose-gc --min-semi-space-size=16 --max-semi-space-size=16 --import tsx bench/store/get-alloc.ts low|high [--view]
 */
import { PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { unitHashString } from '../../src/protocol/hash.ts';
import { Store } from '../../src/store/store.ts';
import { benchCommandLine } from '../help.ts';
import { benchKey, VALUE_LENGTH } from './memory.ts';

const { flags, positionals } = benchCommandLine(
  'node --expose-gc --min-semi-space-size=16 --max-semi-space-size=16 --import tsx bench/store/get-alloc.ts',
  { view: { kind: 'boolean', description: 'get through getView, not get' } },
  [{ name: 'low|high', description: 'keys whose row hash is below 2^31 (low) or at or above it (high)', check: (t) => (t === 'low' || t === 'high' ? undefined : `is low or high, not "${t}"`) }],
);
const high = positionals[0] === 'high';
const view = flags.view === true;
const ENTRIES = 1000;
const GETS = 20_000_000;
const SEMI_SPACE_BYTES = 16 * 2 ** 20;
/** PerformanceEntry detail.kind of a scavenge (perf_hooks.constants.NODE_PERFORMANCE_GC_MINOR). */
const MINOR_GC = 1;

const keys: string[] = [];
for (let i = 0; keys.length < ENTRIES; i++) {
  const key = benchKey(i);
  if (unitHashString(key) >= 2 ** 31 === high) keys.push(key);
}
const store = new Store({ maxMemory: 256 * 1024 * 1024, clock: { wallMs: () => 0, monoMs: () => 0 } });
const value = new Uint8Array(VALUE_LENGTH).fill(3);
for (const k of keys) store.set(k, value, { partition: 0 });
let sink = 0;
function run(n: number): void {
  for (let i = 0; i < n; i++) sink += (view ? store.getView(keys[i % ENTRIES]!) : store.get(keys[i % ENTRIES]!))!.length;
}
run(2_000_000);
(globalThis as { gc?: () => void }).gc?.();
let scavenges = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) if (entry.detail?.kind === MINOR_GC) scavenges++;
});
observer.observe({ entryTypes: ['gc'] });
run(GETS);
await new Promise((resolve) => setTimeout(resolve, 10));
observer.disconnect();
const perGet = (scavenges * SEMI_SPACE_BYTES) / GETS;
console.log(`${high ? 'hashes >= 2^31' : 'hashes < 2^31'}, ${view ? 'getView' : 'get'}: ${scavenges} scavenges over ${GETS} gets, ~${perGet.toFixed(1)} B per get (sink ${sink})`);
