/**
 * `shoal start` as a process: the exit status 2 cases (bad value, unknown option, unknown variable,
 * unreadable file, port in use), `--help`, and a graceful stop on SIGTERM and SIGINT that exits 0.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { envName, OPTION_NAMES } from '../../src/daemon/options.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, runShoal, runShoalMerged, SHOAL_BIN, tempDir } from './daemon-harness.ts';

test('bad configuration exits with status 2 and a one-line reason', async () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--port', 'seventy'], {}, /--port takes a number/],
    [['--bogus', '1'], {}, /unknown option --bogus/],
    [[], { SHOAL_PROT: '7400' }, /unknown environment variable SHOAL_PROT/],
    [['--config', '/nonexistent/shoal.json'], {}, /cannot read config file \/nonexistent\/shoal.json: ENOENT/],
    [['--read-quorum', '5'], {}, /--read-quorum must be a whole number from 1 to 3/],
    [['--port', '7400', '--peer-port', '7402'], {}, /--peer-port 7402 is also the default RESP port \(--port 7400 \+ 2\); give --resp-port \(0 turns it off\) or another --peer-port/],
  ];
  for (const [args, env, message] of cases) {
    const { status, stdout, stderr } = await runShoal(['start', ...args], env);
    assert.equal(status, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, message);
    assert.match(stderr, /^shoal start: [^\n]+\n$/, 'one line');
    assert.equal(stdout, '');
  }
});

test('a --host this machine cannot listen on exits with status 2 and one line, before the password check', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'shoal-host-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  // A name that never resolves (RFC 6761 .invalid), with and without --insecure: the host is what
  // to fix, whatever the default user's password.
  for (const insecure of [['--insecure'], []]) {
    const { status, stdout, stderr } = await runShoal(['start', '--host', 'nosuchhost.invalid', ...insecure, '--data-dir', join(parent, 'node'), '--log-level', 'warn']);
    assert.equal(status, 2, stderr);
    assert.match(stderr, /^shoal start: cannot listen on nosuchhost\.invalid: the name does not resolve to an address \(\w+\); check --host\n$/);
    assert.equal(stdout, '');
  }
  assert.deepEqual(readdirSync(parent), [], 'the failed start left no data directory');
});

test('a data or disk directory its filesystem cannot make (/proc) exits with status 2 and one line, at once', async (t) => {
  const [port, peerPort] = await freePorts(2);
  const parent = mkdtempSync(join(tmpdir(), 'shoal-proc-dir-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const ports = ['--port', String(port), '--peer-port', String(peerPort), '--resp-port', '0', '--admin-port', '0'];
  // Node's recursive mkdir retries forever under /proc (ENOENT in a directory that exists): the
  // start hung there. The bound below only catches that hang; nothing here is timed.
  for (const [args, dir, flag] of [
    [['--data-dir', '/proc/shoal-test'], '/proc/shoal-test', '--data-dir'],
    [['--data-dir', '/proc/shoal-test/node'], '/proc/shoal-test/node', '--data-dir'],
    [['--data-dir', join(parent, 'data'), '--disk-dir', '/proc/shoal-test', '--disk-size', '1mib'], '/proc/shoal-test', '--disk-dir'],
  ] as const) {
    const { status, stdout, stderr } = await runShoal(['start', ...ports, '--insecure', ...args], {}, 30_000);
    assert.equal(status, 2, stderr);
    assert.match(stderr, new RegExp(`^shoal start: cannot use ${dir} as .*\\(ENOENT: /proc exists but its filesystem does not take new directories\\); choose another with ${flag}\n$`));
    assert.equal(stdout, '');
  }
  assert.deepEqual(readdirSync(parent), [], 'the failed start took back the data directory it made');
});

test('a port in use exits with status 2, names the port and the flag, and leaves no new data directory behind', async (t) => {
  const [port, peerPort, otherPort] = await freePorts(3);
  const parent = mkdtempSync(join(tmpdir(), 'shoal-start-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  // The first start would create the data directory and its parent; the second finds it there.
  const existing = join(parent, 'existing');
  mkdirSync(existing);
  for (const [busy, flag, args, dataDir] of [
    [port!, '--port', ['--port', String(port), '--peer-port', String(otherPort)], join(parent, 'new', 'node')],
    [peerPort!, '--peer-port', ['--port', String(otherPort), '--peer-port', String(peerPort)], existing],
  ] as const) {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: busy }, resolve));
    try {
      const { status, stderr } = await runShoal(['start', ...args, '--data-dir', dataDir]);
      assert.equal(status, 2, stderr);
      assert.match(stderr, new RegExp(`127\\.0\\.0\\.1:${busy} is already in use .*${flag}`));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }
  assert.deepEqual(readdirSync(parent), ['existing'], 'the directories the failed start made are gone; the one it found is kept');
});

/**
 * `shoal start` refused once its ports are bound and it has logged: a disk tier of 100 PB, more than
 * any filesystem under the tests has free (the disk tier opens with the node, after the peer port
 * is bound). Its status, its stdout and stderr as one file, and the directory its dirs were under.
 */
