/**
 * /healthz and /readyz on the client port: on a client server over a MemoryKv (drain and close,
 * driven step by step), and on real `shoal start` processes (joining, joined, a second node).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { freePorts } from '../../src/daemon/ports.ts';
import { CLIENT_ENDPOINT_PATH } from '../../src/protocol/index.ts';
import { startNode } from './client-helpers.ts';
import { DaemonProcess, until } from './daemon-harness.ts';

async function get(address: string, path: string, method = 'GET'): Promise<{ code: number; body: Record<string, unknown> | null }> {
  const response = await fetch(`http://${address}${path}`, { method, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { code: response.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
}

/** The HTTP status of a WebSocket upgrade to the client endpoint: 101 when taken, else the refusal's code. */
function upgradeStatus(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://${address}${CLIENT_ENDPOINT_PATH}`);
    socket.once('upgrade', () => {
      socket.terminate();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  });
}

test('client server: health answers, other paths and methods, drain then close', async (t) => {
  const node = await startNode();
  t.after(() => node.server.close({ graceMs: 0 }));

  assert.deepEqual(await get(node.address, '/healthz'), { code: 200, body: { alive: true } });
  assert.deepEqual(await get(node.address, '/readyz?verbose=1'), { code: 200, body: { ready: true, reason: 'serving' } });
  assert.deepEqual(await get(node.address, '/readyz', 'HEAD'), { code: 200, body: null });
  const post = await get(node.address, '/healthz', 'POST');
  assert.equal(post.code, 405);
  const missing = await get(node.address, '/metrics');
  assert.equal(missing.code, 404);
  assert.match(String(missing.body?.error), /\/shoal, \/healthz and \/readyz/);
  assert.equal((await get(node.address, CLIENT_ENDPOINT_PATH)).code, 426);
  assert.equal(await upgradeStatus(node.address), 101);

  // Draining: still alive, no longer ready, and no new WebSocket connections.
  await node.server.drain({ graceMs: 0 });
  assert.equal((await get(node.address, '/healthz')).code, 200);
  const draining = await get(node.address, '/readyz');
  assert.equal(draining.code, 503);
  assert.match(String(draining.body?.reason), /^stopping/);
  assert.equal(await upgradeStatus(node.address), 503);

  // Closed: the port is gone.
  await node.server.close();
  await assert.rejects(get(node.address, '/healthz'));
});

test('shoal start: live at once, ready only once joined; a node whose seeds never answer stays not ready', async (t) => {
  const [p1, pp1, p2, pp2, p3, pp3, nobody] = await freePorts(7);
  const seed = new DaemonProcess({ name: 'h1', port: p1!, peerPort: pp1!, seeds: [], extra: [] });
  const joiner = new DaemonProcess({ name: 'h2', port: p2!, peerPort: pp2!, seeds: [`127.0.0.1:${pp1}`], extra: [] });
  const lonely = new DaemonProcess({ name: 'h3', port: p3!, peerPort: pp3!, seeds: [`127.0.0.1:${nobody}`], extra: [] });
  t.after(() => Promise.all([seed, joiner, lonely].map((n) => n.stop(5000))));

  await lonely.start();
  assert.equal((await get(lonely.clientAddress, '/healthz')).code, 200);
  const notReady = await get(lonely.clientAddress, '/readyz');
  assert.equal(notReady.code, 503);
  assert.match(String(notReady.body?.reason), /^joining: waiting for /);
  assert.equal((await lonely.status()).joined, false, 'readyz agrees with status');

  await seed.start();
  await until('the founding node to be ready', async () => ((await get(seed.clientAddress, '/readyz')).code === 200 ? true : undefined), 120_000, 200);
  await joiner.start();
  const ready = await until('the joining node to be ready', async () => {
    const r = await get(joiner.clientAddress, '/readyz');
    return r.code === 200 ? r : undefined;
  }, 120_000, 200);
  assert.match(String(ready.body?.reason), /^serving: holds \d+ partition replicas/);
  const status = await joiner.status();
  assert.ok(status.joined && status.catchingUp === 0, 'ready means joined and caught up');

  // Still not ready: its seeds never answered, whatever the others do.
  assert.equal((await get(lonely.clientAddress, '/readyz')).code, 503);
  assert.equal(await joiner.stop(), 0, 'a graceful stop after serving probes');
});
