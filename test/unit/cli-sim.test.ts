/**
 * `shoal sim`'s usage errors that come before any run: an --artifacts that cannot be a directory,
 * and a --duration of 0 for a scenario that simulates time (its checks would fail for want of a run).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from '../../src/cli/args.ts';
import { run } from '../../src/cli/sim.ts';

const dir = mkdtempSync(join(tmpdir(), 'shoal-cli-sim-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('shoal sim: a file as --artifacts and --duration 0 are usage errors, before any run', async () => {
  const file = join(dir, 'file');
  writeFileSync(file, '');
  const cases: [string[], RegExp][] = [
    [['--scenario', 'kv', '--duration', '3s', '--artifacts', file], /^--artifacts .*file is a file, not a directory/],
    [['--scenario', 'kv', '--duration', '3s', '--artifacts', join(file, 'sub')], /^--artifacts .*sub: .*file is a file, not a directory$/],
    [['--scenario', 'kv', '--duration', '0'], /^--duration must be more than 0 for kv/],
  ];
  for (const [argv, message] of cases) {
    await assert.rejects(run(argv), (e: Error) => e instanceof UsageError && message.test(e.message), argv.join(' '));
  }
});
