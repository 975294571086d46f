/**
 * Discovery as orchestrators need it, with real `shoal start` processes on loopback: seeds given
 * as a DNS name (`localhost`, resolved by the system resolver) join whichever node starts first,
 * and `--advertise-host` is the address peers and clients are given for a node, not the one it
 * binds. (Re-resolution as DNS answers change is covered with a scripted resolver in
 * test/unit/daemon-seeds.test.ts and in the simulator in test/sim/node-seed-source.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, until } from './daemon-harness.ts';

/** Two nodes, each seeded with the other's peer port under the name `localhost`. */
async function pair(extraA: string[] = []): Promise<[DaemonProcess, DaemonProcess]> {
  const [portA, peerA, portB, peerB] = await freePorts(4);
  const a = new DaemonProcess({ name: 'a', port: portA!, peerPort: peerA!, seeds: [`localhost:${peerB}`], extra: extraA });
  const b = new DaemonProcess({ name: 'b', port: portB!, peerPort: peerB!, seeds: [`localhost:${peerA}`], extra: [] });
  return [a, b];
}

async function untilBothJoined(nodes: DaemonProcess[]): Promise<void> {
  await until(
    'both nodes to join and see each other alive',
    async () => {
      for (const node of nodes) {
        const s = await node.status();
        if (!s.joined || s.members.filter((m) => m.state === 'alive').length !== 2) return undefined;
      }
      return true;
    },
    120_000,
    200,
  );
}

for (const first of [0, 1]) {
  test(`nodes whose seed is a DNS name join each other, ${first === 0 ? 'a' : 'b'} started first`, { timeout: 180_000 }, async (t) => {
    const nodes = await pair();
    t.after(() => nodes.forEach((n) => n.kill('SIGKILL')));
    const [early, late] = first === 0 ? nodes : [nodes[1], nodes[0]];
    await early.start();
    // Alone, it waits for the address the name resolved to (its peer is not up yet).
    const waiting = await until(
      `${early.spec.name} to say what it waits for`,
      async () => (await early.status()).joining?.waitingFor ?? undefined,
      60_000,
      100,
    );
    assert.match(waiting, new RegExp(`127\\.0\\.0\\.1:${late.spec.peerPort}`), 'the name is resolved to an address');
    assert.equal((await early.status()).joined, false);
    await late.start();
    await untilBothJoined(nodes);
    assert.ok(
      early.logs.some((l) => String(l.msg).startsWith(`seeds now stand for: 127.0.0.1:${late.spec.peerPort}`)),
      `the resolved seeds are logged:\n${early.logs.map((l) => l.msg).join('\n')}`,
    );
  });
}

test('--advertise-host is the address peers dial and clients are given; --host stays the bind address', { timeout: 180_000 }, async (t) => {
  const nodes = await pair(['--host', '127.0.0.1', '--advertise-host', 'localhost']);
  const [a, b] = nodes;
  t.after(() => nodes.forEach((n) => n.kill('SIGKILL')));
  await Promise.all([a.start(), b.start()]);
  await untilBothJoined(nodes);
  for (const viewer of nodes) {
    const members = (await viewer.status()).members;
    const seenA = members.find((m) => m.name === 'a')!;
    assert.equal(seenA.address, `localhost:${a.spec.peerPort}`, `${viewer.spec.name} sees a at its advertised peer address`);
    assert.equal(seenA.clientAddress, `localhost:${a.spec.port}`, `${viewer.spec.name} gives clients a's advertised client address`);
    const seenB = members.find((m) => m.name === 'b')!;
    assert.equal(seenB.address, b.peerAddress, 'b advertises its --host');
  }
  const ready = a.logs.find((l) => String(l.msg).startsWith('node a ready'));
  assert.match(String(ready?.msg), new RegExp(`clients ws://localhost:${a.spec.port}/shoal, peers localhost:${a.spec.peerPort}`));
});
