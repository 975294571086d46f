/**
 * scratch/warm36/moves.ts: the window's moves through the real Store sized by bytes (256-byte entries,
 * as scratch/tuner35/store-replay.ts). Prints each change of the tuner's fraction with the request's
 * index, the first eviction's, and the hit ratio per tenth of the trace.
 *   node --import tsx scratch/warm36/moves.ts --trace P6 --size 150000 [--mode right] [--seed N]
 * `--mode right`: the tuner built for C from the start, as a store sized by entries builds it (the
 * diagnostic; it sets the policy's private tuner). At c5a16d8 (warm36's warm-up, not landed) the
 * default `--mode warm` warms the rebuilt tuner and `--mode empty` stubs the warm-up out, as main.
 */
import { loadTrace } from '../../src/cli/bench.ts';
import { Store } from '../../src/store/store.ts';
import { WindowTuner } from '../../src/store/window-tuner.ts';
import { BENCH_TRACES, tracePath } from '../../bench/hitratio/reference.ts';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}
const t = BENCH_TRACES.find((x) => x.trace === (flag('trace') ?? 'P6'))!;
const C = Number(flag('size') ?? 100000);
const mode = flag('mode') ?? 'warm';
const trace = loadTrace(tracePath(t), t.format);
const clock = { wallMs: () => 0, monoMs: () => 0 };
const keys = Array.from({ length: trace.uniqueKeys }, (_, id) => String(id));
const ENTRY_BYTES = 256;
function entryCost(key: string): number {
  const probe = new Store({ maxEntries: 10, clock, hotKeys: false, analytics: false });
  probe.set(key, new Uint8Array(8), { partition: 0 });
  return probe.usedBytes;
}
const valueFor = new Map<number, Uint8Array>();
for (const key of keys) if (!valueFor.has(key.length)) valueFor.set(key.length, new Uint8Array(8 + ENTRY_BYTES - entryCost(key)));

const seed = flag('seed');
const store = new Store({ maxMemory: C * ENTRY_BYTES, clock, hotKeys: false, analytics: false, ...(seed === undefined ? {} : { seed: Number(seed) }) });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const policy = (store as any).policy;
if (mode === 'right') {
  policy.tuner = new WindowTuner({ expectedEntries: C, random: policy.random });
  policy.tunerEntries = C;
}
if (mode === 'empty') policy.warmTuner = (): void => {};
let hits = 0;
let tenthHits = 0;
let last = policy.tuner.fraction;
let lastTuner = policy.tuner;
const tenth = Math.ceil(trace.ids.length / 10);
const tenths: string[] = [];
for (let i = 0; i < trace.ids.length; i++) {
  const key = keys[trace.ids[i]!]!;
  if (store.getView(key, 0) !== undefined) {
    hits++;
    tenthHits++;
  } else store.set(key, valueFor.get(key.length)!, { partition: 0 });
  if (policy.tuner !== lastTuner) {
    process.stdout.write(`${i}: first eviction, tuner rebuilt (was ${lastTuner.decisions} decisions, at ${last})\n`);
    lastTuner = policy.tuner;
  }
  if (policy.tuner.fraction !== last) {
    last = policy.tuner.fraction;
    process.stdout.write(`${i}: ${last} (decisions ${policy.tuner.decisions})\n`);
  }
  if ((i + 1) % tenth === 0) {
    tenths.push((100 * tenthHits / tenth).toFixed(1));
    tenthHits = 0;
  }
}
process.stdout.write(`${t.trace} @ ${C} ${mode}: ${((100 * hits) / trace.ids.length).toFixed(2)}; by tenths ${tenths.join(' ')}\n`);
