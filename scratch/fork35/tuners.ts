/**
 * scratch/fork35/tuners.ts: how many window tuners a real store runs. Builds a Store as a node does
 * (src/node/create-node.ts: maxMemory, default 64 MiB), as bench:store's memory figure does (4 GiB,
 * 1M entries) and as the trace replay does (maxEntries), fills it with keys spread over 1,024
 * partitions, then walks the object graph from the store and counts the instances of each class.
 *   node --import tsx scratch/fork35/tuners.ts
 */
import { Store } from '../../src/store/store.ts';
import { DEFAULT_MAX_MEMORY } from '../../src/node/create-node.ts';

const clock = { wallMs: () => 0, monoMs: () => 0 };

/** Instances per constructor name reachable from `root` (own properties, arrays, Maps). */
function census(root: object): Map<string, number> {
  const seen = new Set<object>();
  const counts = new Map<string, number>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || seen.has(v) || ArrayBuffer.isView(v)) continue;
    seen.add(v);
    const name = (v as object).constructor?.name ?? 'Object';
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
    else for (const x of Object.values(v)) stack.push(x);
  }
  return counts;
}

function report(label: string, store: Store, entries: number): void {
  const value = new Uint8Array(100);
  for (let i = 0; i < entries; i++) store.set(`key:${i}`, value, { partition: i & 1023 });
  const c = census(store);
  const tuner = Object.values(store as object).find((x) => x?.constructor?.name === 'WTinyLfuPolicy')?.tuner;
  process.stdout.write(
    `${label}: ${store.size} entries; WTinyLfuPolicy ${c.get('WTinyLfuPolicy') ?? 0}, WindowTuner ${c.get('WindowTuner') ?? 0}, ` +
      `MiniCache ${c.get('MiniCache') ?? 0}, CountMinSketch ${c.get('CountMinSketch') ?? 0}; tuner samples 1 key in ${tuner?.samplingRate}\n`,
  );
}

report(`node store (maxMemory ${DEFAULT_MAX_MEMORY})`, new Store({ maxMemory: DEFAULT_MAX_MEMORY, clock }), 100_000);
report('bench:store memory (maxMemory 4 GiB)', new Store({ maxMemory: 4 * 1024 ** 3, clock, hotKeys: false }), 1_000_000);
report('replay (maxEntries 100000)', new Store({ maxEntries: 100_000, clock }), 150_000);
