/**
 * The SDK against real nodes, TLS failing: the error `connect()` rejects with names the TLS
 * reason in its message (a CA that does not sign the node's certificate, a `servername` the
 * certificate does not name, a node without TLS dialed with it, a TLS node dialed without), not
 * only "no node answered" with the reason hidden in `cause`. A failure that a retry cannot cure
 * (the certificate is checked the same way every time) rejects at once: the connect timeout here
 * is a day, so waiting it out would hang the test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, ConnectionError, stringCodec } from '../../src/client/index.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { createDevCa } from '../../src/security/dev-certs.ts';
import { writeCertFiles } from './cert-files.ts';
import { DaemonProcess, until } from './daemon-harness.ts';
import { WebSocket } from 'ws';
import { CLIENT_ENDPOINT_PATH } from '../../src/protocol/limits.ts';

const DAY_MS = 86_400_000;

async function connectError(options: Parameters<typeof connect>[0]): Promise<ConnectionError> {
  try {
    const client = await connect(options);
    await client.close();
  } catch (error) {
    assert.ok(error instanceof ConnectionError, `a ConnectionError, got ${String(error)}`);
    return error;
  }
  assert.fail('connect() resolved');
}

test('SDK: a TLS failure is named in the error, and a certain one does not wait out the connect timeout', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-sdk-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await createDevCa('cluster CA');
  const other = await createDevCa('another CA');
  const node1 = writeCertFiles(dir, 'node1', await ca.issue('node1'));
  const [port, peerPort, plainPort, plainPeerPort] = await freePorts(4);
  const node = new DaemonProcess({ name: 'sdk-tls', port: port!, peerPort: peerPort!, seeds: [], extra: ['--tls-cert', node1.cert, '--tls-key', node1.key] });
  const plainNode = new DaemonProcess({ name: 'sdk-plain', port: plainPort!, peerPort: plainPeerPort!, seeds: [], extra: [] });
  t.after(() => {
    node.kill('SIGKILL');
    plainNode.kill('SIGKILL');
  });
  await Promise.all([node.start(), plainNode.start()]);

  await t.test('the right CA connects', async () => {
    const client = await connect({ seeds: [node.clientAddress], codec: stringCodec, tls: { ca: ca.cert } });
    await client.set('k', 'v');
    assert.equal(await client.get('k'), 'v');
    await client.close();
  });

  await t.test('a CA that did not sign the node certificate: certificate verification failed, at once', async () => {
    const error = await connectError({ seeds: [node.clientAddress], codec: stringCodec, tls: { ca: other.cert }, connectTimeoutMs: DAY_MS });
    assert.match(error.message, new RegExp(`${node.clientAddress}.*failed: certificate verification failed: its certificate does not chain to a CA trusted here \\(unable to verify the first certificate\\).*tls\\.ca`));
    assert.doesNotMatch(error.message, /no node answered/);
  });

  await t.test('a servername the certificate does not name: wrong host, at once', async () => {
    const error = await connectError({ seeds: [node.clientAddress], codec: stringCodec, tls: { ca: ca.cert, servername: 'elsewhere.example' }, connectTimeoutMs: DAY_MS });
    assert.match(error.message, /certificate does not name elsewhere\.example.*names it has: DNS:localhost, IP Address:127\.0\.0\.1/);
  });

  await t.test('TLS to a node without TLS: it does not speak TLS, at once', async () => {
    const error = await connectError({ seeds: [plainNode.clientAddress], codec: stringCodec, tls: { ca: ca.cert }, connectTimeoutMs: DAY_MS });
    assert.match(error.message, new RegExp(`TLS with node ${plainNode.clientAddress} failed: it does not speak TLS.*drop \`tls\``));
  });

  await t.test('no TLS to a TLS node: after the timeout (a cut handshake may pass), with the hint', async () => {
    const error = await connectError({ seeds: [node.clientAddress], codec: stringCodec, connectTimeoutMs: 1500 });
    assert.match(error.message, /no node answered within 1500 ms.*may require TLS.*`tls`/);
  });

  await t.test('one seed failing TLS and one answering: the client connects', async () => {
    const client = await connect({ seeds: [plainNode.clientAddress, node.clientAddress], codec: stringCodec, tls: { ca: ca.cert }, connectTimeoutMs: DAY_MS });
    assert.equal(await client.get('k'), 'v');
    await client.close();
  });
});

/** Dials without a certificate by a client that retries in a loop. */
const REDIALS = 20;

