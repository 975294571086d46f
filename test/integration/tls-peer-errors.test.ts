/**
 * Node-to-node TLS failures, with real processes and certificates, are logged by the node that
 * saw them, with the other node's address, in words that say what is wrong and what to give:
 *
 * - a joiner whose certificate (from the cluster CA) does not name the address it advertises:
 *   the seed cannot dial it back; the seed says so at warn (the address, the names the
 *   certificate has) and `shoal status` lists it as refused with that reason, where it used to
 *   show a member declared dead and no log line said why; the joiner no longer claims it
 *   "refused a node connection" (it is the one refused);
 * - a joiner without TLS: it hints that the seed may need TLS on the peer port, and the seed says
 *   a node connected without TLS (where it logged OpenSSL's raw text);
 * - a joiner with a certificate of another CA: the seed's line names the address that connected.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../src/daemon/ports.ts';
import { createDevCa } from '../../src/security/dev-certs.ts';
import type { NodeStatus } from '../../src/protocol/index.ts';
import { writeCertFiles } from './cert-files.ts';
import { DaemonProcess, runShoal, until } from './daemon-harness.ts';

const WARN = 40;
const text = (line: Record<string, unknown>): string => `${String(line.msg)} ${String(line.err ?? '')}`;

test('node-to-node TLS failures are logged with the address and the reason by the node that saw them', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-tls-peer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await createDevCa('cluster CA');
  const other = await createDevCa('another CA');
  const caFile = join(dir, 'ca.pem');
  const otherCaFile = join(dir, 'other-ca.pem');
  writeFileSync(caFile, ca.cert);
  writeFileSync(otherCaFile, other.cert);
  const seedFiles = writeCertFiles(dir, 'seed', await ca.issue('seed'));
  const wrongNameFiles = writeCertFiles(dir, 'wrongname', await ca.issue('wrongname', ['elsewhere.example']));
  const strangerFiles = writeCertFiles(dir, 'stranger', await other.issue('stranger'));

  const [port, peerPort, wPort, wPeerPort, pPort, pPeerPort, sPort, sPeerPort] = await freePorts(8);
  const seed = new DaemonProcess({ name: 'seed', port: port!, peerPort: peerPort!, seeds: [], extra: ['--tls-cert', seedFiles.cert, '--tls-key', seedFiles.key, '--tls-ca', caFile] });
  const wrongName = new DaemonProcess({ name: 'wrongname', port: wPort!, peerPort: wPeerPort!, seeds: [seed.peerAddress], extra: ['--tls-cert', wrongNameFiles.cert, '--tls-key', wrongNameFiles.key, '--tls-ca', caFile] });
  const plain = new DaemonProcess({ name: 'plain', port: pPort!, peerPort: pPeerPort!, seeds: [seed.peerAddress], extra: [] });
  const stranger = new DaemonProcess({ name: 'stranger', port: sPort!, peerPort: sPeerPort!, seeds: [seed.peerAddress], extra: ['--tls-cert', strangerFiles.cert, '--tls-key', strangerFiles.key, '--tls-ca', otherCaFile] });
  t.after(() => {
    for (const d of [seed, wrongName, plain, stranger]) d.kill('SIGKILL');
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
    // The joiner's side: the seed closed its dial-back during the handshake; the joiner did not refuse anyone.
    const joinerLine = await until('the joiner to log the handshake its seed cut', () => wrongName.logs.find((l) => l.level === WARN && typeof l.remote === 'string' && /TLS handshake/.test(text(l))), 30_000);
    assert.match(text(joinerLine), /did not accept this node's certificate/);
    assert.ok(!wrongName.logs.some((l) => l.msg === 'refused a node connection: TLS handshake failed'));
    wrongName.kill('SIGKILL');
  });

  await t.test('a node without TLS: it hints that the seed may need TLS; the seed says a node connected without TLS, and from where', async () => {
    await plain.start();
    const hint = await until('the plain joiner to report its seed with a TLS hint', async () => {
      const status = await plain.status();
      const waiting = status.joining?.waitingFor ?? '';
      return /TLS/.test(waiting) ? waiting : undefined;
    }, 30_000, 250);
    assert.match(hint, new RegExp(`${seed.peerAddress} \\(.*may require TLS on its peer port.*--tls-cert`));
    const line = await until('the seed to log the plain connection', () => seed.logs.find((l) => l.level === WARN && /without TLS/.test(text(l))), 30_000);
    assert.equal(line.remote, '127.0.0.1');
    assert.ok(!seed.logs.some((l) => /ssl3_get_record|\n/.test(text(l))), 'no raw OpenSSL text in the seed log');
    plain.kill('SIGKILL');
  });

  await t.test('a certificate from another CA: the seed names the address, the stranger says the seed does not chain to its CA', async () => {
    await stranger.start();
    const seedLine = await until('the seed to log the handshake the stranger cut', () => seed.logs.find((l) => l.level === WARN && l.remote === '127.0.0.1' && /did not accept this node's certificate/.test(text(l))), 30_000);
    assert.ok(!/socket hang up/.test(String(seedLine.msg)));
    const strangerLine = await until('the stranger to log why it cannot dial the seed', () => stranger.logs.find((l) => l.level === WARN && l.peer === seed.peerAddress), 30_000);
    assert.match(text(strangerLine), /does not chain to/);
    stranger.kill('SIGKILL');
  });
});
