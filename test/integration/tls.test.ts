/**
 * TLS with real processes: a node started with --tls-* is reached by the SDK, `shoal status`,
 * `redis-cli --tls` and ioredis when they trust its CA, and refused when they do not; with
 * --client-tls-client-auth require, a client without a certificate is refused; a node whose
 * certificate comes from another CA cannot join (mutual TLS on the peer port); certificates
 * replaced on disk and SIGHUP'd are picked up by new connections while a client keeps sending,
 * with no request failing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Redis } from 'ioredis';
import { connect, stringCodec } from '../../src/client/index.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { createDevCa } from '../../src/security/dev-certs.ts';
import type { NodeStatus } from '../../src/protocol/index.ts';
import { writeCertFiles } from './cert-files.ts';
import { DaemonProcess, runShoal, until } from './daemon-harness.ts';

const haveRedisCli = spawnSync('redis-cli', ['--version']).status === 0;

/** The CN of the certificate a new TLS connection to `port` is shown. */
function servedCommonName(port: number, ca: string, own: { cert?: Buffer; key?: Buffer } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...own }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.destroy();
      resolve(String(Array.isArray(cn) ? cn[0] : cn));
    });
    socket.once('error', reject);
  });
}

test('TLS on every port: trusted clients connect, others are refused, a foreign node cannot join, certificates reload under load', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-tls-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await createDevCa('cluster CA');
  const other = await createDevCa('another CA');
  const caFile = join(dir, 'ca.pem');
  const otherCaFile = join(dir, 'other-ca.pem');
  writeFileSync(caFile, ca.cert);
  writeFileSync(otherCaFile, other.cert);
  const node1 = writeCertFiles(dir, 'node1', await ca.issue('node1'));
  const client = writeCertFiles(dir, 'client', await ca.issue('app-client'));
  const strangerFiles = writeCertFiles(dir, 'stranger', await other.issue('stranger'));
  const caPem = ca.cert;

  const [port, peerPort, respPort, sPort, sPeerPort] = await freePorts(5);
  const node = new DaemonProcess({
    name: 'tls1',
    port: port!,
    peerPort: peerPort!,
    respPort: respPort!,
    seeds: [],
    // The SDK port requires client certificates; RESP does not (per-listener override).
    extra: ['--tls-cert', node1.cert, '--tls-key', node1.key, '--tls-ca', caFile, '--client-tls-client-auth', 'require'],
  });
  const stranger = new DaemonProcess({
    name: 'stranger',
    port: sPort!,
    peerPort: sPeerPort!,
    seeds: [node.peerAddress],
    extra: ['--tls-cert', strangerFiles.cert, '--tls-key', strangerFiles.key, '--tls-ca', otherCaFile],
  });
  t.after(() => {
    node.kill('SIGKILL');
    stranger.kill('SIGKILL');
  });
  await node.start();
  assert.ok(node.logs.some((l) => String(l.msg).includes(`clients wss://${node.clientAddress}/shoal`)));

  await t.test('the SDK with the CA and a client certificate works; without the CA, or without a certificate, it is refused', async () => {
    const sdk = await connect({ seeds: [node.clientAddress], codec: stringCodec, tls: { ca: caPem, cert: readFileSync(client.cert), key: readFileSync(client.key) }, reconnect: false });
    await sdk.set('greeting', 'hello');
    assert.equal(await sdk.get('greeting'), 'hello');
    await sdk.close();
    const quick = { codec: stringCodec, reconnect: false as const, connectTimeoutMs: 3000 };
    await assert.rejects(connect({ seeds: [node.clientAddress], ...quick, tls: { cert: readFileSync(client.cert), key: readFileSync(client.key) } }));
    await assert.rejects(connect({ seeds: [`wss://${node.clientAddress}/shoal`], ...quick, tls: { ca: caPem } }));
    await assert.rejects(connect({ seeds: [node.clientAddress], ...quick }));
  });

  await t.test('shoal status takes --tls-ca/--tls-cert/--tls-key', async () => {
    const ok = await runShoal(['status', '--node', node.clientAddress, '--tls-ca', caFile, '--tls-cert', client.cert, '--tls-key', client.key, '--json']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as NodeStatus).node, 'tls1');
    const refused = await runShoal(['status', '--node', node.clientAddress, '--tls-ca', caFile]);
    assert.notEqual(refused.status, 0);
    // Before: "no Shoal node at ... (Unexpected server response: 403) — start one with `npm start`".
    assert.match(refused.stderr, /requires a client certificate: give --tls-cert and --tls-key/);
    const foreign = await runShoal(['status', '--node', node.clientAddress, '--tls-ca', caFile, '--tls-cert', strangerFiles.cert, '--tls-key', strangerFiles.key]);
    assert.notEqual(foreign.status, 0);
    assert.match(foreign.stderr, /refused the client certificate \(--tls-cert\): it must be signed by the node's --tls-ca/);
  });

  await t.test('redis-cli --tls and ioredis with tls reach the RESP port with the CA; without it they are refused', { skip: haveRedisCli ? false : 'redis-cli not installed' }, async () => {
    const cli = (args: string[]) => spawnSync('redis-cli', ['-p', String(respPort), ...args], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(cli(['--tls', '--cacert', caFile, 'PING']).stdout.trim(), 'PONG');
    assert.equal(cli(['--tls', '--cacert', caFile, 'GET', 'greeting']).stdout.trim(), 'hello');
    const untrusted = cli(['--tls', '--cacert', otherCaFile, 'PING']);
    assert.match(untrusted.stdout + untrusted.stderr, /certificate verify failed/);
    assert.notEqual(cli(['PING']).stdout.trim(), 'PONG');
    const redis = new Redis({ port: respPort!, tls: { ca: caPem, servername: 'localhost' }, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await redis.connect();
    assert.equal(await redis.set('k', 'v'), 'OK');
    assert.equal(await redis.get('k'), 'v');
    redis.disconnect();
  });

  await t.test('a node whose certificate is from another CA cannot join: the seed logs the refusal and the stranger stays alone', async () => {
    await stranger.start();
    // The stranger refuses the seed's certificate first (it does not chain to the stranger's CA) and cuts the handshake.
    await until('the seed to log the TLS handshake the stranger cut', () => (node.logs.some((l) => l.remote === '127.0.0.1' && String(l.msg).includes('was closed by that node during the TLS handshake')) ? true : undefined), 30_000);
    await until('the stranger to log why', () => (stranger.logs.some((l) => String(l.msg).startsWith(`cannot dial node ${node.peerAddress} over TLS: certificate verification failed`)) ? true : undefined), 30_000);
    const status = await runShoal(['status', '--node', stranger.clientAddress, '--tls-ca', otherCaFile, '--json']);
    assert.equal(status.status, 0, status.stderr);
    const view = JSON.parse(status.stdout) as NodeStatus;
    assert.equal(view.joined, false);
    assert.deepEqual(view.members.map((m) => m.name), ['stranger']);
    const seedView = await runShoal(['status', '--node', node.clientAddress, '--tls-ca', caFile, '--tls-cert', client.cert, '--tls-key', client.key, '--json']);
    assert.deepEqual((JSON.parse(seedView.stdout) as NodeStatus).members.map((m) => m.name), ['tls1']);
    stranger.kill('SIGKILL');
  });

  await t.test('certificates replaced on disk and SIGHUP: new connections get the new one, a client sending all along loses no request', async () => {
    assert.equal(await servedCommonName(respPort!, caPem), 'node1');
    const sdk = await connect({ seeds: [node.clientAddress], codec: stringCodec, tls: { ca: caPem, cert: readFileSync(client.cert), key: readFileSync(client.key) } });
    let sent = 0;
    let failed = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        try {
          await sdk.set(`k${sent % 100}`, String(sent));
          sent++;
        } catch {
          failed++;
        }
      }
    })();
    t.after(async () => {
      running = false;
      await sdk.close();
    });
    await until('some requests', () => (sent > 50 ? true : undefined), 30_000, 10);
    // Replaced as a deploy tool would: new files renamed over the old ones.
    const renewed = await ca.issue('node1-renewed');
    writeFileSync(`${node1.cert}.new`, renewed.cert);
    writeFileSync(`${node1.key}.new`, renewed.key);
    renameSync(`${node1.key}.new`, node1.key);
    renameSync(`${node1.cert}.new`, node1.cert);
    node.kill('SIGHUP');
    await until('the new certificate on new connections', async () => ((await servedCommonName(respPort!, caPem)) === 'node1-renewed' ? true : undefined), 30_000, 100);
    assert.equal(await servedCommonName(port!, caPem, { cert: readFileSync(client.cert), key: readFileSync(client.key) }), 'node1-renewed');
    const atReload = sent;
    await until('more requests after the reload', () => (sent > atReload + 50 ? true : undefined), 30_000, 10);
    running = false;
    await load;
    assert.equal(failed, 0);
    assert.ok(node.running, 'SIGHUP does not stop a TLS node');
    assert.ok(node.logs.some((l) => String(l.msg).startsWith('TLS certificates reloaded')));
    // A fresh SDK connection is shown the new certificate and works.
    const fresh = await connect({ seeds: [node.clientAddress], codec: stringCodec, tls: { ca: caPem, cert: readFileSync(client.cert), key: readFileSync(client.key) }, reconnect: false });
    assert.equal(await fresh.get('greeting'), 'hello');
    await Promise.all([fresh.close(), sdk.close()]);
  });
});
