/** Running bench and fuzz scripts as a person does, for the tests of their command lines (bench/help.ts). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

export const ROOT = new URL('../../', import.meta.url);
/** A bound on a hang only: a script that measures instead of exiting runs for minutes. */
const HANG_MS = 60_000;

export function runScript(file: string, ...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { cwd: ROOT, encoding: 'utf8', timeout: HANG_MS });
}

/** Runs `file` with `args` and checks it refused them: exit 2, nothing on stdout, `message` then the usage line from `usage` on stderr. */
export function assertRefused(file: string, args: readonly string[], message: RegExp, usage: string): void {
  const r = runScript(file, ...args);
  assert.equal(r.status, 2, `status ${r.status}, signal ${r.signal}\n${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing measured');
  const [said, usageLine] = r.stderr.split('\n');
  assert.match(said!, message, r.stderr);
  assert.ok(usageLine!.startsWith(`Usage: ${usage}`), r.stderr);
}
