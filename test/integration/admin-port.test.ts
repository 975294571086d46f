/**
 * The admin port (src/admin) of a real daemon: health probes, /status and /ring as JSON, an index
 * of paths on 404, 405 for writes, and HTTP Basic credentials once the default user has a password.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from 'redis';
import { freePorts } from '../../src/daemon/ports.ts';
import { DaemonProcess } from './daemon-harness.ts';

test('the admin port serves probes, status and ring, and asks for credentials once the default user has a password', async (t) => {
  const [port, peerPort, respPort, adminPort] = await freePorts(4);
  const node = new DaemonProcess({ name: 'a1', port: port!, peerPort: peerPort!, respPort: respPort!, adminPort: adminPort!, seeds: [], extra: [] });
  t.after(() => node.stop());
  await node.start();
  const base = node.adminUrl!;
  assert.ok(node.logs.some((l) => String(l.msg).includes(`admin http://127.0.0.1:${adminPort}/`)), 'the ready line names the admin address');

  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  const ready = await fetch(`${base}/readyz`);
  assert.ok(ready.status === 200 || ready.status === 503);
  assert.ok(typeof ((await ready.json()) as { reason: string }).reason === 'string');
  const status = (await (await fetch(`${base}/status`)).json()) as { node: string };
  assert.equal(status.node, 'a1');
  const ring = (await (await fetch(`${base}/ring?partitions=1`)).json()) as { partitions: number; nodes: { name: string; state: string }[]; ranges: unknown[] };
  assert.equal(ring.partitions, 1024);
  assert.deepEqual(ring.nodes.map((n) => [n.name, n.state]), [['a1', 'alive']]);
  assert.ok(ring.ranges.length >= 1);

  const missing = await fetch(`${base}/nope`);
  assert.equal(missing.status, 404);
  assert.ok('/status' in ((await missing.json()) as { paths: Record<string, string> }).paths, 'a 404 lists the paths');
  assert.equal((await fetch(`${base}/status`, { method: 'POST' })).status, 405);

  // A password on the default user closes everything but the probes.
  const redis = createClient({ socket: { host: '127.0.0.1', port: respPort! } });
  redis.on('error', () => {}); // the node stops at the end of the test
  await redis.connect();
  await redis.sendCommand(['ACL', 'SETUSER', 'watcher', 'on', '>watch-pass', '-@all', '+info']);
  await redis.sendCommand(['ACL', 'SETUSER', 'reader', 'on', '>read-pass', '+@read', '~*']);
  await redis.sendCommand(['ACL', 'SETUSER', 'root', 'on', '>root-pass', '+@all', '~*']);
  await redis.sendCommand(['AUTH', 'root', 'root-pass']);
  const basic = (user: string, password: string) => ({ headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } });
  // Anonymous clients allowed a little, with no password: not the admin port's key names.
  await redis.sendCommand(['ACL', 'SETUSER', 'default', '-@all', '+get', 'resetkeys', '~public:*']);
  const anonymous = await fetch(`${base}/hotkeys`);
  assert.equal(anonymous.status, 401, 'the default user may not run INFO, so it may not read the admin port');
  assert.equal((await fetch(`${base}/hotkeys`, basic('watcher', 'watch-pass'))).status, 200);
  await redis.sendCommand(['ACL', 'SETUSER', 'default', 'resetpass', '>root-pass']);
  redis.destroy();
  assert.equal((await fetch(`${base}/healthz`)).status, 200, 'probes stay open');
  const refused = await fetch(`${base}/status`);
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get('www-authenticate') ?? '', /^Basic /);
  assert.equal((await fetch(`${base}/status`, basic('watcher', 'wrong'))).status, 401);
  // Authenticated but not allowed: 403, with no challenge (a browser would ask again forever).
  const forbidden = await fetch(`${base}/status`, basic('reader', 'read-pass'));
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.headers.get('www-authenticate'), null);
  assert.match(((await forbidden.json()) as { error: string }).error, /needs INFO/);
  assert.equal((await fetch(`${base}/status`, basic('watcher', 'watch-pass'))).status, 200);
});
