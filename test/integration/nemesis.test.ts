/**
 * A Jepsen-style test of real processes: three `shoal start` daemons on loopback, SDK clients
 * writing, deleting and reading a small keyspace at mixed consistency levels, and a nemesis that
 * injects faults one at a time, by counts of operations rather than by time: SIGKILL a node and
 * restart it (same name, ports and data directory), and SIGSTOP a node until its peers declare it
 * dead, then SIGCONT it. After each fault it heals, waits for the cluster to converge (every node
 * joined, caught up, and alive to the others: at most one replica of a partition is ever down or
 * catching up, as the simulator's kv scenarios keep it), and lets the workload run on before the
 * next. At the end every key is read back at ALL.
 *
 * The history, with real wall times of invoke and completion, is judged as it is recorded by the
 * simulator's own kv history checker (nemesis-history.ts): no fabricated value, no acknowledged
 * write lost to a read whose level overlaps it (R + W > N: QUORUM with QUORUM, ALL with anything;
 * a W=1 write missed after its holder was killed is counted, not a violation, as in the
 * simulator). Network partitions: nemesis-partition.test.ts, in network namespaces.
 */
import { test } from 'node:test';
import { connect, stringCodec, type ShoalClient } from '../../src/client/index.ts';
import { TestCluster, type DaemonProcess } from './daemon-harness.ts';
import { RealHistory } from './nemesis-history.ts';
import { assertNoViolations, readBackAtAll, startWorkload, summary, type Workload } from './nemesis-workload.ts';

const NODES = 3;
/** Successful operations the workload completes during each fault, and after each heal. */
const OPS_PER_PHASE = 150;
/** Bounds a hang only (a loaded 2-core machine is slow); nothing here measures speed. */
const HANG_MS = 60_000;

type Fault = { kind: 'kill' | 'pause'; node: number };
/** n1 is everyone's seed and has none of its own, so it is paused, never restarted. */
const FAULTS: Fault[] = [
  { kind: 'kill', node: 2 },
  { kind: 'pause', node: 0 },
  { kind: 'kill', node: 1 },
  { kind: 'pause', node: 2 },
];

test('nemesis: SIGKILL + restart and SIGSTOP past the failure detector under a mixed-consistency workload, judged by the simulator\'s history checker', { timeout: 10 * HANG_MS }, async (t) => {
  const seed = Number(process.env.NEMESIS_SEED ?? Date.now() % 1_000_000);
  const cluster = await TestCluster.create(NODES);
  const clients: ShoalClient<string>[] = [];
  // One, once started: the after hook stops it whatever happened.
  const workloads: Workload[] = [];
  // Whatever happened: the workers stop, the clients close, and every daemon is SIGKILLed (a
  // stopped one too: SIGKILL is never blocked).
  t.after(async () => {
    await Promise.all(workloads.map((w) => w.stop()));
    await Promise.all(clients.map((c) => c.close()));
    await cluster.cleanup();
  });
  const t0 = Date.now();
  await cluster.startAll();
  await cluster.untilConverged(HANG_MS);
  const upMs = Date.now() - t0;

  for (let i = 0; i < 2; i++) clients.push(await connect({ seeds: cluster.clientAddresses, codec: stringCodec, commandTimeoutMs: 2_000 }));

  const history = new RealHistory(NODES);
  const workload = startWorkload(history, clients, seed, HANG_MS);
  workloads.push(workload);
  const runOps = (what: string): Promise<void> => workload.runOps(what, OPS_PER_PHASE);

  await runOps('the workload to start');
  const startMs = Date.now() - t0;
  const log: string[] = [];
  for (const fault of FAULTS) {
    const victim = cluster.nodes[fault.node]!;
    const before = { ...history.figures };
    const startedMs = Date.now();
    if (fault.kind === 'kill') await killAndRestart(cluster, victim, history, runOps);
    else await pauseAndContinue(cluster, victim, runOps);
    await cluster.untilConverged(HANG_MS);
    await runOps(`the workload to run after ${fault.kind} of ${victim.spec.name}`);
    log.push(`${fault.kind} ${victim.spec.name}: ${history.figures.writes - before.writes} writes, ${history.figures.reads - before.reads} reads, ${history.figures.failed - before.failed} failed, ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
  }
  await workload.stop();

  // Healed and converged: every key read back at ALL, judged like every other read.
  await cluster.untilConverged(HANG_MS);
  await readBackAtAll(history, clients[0]!);

  log.unshift(`cluster up in ${(upMs / 1000).toFixed(1)} s, workload started by ${(startMs / 1000).toFixed(1)} s`);
  log.push(`healed, read back by ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.stdout.write(summary('nemesis', seed, history, log));
  assertNoViolations(history, seed);
});

/** SIGKILL, until the others see it dead, the workload runs on; then the same node starts again. */
async function killAndRestart(cluster: TestCluster, victim: DaemonProcess, history: RealHistory, runOps: (what: string) => Promise<void>): Promise<void> {
  const sentMs = Date.now();
  const gone = victim.exited();
  victim.kill('SIGKILL');
  await gone;
  history.crashed(sentMs, Date.now());
  await cluster.untilSeenDead(victim, HANG_MS);
  await runOps(`the workload to run with ${victim.spec.name} dead`);
  await victim.start(HANG_MS);
}

/** SIGSTOP until the others declare it dead (past suspicion), the workload runs on; then SIGCONT. */
async function pauseAndContinue(cluster: TestCluster, victim: DaemonProcess, runOps: (what: string) => Promise<void>): Promise<void> {
  victim.kill('SIGSTOP');
  try {
    await cluster.untilSeenDead(victim, HANG_MS);
    await runOps(`the workload to run with ${victim.spec.name} paused`);
  } finally {
    victim.kill('SIGCONT');
  }
}
