/** perf37 scratch: inclusive time per function (counted once per sample), top N. */
import { readFileSync } from 'node:fs';
const [file, topArg = '60'] = process.argv.slice(2);
const p = JSON.parse(readFileSync(file!, 'utf8'));
const byId = new Map<number, any>(); const parent = new Map<number, number>();
for (const n of p.nodes) { byId.set(n.id, n); for (const c of n.children ?? []) parent.set(c, n.id); }
const label = (n: any) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
const incl = new Map<string, number>(); let busy = 0;
p.samples.forEach((s: number, i: number) => {
  const us = p.timeDeltas[i]; const f = byId.get(s).callFrame.functionName;
  if (f === '(idle)') return; busy += us;
  const seen = new Set<string>(); let c: number | undefined = s;
  while (c !== undefined) { const l = label(byId.get(c)); if (!seen.has(l)) { seen.add(l); incl.set(l, (incl.get(l) ?? 0) + us); } c = parent.get(c); }
});
console.log(`busy ${(busy / 1000).toFixed(0)} ms`);
for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) console.log(`${(v / 1000).toFixed(0).padStart(6)} ${(100 * v / busy).toFixed(1).padStart(5)}%  ${k}`);
