/**
 * `shoal dev` (what `npm start` runs) as a person uses it: start it, ask `shoal status --json` from
 * "another terminal" until 3 members are alive, talk to it with set/get, press Ctrl-C (SIGINT),
 * and check that it exits 0 and that none of its nodes is left running. As a supervisor uses it:
 * a signal to `npm start` alone, or a SIGKILL to `shoal dev`, leaves no node running either. Also:
 * the commands' errors when no node (or a node's peer port) is there, and their small manners.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { NodeStatus } from '../../src/protocol/index.ts';
import { COMMANDS } from '../../src/cli/main.ts';
import { freePorts, isPortFree } from '../../src/daemon/ports.ts';
import { PORT_OFFSETS } from '../../src/daemon/options.ts';
import { lockDirectory } from '../../src/daemon/dir-lock.ts';
import { WsTransport } from '../../src/transport/ws-transport.ts';
import { devPorts, freeDevBase, runShoal, runShoalEach, SHOAL_BIN, tempDir, until } from './daemon-harness.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** A base port whose dev ports (base + 10i and base + 10i + 1, for 3 nodes) are all free. */
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

/** `pid` and every process below it, from one `ps` listing. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const line of execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).split('\n')) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    if (child === undefined || parent === undefined || !(child > 0)) continue;
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** Alive and not a zombie waiting for a parent to reap it. */
function isRunning(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return !execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim().startsWith('Z');
  } catch {
    return false; // gone between the two looks
  }
}

/** Collects a child's stdout and stderr, and resolves `saw` once `pattern` appears in them. */
function watchOutput(child: ChildProcess, pattern: RegExp): { text: () => string; saw: Promise<void> } {
  let output = '';
  let seen!: () => void;
  const saw = new Promise<void>((resolve) => (seen = resolve));
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8').on('data', (d: string) => {
      output += d;
      if (pattern.test(output)) seen();
    });
  }
  return { text: () => output, saw };
}

/**
 * How long a stopped cluster may take to be gone: it only bounds a hang. The nodes stop one after
 * another, each killed after 15 s at worst, and a loaded machine is slow.
 */
const GONE_WITHIN_MS = 120_000;
/** Bounds a whole start-signal-stop test, should dev hang before it says its cluster is up. */
const HANG_BOUND = { timeout: 300_000 };

/** Starts `command`, waits until its `shoal dev` has started every node, and returns the process tree. */
async function startDev(t: { after: (fn: () => void) => void }, command: string, args: string[], nodes: number, ownGroup = false) {
  const child = spawn(command, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], detached: ownGroup });
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Once the process tree is gone, what it wrote last may still be unread in the pipes: 'close'
  // comes when every process holding them (npm and shoal dev both write to them) has closed them.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let tree: number[] = [];
  t.after(() => {
    // Only what is still ours: a pid that exited may have been reused by someone else's process.
    for (const pid of [...tree, child.pid!]) if (isRunning(pid) && /shoal\.js|npm/.test(commandLine(pid))) process.kill(pid, 'SIGKILL');
  });
  // Printed once every node answered status (or after dev gave up waiting): every node is started.
  const output = watchOutput(child, /cluster ready|do not all see each other/);
  await Promise.race([output.saw, exit.then(() => assert.fail(`${command} exited early:\n${output.text()}`))]);
  tree = processTree(child.pid!);
  const started = tree.filter((pid) => /bin\/shoal\.js start /.test(commandLine(pid)));
  assert.equal(started.length, nodes, `the nodes of ${args.join(' ')}: ${tree.map(commandLine).join('; ')}`);
  return { child, exit, closed, tree, output };
}

