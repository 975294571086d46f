/**
 * Rolling operations under the kv workload, with network and clock faults, judged by the kv
 * checkers plus one more: not one QUORUM request may fail (failed, or unknown at the client's
 * timeout).
 *
 * - `rolling-restart`: every node in turn leaves gracefully (hands its partitions off, leaves
 *   gossip, stops) and is started again with the same name and address (an empty store: memory is
 *   all a node has); the next one goes once the cluster has converged again.
 * - `rolling-upgrade`: the same, but each node comes back running protocol version v+1, so the
 *   cluster runs v and v+1 side by side until the last node is done (src/gossip/protocol-version.ts).
 * - `blue-green`: a new cluster's nodes (version v+1) join the old one one by one; then the old
 *   nodes leave one by one, until only the new ones hold the data.
 * - `drain`: every node in turn is drained (ShoalNode.drain: it hands all its partitions off and
 *   stays a member that coordinates requests; src/node/drain.ts) and, once the cluster has
 *   converged without it in the ring, undrained (it takes its share back and catches it up).
 *
 * Faults: the swarm's network profile drawn from the seed (duplication, latency and the
 * reordering it brings) without its message loss, and clock faults (offsets, drift, steps).
 * Left out, each for a reason that has nothing to do with upgrades: message loss (the coordinator
 * does not resend, so at 4% loss about 2% of QUORUM writes fail in any cluster); crashes, pauses,
 * slow nodes, clogs and network partitions (each takes a replica away or past the 500 ms replica
 * deadline, and with one node already out for the upgrade some partition is then short of a
 * quorum). The `kv` scenario covers all of those. A step waits for convergence: every node up
 * sees the others alive, all share one ring, and all are settled (caught up, nothing to hand off,
 * no hints).
 *
 * Clients send only to nodes that have joined (the SDK routes by the topology) but keep sending
 * to a node that is leaving until it stops: without ShoalNode.leave waiting for the requests it
 * coordinates, seeds 1-3 of rolling-restart fail. Once a leaving node refuses new requests
 * (`not-ready`, its grace after the handoff over), a client sends the request to another node, as
 * the SDK does: seed 8700002 failed two QUORUM writes that way when clients did not.
 */
import { runChecked, type Checker } from '../checkers.ts';
import { applyFault, drawSwarmProfile, drawSwarmSchedule, type FaultKind } from '../faults.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import type { EventTrace } from '../trace.ts';
import { PROTOCOL_VERSION } from '../../gossip/protocol-version.ts';
import { KvCluster } from './kv-cluster.ts';
import { KvHistoryChecker } from './kv-checkers.ts';
import { DEFAULT_KV_WORKLOAD, KvWorkload, type Op } from './kv-workload.ts';
import { checkersFor, KV_SIM_PARTITIONS, KV_SIM_REPLICATION, type KvWorld } from './kv.ts';

/** Fault kinds the rolling scenarios inject on top of the network profile (see the header). */
export const ROLLING_FAULT_KINDS: readonly FaultKind[] = ['clock'];
/** Clients start once the cluster has formed (converged); the first step this much later. */
const LOAD_BEFORE_FIRST_STEP_MS = 2_000;
const CONVERGED_POLL_MS = 100;

type Mode = 'restart' | 'upgrade' | 'blue-green' | 'drain';

/** What one run did, step by step: the figures it reports. */
interface Progress {
  steps: number;
  stepsDone: number;
  stepSeconds: number[];
  startedAtMs: number | null;
  finishedAtMs: number | null;
}

