/**
 * `npm run fuzz [-- --count N] [--seed S] [--only NAME,...] [--json FILE]`: every decoder of the
 * wire fuzzed with generated and mutated inputs (fuzz/README.md). Exits 1 on any finding.
 */
import { writeFileSync } from 'node:fs';
import { formatTable, runFuzz } from './engine.ts';
import { TARGETS } from './targets.ts';
import { exitOnHelp } from '../bench/help.ts';

exitOnHelp('npm run fuzz -- [--count N] [--seed S] [--only NAME,...] [--json FILE]');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const count = Number(arg('count') ?? 1_000_000);
const seed = Number(arg('seed') ?? 20261203);
const only = arg('only')?.split(',');
const jsonFile = arg('json');
if (!Number.isSafeInteger(count) || count < 1) throw new Error(`--count must be a positive integer, got ${arg('count')}`);
const targets = only === undefined ? TARGETS : TARGETS.filter((t) => only.includes(t.name));
if (targets.length === 0) throw new Error(`--only matched no decoder; decoders: ${TARGETS.map((t) => t.name).join(', ')}`);
if ((globalThis as { gc?: unknown }).gc === undefined) console.error('note: run with node --expose-gc for the retained-heap check (npm run fuzz does)');

console.error(`fuzzing ${targets.length} decoders, ${count} inputs each, seed ${seed}`);
const result = runFuzz(targets, {
  count,
  seed,
  onProgress: (target, done) => {
    if (done % 100_000 === 0 || done === count) console.error(`  ${target}: ${done}/${count}`);
  },
});
console.log(formatTable(result));
for (const f of result.findings) console.log(`\n${f.kind} in ${f.target}: ${f.message}\n  input (hex): ${f.inputHex}`);
const json = JSON.stringify(result, null, 2);
console.log(json);
if (jsonFile !== undefined) writeFileSync(jsonFile, json + '\n');
process.exitCode = result.findings.length === 0 ? 0 : 1;
