/**
 * Runs `shoal bench hitratio` over every trace and size of ../shared/traces/README.md's table and
 * checks the issue's targets for W-TinyLFU. Prints the table, a target check, and (with --json)
 * the rows as JSON lines.
 *
 *   node --import tsx bench/hitratio/all.ts [--json]
 */
import { existsSync } from 'node:fs';
import { formatHitRatioTable, hitRatios, loadTrace } from '../../src/cli/bench.ts';
import type { HitRatioRow } from '../../src/cli/bench.ts';
import { DEFAULT_STORE_SEED } from '../../src/store/store.ts';
import { REFERENCE_ROWS, requiredHitRatio, TRACES_DIR, tracePath } from './reference.ts';

const json = process.argv.includes('--json');
if (!existsSync(TRACES_DIR)) {
  process.stderr.write(`no traces at ${TRACES_DIR}; see ../shared/traces/README.md\n`);
  process.exit(2);
}
const rows: HitRatioRow[] = [];
for (const file of new Set(REFERENCE_ROWS.map((r) => r.file))) {
  const refs = REFERENCE_ROWS.filter((r) => r.file === file);
  const trace = loadTrace(tracePath(refs[0]!), refs[0]!.format);
  rows.push(...hitRatios(trace, refs[0]!.trace, refs.map((r) => r.size), ['wtinylfu', 'lru', 'lfu', 'opt'], 'mini-sim', DEFAULT_STORE_SEED));
}
let failures = 0;
const checks = REFERENCE_ROWS.map((ref) => {
  const got = rows.find((r) => r.trace === ref.trace && r.size === ref.size && r.policy === 'wtinylfu')!.hitRatio;
  const need = requiredHitRatio(ref);
  const ok = got >= need;
  if (!ok) failures++;
  const gapToBest = got - ref.bestOnline;
  return `${`${ref.trace} @ ${ref.size}`.padEnd(16)} wtinylfu ${got.toFixed(2).padStart(6)}  needs >= ${need.toFixed(2).padStart(6)}  ${ok ? 'met ' : 'MISS'}  vs best online ${ref.bestOnline.toFixed(1).padStart(5)}: ${gapToBest >= 0 ? '+' : ''}${gapToBest.toFixed(2)}`;
});
if (json) process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
process.stdout.write(formatHitRatioTable(rows));
process.stdout.write(`\ntargets (LRU - 1 point, and the issue's explicit floors)\n${checks.join('\n')}\n${failures === 0 ? 'all targets met' : `${failures} target(s) missed`}\n`);
process.exitCode = failures === 0 ? 0 : 1;