function runRolling(mode: Mode, options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const profile = options.faults === 'swarm' ? drawSwarmProfile(options.seed, options.durationMs, ROLLING_FAULT_KINDS) : null;
  // Blue-green starts with the old cluster alone and adds as many new nodes.
  const initial = options.nodes;
  const total = mode === 'blue-green' ? 2 * options.nodes : options.nodes;
  const version = new Map<number, number>();
  const cluster = new KvCluster({
    seed: options.seed,
    nodes: total,
    initialNodes: initial,
    partitions: KV_SIM_PARTITIONS,
    replication: { ...KV_SIM_REPLICATION, ...(options.bugs ? { bugs: options.bugs } : {}) },
    // No message loss (see the header).
    network: profile ? { ...profile.network, lossRate: 0 } : {},
    trace,
    nodeConfig: ({ index }) => ({ protocolVersion: version.get(index) ?? PROTOCOL_VERSION }),
  });
  const sim = cluster.sim;
  const history = new KvHistoryChecker(KV_SIM_REPLICATION.replicas ?? 3, () => false);
  // See the header: joined nodes only, a leaving one included.
  const joined = (index: number) => sim.process(index)?.joined === true;
  const workload = new KvWorkload(sim, options.seed, { ...DEFAULT_KV_WORKLOAD, resendNotReady: true }, history, joined);
  const keys = Array.from({ length: DEFAULT_KV_WORKLOAD.keys }, (_, i) => workload.keyName(i));

  const faultPhaseEndMs = profile?.faultPhaseMs ?? Math.floor(options.durationMs * 0.6);
  if (profile) {
    for (const f of drawSwarmSchedule(options.seed, initial, profile, { maxDown: 0 })) sim.at(f.atMs, () => applyFault(sim, f.action), f.action.kind);
  }
  // Not healEverything: it would start the nodes that left for good. Clock errors stay, as in kv.
  sim.at(faultPhaseEndMs, () => (sim.network.config = { ...sim.network.config, duplicateRate: 0 }), 'heal');

  const converged = () => cluster.convergence([]) === null;
  const whenConverged = (then: () => void) => {
    const poll = () => (converged() ? then() : sim.after(CONVERGED_POLL_MS, poll, 'rolling-poll'));
    sim.after(CONVERGED_POLL_MS, poll, 'rolling-poll');
  };

  // The plan: one step per node, each a function that calls `done` when its part is over.
  const steps: ((done: () => void) => void)[] = [];
  for (let i = 0; i < options.nodes; i++) {
    if (mode === 'blue-green') {
      steps.push((done) => {
        cluster.addNode();
        done();
      });
    } else if (mode === 'drain') {
      // Each step ends once the cluster converged: after a drain, no ring places anything on the
      // node and it holds nothing; after an undrain, it owns its share again.
      steps.push((done) => (sim.process(i)!.drain(), done()));
      steps.push((done) => {
        drainFindings.push(drainProblem(i, 'drained'));
        sim.process(i)!.undrain();
        done();
      });
      steps.push((done) => (drainFindings.push(drainProblem(i, 'serving')), done()));
    } else {
      steps.push((done) =>
        cluster.leave(i, () => {
          if (mode === 'upgrade') version.set(i, PROTOCOL_VERSION + 1);
          cluster.restart(i);
          done();
        }),
      );
    }
  }
  if (mode === 'blue-green') {
    for (let i = 0; i < options.nodes; i++) steps.push((done) => cluster.leave(i, done));
  }

  /** Drain mode: whether node i is where the last step left it (null when it is). */
  function drainProblem(i: number, expected: 'drained' | 'serving'): string | null {
    const node = sim.process(i)!;
    const state = node.drainProgress().state;
    const owning = sim.upNodes().filter((n) => n.process!.placement().members.some((m) => m.name === node.name));
    if (expected === 'drained' && (state !== 'drained' || owning.length > 0)) return `${node.name} converged after its drain but is ${state}, in the ring of ${owning.length} nodes`;
    if (expected === 'serving' && (state !== 'serving' || owning.length !== sim.upNodes().length)) return `${node.name} converged after its undrain but is ${state}, in the ring of ${owning.length} nodes`;
    return null;
  }
  const drainFindings: (string | null)[] = [];

  const progress: Progress = { steps: steps.length, stepsDone: 0, stepSeconds: [], startedAtMs: null, finishedAtMs: null };
  const runStep = (n: number) => {
    if (n === steps.length) {
      progress.finishedAtMs = sim.now;
      workload.stop();
      return;
    }
    const startedAt = sim.now;
    steps[n]!(() =>
      whenConverged(() => {
        progress.stepsDone++;
        progress.stepSeconds.push(Math.round(sim.now - startedAt) / 1000);
        runStep(n + 1);
      }),
    );
  };
  // Blue-green: new nodes get the next version before they are built (addNode builds at once).
  if (mode === 'blue-green') for (let i = 0; i < options.nodes; i++) version.set(initial + i, PROTOCOL_VERSION + 1);
  whenConverged(() => {
    workload.start(0);
    sim.after(LOAD_BEFORE_FIRST_STEP_MS, () => {
      progress.startedAtMs = sim.now;
      runStep(0);
    }, 'rolling-start');
  });

  const failedQuorum = (op: Op) => op.consistency === 'quorum' && (op.outcome === 'failed' || op.outcome === 'unknown');
  // Zero failed QUORUM requests is a promise for a network that loses nothing. BUGGIFY loses replica
  // requests and delays sends on purpose (--buggify, half of --hunt's seeds), so a buggified run
  // checks everything else but not that: every buggified seed of the hunt failed it otherwise.
  const noFailedQuorum: Checker<KvWorld>[] = options.buggify
    ? []
    : [
        {
          name: 'no-failed-quorum-request',
          invariant: () => {
            const op = workload.ops.find(failedQuorum);
            return op ? `a QUORUM ${op.kind} of ${op.key} through ${sim.nodes[op.coordinator]!.address} at ${op.startMs} ms ended ${op.outcome}` : null;
          },
        },
      ];
  const checkers: Checker<KvWorld>[] = [
    ...checkersFor(KV_SIM_REPLICATION),
    ...noFailedQuorum,
    { name: 'drain-state', invariant: () => drainFindings.find((f) => f !== null) ?? null },
    { name: 'rolling-finished', liveness: () => (progress.finishedAtMs === null ? `${progress.stepsDone} of ${progress.steps} steps done` : null) },
  ];
  const world: KvWorld = { cluster, history, keys };
  const result = runChecked({ sim, world, checkers, faultPhaseEndMs, durationMs: options.durationMs, stopWhenLive: true });
  const t = cluster.totals();
  const quorumOps = workload.ops.filter((op) => op.consistency === 'quorum');
  return {
    violations: [...result.violations, ...history.violations.slice(1).map((v) => ({ ...v, checker: `history/${v.checker}` }))],
    simMs: result.simMs,
    derived: profile ? { faultProfile: profile } : {},
    figures: {
      steps: progress.steps,
      stepsDone: progress.stepsDone,
      stepSeconds: progress.stepSeconds,
      rollingSeconds: progress.finishedAtMs === null ? null : (progress.finishedAtMs - progress.startedAtMs!) / 1000,
      quorumRequests: quorumOps.length,
      quorumFailed: quorumOps.filter(failedQuorum).length,
      ...workload.counts,
      ...history.figures,
      versions: [...new Set(sim.upNodes().map((n) => version.get(n.index) ?? PROTOCOL_VERSION))],
      partitionsHandedOff: t.sync.partitionsHandedOff,
      syncRecordsPulled: t.sync.recordsPulled,
      hintsStored: t.hints.stored,
    },
  };
}

