// The window tuner's typed arrays by field path (bytes), for a bench store.
import { benchStore } from '../../bench/store/memory.ts';
const store = benchStore() as unknown as { policy: { tuner: unknown } };
const out = new Map<string, number>();
const seen = new Set<object>();
function walk(o: unknown, path: string): void {
  if (o === null || typeof o !== 'object' || seen.has(o)) return;
  seen.add(o);
  if (ArrayBuffer.isView(o)) { const k = path.replace(/\[\d+\]/g, '[]'); out.set(k, (out.get(k) ?? 0) + o.byteLength); return; }
  if (Array.isArray(o)) { o.forEach((x, i) => walk(x, `${path}[${i}]`)); return; }
  if (o instanceof Map) return;
  for (const [k, v] of Object.entries(o)) walk(v, `${path}.${k}`);
}
walk(store.policy.tuner, 'tuner');
let total = 0;
for (const [k, v] of [...out].sort((a, b) => b[1] - a[1])) { total += v; console.log(String(v).padStart(8), k); }
console.log(String(total).padStart(8), 'total');
