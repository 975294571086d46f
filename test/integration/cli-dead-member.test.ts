/**
 * `shoal ring` and `shoal status` against a real cluster with a dead member: the ring names the
 * dead member's state (it keeps its place in the ring while it is dead, and was shown as if
 * nothing were wrong), and the status shows the hints the coordinator holds for it and its store
 * against its memory budget.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, stringCodec } from '../../src/client/index.ts';
import type { NodeStatus } from '../../src/protocol/index.ts';
import { runShoal, TestCluster, until } from './daemon-harness.ts';

test('shoal ring shows a dead member as dead, and shoal status the hints held for it', { timeout: 180_000 }, async (t) => {
  const cluster = await TestCluster.create(3, [], { admin: true });
  t.after(() => cluster.cleanup());
  await cluster.startAll();
  await cluster.untilConverged();
  const [n1, , n3] = cluster.nodes;
  n3!.kill('SIGKILL');
  await n3!.exited();
  await cluster.untilSeenDead(n3!);

  // n1 coordinates every write (the client knows only n1); N=3 over 3 members puts n3 in every
  // preference list, so each write leaves n1 a hint for it.
  const client = await connect({ seeds: [n1!.clientAddress], codec: stringCodec, routing: false });
  t.after(() => client.close());
  let written = 0;
  const held = await until('n1 to hold hints for n3', async () => {
    for (let i = 0; i < 10; i++) await client.set(`dead-member:${written++}`, 'v', { consistency: 'quorum' });
    const status = await n1!.status();
    return (status.hints?.held ?? 0) > 0 ? status.hints!.held : undefined;
  }, 60_000);
  assert.ok(held > 0);

  const at = ['--node', n1!.clientAddress];
  const status = await runShoal(['status', ...at]);
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /\nhints held here: [1-9]\d* \(\d+(\.\d)? (B|KiB|MiB)\) for owners that missed writes/);
  const json = JSON.parse((await runShoal(['status', ...at, '--json'])).stdout) as NodeStatus;
  assert.ok((json.hints?.held ?? 0) > 0, 'status --json carries the hints too');
  // n1 holds a replica of every key written: its store's line counts them against its budget.
  assert.match(status.stdout, /\nmemory: \d+(\.\d)? (B|KiB|MiB) of \d+\.\d MiB \(\d+%\) in [1-9]\d* entr(y|ies), eviction policy wtinylfu; nothing evicted yet\n/);
  assert.ok((json.memory?.entries ?? 0) > 0 && (json.memory?.maxBytes ?? 0) > 0, 'status --json carries the memory too');

  const ring = await runShoal(['ring', ...at]);
  assert.equal(ring.status, 0, ring.stderr);
  assert.match(ring.stdout, /\nNODE\s+STATE\s+ZONE\s/);
  assert.match(ring.stdout, /\nn1\s+alive\s/);
  assert.match(ring.stdout, /\nn3\s+dead\s/, 'the dead member is named dead');
  const ringJson = JSON.parse((await runShoal(['ring', ...at, '--json'])).stdout) as { nodes: { name: string; state?: string }[] };
  assert.deepEqual(ringJson.nodes.map((n) => [n.name, n.state]), [['n1', 'alive'], ['n2', 'alive'], ['n3', 'dead']]);
});
