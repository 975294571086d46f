// Heap snapshot diff: an empty store vs the same store filled to N entries (bytes per entry by node type:name).
import { writeHeapSnapshot } from 'node:v8';
import { readFileSync } from 'node:fs';
import { addTo, benchStore, used, VALUE_LENGTH, warmUp } from '../../bench/store/memory.ts';
const n = Number(process.argv[2] ?? 100000);
const value = new Uint8Array(VALUE_LENGTH).fill(7);
function agg(): Map<string, number> {
  (globalThis as any).gc(); (globalThis as any).gc();
  const file = writeHeapSnapshot('/tmp/mem37.heapsnapshot');
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const f = snap.snapshot.meta.node_fields as string[]; const types = snap.snapshot.meta.node_types[0] as string[];
  const nf = f.length, ti = f.indexOf('type'), ni = f.indexOf('name'), si = f.indexOf('self_size');
  const nodes = snap.nodes as number[]; const strings = snap.strings as string[];
  const m = new Map<string, number>();
  for (let i = 0; i < nodes.length; i += nf) {
    const t = types[nodes[i + ti]!]!; const name = t === 'string' || t === 'concatenated string' || t === 'code' ? '' : strings[nodes[i + ni]!]!.slice(0, 40);
    const k = `${t}:${name}`; m.set(k, (m.get(k) ?? 0) + nodes[i + si]!);
  }
  return m;
}
warmUp('shoal');
const u0 = used();
const store = benchStore(); (globalThis as any).keep = store;
const a = agg();
const u1 = used();
for (let i = 0; i < n; i++) addTo(store, i, value);
const u2 = used();
const b = agg();
console.log('used delta per entry', ((u2 - u0) / n).toFixed(2), 'empty store', u1 - u0);
const keys = new Set([...a.keys(), ...b.keys()]);
const d = [...keys].map((k) => [k, (b.get(k) ?? 0) - (a.get(k) ?? 0)] as const).filter(([, v]) => Math.abs(v) > 2000).sort((x, y) => y[1] - x[1]);
for (const [k, v] of d) console.log((v / n).toFixed(3).padStart(9), k);
