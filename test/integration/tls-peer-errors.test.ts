/**
 * Node-to-node TLS failures, with real processes and certificates, are logged by the node that
 * saw them, with the other node's address, in words that say what is wrong and what to give:
 *
 * - a joiner whose certificate (from the cluster CA) does not name the address it advertises:
 *   the seed cannot dial it back; the seed says so at warn (the address, the names the
 *   certificate has) and `shoal status` lists it as refused with that reason, where it used to
 *   show a member declared dead and no log line said why.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../src/daemon/ports.ts';
import { createDevCa, type IssuedPem } from '../../src/security/dev-certs.ts';
import type { NodeStatus } from '../../src/protocol/index.ts';
import { DaemonProcess, runShoal, until } from './daemon-harness.ts';

function write(dir: string, name: string, pem: IssuedPem): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  writeFileSync(cert, pem.cert);
  writeFileSync(key, pem.key, { mode: 0o600 });
  return { cert, key };
}

const WARN = 40;
const text = (line: Record<string, unknown>): string => `${String(line.msg)} ${String(line.err ?? '')}`;

test('node-to-node TLS failures are logged with the address and the reason by the node that saw them', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-tls-peer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await createDevCa('cluster CA');
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.cert);
  const seedFiles = write(dir, 'seed', await ca.issue('seed'));
  const wrongNameFiles = write(dir, 'wrongname', await ca.issue('wrongname', ['elsewhere.example']));

  const [port, peerPort, wPort, wPeerPort] = await freePorts(4);
  const seed = new DaemonProcess({ name: 'seed', port: port!, peerPort: peerPort!, seeds: [], extra: ['--tls-cert', seedFiles.cert, '--tls-key', seedFiles.key, '--tls-ca', caFile] });
  const wrongName = new DaemonProcess({ name: 'wrongname', port: wPort!, peerPort: wPeerPort!, seeds: [seed.peerAddress], extra: ['--tls-cert', wrongNameFiles.cert, '--tls-key', wrongNameFiles.key, '--tls-ca', caFile] });
  t.after(() => {
    for (const d of [seed, wrongName]) d.kill('SIGKILL');
  });
  await seed.start();
  const seedStatus = async (): Promise<NodeStatus> => {
    const run = await runShoal(['status', '--node', seed.clientAddress, '--tls-ca', caFile, '--json']);
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout) as NodeStatus;
  };

  await t.test('a certificate that does not name the advertised address: the seed logs it and status says why', async () => {
    await wrongName.start();
    const line = await until(
      'the seed to log that the certificate does not name the address',
      () => seed.logs.find((l) => l.level === WARN && l.peer === wrongName.peerAddress && /does not name 127\.0\.0\.1/.test(text(l))),
      30_000,
    );
    assert.match(text(line), /elsewhere\.example/, 'the line lists the names the certificate has');
    const listed = await until('status to list the joiner as refused, with the reason', async () => {
      const member = (await seedStatus()).members.find((m) => m.name === 'wrongname');
      return member?.state === 'refused' ? member : undefined;
    }, 30_000, 250);
    assert.match(listed.reason ?? '', /certificate does not name 127\.0\.0\.1.*elsewhere\.example/);
    wrongName.kill('SIGKILL');
  });
});
