/**
 * The admin port's yes/no query parameters (`/ring?partitions=`, `/hotkeys?local=`,
 * `/stats?local=`): true/1 and false/0, absent is false, anything else a 400 that says so. A real
 * admin server on a loopback port of the system's choosing, with the routes over fixed sources.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startAdminServer, type AdminServer } from '../../src/admin/server.ts';
import { hotKeysRoutes } from '../../src/admin/hot-keys-route.ts';
import { statsRoutes } from '../../src/admin/stats-routes.ts';
import { nodeRoutes } from '../../src/admin/status-routes.ts';
import { silentLogger } from '../../src/runtime/env.ts';
import type { NodeStatus } from '../../src/protocol/index.ts';
import type { TopologySnapshot } from '../../src/replication/api.ts';

const topology = {
  version: 'v1', partitions: 2, replicas: 1,
  nodes: [{ name: 'a', clientAddress: 'h:1', zone: 'z' }],
  owners: [['a'], ['a']],
} as unknown as TopologySnapshot;

let server: AdminServer;
before(async () => {
  server = await startAdminServer({
    host: '127.0.0.1',
    port: 0,
    tls: null,
    log: silentLogger,
    acl: null,
    authGuard: null,
    origins: { allowed: null, ownHosts: ['127.0.0.1'] },
    connectionLimits: { maxConnections: 100, maxPerAddress: 0 },
    routes: [
      ...nodeRoutes({ status: () => ({ members: [] }) as unknown as NodeStatus, topology: () => topology, draining: () => false }),
      ...hotKeysRoutes({ local: () => ({ from: 'local' }), cluster: async () => ({ from: 'cluster' }) }),
      ...statsRoutes({ node: 'a', analytics: () => null, cluster: async () => ({ from: 'cluster' }) }),
    ],
  });
});
after(() => server.close());

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test('yes/no query parameters take true, false, 1 or 0; anything else is a 400 naming the parameter', async () => {
  for (const [value, ranges] of [['1', true], ['true', true], ['0', false], ['false', false]] as const) {
    const r = await get(`/ring?partitions=${value}`);
    assert.equal(r.status, 200, value);
    assert.equal('ranges' in r.body, ranges, value);
  }
  assert.equal('ranges' in (await get('/ring')).body, false, 'absent: no preference lists');
  assert.deepEqual((await get('/hotkeys?local=true')).body, { from: 'local' });
  assert.deepEqual((await get('/hotkeys?local=0')).body, { from: 'cluster' });
  assert.deepEqual((await get('/stats?local=false')).body, { from: 'cluster' });
  for (const path of ['/ring?partitions=maybe', '/ring?partitions', '/hotkeys?local=yes', '/stats?local=on']) {
    const r = await get(path);
    const name = path.includes('partitions') ? 'partitions' : 'local';
    assert.equal(r.status, 400, path);
    assert.match(String(r.body.error), new RegExp(`^${name} must be true, false, 1 or 0, got "`), path);
  }
});
