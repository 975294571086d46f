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
 * simulator). Network partitions are left out (docs/SIMULATION.md says why).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, stringCodec, type ShoalClient } from '../../src/client/index.ts';
import type { Consistency } from '../../src/replication/api.ts';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { sleep, TestCluster, until, type DaemonProcess } from './daemon-harness.ts';
import { RealHistory } from './nemesis-history.ts';

const NODES = 3;
const KEYS = 12;
const WORKERS = 6;
/** Each worker's operations at most: bounds the run if the nemesis never finishes. */
const MAX_OPS_PER_WORKER = 5_000;
/** Successful operations the workload completes during each fault, and after each heal. */
const OPS_PER_PHASE = 150;
/** Pacing between a worker's operations, so catch-up is not starved on a small machine (not a timing assert). */
const THINK_MS = 2;
/** Bounds a hang only (a loaded 2-core machine is slow); nothing here measures speed. */
const HANG_MS = 60_000;
const WRITE_LEVELS: [Consistency, number][] = [['quorum', 0.6], ['all', 0.15], ['one', 0.25]];
const READ_LEVELS: [Consistency, number][] = [['quorum', 0.6], ['all', 0.2], ['one', 0.2]];

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
  let stopping = false;
  let running: Promise<void>[] = [];
  // Whatever happened: the workers stop, the clients close, and every daemon is SIGKILLed (a
  // stopped one too: SIGKILL is never blocked).
  t.after(async () => {
    stopping = true;
    await Promise.all(running);
    await Promise.all(clients.map((c) => c.close()));
    await cluster.cleanup();
  });
  const t0 = Date.now();
  await cluster.startAll();
  await cluster.untilConverged(HANG_MS);
  const upMs = Date.now() - t0;

  for (let i = 0; i < 2; i++) clients.push(await connect({ seeds: cluster.clientAddresses, codec: stringCodec, commandTimeoutMs: 2_000 }));

  const history = new RealHistory(NODES);
  let succeeded = 0;
  const keyName = (k: number) => `nk${k}`;
  const worker = async (w: number): Promise<void> => {
    const client = clients[w % clients.length]!;
    // One stream per worker: a seed replays each worker's operations (their interleaving is the machine's).
    const random = SeededRandom.mulberry32(seed * 16 + w);
    for (let seq = 1; seq <= MAX_OPS_PER_WORKER && !stopping; seq++) {
      const key = keyName(random.int(KEYS));
      const draw = random.next();
      let ok: boolean;
      if (draw < 0.45) ok = await history.write(client, w, key, `c${w}:${seq}`, pick(random, WRITE_LEVELS));
      else if (draw < 0.55) ok = await history.write(client, w, key, null, pick(random, WRITE_LEVELS));
      else ok = (await history.read(client, w, key, pick(random, READ_LEVELS))) !== undefined;
      if (ok) succeeded++;
      await sleep(THINK_MS);
    }
  };
  running = Array.from({ length: WORKERS }, (_, w) => worker(w));
  const runOps = async (what: string): Promise<void> => {
    const from = succeeded;
    await until(what, () => (succeeded >= from + OPS_PER_PHASE ? true : undefined), HANG_MS, 20);
  };

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
  stopping = true;
  await Promise.all(running);

  // Healed and converged: every key read back at ALL, judged like every other read.
  await cluster.untilConverged(HANG_MS);
  for (let k = 0; k < KEYS; k++) {
    let read: string | null | undefined;
    for (let attempt = 0; attempt < 10 && read === undefined; attempt++) read = await history.read(clients[0]!, WORKERS, keyName(k), 'all');
    assert.notEqual(read, undefined, `${keyName(k)} could not be read back at ALL`);
  }

  const { figures } = history.checker;
  log.unshift(`cluster up in ${(upMs / 1000).toFixed(1)} s, workload started by ${(startMs / 1000).toFixed(1)} s`);
  log.push(`healed, read back by ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.stdout.write(
    `nemesis (seed ${seed}): ${history.figures.writes} writes (${history.figures.acked} acked), ${history.figures.reads} reads (${history.figures.readsOk} ok), ` +
      `${history.figures.failed} failed; ${figures.readsChecked} reads judged, ${figures.strictReadsChecked} against overlapping writes, ` +
      `${figures.oneWritesLostToCrash} W=1 writes lost to a kill\n  ${log.join('\n  ')}\n` +
      (history.failureSamples.length > 0 ? `  failures, e.g.: ${history.failureSamples.join('; ')}\n` : ''),
  );
  assert.deepEqual(history.checker.violations.slice(0, 10), [], `seed ${seed}: ${history.checker.violations.length} violations`);
  assert.ok(figures.strictReadsChecked > 0, 'reads were judged against acknowledged writes');
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

function pick<T>(random: SeededRandom, weighted: [T, number][]): T {
  let x = random.next() * weighted.reduce((s, [, w]) => s + w, 0);
  for (const [value, w] of weighted) if ((x -= w) < 0) return value;
  return weighted[weighted.length - 1]![0];
}
