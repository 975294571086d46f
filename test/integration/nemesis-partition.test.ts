/**
 * The nemesis test (nemesis.test.ts) with network partitions instead of kills: three `shoal start`
 * daemons, each in its own network namespace with a veth pair to each peer and one to the test's
 * namespace, where the SDK clients run (netns.ts). The same workload and recorder, judged by the
 * simulator's kv history checker as it is recorded, while a nemesis cuts links one partition at a
 * time, each lasting a count of successful operations, not a time: n1 isolated from both peers
 * (clients still reach it, so it coordinates calls it cannot replicate), a majority/minority split
 * with the clients on the majority's side (n3 cut off from everyone), a bridge (n1-n2 cut, both
 * still reach n3), and n2 isolated like n1. After each it heals every link, waits for the cluster
 * to converge and lets the workload run on; at the end every key is read back at ALL.
 *
 * These are the faults a kill or a pause cannot make: a coordinator that acknowledges a write its
 * peers never got, a replica that answers while it cannot have caught up, a read that takes the
 * first answer when the replicas disagree.
 *
 * Needs root and iproute2. Without them it is skipped, saying why, unless NEMESIS_REQUIRE_NETNS=1
 * (.ci/run sets it): then it fails, so CI never passes by skipping it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, stringCodec, type ShoalClient } from '../../src/client/index.ts';
import { TestCluster } from './daemon-harness.ts';
import { RealHistory } from './nemesis-history.ts';
import { assertNoViolations, readBackAtAll, startWorkload, summary, type Workload } from './nemesis-workload.ts';
import { netnsUnavailable, PartitionableNetwork } from './netns.ts';

const NODES = 3;
/**
 * Successful operations the workload completes during each partition, and after each heal: the
 * cuts take most of the run (calls to a cut-off node wait for their timeouts), and at 120 a run
 * took 71 s beside nemesis.test.ts at a load average of 10 on 2 cores; both planted bugs in
 * docs/SIMULATION.md were still caught at 80.
 */
const OPS_PER_PHASE = 80;
/** Bounds a hang only (a loaded 2-core machine is slow); nothing here measures speed. */
const HANG_MS = 60_000;

interface Partition {
  name: string;
  cut(net: PartitionableNetwork): Promise<void>;
}
const PARTITIONS: Partition[] = [
  {
    name: 'n1 cut off from n2 and n3, clients still reach it',
    cut: async (net) => {
      await net.cutPeers(0, 1);
      await net.cutPeers(0, 2);
    },
  },
  {
    name: 'n3 | n1 n2, clients with the majority',
    cut: async (net) => {
      await net.cutPeers(2, 0);
      await net.cutPeers(2, 1);
      await net.cutClient(2);
    },
  },
  { name: 'bridge: n1-n2 cut, both reach n3', cut: (net) => net.cutPeers(0, 1) },
  {
    name: 'n2 cut off from n1 and n3, clients still reach it',
    cut: async (net) => {
      await net.cutPeers(1, 0);
      await net.cutPeers(1, 2);
    },
  },
];

test('nemesis: network partitions (an isolated coordinator, a minority, a bridge) under a mixed-consistency workload, judged by the simulator\'s history checker', { timeout: 10 * HANG_MS }, async (t) => {
  const unavailable = await netnsUnavailable();
  if (unavailable !== null) {
    assert.ok(process.env.NEMESIS_REQUIRE_NETNS !== '1', `NEMESIS_REQUIRE_NETNS=1 (CI) but network namespaces cannot be made: ${unavailable}`);
    t.skip(unavailable);
    return;
  }
  const seed = Number(process.env.NEMESIS_SEED ?? Date.now() % 1_000_000);
  const net = await PartitionableNetwork.create(NODES);
  const cluster = await TestCluster.create(NODES, [], { placements: Array.from({ length: NODES }, (_, i) => net.placement(i)) }).catch(async (error: unknown) => {
    await net.remove();
    throw error;
  });
  const clients: ShoalClient<string>[] = [];
  // One, once started: the after hook stops it whatever happened.
  const workloads: Workload[] = [];
  // Whatever happened: the workers stop, the clients close, every daemon is SIGKILLed, and the
  // namespaces and links are deleted.
  t.after(async () => {
    await Promise.all(workloads.map((w) => w.stop()));
    await Promise.all(clients.map((c) => c.close()));
    await cluster.cleanup();
    await net.remove();
  });
  const t0 = Date.now();
  await cluster.startAll();
  await cluster.untilConverged(HANG_MS);
  const upMs = Date.now() - t0;

  // One client routes each key to its primary replica, so all its calls of a key meet one
  // coordinator; the other sends each call to its least loaded node, so a key's reads and writes
  // meet different coordinators, on both sides of a cut (a stale replica's answer is then seen).
  for (const routing of [true, false]) clients.push(await connect({ seeds: cluster.clientAddresses, codec: stringCodec, commandTimeoutMs: 2_000, routing }));

  const history = new RealHistory(NODES);
  const workload = startWorkload(history, clients, seed, HANG_MS);
  workloads.push(workload);
  await workload.runOps('the workload to start', OPS_PER_PHASE);
  const startMs = Date.now() - t0;
  const log: string[] = [];
  for (const partition of PARTITIONS) {
    const before = { ...history.figures };
    const startedMs = Date.now();
    try {
      await partition.cut(net);
      await workload.runOps(`the workload to run with ${partition.name}`, OPS_PER_PHASE);
    } finally {
      await net.healAll();
      history.partitioned(startedMs, Date.now());
    }
    const healedMs = Date.now();
    await cluster.untilConverged(HANG_MS);
    const convergedMs = Date.now();
    await workload.runOps(`the workload to run after ${partition.name}`, OPS_PER_PHASE);
    const s = (from: number, to: number) => `${((to - from) / 1000).toFixed(1)} s`;
    log.push(
      `${partition.name}: ${history.figures.writes - before.writes} writes, ${history.figures.reads - before.reads} reads, ${history.figures.failed - before.failed} failed; ` +
        `cut ${s(startedMs, healedMs)}, converged in ${s(healedMs, convergedMs)}, then ${s(convergedMs, Date.now())}`,
    );
  }
  await workload.stop();

  // Healed and converged: every key read back at ALL, judged like every other read.
  await cluster.untilConverged(HANG_MS);
  await readBackAtAll(history, clients[0]!);

  log.unshift(`cluster up in ${(upMs / 1000).toFixed(1)} s, workload started by ${(startMs / 1000).toFixed(1)} s`);
  log.push(`healed, read back by ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.stdout.write(summary('nemesis-partition', seed, history, log));
  assertNoViolations(history, seed);
});
