// The bench scripts run by hand (`node --import tsx bench/health/predictor.ts`, not from
// package.json) read their command line through bench/help.ts too (dev40; opts39 did those
// package.json runs): an unknown option, a stray or missing argument, or a bad value prints the
// error and the usage line and exits 2, measuring nothing. Before, most ignored a typo and ran the
// default measure, and the rest threw (exit 1, a stack trace). So do bench:cli's and fuzz's counts,
// which exited 1.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertRefused, ROOT, runScript } from './bench-scripts.ts';

function tsFiles(dir: string): string[] {
  return readdirSync(new URL(dir, ROOT), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

test('every bench or fuzz file that reads its command line reads it through bench/help.ts', () => {
  const readers = [...tsFiles('bench'), ...tsFiles('fuzz')].filter((file) => file !== join('bench', 'help.ts'));
  const unchecked = readers.filter((file) => {
    const source = readFileSync(new URL(file, ROOT), 'utf8');
    // process.argv[1] only says whether the file is the one run; anything else is its command line.
    const readsArgs = /process\.argv(?!\[1\])/.test(source) || /import \{[^}]*\bparseArgs\b[^}]*\} from 'node:util'/.test(source);
    return readsArgs && !/bench(?:Args|CommandLine)\(/.test(source);
  });
  assert.deepEqual(unchecked, [], 'these read process.argv themselves');
});

for (const [file, args, message, usage] of [
  ['bench/health/predictor.ts', ['--heldut', '61..70'], /^unknown option --heldut; known options: --train, /, 'node --import tsx bench/health/predictor.ts [--train 1..60]'],
  ['bench/health/auto-drain.ts', ['--seeds', '61-100'], /^--seeds takes seeds as 61\.\.100 or 64,68, not "61-100"$/, 'node --import tsx bench/health/auto-drain.ts [--seeds 61..100]'],
  ['bench/resp/open-loop.ts', ['--rate', '0'], /^--rate must be above 0, not 0$/, 'node --import tsx bench/resp/open-loop.ts [--port '],
  ['bench/resp/rmw-hot.ts', ['--no-redis', 'extra'], /^unexpected argument "extra"$/, 'node --import tsx bench/resp/rmw-hot.ts [--'],
  ['bench/store/ab.ts', [], /^OTHER_CHECKOUT\/src\/store\/store\.ts is missing: /, 'node --import tsx bench/store/ab.ts OTHER_CHECKOUT/src/store/store.ts [--'],
  ['bench/store/memory.ts', ['lru'], /^IMPLEMENTATION names "lru", which is none of shoal, map, lru-cache$/, 'node --expose-gc --import tsx bench/store/memory.ts [IMPLEMENTATION] [SIZES]'],
  ['bench/resp/profile-summary.ts', ['--top', 'ten'], /^--top takes a whole number, not "ten"$/, 'node --import tsx bench/resp/profile-summary.ts FILE.cpuprofile [--top 20]'],
  ['bench/cli/index.ts', ['--runs', '0'], /^--runs must be above 0, not 0$/, 'npm run bench:cli -- '],
  ['fuzz/run.ts', ['--count', '0'], /^--count must be above 0, not 0$/, 'npm run fuzz -- [--count N]'],
  // Checks of two options together, and lists that name nothing, exited 1 (a thrown Error, or a line without the usage).
  ['bench/health/predictor.ts', ['--train', '1..10', '--heldout', '8..20'], /^--train and --heldout share seeds 8,9,10: the held-out runs must be runs the model was not trained on$/, 'node --import tsx bench/health/predictor.ts [--train 1..60]'],
  ['bench/hitratio/all.ts', ['--fresh', '--blind'], /^--fresh and --blind are two different sets of sizes: give one$/, 'npm run bench:hitratio -- [--json]'],
  ['bench/hitratio/all.ts', ['--policies', 'lru2'], /^--policies names "lru2", which is none of wtinylfu, lru, /, 'npm run bench:hitratio -- [--json]'],
  ['bench/hitratio/all.ts', ['--half', 'heldout'], /^--half takes tuning or held-out, not "heldout"$/, 'npm run bench:hitratio -- [--json]'],
  ['fuzz/run.ts', ['--only', ','], /^--only names none of /, 'npm run fuzz -- [--count N]'],
] as const) {
  test(`${file} ${args.join(' ')}: says what is wrong, prints the usage and exits 2 without measuring`, () => {
    assertRefused(file, args, message, usage);
  });
}

test('a hand-run script with arguments shows them in --help, and measures nothing', () => {
  const r = runScript('bench/store/fill-ab.ts', '--help');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: node --import tsx bench\/store\/fill-ab\.ts OTHER_CHECKOUT\/src\/store\/store\.ts \[--entries /);
  assert.match(r.stdout, /\nArguments:\n {2}OTHER_CHECKOUT\/src\/store\/store\.ts +the store/);
  assert.match(r.stdout, /\nOptions:\n {2}--entries /);
});
