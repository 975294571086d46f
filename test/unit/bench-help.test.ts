// Every benchmark script that package.json runs answers --help with its usage and refuses an option
// it does not know, measuring nothing either way (docs38: `npm run bench:store -- --help` ran the
// whole benchmark, for minutes; opts39: so did a typo, `npm run bench:store -- --sizez 1000`).
// They all read their command line through bench/help.ts's benchArgs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { assertRefused, ROOT, runScript } from './bench-scripts.ts';

const scripts = (JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The TypeScript file each bench* and fuzz script runs. */
function benchEntries(): [string, string][] {
  return Object.entries(scripts)
    .filter(([name]) => name === 'fuzz' || name === 'bench' || name.startsWith('bench:'))
    .map(([name, command]) => {
      const file = /node (?:--[\w-]+ )*--import tsx ((?:bench|fuzz)\/\S+\.ts)$/.exec(command)?.[1];
      assert.ok(file, `npm run ${name}: no bench or fuzz file in "${command}"`);
      return [name, file];
    });
}

test('every bench script reads its options through bench/help.ts benchArgs', () => {
  const entries = benchEntries();
  assert.ok(entries.length >= 13, `${entries.length} bench scripts found`);
  for (const [name, file] of entries) {
    const source = readFileSync(new URL(file, ROOT), 'utf8');
    assert.match(source, /benchArgs\(/, `npm run ${name} (${file}) does not check its options`);
  }
});

test('npm run bench:ring -- --help prints its usage and options and exits 0 without measuring', () => {
  const r = runScript('bench/ring/index.ts', '--help');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: npm run bench:ring -- \[--zones Z\] /);
  assert.match(r.stdout, /\n {2}--seeds +seeds per cluster size/);
  assert.doesNotMatch(r.stdout, /balance|max\/mean/i, 'nothing measured');
});

for (const [file, usage, bogus] of [
  ['bench/store/run.ts', 'npm run bench:store -- [--json]', ['--sizez', '1000']],
  ['fuzz/run.ts', 'npm run fuzz -- [--count N]', ['--cont', '5']],
  ['bench/metrics/index.ts', 'npm run bench:metrics -- [--keys 1000000]', ['--key', '10']],
] as const) {
  test(`${file} ${bogus.join(' ')}: names the unknown option, prints the usage and exits 2 without measuring`, () => {
    assertRefused(file, bogus, new RegExp(`^unknown option ${bogus[0]}; known options: --`), usage);
  });
}
