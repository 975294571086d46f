/**
 * `shoal del KEY [KEY ...]` against a real one-node daemon says how many keys held a value, as
 * redis-cli's DEL against the same node does: `(integer) N` and exit 0 when it deleted one or
 * more, `(integer) 0` and exit 1 when there was none (as `shoal get` exits 1 for a miss), one
 * `{"key": ..., "deleted": ...}` line per key with --json.
 * The commands run in one `shoal` process (runShoalEach) to spare the CPU of a tsx start-up each.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, runShoalEach, sleep, until } from './daemon-harness.ts';

test('shoal del reports whether a live value was deleted, in text, JSON and its exit status', { timeout: 120_000 }, async (t) => {
  const [port, peerPort, respPort] = await freePorts(3);
  const node = new DaemonProcess({ name: 'del1', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: [] });
  t.after(() => node.kill('SIGKILL'));
  await node.start();
  await until('the node to serve', async () => ((await node.status()).joined ? true : undefined), 20_000);
  const at = ['--node', node.clientAddress];
  const expected: [string[], number, string][] = [
    [['set', 'k', 'v'], 0, 'OK\n'],
    [['del', 'k'], 0, '(integer) 1\n'],
    [['get', 'k'], 1, '(nil)\n'],
    [['del', 'k'], 1, '(integer) 0\n'],
    [['del', 'never-written'], 1, '(integer) 0\n'],
    [['set', 'j', 'v'], 0, 'OK\n'],
    [['del', 'j', '--json'], 0, '{"key":"j","deleted":true}\n'],
    [['del', 'j', '--json'], 1, '{"key":"j","deleted":false}\n'],
    // Each consistency level works on this path too.
    [['set', 'c', 'v'], 0, 'OK\n'],
    [['del', 'c', '--consistency', 'all'], 0, '(integer) 1\n'],
    [['del', 'c', '--consistency', 'one'], 1, '(integer) 0\n'],
    [['set', 'q', 'v'], 0, 'OK\n'],
    [['del', 'q', '--consistency', 'quorum', '--json'], 0, '{"key":"q","deleted":true}\n'],
    // Several keys: how many held a value, each key once (DEL k k counts 1).
    [['set', 'm1', 'v'], 0, 'OK\n'],
    [['set', 'm2', 'v'], 0, 'OK\n'],
    [['del', 'm1', 'never-written', 'm2'], 0, '(integer) 2\n'],
    [['del', 'm1', 'm2'], 1, '(integer) 0\n'],
    [['set', 'm3', 'v'], 0, 'OK\n'],
    [['del', 'm3', 'm3', '--json'], 0, '{"key":"m3","deleted":true}\n{"key":"m3","deleted":false}\n'],
    [['set', 'short', 'v', '--ttl', '1ms'], 0, 'OK\n'],
  ];
  const results = await runShoalEach(expected.map(([args]) => [...args, ...at]));
  // An expired value is no value: deleting it reports none (the TTL is 1 ms; this waits 5).
  await sleep(5);
  expected.push([['del', 'short'], 1, '(integer) 0\n']);
  const [expiredDel, badLevel, noKey] = await runShoalEach([['del', 'short', ...at], ['del', 'x', '--consistency', 'most', ...at], ['del', ...at]]);
  results.push(expiredDel!);
  assert.deepEqual(
    results.map((r) => [r.status, r.stdout, r.stderr]),
    expected.map(([, status, stdout]) => [status, stdout, '']),
  );
  assert.equal(badLevel!.status, 2);
  assert.match(badLevel!.stderr, /--consistency must be one, quorum or all, not "most"/);
  assert.equal(noKey!.status, 2);
  assert.match(noKey!.stderr, /expected KEY \[KEY \.\.\.\], got 0 arguments/);

  // redis-cli's DEL against the same node answers as shoal del does (--no-raw: as on a terminal).
  if (spawnSync('redis-cli', ['--version']).error !== undefined) return t.diagnostic('redis-cli is not installed: the comparison with DEL is skipped');
  const redis = (...args: string[]): string => spawnSync('redis-cli', ['--no-raw', '-p', String(respPort), ...args], { encoding: 'utf8', timeout: 10_000 }).stdout;
  const shoalDel = async (...keys: string[]): Promise<string> => (await runShoalEach([['del', ...keys, ...at]]))[0]!.stdout;
  assert.equal(redis('SET', 'r', 'v'), 'OK\n');
  assert.equal(await shoalDel('r'), '(integer) 1\n');
  assert.equal(redis('DEL', 'r'), '(integer) 0\n');
  assert.equal(redis('SET', 'r', 'v'), 'OK\n');
  assert.equal(redis('DEL', 'r'), '(integer) 1\n');
  assert.equal(await shoalDel('r'), '(integer) 0\n');
  for (const del of [(...keys: string[]) => Promise.resolve(redis('DEL', ...keys)), shoalDel]) {
    assert.equal(redis('MSET', 'r1', 'v', 'r2', 'v'), 'OK\n');
    assert.equal(await del('r1', 'r2', 'r3', 'r1'), '(integer) 2\n');
  }
});
