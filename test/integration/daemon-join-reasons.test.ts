/**
 * `shoal start` processes that cannot join say why: a node whose seed is down reports it in
 * `shoal status --json` and its log and keeps retrying until the seed is up; a node started with
 * another `--cluster` than its seed's exits 2 with the reason, and the seed logs it and lists it
 * as refused in its status.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import type { NodeStatus } from '../../src/protocol/index.ts';
import { DaemonProcess, runShoal, until } from './daemon-harness.ts';

async function statusJson(node: DaemonProcess): Promise<NodeStatus> {
  const { status, stdout, stderr } = await runShoal(['status', '--node', node.clientAddress, '--json']);
  assert.equal(status, 0, stderr);
  return JSON.parse(stdout) as NodeStatus;
}

const messages = (node: DaemonProcess): string[] => node.logs.map((l) => String(l.msg));

test('a node whose seed is unreachable says so in status and its log, keeps retrying, and joins once the seed is up', { timeout: 180_000 }, async (t) => {
  const [port, peerPort, seedPort, seedPeerPort] = await freePorts(4);
  const seedAddress = `127.0.0.1:${seedPeerPort}`;
  const joiner = new DaemonProcess({ name: 'joiner', port: port!, peerPort: peerPort!, seeds: [seedAddress], extra: [] });
  const seed = new DaemonProcess({ name: 'seed', port: seedPort!, peerPort: seedPeerPort!, seeds: [], extra: [] });
  t.after(() => {
    joiner.kill('SIGKILL');
    seed.kill('SIGKILL');
  });
  await joiner.start();
  const expected = `seeds unreachable: ${seedAddress} (connection refused)`;
  const status = await until('the joiner to report its unreachable seed', async () => {
    const s = await statusJson(joiner);
    return s.joining?.waitingFor === expected ? s : undefined;
  }, 30_000, 200);
  assert.equal(status.joined, false);
  const text = await runShoal(['status', '--node', joiner.clientAddress]);
  assert.match(text.stdout, new RegExp(`still joining\\nwaiting for: seeds unreachable: ${seedAddress.replace(/\./g, '\\.')} \\(connection refused\\)\\n`));
  await until('the joiner to log what it waits for', () => (messages(joiner).includes(`still joining; waiting for: ${expected}`) ? true : undefined), 30_000);

  // Still retrying: once the seed is up, it joins.
  await seed.start();
  const joined = await until('the joiner to join', async () => {
    const s = await statusJson(joiner);
    return s.joined ? s : undefined;
  }, 30_000, 200);
  assert.equal(joined.joining, null);
  assert.deepEqual(joined.members.map((m) => [m.name, m.state]), [['joiner', 'alive'], ['seed', 'alive']]);
  await until('the seed to log the joiner', () => (messages(seed).includes('peer joiner joined') ? true : undefined), 10_000);
});

test('a node started with another --cluster than its seed exits 2 saying so; the seed logs it and shows it as refused', { timeout: 180_000 }, async (t) => {
  const [port, peerPort, otherPort, otherPeerPort] = await freePorts(4);
  const founder = new DaemonProcess({ name: 'founder', port: port!, peerPort: peerPort!, seeds: [], extra: ['--cluster', 'prod'] });
  const stranger = new DaemonProcess({ name: 'stranger', port: otherPort!, peerPort: otherPeerPort!, seeds: [founder.peerAddress], extra: ['--cluster', 'dev'] });
  t.after(() => {
    founder.kill('SIGKILL');
    stranger.kill('SIGKILL');
  });
  await founder.start();
  await stranger.start();
  assert.equal(await stranger.exited(), 2, stranger.stderr);
  const founderPeer = founder.peerAddress.replace(/\./g, '\\.');
  assert.match(
    stranger.stderr,
    new RegExp(
      `^shoal start: cannot join the cluster of ${founderPeer}: seed ${founderPeer} \\(node founder\\) belongs to cluster "prod", this node to cluster "dev" ` +
        `\\(cluster names must match\\); start this node with --cluster prod, or give it --seeds of cluster "dev"\\n$`,
    ),
  );
  assert.ok(messages(stranger).some((m) => m.startsWith(`cannot join: seed ${founder.peerAddress} (node founder) belongs to cluster "prod"`)), messages(stranger).join('\n'));
  const refusing = `refusing node stranger at ${stranger.peerAddress}: it belongs to cluster "dev", this node to cluster "prod" (cluster names must match)`;
  assert.ok(messages(founder).includes(refusing), messages(founder).join('\n'));

  const status = await statusJson(founder);
  assert.equal(status.joined, true);
  assert.deepEqual(
    status.members.map((m) => [m.name, m.state, m.reason]),
    [['founder', 'alive', undefined], ['stranger', 'refused', 'it belongs to cluster "dev", this node to cluster "prod" (cluster names must match)']],
  );
  assert.ok(founder.running);
});