async function lateRefusedStart(t: TestContext, logFormat: 'json' | 'pretty'): Promise<{ status: number | null; output: string; parent: string }> {
  const [port, peerPort, respPort, adminPort] = await freePorts(4);
  const parent = mkdtempSync(join(tmpdir(), 'shoal-late-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const ports = ['--port', String(port), '--peer-port', String(peerPort), '--resp-port', String(respPort), '--admin-port', String(adminPort)];
  const { status, output } = await runShoalMerged(['start', ...ports, '--log-format', logFormat, '--data-dir', join(parent, 'data'), '--disk-dir', join(parent, 'disk'), '--disk-size', '100000000gib']);
  return { status, output, parent };
}

test('a start refused once its ports are bound (a disk tier larger than its filesystem) exits with status 2, holding nothing', async (t) => {
  // The process exits only if the failed start closed everything it had opened (a listener or a
  // timer left behind keeps it running until the harness gives up).
  const { status, output, parent } = await lateRefusedStart(t, 'json');
  assert.equal(status, 2, output);
  const lines = output.trimEnd().split('\n');
  // The reason is the last line, after every log line of the failed start, none of them in between.
  assert.match(lines.at(-1)!, /^shoal start: cannot open the disk tier file .*tier\.shoal \(--disk-dir\): the filesystem under .* free, .*lower --disk-size$/);
  for (const line of lines.slice(0, -1)) assert.equal(typeof JSON.parse(line).msg, 'string', line);
  assert.deepEqual(readdirSync(parent), [], 'the failed start removed the directories it made, locks included');
});

test('with --log-format pretty into a file, the lines are readable text without colour codes, and the reason a start failed comes last', async (t) => {
  // Before, pino-pretty ran as a transport in a worker thread with colours forced on: its lines
  // carried ANSI escapes into the file, and could come after the reason.
  const { status, output } = await lateRefusedStart(t, 'pretty');
  assert.equal(status, 2, output);
  assert.equal(output.includes('\x1b['), false, 'no colour codes in a file');
  const lines = output.trimEnd().split('\n');
  assert.match(lines.at(-1)!, /^shoal start: cannot open the disk tier file /);
  assert.ok(lines.some((line) => /INFO.*using data directory/.test(line)), output);
});

test('an --advertise-host too long for gossip metadata exits with status 2 and one line, holding nothing', async (t) => {
  const [port, peerPort, respPort, adminPort] = await freePorts(4);
  const parent = mkdtempSync(join(tmpdir(), 'shoal-advertise-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const ports = ['--port', String(port), '--peer-port', String(peerPort), '--resp-port', String(respPort), '--admin-port', String(adminPort)];
  // 246 characters: a valid DNS name, but the client and Redis addresses built on it are over the
  // 512 bytes gossip carries for a member. Before, the start died with a GossipConfigError's stack.
  const host = [...Array(4).fill('a'.repeat(60)), 'bb'].join('.');
  const { status, output } = await runShoalMerged(['start', ...ports, '--insecure', '--log-format', 'json', '--advertise-host', host, '--data-dir', join(parent, 'data')]);
  assert.equal(status, 2, output);
  assert.match(output.trimEnd().split('\n').at(-1)!, /^shoal start: this node's addresses do not fit in its gossip metadata: .*more than 512 bytes.*; check --name and --advertise-host$/);
  assert.deepEqual(readdirSync(parent), [], 'the failed start removed the directories it made');
});

test('a second node on a data or disk directory in use exits with status 2; a killed node leaves nothing that stops the next', async (t) => {
  const [port, peerPort, otherPort, otherPeerPort] = await freePorts(4);
  const parent = mkdtempSync(join(tmpdir(), 'shoal-lock-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const dataDir = join(parent, 'data');
  const diskDir = join(parent, 'disk');
  const dirs = ['--data-dir', dataDir, '--disk-dir', diskDir, '--disk-size', '1mib'];
  const first = new DaemonProcess({ name: 'first', port: port!, peerPort: peerPort!, seeds: [], extra: dirs });
  const second = new DaemonProcess({ name: 'second', port: otherPort!, peerPort: otherPeerPort!, seeds: [], extra: dirs });
  t.after(() => {
    first.kill('SIGKILL');
    second.kill('SIGKILL');
  });
  await first.start();
  const elsewhere = ['--port', String(otherPort), '--peer-port', String(otherPeerPort), '--resp-port', '0', '--admin-port', '0'];
  for (const [args, dir, flag] of [
    [['--data-dir', dataDir], dataDir, '--data-dir'],
    [['--data-dir', join(parent, 'own'), '--disk-dir', diskDir], diskDir, '--disk-dir'],
  ] as const) {
    const { status, stderr } = await runShoal(['start', ...elsewhere, ...args]);
    assert.equal(status, 2, stderr);
    assert.equal(stderr, `shoal start: ${dir} is in use by another Shoal node (pid ${first.pid}, since ${JSON.parse(readFileSync(join(dir, 'shoal.lock'), 'utf8')).since}); give each node its own ${flag}\n`);
  }
  assert.deepEqual(readdirSync(parent).sort(), ['data', 'disk'], 'the refused start removed the data directory it made');
  assert.equal((await first.status()).node, 'first', 'the first node keeps serving');

  // Killed, the first node cannot remove its locks; the next node on its directories starts anyway.
  const killed = first.exited();
  first.kill('SIGKILL');
  await killed;
  await second.start();
  assert.equal((await second.status()).node, 'second');
  for (const dir of [dataDir, diskDir]) assert.equal(JSON.parse(readFileSync(join(dir, 'shoal.lock'), 'utf8')).pid, second.pid, `${dir} is locked by the second node`);
  // Stopped gracefully, a node removes its locks.
  const stopped = second.exited();
  second.kill('SIGTERM');
  assert.equal(await stopped, 0, second.stderr);
  for (const dir of [dataDir, diskDir]) assert.ok(!readdirSync(dir).includes('shoal.lock'), `${dir} is unlocked`);
});

test('--help lists every option with its environment variable', async () => {
  const { status, stdout } = await runShoal(['start', '--help']);
  assert.equal(status, 0);
  for (const name of OPTION_NAMES) {
    assert.match(stdout, new RegExp(`--${name}\\s+${envName(name)}\\s`), name);
  }
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} stops a node gracefully with status 0 and JSON logs`, async (t) => {
    const [port, peerPort] = await freePorts(2);
    const node = new DaemonProcess({ name: 'solo', port: port!, peerPort: peerPort!, seeds: [], extra: [] });
    t.after(() => node.kill('SIGKILL'));
    await node.start();
    const status = await node.status();
    assert.equal(status.node, 'solo');
    assert.deepEqual(status.members.map((m) => [m.name, m.state]), [['solo', 'alive']]);
    const exited = node.exited();
    node.kill(signal);
    assert.equal(await exited, 0, node.stderr);
    const messages = node.logs.map((l) => String(l.msg));
    assert.ok(messages.some((m) => m.startsWith('stopping')), messages.join('\n'));
    assert.ok(messages.includes('stopped'), messages.join('\n'));
    // Every stdout line was a pino JSON record.
    assert.ok(node.logs.every((l) => typeof l.level === 'number' && typeof l.time === 'number'));
  });
}

test('a node with another partition count is refused by the cluster and exits with status 2', { timeout: 180_000 }, async (t) => {
  const [port, peerPort, otherPort, otherPeerPort] = await freePorts(4);
  const founder = new DaemonProcess({ name: 'founder', port: port!, peerPort: peerPort!, seeds: [], extra: [] });
  const stranger = new DaemonProcess({ name: 'stranger', port: otherPort!, peerPort: otherPeerPort!, seeds: [founder.peerAddress], extra: ['--partitions', '64'] });
  t.after(() => {
    founder.kill('SIGKILL');
    stranger.kill('SIGKILL');
  });
  await founder.start();
  await stranger.start();
  assert.equal(await stranger.exited(), 2, stranger.stderr);
  // Told what to change, once (the cluster's count), not to restart the cluster's node with its own.
  assert.match(
    stranger.stderr,
    /^shoal start: cannot join the cluster of 127\.0\.0\.1:\d+: it uses 1024 partitions and this node 64 \(the partition count is fixed for the life of a cluster\); start this node with --partitions 1024\n$/,
  );
  // The founder keeps serving, with the stranger kept out of its ring and shown as refused, not dead.
  const status = await founder.status();
  assert.equal(status.node, 'founder');
  const shown = status.members.find((m) => m.name === 'stranger');
  assert.equal(shown?.state, 'refused');
  assert.match(shown?.reason ?? '', /node "stranger" is configured with 64 partitions but this cluster uses 1024; .*restart "stranger" with partitions=1024$/);
  assert.ok(founder.running);
});

// `shoal dev` starts its nodes with an IPC channel so that a node stops when dev dies. Dev can die
// in the first second of a node's start-up (a Ctrl-C before dev took the signal, a kill): the node
// must still see the channel closed, not only a close that comes after its daemon is up.
test('a node whose supervisor closed its IPC channel while it was starting stops instead of running on alone', { timeout: 180_000 }, async (t) => {
  const [port, peerPort] = await freePorts(2);
  const args = [SHOAL_BIN, 'start', '--port', String(port), '--peer-port', String(peerPort), '--resp-port', '0', '--admin-port', '0', '--data-dir', join(tempDir('shoal-ipc-'), 'node'), '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  for (const stream of [child.stdout!, child.stderr!]) stream.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.disconnect(); // before the node has run a line of its own
  // The bound only catches the node that never stops (it would serve on forever); it is no timing.
  const hang = new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 60_000).unref());
  const outcome = await Promise.race([exited, hang]);
  assert.notEqual(outcome, 'running', `the node still runs 60 s after its supervisor's channel closed:\n${output}`);
  assert.equal(outcome, 0, output);
});
