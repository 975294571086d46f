/**
 * `npm run fuzz [-- --count N] [--seed S] [--only NAME,...] [--json FILE]`: every decoder of the
 * wire fuzzed with generated and mutated inputs (fuzz/README.md). Exits 1 on any finding.
 */
import { writeFileSync } from 'node:fs';
import { formatTable, runFuzz } from './engine.ts';
import { TARGETS } from './targets.ts';
import { benchArgs, namesFrom, positive } from '../bench/help.ts';

const flags = benchArgs('npm run fuzz --', {
  count: { kind: 'integer', value: 'N', description: 'inputs per decoder', default: 1_000_000, check: positive },
  seed: { kind: 'number', value: 'S', description: 'seed of the generated inputs', default: 20261203 },
  only: { kind: 'string', value: 'NAME,...', description: 'comma-separated decoders to fuzz. Default: all', check: namesFrom(TARGETS.map((t) => t.name)) },
  json: { kind: 'string', value: 'FILE', description: 'also write the result as JSON to FILE' },
});
const count = Number(flags.count);
const seed = Number(flags.seed);
const only = (flags.only as string | undefined)?.split(',');
const jsonFile = flags.json as string | undefined;
const targets = only === undefined ? TARGETS : TARGETS.filter((t) => only.includes(t.name));
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
