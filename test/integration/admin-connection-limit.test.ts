/**
 * The admin port of a real daemon counts its connections, as the SDK and RESP ports do, under
 * --admin-max-clients (the SDK and RESP ports: --max-clients) and --max-clients-per-address (each
 * listener has its own count). Before, any number of idle connections was held (a probe of 2,000
 * idle connections from one address: all held); then up to --max-clients, 10,000 at defaults.
 * A connection over a limit is answered HTTP 503 with the limit's text at once, before it sends
 * anything, and closed; over HTTPS it is answered a TLS alert, internal_error (a 503 would need a handshake).
 * It is logged once a minute per address. Loopback has many addresses (127.0.0.2, 127.0.0.3), so
 * one test can be several clients.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { writeDevCertificates } from '../../src/security/dev-certs.ts';
import { DaemonProcess, tempDir, until } from './daemon-harness.ts';

interface Answer {
  status: number;
  body: string;
}

/** GET /status from `from` (a loopback address) on a new connection, over HTTPS with `tls`: the answer. */
function getStatus(port: number, from: string, tls = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, localAddress: from, path: '/status', headers: { connection: 'close' }, rejectUnauthorized: false };
    const req = (tls ? httpsRequest : request)(options, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A connection from `from` that sends nothing (connected: the kernel accepted it; the node takes them in order). */
function idleConnection(port: number, from: string, t: { after: (f: () => unknown) => void }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from }, () => resolve(socket));
    socket.on('error', reject);
    t.after(() => socket.destroy());
  });
}

const PER_ADDRESS = 3;
const TOTAL = 5;
const TRIES = 20;
/** --admin-max-clients's default. */
const ADMIN_DEFAULT_MAX = 256;

test('idle admin connections count against --max-clients-per-address and --admin-max-clients; one over is told so and closed', async (t) => {
  const [port, peerPort, admin] = await freePorts(3);
  const node = new DaemonProcess({
    name: 'acl1',
    port: port!,
    peerPort: peerPort!,
    adminPort: admin!,
    seeds: [],
    extra: ['--admin-max-clients', String(TOTAL), '--max-clients-per-address', String(PER_ADDRESS)],
  });
  t.after(() => node.stop());
  await node.start();

  const idle: Socket[] = [];
  for (let i = 0; i < PER_ADDRESS; i++) idle.push(await idleConnection(admin!, '127.0.0.1', t));
  for (let i = 0; i < TRIES; i++) {
    const refused = await getStatus(admin!, '127.0.0.1');
    assert.equal(refused.status, 503, `one address over --max-clients-per-address (try ${i})`);
    assert.match(refused.body, /max number of clients reached for address 127\.0\.0\.1 \(3, --max-clients-per-address\)/);
  }
  assert.equal((await getStatus(admin!, '127.0.0.2')).status, 200, 'another address is served');

  idle.push(await idleConnection(admin!, '127.0.0.2', t), await idleConnection(admin!, '127.0.0.2', t));
  const full = await getStatus(admin!, '127.0.0.3');
  assert.equal(full.status, 503, 'the port holds --admin-max-clients connections');
  assert.match(full.body, /max number of clients reached \(5, --admin-max-clients\)/);

  // A closed connection frees its place (the node sees the close in its own time).
  idle.shift()!.destroy();
  await until('a place on the admin port', async () => ((await getStatus(admin!, '127.0.0.3')).status === 200 ? true : undefined), 10_000);

  // Lines come out in order: once 127.0.0.3's is in, every 127.0.0.1 line is too.
  const refusals = (address: string) => node.logs.filter((l) => String(l.msg).startsWith('refused an admin connection') && l.remote === address);
  await until("127.0.0.3's refusal line", () => (refusals('127.0.0.3').length > 0 ? true : undefined), 10_000);
  const lines = refusals('127.0.0.1');
  assert.equal(lines.length, 1, `${TRIES} refusals from one address make one line a minute: ${JSON.stringify(lines)}`);
  assert.equal(lines[0]!.level, 40, 'warn');
});

test('at defaults the admin port holds 256 connections (--admin-max-clients), not --max-clients', async (t) => {
  const [port, peerPort, admin] = await freePorts(3);
  const node = new DaemonProcess({ name: 'acl3', port: port!, peerPort: peerPort!, adminPort: admin!, seeds: [], extra: [] });
  t.after(() => node.stop());
  await node.start();
  // Spread over a few loopback addresses, as Prometheus, probes and browsers would be.
  for (let i = 0; i < ADMIN_DEFAULT_MAX; i++) await idleConnection(admin!, `127.0.0.${1 + (i % 4)}`, t);
  const refused = await getStatus(admin!, '127.0.0.5');
  assert.equal(refused.status, 503, `admin connection number ${ADMIN_DEFAULT_MAX + 1} is refused at defaults (--max-clients is 10000)`);
  assert.match(refused.body, /max number of clients reached \(256, --admin-max-clients\) on the admin port/);
});

test('over HTTPS a connection over the limit is answered a TLS internal_error alert, and logged', async (t) => {
  const [port, peerPort, admin] = await freePorts(3);
  const certs = await writeDevCertificates(tempDir('shoal-admin-limit-'), ['acl2']);
  const node = new DaemonProcess({
    name: 'acl2',
    port: port!,
    peerPort: peerPort!,
    adminPort: admin!,
    seeds: [],
    extra: ['--tls-cert', certs.nodes.acl2!.cert, '--tls-key', certs.nodes.acl2!.key, '--max-clients-per-address', '1'],
  });
  t.after(() => node.stop());
  await node.start();
  const idle = await idleConnection(admin!, '127.0.0.1', t);
  // Before, closed unanswered: ECONNRESET, a network failure to the client (curl: SSL_ERROR_SYSCALL).
  await assert.rejects(getStatus(admin!, '127.0.0.1', true), (error: NodeJS.ErrnoException) => error.code === 'EPROTO' && /alert internal error/.test(error.message));
  await until('the refusal line', () => (node.logs.some((l) => String(l.msg).startsWith('refused an admin connection from 127.0.0.1: max number of clients reached for address')) ? true : undefined), 10_000);
  idle.destroy();
  await until('a place on the admin port', async () => ((await getStatus(admin!, '127.0.0.1', true).catch(() => null))?.status === 200 ? true : undefined), 10_000);
});
