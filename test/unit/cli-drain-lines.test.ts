// What `shoal drain` and `shoal undrain` print (src/cli/drain.ts; probe s18, F8): an undrain says
// the node serves again only once it owns partitions and none is catching up, and --no-wait on an
// undrain prints no drain progress for a node that is not draining.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { follow, noWaitLine, PIPED_LINE_INTERVAL_MS, progressLine } from '../../src/cli/drain.ts';
import type { DrainStatus, NodeStatus } from '../../src/protocol/index.ts';

function status(owned: number, catchingUp: number, drain?: DrainStatus): NodeStatus {
  const member = { name: 'n2', address: 'n2:1', clientAddress: 'n2:0', zone: '', state: 'alive', incarnation: 1, partitions: owned, primaries: 0 };
  return {
    node: 'n2', cluster: 'c', zone: '', version: '1', uptimeMs: 0, joined: true, joining: null, ringVersion: 'v', partitions: 1024, replicas: 3, readQuorum: 2, writeQuorum: 2,
    held: owned, catchingUp, toHandOff: 0, clientConnections: 0, members: [member], ...(drain ? { drain } : {}),
  };
}

test('an undrain is "taking its share back" until the node owns partitions and has caught them up', () => {
  const lines = [status(0, 0), status(1024, 1024), status(1024, 0)].map((s, i) => progressLine(s, 'undrain', i * 1000));
  assert.deepEqual(lines, [
    'n2 is taking its share back: it owns no partitions yet (0s)',
    'n2 is taking its share back: owns 1024 partitions, 1024 still catching up (1s)',
    'n2 serves again: owns 1024 partitions, caught up (2s)',
  ]);
  const drained = { state: 'drained', partitionsAtStart: 10, partitionsLeft: 0, keysHandedOff: 5, bytesHandedOff: 50, elapsedMs: 1000 };
  assert.match(progressLine(status(0, 0, drained), 'undrain', 0), /^n2 is drained: /, 'the drain still in force says so');
});

test('--no-wait: an undrain answered "serving" prints no drain progress; a drain prints its progress', () => {
  const serving = { state: 'serving', partitionsAtStart: 0, partitionsLeft: 0, keysHandedOff: 0, bytesHandedOff: 0, elapsedMs: 0 };
  const line = noWaitLine('n4', 'undrain', serving);
  assert.doesNotMatch(line, /partitions moved|handed off/);
  assert.match(line, /^n4 is not draining: it takes its share of partitions back/);
  const draining = { state: 'draining', partitionsAtStart: 10, partitionsLeft: 10, keysHandedOff: 0, bytesHandedOff: 0, elapsedMs: 0 };
  assert.equal(noWaitLine('n4', 'drain', draining), 'n4 is draining: 0 of 10 partitions moved, 0 keys (0 B) handed off, 10 left after 0.0 s');
});

/**
 * A drain followed to the end, one status per poll (500 ms of a fake clock apart): 20 polls stuck
 * at 341 partitions left (only the node's clock moves), then 20 polls moving 10 partitions each,
 * then drained. Returns the lines printed, each with the fake time it was printed at.
 */
async function followDrain(isTTY: boolean): Promise<{ atMs: number; line: string }[]> {
  let now = 0;
  let poll = 0;
  const printed: { atMs: number; line: string }[] = [];
  const statuses: DrainStatus[] = [];
  for (let i = 0; i < 20; i++) statuses.push({ state: 'draining', partitionsAtStart: 1024, partitionsLeft: 341, keysHandedOff: 900, bytesHandedOff: 9000, elapsedMs: 1000 + i * 500 });
  for (let i = 0; i < 20; i++) statuses.push({ state: 'draining', partitionsAtStart: 1024, partitionsLeft: 331 - 10 * i, keysHandedOff: 1000 + i, bytesHandedOff: 10_000, elapsedMs: 11_000 + i * 500 });
  statuses.push({ state: 'drained', partitionsAtStart: 1024, partitionsLeft: 0, keysHandedOff: 2000, bytesHandedOff: 20_000, elapsedMs: 30_000 });
  const done = await follow('drain', 600_000, false, {
    status: async () => status(0, 0, statuses[Math.min(poll++, statuses.length - 1)]),
    address: 'n2:0',
    sleep: async (ms) => void (now += ms),
    now: () => now,
    stdout: { isTTY, write: (text: string) => printed.push({ atMs: now, line: text.trimEnd() }) },
    stderr: { write: () => assert.fail('no timeout') },
  });
  assert.ok(done);
  return printed;
}

test('shoal drain prints a line when the progress moves, not when only its clock does; to a pipe at most every few seconds (probe-cli F9e)', async () => {
  const tty = await followDrain(true);
  assert.equal(tty.filter((p) => / 341 left /.test(p.line)).length, 1, 'the 20 polls stuck at 341 left print one line');
  assert.equal(tty.length, 1 + 20 + 1, 'a terminal sees every change, and the end');
  assert.match(tty.at(-1)!.line, /^n2 is drained: /);

  const piped = await followDrain(false);
  assert.equal(piped.filter((p) => / 341 left /.test(p.line)).length, 1);
  for (let i = 1; i < piped.length - 1; i++) assert.ok(piped[i]!.atMs - piped[i - 1]!.atMs >= PIPED_LINE_INTERVAL_MS, JSON.stringify(piped));
  assert.ok(piped.length < tty.length, 'fewer lines than on a terminal');
  assert.match(piped.at(-1)!.line, /^n2 is drained: /, 'the end is always printed');
});

test('Ctrl-C while following a drain stops following and says the drain goes on, with how to undo it', async () => {
  let now = 0;
  let polls = 0;
  const err: string[] = [];
  const draining = { state: 'draining', partitionsAtStart: 1024, partitionsLeft: 500, keysHandedOff: 0, bytesHandedOff: 0, elapsedMs: 0 };
  const io = {
    status: async () => (polls++, status(0, 0, draining)),
    address: 'n2:0',
    sleep: async (ms: number) => void (now += ms),
    now: () => now,
    stdout: { isTTY: true, write: () => true },
    stderr: { write: (text: string) => err.push(text) },
    interrupted: () => polls >= 3, // the user presses Ctrl-C during the third poll's wait
  };
  assert.equal(await follow('drain', 600_000, false, io), 'interrupted');
  assert.equal(polls, 3, 'no poll after the Ctrl-C');
  assert.deepEqual(err, ['\nshoal drain: stopped following; the drain of n2 goes on (`shoal undrain n2` gives its share back); `shoal status --node n2:0` shows its progress\n']);
  err.length = 0;
  polls = 0;
  assert.equal(await follow('undrain', 600_000, false, { ...io, status: async () => (polls++, status(0, 0)) }), 'interrupted');
  assert.deepEqual(err, ['\nshoal undrain: stopped following; n2 goes on taking its share back; `shoal status --node n2:0` shows its progress\n']);
});
