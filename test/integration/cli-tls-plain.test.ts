/**
 * A TLS client pointed at a node that runs without TLS (a real daemon): `shoal status --tls-ca`
 * and `shoal acl --redis rediss://` used to tell the user to give the CA it had just given,
 * quoting OpenSSL's "wrong version number" with a newline inside. They now say the port does not
 * speak TLS, in one line.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { createDevCa } from '../../src/security/dev-certs.ts';
import { DaemonProcess, runShoal } from './daemon-harness.ts';

test('shoal status and shoal acl with TLS against a plain node say it does not speak TLS', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-tls-plain-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, (await createDevCa()).cert);
  const [port, peerPort, respPort] = await freePorts(3);
  const node = new DaemonProcess({ name: 'plain-tls', port: port!, peerPort: peerPort!, respPort: respPort!, seeds: [], extra: [] });
  t.after(() => node.stop());
  await node.start();

  const [status, acl] = await Promise.all([
    runShoal(['status', '--node', node.clientAddress, '--tls-ca', ca]),
    runShoal(['acl', 'list', '--redis', `rediss://127.0.0.1:${respPort}`, '--tls-ca', ca]),
  ]);
  assert.equal(status.status, 1);
  assert.match(status.stderr, new RegExp(`^shoal status: ${node.clientAddress} does not speak TLS: the TLS handshake got a plain answer; drop --tls-ca / SHOAL_TLS_CA \\(and wss://\\) to talk to it without TLS, or point --node at a node that uses TLS\\n$`));
  assert.equal(acl.status, 1);
  assert.match(acl.stderr, new RegExp(`^shoal acl: rediss://127\\.0\\.0\\.1:${respPort} does not speak TLS: the TLS handshake got a plain answer; give --redis redis://HOST:PORT or HOST:PORT \\(no --tls-ca / SHOAL_TLS_CA\\) for a Redis port without TLS\\n$`));
});
