/**
 * The admin port of a real daemon against DNS rebinding: a web page re-points its own name at
 * 127.0.0.1, and the visitor's browser, thinking the page same-origin, lets it read /status,
 * /hotkeys (key names) and /metrics of a node on loopback. What the browser cannot change is the
 * Host header, which names the page's host. While the node needs no password, a request that the
 * port would serve without credentials must name the node: no Host (HTTP/1.0), an IP address, a
 * loopback name, the node's --host or --advertise-host, or a host in --allowed-origins. Others get
 * a 403 saying why and what to configure, logged once a minute per address and host. The health
 * probes answer any Host; a node that needs a password asks for it instead (a rebinding page has
 * no credentials for its own name).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess, tempDir, until } from './daemon-harness.ts';

interface Answer {
  status: number;
  body: string;
}

/** GET `path` from the admin port on 127.0.0.1 with `host` as the Host header. */
function getWithHost(port: number, path: string, host: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, connection: 'close', ...headers } }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An HTTP/1.0 request without a Host header (old tools, `printf 'GET /status HTTP/1.0\r\n\r\n' | nc`): its status. */
function statusWithoutHost(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(`GET ${path} HTTP/1.0\r\n\r\n`));
    let received = '';
    socket.setEncoding('latin1').on('data', (d: string) => (received += d));
    socket.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3}) /.exec(received)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}

async function startNode(t: { after: (f: () => unknown) => void }, name: string, extra: string[]): Promise<{ node: DaemonProcess; admin: number }> {
  const [port, peerPort, admin] = await freePorts(3);
  const node = new DaemonProcess({ name, port: port!, peerPort: peerPort!, adminPort: admin!, seeds: [], extra });
  t.after(() => node.stop());
  await node.start();
  return { node, admin: admin! };
}

const refusalLines = (node: DaemonProcess, host: string) => node.logs.filter((l) => String(l.msg).startsWith('refused an admin request') && l.host === host);

const TRIES = 20;

test('an open node serves its own names and IP addresses, and refuses a rebinding page with a 403 logged once', async (t) => {
  const { node, admin } = await startNode(t, 'ah1', []);
  for (const host of [`127.0.0.1:${admin}`, `localhost:${admin}`, `[::1]:${admin}`, 'LOCALHOST', `10.1.2.3:${admin}`, `[fd00::1]:${admin}`]) {
    assert.equal((await getWithHost(admin, '/status', host)).status, 200, host);
  }
  assert.equal(await statusWithoutHost(admin, '/status'), 200, 'no Host header: HTTP/1.0');

  const rebinding = `rebind.example:${admin}`;
  for (const path of ['/status', '/hotkeys', '/metrics', '/', '/dashboard/cluster']) {
    const refused = await getWithHost(admin, path, rebinding);
    assert.equal(refused.status, 403, path);
    assert.match(refused.body, /Host rebind\.example/);
    assert.match(refused.body, /--allowed-origins http:\/\/rebind\.example:\d+/);
  }
  for (let i = 0; i < TRIES; i++) assert.equal((await getWithHost(admin, '/status', rebinding)).status, 403);
  // Health probes answer any name (a load balancer's check by a service name); they show no keys.
  assert.equal((await getWithHost(admin, '/healthz', rebinding)).status, 200);
  // A name that merely contains a local one is not local.
  assert.equal((await getWithHost(admin, '/status', `localhost.rebind.example:${admin}`)).status, 403);

  // Lines come out in order: once the last host's is in, every rebind.example line is too.
  await until('the last refusal line', () => (refusalLines(node, `localhost.rebind.example:${admin}`).length > 0 ? true : undefined), 10_000);
  const lines = refusalLines(node, rebinding);
  assert.equal(lines.length, 1, `${TRIES + 5} refusals from one address and host make one line a minute: ${JSON.stringify(lines)}`);
  assert.equal(lines[0]!.level, 40, 'warn');
  assert.equal(lines[0]!.remote, '127.0.0.1');
  assert.equal((await getWithHost(admin, '/status', `127.0.0.1:${admin}`)).status, 200, 'still serving');
});

test('an open node serves the names it was told: --advertise-host, and hosts of --allowed-origins', async (t) => {
  const { admin } = await startNode(t, 'ah2', ['--advertise-host', 'Shoal-1.Example.Internal', '--allowed-origins', 'http://scrape.example:9090']);
  assert.equal((await getWithHost(admin, '/metrics', `shoal-1.example.internal:${admin}`)).status, 200, '--advertise-host, any case');
  assert.equal((await getWithHost(admin, '/metrics', 'scrape.example:9090')).status, 200, 'an allowed origin');
  assert.equal((await getWithHost(admin, '/metrics', `scrape.example:${admin}`)).status, 403, 'an allowed origin names its port too');
  assert.equal((await getWithHost(admin, '/metrics', `rebind.example:${admin}`)).status, 403);
});

test('a node that needs a password asks for it whatever the Host', async (t) => {
  const file = join(tempDir('shoal-admin-host-'), 'password');
  writeFileSync(file, 'correct horse battery\n', { mode: 0o600 });
  const { admin } = await startNode(t, 'ah3', ['--default-password-file', file]);
  const rebinding = `rebind.example:${admin}`;
  assert.equal((await getWithHost(admin, '/status', rebinding)).status, 401);
  const basic = `Basic ${Buffer.from('default:correct horse battery').toString('base64')}`;
  assert.equal((await getWithHost(admin, '/status', rebinding, { authorization: basic })).status, 200, 'Prometheus with basic_auth, scraping by a DNS name');
});
