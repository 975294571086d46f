// A read-modify-write whose client deadline passed while it waited for a frozen primary is not
// applied when the primary resumes (src/replication/rmw-primary.ts; probe-sdk finding 1): the
// client reported it failed, and applied now it would be versioned after writes acknowledged since.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { KV_SIM_PARTITIONS, KV_SIM_REPLICATION, KV_WORKLOAD_START_MS } from '../../src/sim/scenarios/kv.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { decodeRecord } from '../../src/replication/record.ts';

function setThroughFrozenPrimary(withDeadline: boolean): { answers: unknown[]; held: (string | null)[]; expired: number } {
  const cluster = new KvCluster({ seed: 7, nodes: 3, partitions: KV_SIM_PARTITIONS, replication: KV_SIM_REPLICATION, network: {}, trace: new EventTrace() });
  const { sim } = cluster;
  sim.runUntil(KV_WORKLOAD_START_MS);
  const key = new TextEncoder().encode('late');
  const placement = sim.process(0)!.placement();
  const partition = placement.partitionOfKey(key);
  const owners = placement.owners(partition).map((name) => sim.indexOf(name)!);
  const primary = owners[0]!;
  const coordinator = owners[1]!;
  const answers: unknown[] = [];
  // The primary freezes with the operation on its way to it; the client gives up after 300 ms.
  sim.pause(primary, 2_000);
  const deadlineMs = sim.nodes[coordinator]!.clock.wallMs() + 300;
  sim.process(coordinator)!.keyspace.rmw(
    [key],
    { op: 'set', value: new TextEncoder().encode('late-value'), expiry: { kind: 'none' }, condition: 'always', get: false },
    { requestId: 'late-1', ...(withDeadline ? { deadlineMs } : {}) },
    (error, result) => answers.push(error?.code ?? result),
  );
  sim.runUntil(sim.now + 5_000);
  const held = owners.map((i) => {
    const raw = sim.process(i)!.heldPartitions().get(partition)?.peek('late') ?? null;
    return raw === null ? null : new TextDecoder().decode(decodeRecord(raw).value);
  });
  return { answers, held, expired: (cluster.totals().rmw as { expired: number }).expired };
}

test('an rmw SET whose deadline passed while its primary was frozen is refused there, unapplied', () => {
  const late = setThroughFrozenPrimary(true);
  assert.deepEqual(late.answers, ['timeout']);
  assert.deepEqual(late.held, [null, null, null], 'no owner holds the late value');
  assert.equal(late.expired, 1, 'the primary refused it for its deadline');
  // Without a deadline (an older client) the coordinator gives up too, but the primary applies it on resuming.
  const old = setThroughFrozenPrimary(false);
  assert.ok(old.held.includes('late-value'), JSON.stringify(old));
});
