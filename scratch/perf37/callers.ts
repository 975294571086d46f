/** perf37 scratch: self time of functions matching a name, by caller chain (depth N). */
import { readFileSync } from 'node:fs';
const [file, name, depthArg = '4'] = process.argv.slice(2);
const p = JSON.parse(readFileSync(file!, 'utf8'));
const byId = new Map<number, any>();
const parent = new Map<number, number>();
for (const n of p.nodes) { byId.set(n.id, n); for (const c of n.children ?? []) parent.set(c, n.id); }
const self = new Map<number, number>();
p.samples.forEach((s: number, i: number) => self.set(s, (self.get(s) ?? 0) + p.timeDeltas[i]));
const agg = new Map<string, number>();
const label = (n: any) => `${n.callFrame.functionName || '(anon)'}:${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
let total = 0;
for (const [id, us] of self) {
  // inclusive: any node whose ancestor chain includes name
  let cur: number | undefined = id; let hit: number | undefined;
  while (cur !== undefined) { if (byId.get(cur).callFrame.functionName === name) { hit = cur; } cur = parent.get(cur); }
  if (hit === undefined) continue;
  total += us;
  const chain: string[] = []; let c: number | undefined = hit;
  for (let d = 0; d < Number(depthArg) && c !== undefined; d++) { chain.push(label(byId.get(c))); c = parent.get(c); }
  agg.set(chain.join(' <- '), (agg.get(chain.join(' <- ')) ?? 0) + us);
}
console.log(`inclusive ${name}: ${(total / 1000).toFixed(0)} ms`);
for (const [k, v] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${(v / 1000).toFixed(0).padStart(7)}  ${k}`);