function commandLine(pid: number): string {
  try {
    return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** Waits until no process of `tree` runs and every port is free again. */
async function assertAllGone(tree: number[], ports: number[], output: () => string): Promise<void> {
  await until('every process of the dev cluster to exit', () => (tree.some(isRunning) ? undefined : true), GONE_WITHIN_MS, 100).catch((error: Error) => {
    throw new Error(`${error.message}; still running: ${tree.filter(isRunning).map(commandLine).join('; ')}\n${output()}`);
  });
  assert.deepEqual((await Promise.all(ports.map(async (p) => ((await isPortFree(p)) ? null : p)))).filter((p) => p !== null), [], 'ports still bound');
}

test('shoal dev runs a 3-node cluster that shoal status sees, and Ctrl-C leaves no process behind', async (t) => {
  const base = await freeDevBase();
  const dataRoot = tempDir('shoal-dev-');
  const dev = spawn(process.execPath, [SHOAL_BIN, 'dev', '--base-port', String(base), '--data-dir', dataRoot], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  dev.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  dev.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  // 'close': dev has exited and all it wrote is read (at 'exit' its last line may not be).
  const devExit = new Promise<number | null>((resolve) => dev.on('close', (code) => resolve(code)));
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
    120_000,
    300,
  ).catch((error: Error) => {
    // A node that could not start (a port taken, say) says why in the dev output.
    throw new Error(`${error.message}\n${output}`);
  });
  assert.deepEqual(status.members.map((m) => m.name), ['node1', 'node2', 'node3']);
  pids = childPids(dev.pid!);
  assert.equal(pids.length, 3, `dev's children: ${pids.join(', ')}`);
  // Each node keeps (and locks) its data directory under --data-dir, not in the shared .shoal/data.
  assert.deepEqual(readdirSync(dataRoot).sort(), ['node1', 'node2', 'node3']);
  for (const name of ['node1', 'node2', 'node3']) assert.ok(pids.includes(JSON.parse(readFileSync(join(dataRoot, name, 'shoal.lock'), 'utf8')).pid), `${name}'s lock names one of dev's nodes`);
  assert.match(output, /npx shoal status/);
  // dev says ready once every node answers ready on /readyz: the first Redis request after it is served, not CLUSTERDOWN.
  await until('shoal dev to say the cluster is ready', () => (/cluster ready/.test(output) ? true : undefined), 120_000, 100).catch((error: Error) => {
    throw new Error(`${error.message}\n${output}`);
  });
  const first = spawnSync('redis-cli', ['-c', '-p', String(base + PORT_OFFSETS['resp-port']), 'GET', 'never-set'], { encoding: 'utf8', timeout: 10_000 });
  if (first.error === undefined) assert.doesNotMatch(first.stdout + first.stderr, /CLUSTERDOWN/);

  assert.equal((await runShoal(['set', 'greeting', 'hello', '--node', node])).stdout, 'OK\n');
  const got = await runShoal(['get', 'greeting', '--json', '--node', `127.0.0.1:${base + 20}`]);
  assert.deepEqual(JSON.parse(got.stdout), { key: 'greeting', value: 'hello' });
  assert.equal((await runShoal(['del', 'greeting', '--node', node])).stdout, '(integer) 1\n');
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
  const commands = [['status'], ['ring'], ['get', 'k'], ['set', 'k', 'v'], ['del', 'k']];
  const results = await runShoalEach([...commands.map((args) => [...args, '--node', `127.0.0.1:${port}`]), ['status', '--node', 'nonsense']]);
  commands.forEach((args, i) => {
    const r = results[i]!;
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, new RegExp(`no Shoal node at 127\\.0\\.0\\.1:${port} .*start one with \`npm start\``), args.join(' '));
  });
  const bad = results[commands.length]!;
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--node "nonsense" is not HOST:PORT/);
});

// npm passes SIGTERM and SIGINT on to the shell it runs the script in (and no other signal): the
// script execs shoal dev, so that it is the one they reach. A SIGKILLed npm passes nothing on:
// shoal dev notices that its parent is gone. Ctrl-C in a terminal signals the whole process group,
// so dev gets that SIGINT twice (once from npm): it is still one Ctrl-C, a graceful stop.
for (const [signal, nodes, to] of [['SIGTERM', 3, 'npm'], ['SIGINT', 1, 'npm'], ['SIGKILL', 1, 'npm'], ['SIGINT', 1, 'group']] as const) {
  const whom = to === 'npm' ? 'the npm start process alone' : "npm start's process group (Ctrl-C in a terminal)";
  test(`${signal} to ${whom} leaves none of the ${nodes} node${nodes === 1 ? '' : 's'} running`, HANG_BOUND, async (t) => {
    const base = await freeDevBase();
    const npm = await startDev(t, 'npm', ['start', '--silent', '--', '--base-port', String(base), '--nodes', String(nodes), '--data-dir', tempDir('shoal-dev-')], nodes, to === 'group');
    if (to === 'group') process.kill(-npm.child.pid!, signal);
    else npm.child.kill(signal);
    await assertAllGone(npm.tree, devPorts(base, nodes), npm.output.text);
    await npm.closed;
    if (signal === 'SIGKILL') assert.match(npm.output.text(), /the process that started it \(pid \d+\) is gone/);
    else assert.match(npm.output.text(), /stopping every node[^]*all nodes stopped/);
    assert.doesNotMatch(npm.output.text(), /killing every node now/, 'one signal, one graceful stop');
  });
}

