/**
 * The at-rest key rotation docs/SECURITY.md gives, on a real daemon with users, a gossip keyring
 * and a disk tier: start under key 1; restart with key 2 first and key 1 after it; restart with
 * key 2 alone. The restart in the middle re-seals the users and keyring files under key 2, so the
 * last start works (it used to exit 2 on acl.sealed) with the users intact. The disk tier is not
 * re-sealed at start (its size in writes): the middle start says at warn that regions are still
 * under key 1, and the last one that it dropped them for a key the node lacks, naming both key
 * ids (it used to say "corruptRegions" at info).
 *
 * Waits are for log lines and replies, bounded by the harness's timeouts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { keyIdOf } from '../../src/security/sealed-file.ts';
import { DaemonProcess, until } from './daemon-harness.ts';
import { RawConnection } from './resp-raw.ts';

/** Values of 1000 bytes: 3000 are three times the node's memory, so most go to the disk tier. */
const KEYS = 3000;
const VALUE = 'v'.repeat(1000);

test('at-rest key rotation as documented: new key first, restart, old key removed; the node starts and keeps its users', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-rotation-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [key1, key2, gossip] = ['11', '22', '33'].map((byte) => byte.repeat(32));
  const [id1, id2] = [key1!, key2!].map((hex) => Buffer.from(keyIdOf(Buffer.from(hex, 'hex'))).toString('hex'));
  const keyFile = (name: string, ...keys: string[]): string => {
    const path = join(dir, name);
    writeFileSync(path, `${keys.join('\n')}\n`, { mode: 0o600 });
    return path;
  };
  const files = { old: keyFile('d1.key', key1!), both: keyFile('d21.key', key2!, key1!), fresh: keyFile('d2.key', key2!), gossip: keyFile('g.key', gossip!) };
  const dataDir = join(dir, 'data');
  const diskDir = join(dir, 'disk');
  const [port, peerPort, respPort] = await freePorts(3);
  const node = new DaemonProcess({ name: 'rot1', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: [] });
  t.after(() => node.stop());
  const startWith = async (keyFilePath: string): Promise<void> => {
    node.spec.extra = ['--data-dir', dataDir, '--disk-dir', diskDir, '--disk-size', '8mib', '--max-memory', '1mib', '--stop-mode', 'restart', '--gossip-key-file', files.gossip, '--data-key-file', keyFilePath];
    await node.start();
  };
  const recovered = () => until('the disk tier read back', () => node.logs.find((l) => l.event === 'disk-recovered'), 60_000, 50);
  const warnings = (event: string) => node.logs.filter((l) => l.event === event && l.level === 40);
  const sealedWith = (file: string): string => readFileSync(join(dataDir, file)).subarray(8, 16).toString('hex');

  // 1. Under key 1: a user, and values that overflow memory into the disk tier.
  await startWith(files.old);
  await recovered();
  const admin = await RawConnection.open(respPort!);
  assert.equal(await admin.command(['ACL', 'SETUSER', 'rotuser', 'on', '>rot-pw', '~*', '+@all']), '+OK\r\n');
  for (let i = 0; i < KEYS; i++) admin.send(['SET', `k:${i}`, VALUE]);
  for (let i = 0; i < KEYS; i++) assert.equal(await admin.read(`SET k:${i}`), '+OK\r\n');
  admin.close();
  assert.equal(await node.stop(), 0);
  assert.deepEqual([sealedWith('acl.sealed'), sealedWith('keyring.sealed')], [id1, id1]);
  // Every file a node keeps is its user's alone, the disk tier's too.
  for (const file of [join(dataDir, 'acl.sealed'), join(dataDir, 'keyring.sealed'), join(diskDir, 'tier.shoal')]) assert.equal(statSync(file).mode & 0o777, 0o600, file);

  // 2. Key 2 first, key 1 after it: the files are sealed again under key 2 at start.
  await startWith(files.both);
  const summary = await recovered();
  assert.ok((summary.entries as number) > 0, 'the disk tier held entries under key 1');
  assert.deepEqual([sealedWith('acl.sealed'), sealedWith('keyring.sealed')], [id2, id2]);
  const resealed = node.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('re-sealed'));
  assert.deepEqual(resealed.map((l) => [l.fromKeyId, l.primaryKeyId]), [[id1, id2], [id1, id2]], 'the users file and the keyring');
  const older = warnings('disk-key-older');
  assert.equal(older.length, 1, JSON.stringify(node.logs.filter((l) => l.level === 40)));
  assert.equal(older[0]!.keyId, id1);
  assert.match(String(older[0]!.msg), new RegExp(`still sealed with at-rest key ${id1}, not the primary ${id2}: .*a start without key ${id1} drops their entries`));
  assert.equal(await node.stop(), 0);

  // 3. Key 2 alone: the node starts, its users are there; the disk tier's key-1 regions are dropped, and it says why.
  await startWith(files.fresh);
  const last = await recovered();
  assert.deepEqual([last.entries, last.corruptRegions], [0, 0]);
  const missing = warnings('disk-key-missing');
  assert.equal(missing.length, 1);
  assert.deepEqual([missing[0]!.keyId, missing[0]!.keyIds], [id1, [id2]]);
  assert.match(String(missing[0]!.msg), new RegExp(`sealed with at-rest key ${id1}, which is not among this node's at-rest keys \\(${id2}\\): their entries are dropped`));
  const user = await RawConnection.open(respPort!);
  t.after(() => user.close());
  assert.equal(await user.command(['AUTH', 'rotuser', 'rot-pw']), '+OK\r\n');
});