export const rollingRestartScenario: Scenario = {
  name: 'rolling-restart',
  summary: 'every node leaves gracefully and restarts, one by one, under the kv workload and network faults: 0 failed QUORUM requests, no lost write',
  defaults: { nodes: 5, durationMs: 120_000, faults: 'swarm' },
  minNodes: 4,
  run: (options, trace) => runRolling('restart', options, trace),
};

export const rollingUpgradeScenario: Scenario = {
  name: 'rolling-upgrade',
  summary: 'every node is replaced, one by one, by one of protocol version v+1 (same name and address): 0 failed QUORUM requests, no lost write',
  defaults: { nodes: 5, durationMs: 120_000, faults: 'swarm' },
  minNodes: 4,
  run: (options, trace) => runRolling('upgrade', options, trace),
};

export const drainScenario: Scenario = {
  name: 'drain',
  summary: 'every node is drained (hands its partitions off, stays a member) and undrained, one by one, under the kv workload and network faults: 0 failed QUORUM requests, no lost write',
  defaults: { nodes: 5, durationMs: 120_000, faults: 'swarm' },
  minNodes: 4,
  run: (options, trace) => runRolling('drain', options, trace),
};

export const blueGreenScenario: Scenario = {
  name: 'blue-green',
  summary: 'new nodes (v+1) join the cluster one by one, then the old ones leave one by one: no acknowledged write lost, 0 failed QUORUM requests',
  defaults: { nodes: 3, durationMs: 120_000, faults: 'swarm' },
  minNodes: 3,
  run: (options, trace) => runRolling('blue-green', options, trace),
};