// SIGHUP: the terminal shoal dev runs in closed (or a supervisor hung up on it). It stops the nodes
// as for Ctrl-C, says why on stderr, and ends by SIGHUP, as a hung-up process does.
test('SIGHUP to shoal dev stops every node, says why on stderr, and dev ends by SIGHUP', HANG_BOUND, async (t) => {
  const base = await freeDevBase(1);
  const dev = await startDev(t, process.execPath, [SHOAL_BIN, 'dev', '--base-port', String(base), '--nodes', '1', '--data-dir', tempDir('shoal-dev-')], 1);
  let stderr = '';
  dev.child.stderr!.on('data', (d: string) => (stderr += d));
  const ended = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => dev.child.once('exit', (code, signal) => resolve([code, signal])));
  dev.child.kill('SIGHUP');
  await assertAllGone(dev.tree, devPorts(base, 1), dev.output.text);
  await dev.closed;
  assert.deepEqual(await ended, [null, 'SIGHUP'], dev.output.text());
  assert.match(stderr, /^shoal dev: SIGHUP \(its terminal closed, or whatever started it hung up\): stopping every node$/m, dev.output.text());
  assert.match(dev.output.text(), /all nodes stopped/, 'a graceful stop');
  assert.doesNotMatch(dev.output.text(), /killing every node now/);
});

