// Every benchmark script that package.json runs answers --help with its usage and measures nothing
// (docs38: `npm run bench:store -- --help` ran the whole benchmark, for minutes; only `npm run
// bench` and bench:metrics, which parse their flags with src/cli/args.ts, had a --help).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const ROOT = new URL('../../', import.meta.url);
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

test('every bench script handles --help: through src/cli/args.ts or bench/help.ts', () => {
  const entries = benchEntries();
  assert.ok(entries.length >= 12, `${entries.length} bench scripts found`);
  for (const [name, file] of entries) {
    const source = readFileSync(new URL(file, ROOT), 'utf8');
    assert.match(source, /exitOnHelp\(|formatHelp\(/, `npm run ${name} (${file}) takes no --help`);
  }
});

test('npm run bench:ring -- --help prints its usage and exits 0 without measuring', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/ring/index.ts', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: npm run bench:ring -- \[/);
  assert.doesNotMatch(r.stdout, /balance|max\/mean/i, 'nothing measured');
});