test('SDK: a node requiring client certificates that refuses the one shown says so, at once, instead of a hang-up after the connect timeout', { timeout: 120_000 }, async (t) => {
  // Node's TLS server cut such a handshake without a TLS alert: the client saw "socket hang up",
  // waited out connectTimeoutMs and could not tell an expired or foreign certificate from a fault.
  const dir = mkdtempSync(join(tmpdir(), 'shoal-sdk-mtls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await createDevCa('cluster CA');
  const other = await createDevCa('another CA');
  const nodeFiles = writeCertFiles(dir, 'node1', await ca.issue('node1'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.cert);
  const [port, peerPort] = await freePorts(2);
  const node = new DaemonProcess({
    name: 'sdk-mtls',
    port: port!,
    peerPort: peerPort!,
    seeds: [],
    extra: ['--tls-cert', nodeFiles.cert, '--tls-key', nodeFiles.key, '--tls-ca', caFile, '--client-tls-client-auth', 'require'],
  });
  t.after(() => node.kill('SIGKILL'));
  await node.start();
  const good = await ca.issue('client');
  const foreign = await other.issue('client');
  const expired = await ca.issue('client', undefined, -1);

  await t.test('a certificate of the CA connects', async () => {
    const client = await connect({ seeds: [node.clientAddress], codec: stringCodec, tls: { ca: ca.cert, ...good } });
    await client.set('k', 'v');
    assert.equal(await client.get('k'), 'v');
    await client.close();
  });

  await t.test('a certificate of another CA: refused, named, at once', async () => {
    const error = await connectError({ seeds: [node.clientAddress], codec: stringCodec, tls: { ca: ca.cert, ...foreign }, connectTimeoutMs: DAY_MS });
    assert.match(error.message, new RegExp(`^TLS with node ${node.clientAddress} failed: it refused the client certificate \\(HTTP 403 to the WebSocket upgrade.*\`tls\\.cert\` must be signed by a CA the node trusts`));
  });

  await t.test('an expired certificate of the CA: refused, named, at once', async () => {
    const error = await connectError({ seeds: [node.clientAddress], codec: stringCodec, tls: { ca: ca.cert, ...expired }, connectTimeoutMs: DAY_MS });
    assert.match(error.message, /failed: it refused the client certificate \(HTTP 403 to the WebSocket upgrade.*not expired/);
  });

  await t.test('no certificate: it requires one, at once', async () => {
    const error = await connectError({ seeds: [node.clientAddress], codec: stringCodec, tls: { ca: ca.cert }, connectTimeoutMs: DAY_MS });
    assert.match(error.message, /failed: it requires a client certificate and got none.*give `tls\.cert` and `tls\.key`/);
  });

  await t.test('the node logs whom it refused and why', async () => {
    assert.ok(node.logs.some((l) => String(l.msg).includes('refused a client certificate') && String(l.reason).includes('CERT_HAS_EXPIRED')), 'a log line with the verification error');
  });

  await t.test('a client redialing without a certificate makes one line a minute per reason, not one per dial', async () => {
    for (let i = 0; i < REDIALS; i++) await connectError({ seeds: [node.clientAddress], codec: stringCodec, tls: { ca: ca.cert }, connectTimeoutMs: DAY_MS });
    // A line logged after them (the node writes its log in order): once it is in, they all are.
    await new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(`wss://${node.clientAddress}${CLIENT_ENDPOINT_PATH}`, { ca: ca.cert, ...good });
      socket.on('open', () => socket.send(new Uint8Array([0xc1])));
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    await until('the malformed-frame line', () => node.logs.find((l) => l.msg === 'closing client connection' && l.code === 'malformed-frame'), 10_000);
    const reasons = node.logs.filter((l) => String(l.msg).startsWith('refused a client certificate')).map((l) => String(l.reason));
    assert.equal(reasons.length, new Set(reasons).size, `one line per reason: ${JSON.stringify(reasons)}`);
  });
});
