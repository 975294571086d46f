/**
 * The admin port of a real daemon against careless or hostile HTTP clients.
 *
 * Pipelining: Node's HTTP server starts every request of a read at once, whether or not the client
 * reads the answers, so one connection sending a thousand `GET /metrics` (34 bytes each) made the
 * node render a thousand 30 KB pages in one go. A connection is served at most
 * ADMIN_MAX_REQUESTS_PER_CONNECTION requests; the rest are answered 503 without being run, and the
 * client reconnects, as browsers and Prometheus do on `Connection: close`.
 *
 * Request targets that are not a URL (`GET http://a:99999/status`, an absolute form with a bad
 * port) are a 400 saying so; they were a 500 and an error line with a stack trace.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { ADMIN_MAX_REQUESTS_PER_CONNECTION } from '../../src/admin/server.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess } from './daemon-harness.ts';

const PIPELINED = 1000;

/**
 * Sends `requests` on one connection; resolves with the status of every answer once the node
 * closes it (its keep-alive timeout, 5 s after the last answer, or `Connection: close`). Not
 * half-closed: Node's HTTP server then answers nothing.
 */
function statusesOf(port: number, requests: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(requests));
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (received += d));
    socket.on('close', () => resolve([...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))));
    socket.on('error', reject);
  });
}

let node: DaemonProcess;
let adminPort: number;
before(async () => {
  const [port, peerPort, admin] = await freePorts(3);
  adminPort = admin!;
  node = new DaemonProcess({ name: 'ap1', port: port!, peerPort: peerPort!, adminPort, seeds: [], extra: [] });
  await node.start();
});
after(() => node.stop());

test('one admin connection pipelining a thousand requests gets a bounded number served', async () => {
  const statuses = await statusesOf(adminPort, 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(PIPELINED));
  const served = statuses.filter((s) => s === 200).length;
  assert.equal(served, ADMIN_MAX_REQUESTS_PER_CONNECTION, `pages rendered for one connection (statuses seen: ${new Set(statuses).size})`);
  assert.ok(statuses.slice(served).every((s) => s === 503), 'the rest are refused, not run');
  // The node serves a new connection as before.
  assert.equal((await fetch(`${node.adminUrl}/metrics`)).status, 200);
});

test('a request target that is not a URL is a 400, and nothing is logged as an error', async () => {
  const request = (target: string) => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
  assert.deepEqual(await statusesOf(adminPort, request('http://a:99999/status')), [400]);
  assert.deepEqual(await statusesOf(adminPort, request('*')), [400]);
  // An absolute form that is a URL is served (RFC 9112 3.2.2); `//x` is a path, not a host.
  assert.deepEqual(await statusesOf(adminPort, request('http://127.0.0.1/healthz')), [200]);
  assert.deepEqual(await statusesOf(adminPort, request('//x')), [404]);
  assert.equal((await fetch(`${node.adminUrl}/healthz`)).status, 200);
  assert.deepEqual(node.logs.filter((l) => (l.level as number) >= 50), [], 'no error lines');
});
