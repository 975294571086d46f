// Which objects hold the largest unnamed arrays of a store filled to N (argv[2]): retainer edges of each.
import { writeHeapSnapshot } from 'node:v8';
import { readFileSync } from 'node:fs';
import { addTo, benchStore, VALUE_LENGTH, warmUp } from '../../bench/store/memory.ts';
const n = Number(process.argv[2] ?? 100000);
const value = new Uint8Array(VALUE_LENGTH).fill(7);
warmUp('shoal');
const store = benchStore(); (globalThis as any).keep = store;
for (let i = 0; i < n; i++) addTo(store, i, value);
(globalThis as any).gc();
const snap = JSON.parse(readFileSync(writeHeapSnapshot('/tmp/mem37b.heapsnapshot'), 'utf8'));
const f = snap.snapshot.meta.node_fields as string[]; const types = snap.snapshot.meta.node_types[0] as string[];
const ef = snap.snapshot.meta.edge_fields as string[]; const etypes = snap.snapshot.meta.edge_types[0] as string[];
const nf = f.length, ti = f.indexOf('type'), ni = f.indexOf('name'), si = f.indexOf('self_size'), eci = f.indexOf('edge_count');
const nodes = snap.nodes as number[]; const edges = snap.edges as number[]; const S = snap.strings as string[];
const retainers = new Map<number, string[]>();
let e = 0;
for (let i = 0; i < nodes.length; i += nf) {
  const from = `${types[nodes[i + ti]!]}:${S[nodes[i + ni]!]!.slice(0, 30)}`;
  for (let k = 0; k < nodes[i + eci]!; k++, e += ef.length) {
    const to = edges[e + 2]!; const et = etypes[edges[e]!]!; const name = et === 'element' || et === 'hidden' ? String(edges[e + 1]) : S[edges[e + 1]!];
    if (nodes[to + si]! > 20000) { const r = retainers.get(to) ?? []; r.push(`${from}.${name}`); retainers.set(to, r); }
  }
}
for (const [to, r] of [...retainers].sort((a, b) => nodes[b[0] + si]! - nodes[a[0] + si]!).slice(0, 20)) console.log(nodes[to + si], `${types[nodes[to + ti]!]}:${S[nodes[to + ni]!]!.slice(0, 30)}`, r.slice(0, 3).join(' | '));
