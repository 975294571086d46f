/**
 * The data and disk directories' lock (src/daemon/dir-lock.ts) in one process: who counts as
 * holding it (a live process on this host with the start time it wrote, another host's lock
 * while it is refreshed) and what is taken over (a dead pid, a reused pid, a stale or unreadable
 * file). `test/integration/daemon-start.test.ts` checks it between real nodes.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LOCK_FILE, lockDirectory } from '../../src/daemon/dir-lock.ts';
import { StartupError } from '../../src/daemon/errors.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-dir-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const startTicks = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
const writeHolder = (dir: string, holder: object): void => writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ since: '2026-12-01T00:00:00.000Z', ...holder }));
const holderOf = (dir: string): { pid: number; host: string } => JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));

test('a directory locked in this process is refused until released, and the release removes the file', async (t) => {
  const dir = tempDir(t);
  const lock = await lockDirectory(dir, '--data-dir');
  assert.equal(holderOf(dir).pid, process.pid);
  await assert.rejects(lockDirectory(dir, '--data-dir'), (e: Error) => e instanceof StartupError && e.message.startsWith(`${dir} is in use by another Shoal node (pid ${process.pid}, since `) && e.message.endsWith('give each node its own --data-dir'));
  lock.release();
  assert.throws(() => statSync(join(dir, LOCK_FILE)), /ENOENT/);
  (await lockDirectory(dir, '--disk-dir')).release();
});

test('a live process on this host holds its lock; a dead pid, a reused pid and our own pid from an earlier run do not', async (t) => {
  const dir = tempDir(t);
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  await new Promise((resolve) => child.once('spawn', resolve));
  writeHolder(dir, { host: hostname(), pid: child.pid, startTicks: startTicks(child.pid!) });
  await assert.rejects(lockDirectory(dir, '--data-dir'), new RegExp(`in use by another Shoal node \\(pid ${child.pid}, since 2026-12-01T00:00:00.000Z\\); give each node its own --data-dir`));

  // The same pid, started at another time: the lock's process is gone and its pid was reused.
  writeHolder(dir, { host: hostname(), pid: child.pid, startTicks: '1' });
  (await lockDirectory(dir, '--data-dir')).release();

  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  writeHolder(dir, { host: hostname(), pid: dead, startTicks: null });
  const lock = await lockDirectory(dir, '--data-dir');
  assert.equal(holderOf(dir).pid, process.pid, 'taken over');
  lock.release();

  // A container restarted in its pod runs as the same pid as before: a lock naming our pid that this process does not hold is left over.
  writeHolder(dir, { host: hostname(), pid: process.pid, startTicks: '1' });
  (await lockDirectory(dir, '--data-dir')).release();
});

test("another host's lock holds while it is refreshed and is taken over once it is not", async (t) => {
  const dir = tempDir(t);
  const refreshMs = 100;
  const waits: number[] = [];
  const onWait = (_: unknown, waitMs: number) => waits.push(waitMs);
  writeHolder(dir, { host: 'elsewhere', pid: 1, startTicks: '5' });
  const refresher = setInterval(() => utimesSync(join(dir, LOCK_FILE), new Date(), new Date()), refreshMs / 4);
  try {
    await assert.rejects(lockDirectory(dir, '--disk-dir', { refreshMs, onWait }), /in use by another Shoal node \(pid 1 on host elsewhere, since .*\); give each node its own --disk-dir/);
  } finally {
    clearInterval(refresher);
  }
  assert.deepEqual(waits, [3 * refreshMs], 'waited once, three refresh periods');
  // Not refreshed any more (its node crashed, or its container was replaced): taken over after the wait.
  const lock = await lockDirectory(dir, '--disk-dir', { refreshMs, onWait });
  assert.equal(holderOf(dir).host, hostname());
  // The holder refreshes its own file's time.
  const before = statSync(join(dir, LOCK_FILE)).mtimeMs;
  await sleep(refreshMs * 3);
  assert.ok(statSync(join(dir, LOCK_FILE)).mtimeMs > before, 'refreshed');
  lock.release();
  // Old enough already: taken over at once.
  writeHolder(dir, { host: 'elsewhere', pid: 1, startTicks: '5' });
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(dir, LOCK_FILE), old, old);
  waits.length = 0;
  (await lockDirectory(dir, '--disk-dir', { refreshMs, onWait })).release();
  assert.deepEqual(waits, []);
});

test('an unreadable lock file (a crash while writing it) is taken over; release leaves a lock that is not ours', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, LOCK_FILE), '{"host":');
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(dir, LOCK_FILE), old, old);
  const lock = await lockDirectory(dir, '--data-dir');
  assert.equal(holderOf(dir).pid, process.pid);
  // Someone replaced the file meanwhile: the release leaves theirs.
  writeHolder(dir, { host: 'elsewhere', pid: 7, startTicks: null });
  lock.release();
  assert.equal(holderOf(dir).pid, 7);
});
