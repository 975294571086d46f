/**
 * perf37 scratch: self time per function over several profiles (idle left out), in % of busy;
 * BY=file sums it by source file instead. TOP=N rows (default 60).
 */
import { readFileSync } from 'node:fs';
const files = process.argv.slice(2);
const agg = new Map<string, number>(); let busy = 0;
for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map<number, any>(); for (const n of p.nodes) byId.set(n.id, n);
  p.samples.forEach((s: number, i: number) => {
    const cf = byId.get(s).callFrame; if (cf.functionName === '(idle)') return;
    const us = p.timeDeltas[i]; busy += us;
    const file = cf.url.replace(/^.*\/(dist|node_modules)\//, '');
    const k = process.env.BY === 'file' ? file || cf.functionName : `${cf.functionName} ${file}:${cf.lineNumber + 1}`;
    agg.set(k, (agg.get(k) ?? 0) + us);
  });
}
console.log(`busy ${(busy / 1000).toFixed(0)} ms`);
for (const [k, v] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 60))) console.log(`${(100 * v / busy).toFixed(2).padStart(6)}%  ${k}`);
