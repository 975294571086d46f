/**
 * scratch/warm36/warm-cost.ts: the warm-up's cost at the first eviction of a store sized by bytes
 * (entries of 256 bytes, C of them, then one more): the time `warmTuner` takes (median of 5 stores), against
 * the time of the whole fill of C + 1 writes.
 *   node --import tsx scratch/warm36/warm-cost.ts --sizes 100000,200000,1000000
 */
import { Store } from '../../src/store/store.ts';

const i = process.argv.indexOf('--sizes');
const sizes = (i === -1 ? '100000,200000' : process.argv[i + 1]!).split(',').map(Number);
const clock = { wallMs: () => 0, monoMs: () => 0 };
const keyOf = (k: number): string => `key:${String(k).padStart(9, '0')}`;
/** A value that makes the entry cost 256 bytes, as scratch/tuner35/store-replay.ts pads them. */
const probe = new Store({ maxEntries: 10, clock, hotKeys: false, analytics: false });
probe.set(keyOf(0), new Uint8Array(8), { partition: 0 });
const value = new Uint8Array(8 + 256 - probe.usedBytes);

for (const C of sizes) {
  const warmMs: number[] = [];
  const fillMs: number[] = [];
  for (let run = 0; run < 5; run++) {
    const store = new Store({ maxMemory: C * 256, clock, hotKeys: false, analytics: false });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const policy = (store as any).policy;
    const warm = policy.warmTuner.bind(policy);
    policy.warmTuner = (tuner: unknown): void => {
      const start = performance.now();
      warm(tuner);
      warmMs.push(performance.now() - start);
    };
    const start = performance.now();
    for (let k = 0; k <= C; k++) store.set(keyOf(k), value, { partition: 0 });
    fillMs.push(performance.now() - start);
  }
  const median = (xs: number[]): string => xs.sort((a, b) => a - b)[2]!.toFixed(1);
  process.stdout.write(`C ${C}: warm-up ${median(warmMs)} ms, fill ${median(fillMs)} ms\n`);
}
