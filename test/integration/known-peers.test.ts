/**
 * A node restarted with the flags it was first started with rejoins its cluster
 * (src/daemon/known-peers.ts). The first node of a cluster has no --seeds (docs/DEPLOY.md); it
 * used to found a new one-member cluster at every restart, serve every key as absent and
 * acknowledge writes alone until gossip merged it back. And a whole cluster stopped and started
 * again, every node remembering the others, still forms one cluster.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, stringCodec } from '../../src/client/index.ts';
import { TestCluster, until } from './daemon-harness.ts';

test('the first node, restarted without seeds, rejoins its cluster instead of founding one', async (t) => {
  const cluster = await TestCluster.create(3);
  t.after(() => cluster.cleanup());
  await cluster.startAll();
  await cluster.untilConverged();
  const [n1, n2, n3] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0], typeof cluster.nodes[0]];
  assert.deepEqual(n1.spec.seeds, [], 'n1 is started without seeds, as the first node of a cluster is');
  const client = await connect({ seeds: [n2.clientAddress, n3.clientAddress], codec: stringCodec, consistency: 'quorum', commandTimeoutMs: 10_000 });
  t.after(() => client.close());
  await client.set('before', 'v1');
  // A graceful stop saves the members the node knows (and a running node every 2 s).
  assert.equal(await n1.stop(), 0);
  await n1.start();
  const joinedWith = await until('n1 to join', async () => {
    const status = await n1.status();
    return status.joined ? status.members.filter((m) => m.state === 'alive').map((m) => m.name).sort() : undefined;
  }, 60_000, 50);
  assert.deepEqual(joinedWith, ['n1', 'n2', 'n3'], 'n1 joined its cluster, not a cluster of its own');

  // Every node stopped, then all started again: they remember each other and form one cluster.
  for (const node of cluster.nodes) assert.equal(await node.stop(), 0);
  await Promise.all(cluster.nodes.map((node) => node.start()));
  await cluster.untilConverged();
});
