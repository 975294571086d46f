/**
 * `health` in a node's status (docs/OPERATIONS.md, "Node health"; probe s18, F3): after replica
 * traffic between two real daemons, the status over the client port (the wire, as `shoal status`
 * reads it), `shoal status --json` and the admin port's /status all carry the node's verdict on its
 * peer, its counters, every member's health, its own signals and its prediction.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, stringCodec } from '../../src/client/index.ts';
import type { NodeStatus } from '../../src/protocol/index.ts';
import { runShoal, TestCluster, until } from './daemon-harness.ts';

test('status carries health: peers, counters, members, self and prediction, over the wire, --json and /status', { timeout: 180_000 }, async (t) => {
  const cluster = await TestCluster.create(2, [], { admin: true });
  const nodes = cluster.nodes;
  t.after(() => Promise.all(nodes.map((n) => n.stop())));
  await cluster.startAll();
  await cluster.untilConverged();
  const n1 = nodes[0]!;

  // Writes coordinated by n1 go to n2's replica too: n1's coordinator then has a view of n2.
  const client = await connect({ seeds: n1.clientAddress, codec: stringCodec });
  t.after(() => client.close());
  const withPeer = await until('n1 to have judged n2 from replica answers (and a store tick to have run)', async () => {
    for (let i = 0; i < 20; i++) await client.set(`status-health-${i}`, 'v');
    const s = await n1.status();
    return s.health !== undefined && s.health.peers.some((p) => p.name === 'n2' && p.samples > 0) && s.health.prediction !== null ? s : undefined;
  }, 60_000, 200);

  const check = (s: NodeStatus, how: string) => {
    const h = s.health;
    assert.ok(h, `${how}: no health`);
    assert.equal(h.routing, true, how);
    const peer = h.peers.find((p) => p.name === 'n2');
    assert.ok(peer, `${how}: no verdict on n2`);
    assert.ok(['healthy', 'slow', 'erroring', 'silent'].includes(peer.verdict), how);
    for (const k of ['latencyMs', 'latencyStdDevMs', 'lossRate', 'phi', 'samples'] as const) assert.equal(typeof peer[k], 'number', `${how}: peer.${k}`);
    for (const k of ['demotions', 'recoveries', 'reprobes', 'lost', 'silentTimeouts'] as const) assert.equal(typeof h.counters[k], 'number', `${how}: counters.${k}`);
    assert.deepEqual(h.members.map((m) => m.name).sort(), ['n1', 'n2'], how);
    for (const m of h.members) assert.ok(m.state === 'healthy' || m.state === 'degraded', how);
    assert.equal(typeof h.self.samples, 'number', how);
    for (const k of ['heap', 'eventLoopLag', 'errorRate'] as const) assert.ok('slopePerSecond' in h.self[k], `${how}: self.${k}`);
    assert.ok(h.prediction && h.prediction.probability >= 0 && h.prediction.probability <= 1 && h.prediction.horizonSeconds > 0, how);
  };
  check(withPeer, 'client port (wire)');

  const cli = await runShoal(['status', '--node', n1.clientAddress, '--json']);
  assert.equal(cli.status, 0, cli.stderr);
  check(JSON.parse(cli.stdout) as NodeStatus, 'shoal status --json');

  const response = await fetch(`http://127.0.0.1:${n1.spec.adminPort!}/status`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(response.status, 200);
  check((await response.json()) as NodeStatus, 'admin /status');
});