// The terminal itself closing (util-linux `script` holds it; killing it hangs the terminal up):
// dev is sent SIGHUP and its terminal output fails (EIO). Before, dev died at once (SIGSEGV or
// SIGABRT: an output error, then Node 20 asserting when it reset the gone terminal at exit) and its
// nodes were killed rather than stopped. Its stderr goes to a file, so what it says can be read.
const hasScript = spawnSync('script', ['--version']).status === 0;
test('closing the terminal shoal dev runs in stops its nodes gracefully, without a crash', { ...HANG_BOUND, skip: hasScript ? false : 'needs util-linux script for a terminal' }, async (t) => {
  const base = await freeDevBase(1);
  const dir = tempDir('shoal-dev-');
  const errors = join(dir, 'dev-stderr.txt');
  const command = `exec '${process.execPath}' '${SHOAL_BIN}' dev --base-port ${base} --nodes 1 --data-dir '${join(dir, 'data')}' 2>'${errors}'`;
  const terminal = await startDev(t, 'script', ['--quiet', '--return', '--command', command, '/dev/null'], 1);
  const devPid = terminal.tree.find((pid) => /bin\/shoal\.js dev /.test(commandLine(pid)))!;
  terminal.child.kill('SIGKILL');
  await assertAllGone(terminal.tree, devPorts(base, 1), terminal.output.text);
  assert.ok(!isRunning(devPid));
  const said = readFileSync(errors, 'utf8');
  assert.match(said, /shoal dev: SIGHUP \(its terminal closed/, said);
  assert.doesNotMatch(said, /Assertion failed|Native stack trace|Error|killing/, said);
});

test('a SIGKILLed shoal dev leaves no node running: each node stops when its IPC channel closes', HANG_BOUND, async (t) => {
  const base = await freeDevBase();
  const dev = await startDev(t, process.execPath, [SHOAL_BIN, 'dev', '--base-port', String(base), '--nodes', '1', '--data-dir', tempDir('shoal-dev-')], 1);
  dev.child.kill('SIGKILL');
  await assertAllGone(dev.tree, devPorts(base, 1), dev.output.text);
});

// Killing one node is how a person watches the cluster detect a failure: the others keep serving,
// a rolling restart (SIGUSR2, or `restart` on stdin) starts it again, Ctrl-C stops the rest.
test('a node killed after the cluster was ready leaves the others serving, and a rolling restart brings it back', HANG_BOUND, async (t) => {
  const base = await freeDevBase(2);
  const dev = await startDev(t, process.execPath, [SHOAL_BIN, 'dev', '--base-port', String(base), '--nodes', '2', '--data-dir', tempDir('shoal-dev-')], 2);
  const node2 = dev.tree.find((pid) => /--name node2 /.test(commandLine(pid)))!;
  process.kill(node2, 'SIGKILL');
  await until('dev to say node2 exited and the others keep serving', () => (/node2 exited \(SIGKILL\); the others keep serving/.test(dev.output.text()) ? true : undefined), GONE_WITHIN_MS, 100).catch((error: Error) => {
    throw new Error(`${error.message}\n${dev.output.text()}`);
  });
  assert.ok(isRunning(dev.child.pid!), `dev still runs:\n${dev.output.text()}`);
  const status = await runShoal(['status', '--node', `127.0.0.1:${base}`, '--json']);
  assert.equal(status.status, 0, status.stderr);
  assert.equal((JSON.parse(status.stdout) as NodeStatus).node, 'node1', 'node1 still serves');
  dev.child.kill('SIGUSR2');
  await until('the rolling restart to bring node2 back', () => (/rolling restart done/.test(dev.output.text()) ? true : undefined), GONE_WITHIN_MS, 100).catch((error: Error) => {
    throw new Error(`${error.message}\n${dev.output.text()}`);
  });
  const tree = processTree(dev.child.pid!);
  assert.equal(tree.filter((pid) => /bin\/shoal\.js start /.test(commandLine(pid))).length, 2, 'both nodes run again');
  dev.child.kill('SIGINT');
  await assertAllGone(tree, devPorts(base, 2), dev.output.text);
});

test('shoal dev on ports in use says which and exits 2 before starting a node', async () => {
  const base = await freeDevBase(1);
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: base + 1 }, resolve));
  try {
    const dataDir = tempDir('shoal-dev-');
    const r = await runShoal(['dev', '--nodes', '1', '--base-port', String(base), '--data-dir', dataDir]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    // It names the port, and a base port whose ports it found free, with the --data-dir given: the command to run as printed.
    const told = new RegExp(`^shoal dev: 127\\.0\\.0\\.1:${base + 1} \\(node1's peer port\\) is already in use \\(another shoal dev cluster or node\\?\\): stop it, or run this one beside it: shoal dev --base-port (\\d+) --data-dir ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(node1 uses base to base \\+ 3, node2 base \\+ 10 to base \\+ 13, and so on\\)\n$`).exec(r.stderr);
    assert.ok(told, r.stderr);
    assert.notEqual(Number(told[1]), base, r.stderr);
    assert.equal(r.stdout, '', 'no banner: no node was started');
    // Run through `npm start` (npm sets npm_lifecycle_event) and without --data-dir, it says how to pass both through npm.
    const viaNpm = await runShoal(['dev', '--nodes', '1', '--base-port', String(base)], { npm_lifecycle_event: 'start' });
    assert.equal(viaNpm.status, 2, viaNpm.stdout + viaNpm.stderr);
    assert.match(viaNpm.stderr, /stop it, or run this one beside it: npm start -- --base-port (\d+) --data-dir \.shoal\/dev-\1 \(/);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

// Another dev cluster on the same --data-dir holds its nodes' directories: before, this one printed
// its banner, started its nodes, and stopped them all once node1 refused its directory with advice
// for `shoal start` ("give each node its own --data-dir").
test('shoal dev on a data directory another running node holds says so and exits 2 before starting a node', async () => {
  const base = await freeDevBase(1);
  const dataRoot = tempDir('shoal-dev-');
  mkdirSync(join(dataRoot, 'node1'));
  const lock = await lockDirectory(join(dataRoot, 'node1'), '--data-dir');
  try {
    const r = await runShoal(['dev', '--nodes', '1', '--base-port', String(base), '--data-dir', dataRoot]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, '', 'no banner: no node was started');
    assert.equal(r.stderr, `shoal dev: ${join(dataRoot, 'node1')} is in use by another Shoal node (pid ${process.pid}, since ${JSON.parse(readFileSync(join(dataRoot, 'node1', 'shoal.lock'), 'utf8')).since}; another shoal dev cluster?): stop it, or give this cluster its own data directory, such as --data-dir .shoal/dev-${base}\n`);
  } finally {
    lock.release();
  }
});

// A base near the top of the port range has no room above it for another cluster: the suggestion is below.
test('shoal dev on ports in use at the top of the port range suggests a base below it', async () => {
  let base = 0;
  for (let candidate = 65_532; candidate > 65_300 && base === 0; candidate--) {
    if ((await Promise.all(devPorts(candidate, 1).map((port) => isPortFree(port)))).every(Boolean)) base = candidate;
  }
  assert.ok(base > 0, 'four free ports near the top of the range');
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: base + 1 }, resolve));
  try {
    const r = await runShoal(['dev', '--nodes', '1', '--base-port', String(base), '--data-dir', tempDir('shoal-dev-')]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    const told = /run this one beside it: shoal dev --base-port (\d+) /.exec(r.stderr);
    assert.ok(told, r.stderr);
    assert.ok(Number(told[1]) < base, r.stderr);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test("--node at a node's peer port says so, and takes the ws:// URL the SDK takes", async () => {
  const peer = await WsTransport.listen({});
  try {
    const commands = [['status'], ['get', 'k'], ['set', 'k', 'v']];
    const results = await runShoalEach(commands.map((args) => [...args, '--node', `ws://${peer.address}/shoal`]));
    commands.forEach((args, i) => {
      const r = results[i]!;
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, new RegExp(`${peer.address.replace(/\./g, '\\.')} is a Shoal node's node-to-node \\(peer\\) port, not its client port`), args.join(' '));
    });
  } finally {
    await peer.close();
  }
});

test("-h shows every command's help, the README's list of the commands that take --json is exact, and a closed stdout pipe ends a command quietly", async () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
  const claim = /((?:`[a-z]+`,? (?:and )?)+)take `--json`/.exec(readme);
  assert.ok(claim, 'the README says which commands take --json');
  const takeJson = [...claim[1]!.matchAll(/`([a-z]+)`/g)].map((m) => m[1]!);
  const runs: { what: string; command: string[]; argv: string[]; refusesJson: boolean }[] = [];
  for (const name of Object.keys(COMMANDS)) {
    const command = name === 'bench' ? ['bench', 'hitratio'] : [name];
    const json = takeJson.includes(name) ? ['--json'] : [];
    runs.push({ what: `shoal ${[...command, ...json].join(' ')} -h`, command, argv: [...command, ...json, '-h'], refusesJson: false });
    // Refused before a daemon would start: the README must not claim it.
    if (json.length === 0) runs.push({ what: `shoal ${name} --json`, command, argv: [...command, '--json'], refusesJson: true });
  }
  const results = await runShoalEach(runs.map((r) => r.argv));
  runs.forEach(({ what, command, refusesJson }, i) => {
    const r = results[i]!;
    if (refusesJson) {
      assert.deepEqual([r.status, r.stderr.includes('unknown option --json')], [2, true], `${what}: ${r.stderr}`);
    } else {
      assert.deepEqual([r.status, r.stderr], [0, ''], what);
      assert.match(r.stdout, new RegExp(`^Usage: shoal ${command.join(' ')}`), what);
    }
  });
  // The reader is gone before the command writes a byte (it takes far longer to start than this
  // takes to close the pipe; if it ever won the race, the test would pass without testing).
  const sim = spawn(process.execPath, [SHOAL_BIN, 'sim', '--list'], { stdio: ['ignore', 'pipe', 'pipe'] });
  sim.stdout.destroy();
  let stderr = '';
  sim.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const status = await new Promise<number | null>((resolve) => sim.once('close', resolve));
  assert.deepEqual([status, stderr], [0, '']);
});
