/**
 * Gossip encryption with real processes (issue 14): nodes with the cluster key form a cluster; a
 * node with another key cannot join and both sides say why; the key is rotated (install -> use ->
 * remove, through `shoal keyring`) while one node is down, and that node, restarted with only the
 * old key, is told what to do and recovers with `shoal keyring install --primary --only`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../src/daemon/ports.ts';
import { keyIdHex } from '../../src/security/keyring.ts';
import { DaemonProcess, TestCluster, runShoal, until } from './daemon-harness.ts';

function keyFile(dir: string, name: string): { path: string; id: string } {
  const key = randomBytes(32);
  const path = join(dir, name);
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600 });
  return { path, id: keyIdHex(key) };
}

test('a wrong key cannot join; rotation with a node down; the node recovers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-keyring-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const k1 = keyFile(dir, 'k1.key');
  const k2 = keyFile(dir, 'k2.key');
  const wrong = keyFile(dir, 'wrong.key');
  const cluster = await TestCluster.create(3, ['--gossip-key-file', k1.path], { resp: true });
  t.after(() => Promise.all(cluster.nodes.map((n) => n.stop(5000))));
  await cluster.startAll();
  await cluster.untilConverged(60_000);
  const [n1, n2, n3] = cluster.nodes as [DaemonProcess, DaemonProcess, DaemonProcess];
  assert.ok(n1.logs.some((l) => l.msg === 'gossip encryption on' && l.primaryKeyId === k1.id));

  // --peer at a node's other ports (the client port's HTTP refusal, the Redis port's RESP): named as not a peer port, not as unreachable.
  for (const wrongPort of [n1.clientAddress, n1.respAddress!]) {
    const r = await runShoal(['keyring', 'list', '--peer', wrongPort, '--key-file', k1.path]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`^shoal keyring: ${wrongPort} is not a node's node-to-node port: it answered, but not as one \\(.*\\), .*point --peer at its --peer-port .*\n$`));
  }

  // A node with another key hears nothing it can open.
  const [port, peerPort] = await freePorts(2);
  const intruder = new DaemonProcess({ name: 'intruder', port: port!, peerPort: peerPort!, seeds: [n1.peerAddress], extra: ['--gossip-key-file', wrong.path] });
  t.after(() => intruder.stop(5000));
  await intruder.start();
  const told = await until('the intruder to say it cannot open its peers', async () => {
    const s = await intruder.status();
    return s.joining?.waitingFor.includes(k1.id) ? s.joining.waitingFor : undefined;
  }, 30_000, 200);
  assert.match(told, /lacks/);
  await until('n1 to show the intruder as refused', async () => ((await n1.status()).members.some((m) => m.state === 'refused' && m.address === intruder.peerAddress && m.reason?.includes(wrong.id)) ? true : undefined), 30_000, 200);
  assert.ok(!(await n1.status()).members.some((m) => m.name === 'intruder'), 'the intruder never became a member');
  await intruder.stop(5000);

  // Rotation while n3 is down.
  n3.kill('SIGKILL');
  await n3.exited();
  // Members that do not answer within --timeout are reported as such.
  const admin = ['--peer', n1.peerAddress, '--key-file', k1.path, '--timeout', '500ms'];
  const install = await runShoal(['keyring', 'install', '--new-key-file', k2.path, ...admin, '--json']);
  const results = JSON.parse(install.stdout) as { node: string; ok: boolean; error?: string }[];
  assert.deepEqual(results.filter((r) => r.ok).map((r) => r.node).sort(), [n1.peerAddress, n2.peerAddress].sort(), install.stderr);
  assert.match(results.find((r) => r.node === n3.peerAddress)?.error ?? '', /no answer/);
  assert.equal(install.status, 1, 'a member that did not answer fails the command');
  for (const args of [['use', k2.id], ['remove', k1.id]]) {
    if (args[0] === 'remove') {
      // Between use and remove the nodes open the old key but answer under the new one: the
      // command says why it cannot read the answer, not that nobody answered.
      const old = await runShoal(['keyring', 'list', '--peer', n1.peerAddress, '--key-file', k1.path]);
      assert.equal(old.status, 1, old.stdout + old.stderr);
      assert.match(old.stderr, new RegExp(`^shoal keyring: ${n1.peerAddress} answered under key id ${k2.id} \\(its primary\\), which .*k1\\.key lacks, so the answer cannot be read; see it with: shoal keyring list .*\\n$`));
      // A mistyped id is installed nowhere: nothing is removed, and the command says so.
      const typo = await runShoal(['keyring', 'remove', '0123456789abcdef', '--peer', n2.peerAddress, '--key-file', k2.path, '--timeout', '500ms']);
      assert.equal(typo.status, 1, typo.stdout + typo.stderr);
      assert.match(typo.stdout, new RegExp(`${n1.peerAddress}\\s+ok \\(was not installed\\)`), typo.stdout);
      assert.match(typo.stderr, /^shoal keyring: key 0123456789abcdef is not installed on any node that answered, so nothing was removed/);
    }
    const r = await runShoal(['keyring', ...args, '--peer', n2.peerAddress, '--key-file', k2.path, '--timeout', '500ms']);
    assert.match(r.stdout, new RegExp(`${n1.peerAddress}\\s+ok`), r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`${n2.peerAddress}\\s+ok\\s+(\\S+ )?\\*${k2.id}`), r.stdout);
  }
  // Sealed under a key the node no longer has: it says so with a notice, and the command reports that at once.
  const removed = await runShoal(['keyring', 'list', '--peer', n1.peerAddress, '--key-file', k1.path]);
  assert.equal(removed.status, 1, removed.stdout + removed.stderr);
  assert.match(removed.stderr, new RegExp(`^shoal keyring: ${n1.peerAddress} cannot open the request: it has none of the keys in .*k1\\.key \\(it seals under key id ${k2.id}\\)`));

  // n3 comes back with only the old key: it is told what to do.
  await n3.start();
  const hint = await until('n3 to say it lacks the new key', async () => {
    const s = await n3.status();
    return s.joining?.waitingFor.includes(k2.id) ? s.joining.waitingFor : undefined;
  }, 30_000, 200);
  assert.match(hint, /shoal keyring install/);
  await until('n3 to log the hint', () => (n3.logs.some((l) => typeof l.msg === 'string' && l.msg.includes('shoal keyring install')) ? true : undefined), 10_000, 100);
  const recover = await runShoal(['keyring', 'install', '--new-key-file', k2.path, '--primary', '--only', '--peer', n3.peerAddress, '--key-file', k1.path]);
  assert.equal(recover.status, 0, recover.stdout + recover.stderr);
  await cluster.untilConverged(60_000);
  const cleanup = await runShoal(['keyring', 'remove', k1.id, '--peer', n1.peerAddress, '--key-file', k2.path, '--json']);
  assert.equal(cleanup.status, 0, cleanup.stdout + cleanup.stderr);
  const after = JSON.parse(cleanup.stdout) as { node: string; keys: { id: string }[] }[];
  assert.equal(after.length, 3);
  for (const r of after) assert.deepEqual(r.keys.map((k) => k.id), [k2.id]);
});
