/**
 * The admin port of a real daemon against one connection that pipelines many requests: Node's
 * HTTP server starts every request of a read at once, whether or not the client reads the
 * answers, so one connection sending a thousand `GET /metrics` (34 bytes each) made the node
 * render a thousand 30 KB pages in one go. A connection is served at most
 * ADMIN_MAX_REQUESTS_PER_CONNECTION requests; the rest are answered 503 without being run, and
 * the client reconnects, as browsers and Prometheus do on `Connection: close`.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { ADMIN_MAX_REQUESTS_PER_CONNECTION } from '../../src/admin/server.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess } from './daemon-harness.ts';

const PIPELINED = 1000;

/**
 * Sends `count` pipelined requests for `path` on one connection; resolves with the status of every
 * answer once the node closes it (its keep-alive timeout, 5 s after the last answer). Not
 * half-closed: Node's HTTP server then answers nothing.
 */
function pipeline(port: number, path: string, count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`.repeat(count)));
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (received += d));
    socket.on('close', () => resolve([...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))));
    socket.on('error', reject);
  });
}

test('one admin connection pipelining a thousand requests gets a bounded number served', async (t) => {
  const [port, peerPort, adminPort] = await freePorts(3);
  const node = new DaemonProcess({ name: 'ap1', port: port!, peerPort: peerPort!, adminPort: adminPort!, seeds: [], extra: [] });
  t.after(() => node.stop());
  await node.start();

  const statuses = await pipeline(adminPort!, '/metrics', PIPELINED);
  const served = statuses.filter((s) => s === 200).length;
  assert.equal(served, ADMIN_MAX_REQUESTS_PER_CONNECTION, `pages rendered for one connection (statuses seen: ${new Set(statuses).size})`);
  assert.ok(statuses.slice(served).every((s) => s === 503), 'the rest are refused, not run');
  // The node serves a new connection as before.
  assert.equal((await fetch(`${node.adminUrl}/metrics`)).status, 200);
});
