/** perf37 scratch: line-level self ticks (positionTicks) of one function over several profiles. */
import { readFileSync } from 'node:fs';
const [name, ...files] = process.argv.slice(2);
const lines = new Map<string, number>();
for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  for (const n of p.nodes) {
    const cf = n.callFrame; if (`${cf.functionName} ${cf.url.split('/').slice(-2).join('/')}` !== name) continue;
    for (const t of n.positionTicks ?? []) lines.set(`${cf.url.split('/').slice(-2).join('/')}:${t.line}`, (lines.get(`${cf.url.split('/').slice(-2).join('/')}:${t.line}`) ?? 0) + t.ticks);
  }
}
for (const [k, v] of [...lines].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${String(v).padStart(6)}  ${k}`);
