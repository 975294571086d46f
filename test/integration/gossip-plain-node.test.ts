/**
 * A node started without a gossip key against a keyed cluster (real processes): it used to say
 * only "no answer from seeds" while the members did not list it at all. Now the member lists it
 * as refused in `shoal status` (it sends unsealed messages), and the notice the member answers
 * it with tells the plain node why, in its own status. Waits poll status, bounded.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { keyIdHex } from '../../src/security/keyring.ts';
import { DaemonProcess, runShoal, until } from './daemon-harness.ts';

test('a node without a gossip key is listed as refused by a keyed member, and is told to give --gossip-key-file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-plain-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = randomBytes(32);
  const keyPath = join(dir, 'g.key');
  writeFileSync(keyPath, `${key.toString('base64')}\n`, { mode: 0o600 });
  const [port1, peer1, port2, peer2] = await freePorts(4);
  const keyed = new DaemonProcess({ name: 'keyed', port: port1!, peerPort: peer1!, seeds: [], extra: ['--gossip-key-file', keyPath] });
  const plain = new DaemonProcess({ name: 'plain', port: port2!, peerPort: peer2!, seeds: [`127.0.0.1:${peer1}`], extra: [] });
  t.after(() => Promise.all([keyed.stop(5000), plain.stop(5000)]));
  await keyed.start();
  await plain.start();

  const told = await until('the plain node to say why nobody answers', async () => {
    const waiting = (await plain.status()).joining?.waitingFor;
    return waiting?.includes('--gossip-key-file') === true ? waiting : undefined;
  }, 30_000, 200);
  assert.match(told, new RegExp(`^peers \\(127\\.0\\.0\\.1:${peer1}\\) encrypt node-to-node traffic \\(key id ${keyIdHex(key)}\\) and reject this node's, which is not encrypted: start it with --gossip-key-file`));

  const refused = await until('the keyed node to list the plain one as refused', async () => (await keyed.status()).members.find((m) => m.state === 'refused' && m.address === plain.peerAddress), 30_000, 200);
  assert.match(refused.reason ?? '', /^sends unsealed messages: it runs without gossip encryption \(\d+ messages? rejected\); start it with --gossip-key-file/);
  const shown = await runShoal(['status', '--node', keyed.clientAddress]);
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`${plain.peerAddress.replaceAll('.', '\\.')} \\(${plain.peerAddress.replaceAll('.', '\\.')}\\) is refused: sends unsealed messages`));
  assert.ok(!(await keyed.status()).members.some((m) => m.name === 'plain'), 'the plain node never became a member');
});
