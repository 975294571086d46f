/**
 * scratch/tuner35/store-replay.ts: a trace through the real `Store` (get, and set on a miss), sized two
 * ways: by entries (`maxEntries` C, as replay and bench:hitratio size the policy: its sketch and tuner
 * from C) and by bytes (`maxMemory` = C x one entry's cost, as a node sizes it: the policy's expected
 * entries are then min(65,536, budget / 256)). Keys are String(id), as replay's (so the maxEntries
 * store makes bench:hitratio's decisions), and each value is padded so that its entry costs 256
 * bytes: the budget holds C entries and its expected entries are C up to the cap, so the two sizings
 * differ only where C is over 65,536.
 *   node --import tsx scratch/tuner35/store-replay.ts --trace P6 --sizes 100000,150000 [--entry-bytes 256] [--bytes-only]
 * (tuner35: fork35's tool with the entry's cost as a flag, so that the budget's guess of an entry per 256
 * bytes can be wrong, and --bytes-only to skip the entry-sized store, whose figures are the table's.)
 */
import { loadTrace } from '../../src/cli/bench.ts';
import { Store } from '../../src/store/store.ts';
import { BENCH_TRACES, tracePath } from '../../bench/hitratio/reference.ts';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}
const t = BENCH_TRACES.find((x) => x.trace === (flag('trace') ?? 'P6'))!;
const sizes = (flag('sizes') ?? '100000').split(',').map(Number);
const bytesOnly = process.argv.includes('--bytes-only');
const trace = loadTrace(tracePath(t), t.format);
const clock = { wallMs: () => 0, monoMs: () => 0 };
const keys = Array.from({ length: trace.uniqueKeys }, (_, id) => String(id));
const ENTRY_BYTES = Number(flag('entry-bytes') ?? 256);

/** What the store charges for one entry of this key with an 8-byte value. */
function entryCost(key: string): number {
  const probe = new Store({ maxEntries: 10, clock, hotKeys: false, analytics: false });
  probe.set(key, new Uint8Array(8), { partition: 0 });
  return probe.usedBytes;
}
/** One value per key length, padded so that the entry costs ENTRY_BYTES. */
const valueFor = new Map<number, Uint8Array>();
for (const key of keys) if (!valueFor.has(key.length)) valueFor.set(key.length, new Uint8Array(8 + ENTRY_BYTES - entryCost(key)));

function hitRatio(store: Store): { ratio: number; held: number } {
  let hits = 0;
  for (let i = 0; i < trace.ids.length; i++) {
    const key = keys[trace.ids[i]!]!;
    if (store.getView(key, 0) !== undefined) hits++;
    else store.set(key, valueFor.get(key.length)!, { partition: 0 });
  }
  return { ratio: (100 * hits) / trace.ids.length, held: store.size };
}

for (const C of sizes) {
  for (const [label, store] of [
    ...(bytesOnly ? [] : [['maxEntries', new Store({ maxEntries: C, clock, hotKeys: false, analytics: false })]] as const),
    [`maxMemory ${C * ENTRY_BYTES}`, new Store({ maxMemory: C * ENTRY_BYTES, clock, hotKeys: false, analytics: false })],
  ] as const) {
    const { ratio, held } = hitRatio(store);
    process.stdout.write(`${t.trace} @ ${C} (${label}, ${ENTRY_BYTES} B an entry): ${ratio.toFixed(2)}, ${held} held at the end\n`);
  }
}
