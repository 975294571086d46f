/**
 * The admin port's cluster-wide views (/hotkeys, /stats, the dashboard's /dashboard/cluster) on a
 * cluster with TLS on every port, client certificates required on the client listener (and so on
 * the admin port, which shares its settings) and a password on the default user: the other member
 * is asked over the node-to-node channel (src/daemon/member-ask.ts) and answers, where asking its
 * client or admin port without a certificate or credential would have been refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { freePorts } from '../../src/daemon/ports.ts';
import { createDevCa } from '../../src/security/dev-certs.ts';
import { writeCertFiles } from './cert-files.ts';
import { DaemonProcess, until } from './daemon-harness.ts';

test('/hotkeys, /stats and the dashboard read every member on a cluster with TLS, client certificates and a password', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-views-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await createDevCa('cluster CA');
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.cert);
  const client = writeCertFiles(dir, 'client', await ca.issue('watcher'));
  const ports = await freePorts(8);
  const nodes: DaemonProcess[] = [];
  for (let i = 0; i < 2; i++) {
    const files = writeCertFiles(dir, `n${i + 1}`, await ca.issue(`n${i + 1}`));
    nodes.push(
      new DaemonProcess({
        name: `n${i + 1}`,
        port: ports[4 * i]!,
        peerPort: ports[4 * i + 1]!,
        respPort: ports[4 * i + 2]!,
        adminPort: ports[4 * i + 3]!,
        seeds: i === 0 ? [] : [`127.0.0.1:${ports[1]!}`],
        extra: ['--tls-cert', files.cert, '--tls-key', files.key, '--tls-ca', caFile, '--client-tls-client-auth', 'require', '--resp-tls-client-auth', 'none'],
      }),
    );
  }
  t.after(() => Promise.all(nodes.map((n) => n.stop())));
  await nodes[0]!.start();
  await nodes[1]!.start();

  const tlsOptions = { ca: ca.cert, cert: readFileSync(client.cert), key: readFileSync(client.key) };
  let authorization: string | undefined = undefined;
  const get = (path: string): Promise<{ status: number; body: unknown }> =>
    new Promise((resolve, reject) => {
      const headers = authorization === undefined ? {} : { authorization };
      const req = request(`https://127.0.0.1:${nodes[0]!.spec.adminPort!}${path}`, { ...tlsOptions, headers, timeout: 10_000 }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
      });
      req.on('error', reject);
      req.end();
    });
  await until(
    'n1 to see both members alive',
    async () => {
      const { body } = await get('/status');
      const members = (body as { members: { name: string; state: string }[] }).members;
      return members.filter((m) => m.state === 'alive').length === 2 ? true : undefined;
    },
    60_000,
    200,
  );

  // A password on the default user: the admin port now wants credentials of a user allowed INFO.
  const redis = new Redis({ port: nodes[0]!.spec.respPort!, tls: { ca: ca.cert, servername: 'localhost' }, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await redis.connect();
  await redis.call('ACL', 'SETUSER', 'watcher', 'on', '>watch-pass', '-@all', '+info');
  await redis.call('ACL', 'SETUSER', 'default', 'resetpass', '>root-pass');
  redis.disconnect();
  assert.equal((await get('/hotkeys')).status, 401);
  authorization = `Basic ${Buffer.from('watcher:watch-pass').toString('base64')}`;

  const hotKeys = (await get('/hotkeys')).body as { nodes: string[]; unreachable: unknown[] };
  assert.deepEqual(hotKeys.unreachable, []);
  assert.deepEqual(hotKeys.nodes, ['n1', 'n2']);

  const stats = (await get('/stats')).body as { cluster: unknown; nodes: Record<string, unknown>; missing: unknown[] };
  assert.deepEqual(stats.missing, []);
  assert.deepEqual(Object.keys(stats.nodes).sort(), ['n1', 'n2']);
  assert.notEqual(stats.cluster, null);
  assert.equal(((await get('/stats?local=1')).body as { node: string }).node, 'n1');

  const dashboard = (await get('/dashboard/cluster')).body as { members: { name: string; reachable: boolean; error: string | null }[] };
  assert.deepEqual(
    dashboard.members.map((m) => [m.name, m.reachable, m.error]),
    [
      ['n1', true, null],
      ['n2', true, null],
    ],
  );
});
