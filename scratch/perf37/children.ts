import { readFileSync } from 'node:fs';
const [file, name, topArg = '25'] = process.argv.slice(2);
const p = JSON.parse(readFileSync(file!, 'utf8'));
const byId = new Map<number, any>(); const parent = new Map<number, number>();
for (const n of p.nodes) { byId.set(n.id, n); for (const c of n.children ?? []) parent.set(c, n.id); }
const label = (n: any) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
// for samples under `name`, attribute to the direct child of the topmost `name` frame
const agg = new Map<string, number>(); let total = 0;
p.samples.forEach((s: number, i: number) => {
  const us = p.timeDeltas[i]; let c: number | undefined = s; let child: number | undefined; let below: number | undefined; let found = false;
  while (c !== undefined) { if (label(byId.get(c)) === name || byId.get(c).callFrame.functionName === name) { found = true; child = below; } below = c; c = parent.get(c); }
  if (!found) return; total += us;
  const k = child === undefined ? '(self)' : label(byId.get(child)); agg.set(k, (agg.get(k) ?? 0) + us);
});
console.log(`${name}: ${(total/1000).toFixed(0)} ms`);
for (const [k, v] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) console.log(`${(v / 1000).toFixed(0).padStart(6)}  ${k}`);
