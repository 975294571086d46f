/**
 * `shoal dev` (what `npm start` runs) as a person uses it: start it, ask `shoal status --json` from
 * "another terminal" until 3 members are alive, talk to it with set/get, press Ctrl-C (SIGINT),
 * and check that it exits 0 and that none of its nodes is left running. Also: the commands' error
 * when no node is there.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { test } from 'node:test';
import type { NodeStatus } from '../../src/protocol/index.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { runShoal, SHOAL_BIN, until } from './daemon-harness.ts';

/** A base port whose dev ports (base + 10i and base + 10i + 1, for 3 nodes) are all free. */
async function freeDevBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + 10 * Math.floor(Math.random() * 3000);
    const ports = [0, 1, 10, 11, 20, 21].map((d) => base + d);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error('no free range of dev ports found');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('shoal dev runs a 3-node cluster that shoal status sees, and Ctrl-C leaves no process behind', async (t) => {
  const base = await freeDevBase();
  const dev = spawn(process.execPath, [SHOAL_BIN, 'dev', '--base-port', String(base)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  dev.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  dev.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const devExit = new Promise<number | null>((resolve) => dev.on('exit', (code) => resolve(code)));
  let pids: number[] = [];
  t.after(() => {
    for (const pid of [...pids, dev.pid!]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  const node = `127.0.0.1:${base}`;
  const status = await until(
    '3 alive members in shoal status --json',
    async () => {
      const r = await runShoal(['status', '--json'], { SHOAL_NODE: node });
      if (r.status !== 0) return undefined;
      const s = JSON.parse(r.stdout) as NodeStatus;
      return s.members.filter((m) => m.state === 'alive').length === 3 ? s : undefined;
    },
    60_000,
    300,
  );
  assert.deepEqual(status.members.map((m) => m.name), ['node1', 'node2', 'node3']);
  pids = childPids(dev.pid!);
  assert.equal(pids.length, 3, `dev's children: ${pids.join(', ')}`);
  assert.match(output, /npx shoal status/);

  assert.equal((await runShoal(['set', 'greeting', 'hello', '--node', node])).stdout, 'OK\n');
  const got = await runShoal(['get', 'greeting', '--json', '--node', `127.0.0.1:${base + 20}`]);
  assert.deepEqual(JSON.parse(got.stdout), { key: 'greeting', value: 'hello' });
  assert.equal((await runShoal(['del', 'greeting', '--node', node])).stdout, 'OK\n');
  const miss = await runShoal(['get', 'greeting', '--node', node]);
  assert.deepEqual([miss.status, miss.stdout], [1, '(nil)\n'], 'a miss prints (nil) and exits 1');
  const ring = await runShoal(['ring', '--json', '--node', node]);
  assert.equal((JSON.parse(ring.stdout) as { nodes: unknown[] }).nodes.length, 3);

  dev.kill('SIGINT');
  assert.equal(await devExit, 0, output);
  assert.deepEqual(pids.filter(isAlive), [], 'nodes still running after Ctrl-C');
  assert.match(output, /all nodes stopped/);
});

test('the commands say how to start a node when none answers', async () => {
  const [port] = await freePorts(1);
  for (const args of [['status'], ['ring'], ['get', 'k'], ['set', 'k', 'v'], ['del', 'k']]) {
    const r = await runShoal([...args, '--node', `127.0.0.1:${port}`]);
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, new RegExp(`no Shoal node at 127\\.0\\.0\\.1:${port} .*start one with \`npm start\``), args.join(' '));
  }
  const bad = await runShoal(['status', '--node', 'nonsense']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--node "nonsense" is not HOST:PORT/);
});
