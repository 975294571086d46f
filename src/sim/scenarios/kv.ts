/**
 * `kv`: the replicated key-value store under swarm faults. Clients run the Zipf get/set/delete
 * workload (kv-workload.ts) while the fault schedule crashes, pauses, slows, partitions, clogs and
 * skews nodes; then faults stop and the cluster must converge.
 *
 * Every node runs the full stack (kv-cluster.ts): real SWIM gossip notices crashes and restarts,
 * nothing is scripted. Crashes and pauses are limited to one node at a time (maxDown 1:
 * with N=3, W=2 that is N-W), and a crash is skipped while another node is still catching up after
 * its own restart: memory is all a node has, so a restarted replica counts as down until it has
 * synced, and two wiped replicas of one partition would lose writes no protocol could save.
 * Sloppy quorum is off by default and opted into per request by a quarter of the writes; those are
 * exempt from the lost-write check but not from read-your-writes.
 */
import { runChecked, type Checker } from '../checkers.ts';
import { applyFault, drawSwarmProfile, drawSwarmSchedule, FAULT_KINDS, healEverything, type FaultKind, type SwarmProfile, type TimedFault } from '../faults.ts';
import { planOps, type NodeSample, type PlannedOp, type RunPlan, type Scenario, type ScenarioOptions, type ScenarioResult } from '../scenario.ts';
import type { EventTrace } from '../trace.ts';
import { KvCluster, type KvClusterOptions } from './kv-cluster.ts';
import { KvHistoryChecker } from './kv-checkers.ts';
import { DEFAULT_KV_WORKLOAD, KvWorkload, type KvWorkloadConfig } from './kv-workload.ts';
import type { ReplicationConfig } from '../../replication/config.ts';

/** Partitions per cluster in the kv scenarios: fewer than production's 1024 keeps 100-seed sweeps fast. */
export const KV_SIM_PARTITIONS = 64;
/** Clients start once gossip has formed the cluster and the initial catch-up sync had time to run. */
export const KV_WORKLOAD_START_MS = 1_000;

/** Small limits, so the bounded-resources checker has something to bite on. */
export const KV_SIM_REPLICATION: Partial<ReplicationConfig> = {
  sloppyQuorum: false,
  maxHints: 200,
  maxHintBytes: 64 * 1024,
  maxPendingRequests: 64,
};

/** What the kv checkers look at. */
export interface KvWorld {
  cluster: KvCluster;
  history: KvHistoryChecker;
  keys: string[];
}

/**
 * The kv checkers. `evictionsAllowed` (kv-pressure): stores may evict, so the no-evictions check
 * is dropped and an owner holding nothing for a key is not a disagreement.
 */
export function checkersFor(replication: Partial<ReplicationConfig>, { evictionsAllowed = false } = {}): Checker<KvWorld>[] {
  const checkers: Checker<KvWorld>[] = [
    {
      name: 'history',
      invariant: (w) => {
        const v = w.history.violations[0];
        return v ? `${v.checker}: ${v.message}` : null;
      },
    },
    {
      name: 'bounded-resources',
      invariant: (w) =>
        w.cluster.boundedResources({ maxHints: replication.maxHints!, maxHintBytes: replication.maxHintBytes!, maxPendingRequests: replication.maxPendingRequests! }),
    },
    { name: 'convergence', liveness: (w) => w.cluster.convergence(w.keys, { missingAllowed: evictionsAllowed }) },
  ];
  if (!evictionsAllowed) checkers.splice(2, 0, { name: 'no-evictions', invariant: (w) => w.cluster.noEvictions() });
  return checkers;
}

/** What a kv variant changes in `runKv` (kv-overload: small mailboxes, slow partition actors, more clients). */
export interface KvTuning {
  /** Merged over KV_SIM_REPLICATION. */
  replication?: Partial<ReplicationConfig>;
  /** Each partition actor's mailbox bound (default createNode's). */
  mailboxCapacity?: number;
  workload?: KvWorkloadConfig;
  /** Per-node configuration (KvClusterOptions.nodeConfig): test variants run some nodes on an older protocol version. */
  nodeConfig?: KvClusterOptions['nodeConfig'];
  /** Operations scheduled on the cluster beside the faults (kv-drain: drains and undrains), until `faultPhaseEndMs`. */
  operations?: (cluster: KvCluster, faultPhaseEndMs: number) => void;
  /** The swarm's fault kinds (default all of them). */
  swarmKinds?: readonly FaultKind[];
  /**
   * Faults of the variant's own, drawn from the seed and merged into the swarm schedule (so a run's
   * plan reports them and a shrink may drop them); not drawn when the run follows a plan.
   */
  ownFaults?: (options: ScenarioOptions, faultPhaseEndMs: number) => TimedFault[];
}

/**
 * A kv run's swarm faults (none without `--faults swarm`): the profile drawn from the seed, with a
 * given plan's message loss and duplication over its own, and the plan's fault schedule or one
 * drawn from the seed. `always`: kinds on in every run (drawSwarmProfile). Each is drawn from a stream of its own, so when does not matter.
 */
export function kvSwarmFaults(options: ScenarioOptions, kinds: readonly FaultKind[] = FAULT_KINDS, always: readonly FaultKind[] = []): { profile: SwarmProfile | null; schedule: TimedFault[] } {
  const drawn = options.faults === 'swarm' ? drawSwarmProfile(options.seed, options.durationMs, kinds, always) : null;
  const profile = drawn && options.plan ? { ...drawn, network: { ...drawn.network, ...options.plan.network } } : drawn;
  return { profile, schedule: profile ? (options.plan?.faults ?? drawSwarmSchedule(options.seed, options.nodes, profile, { maxDown: 1 })) : [] };
}

/** A swarm run's schedule with the variant's own faults merged in, in time order (as drawn: a plan already holds them). */
function withOwnFaults(options: ScenarioOptions, swarm: ReturnType<typeof kvSwarmFaults>, own: KvTuning['ownFaults']): ReturnType<typeof kvSwarmFaults> {
  const { profile, schedule } = swarm;
  if (!profile || !own || options.plan) return swarm;
  return { profile, schedule: [...schedule, ...own(options, profile.faultPhaseMs)].sort((a, b) => a.atMs - b.atMs) };
}

/** The plan a kv run reports: the faults it reached (`simMs`: where it stopped), its network rates and its operations. */
export function reportedPlan(schedule: readonly TimedFault[], profile: SwarmProfile | null, simMs: number, ops: PlannedOp[]): RunPlan {
  return {
    faults: schedule.filter((f) => f.atMs <= simMs),
    network: { lossRate: profile?.network.lossRate ?? 0, duplicateRate: profile?.network.duplicateRate ?? 0 },
    ops,
  };
}

export function runKv(options: ScenarioOptions, trace: EventTrace, tuning: KvTuning = {}): ScenarioResult {
  const { profile, schedule } = withOwnFaults(options, kvSwarmFaults(options, tuning.swarmKinds), tuning.ownFaults);
  const replication = { ...KV_SIM_REPLICATION, ...tuning.replication, ...(options.bugs ? { bugs: options.bugs } : {}) };
  const workloadConfig = tuning.workload ?? DEFAULT_KV_WORKLOAD;
  const cluster = new KvCluster({
    seed: options.seed,
    nodes: options.nodes,
    partitions: KV_SIM_PARTITIONS,
    replication,
    network: profile?.network ?? {},
    trace,
    ...(options.draws === undefined ? {} : { draws: options.draws }),
    ...(tuning.mailboxCapacity === undefined ? {} : { mailboxCapacity: tuning.mailboxCapacity }),
    ...(tuning.nodeConfig === undefined ? {} : { nodeConfig: tuning.nodeConfig }),
  });
  const sim = cluster.sim;
  const faultPhaseEndMs = profile?.faultPhaseMs ?? Math.floor(options.durationMs * 0.6);

  // Network partitions, for read-your-writes (which only holds while there is none).
  const cuts: [number, number][] = [];
  const partitionDuring = (from: number, to: number) => cuts.some(([a, b]) => a <= to && b >= from);
  const history = new KvHistoryChecker(KV_SIM_REPLICATION.replicas ?? 3, partitionDuring, undefined, (from, to) => cluster.crashDuring(from, to));
  const workload = new KvWorkload(sim, options.seed, workloadConfig, history, undefined, planOps(options.plan, 'kv', ['get', 'set', 'delete']));
  const keys = Array.from({ length: workloadConfig.keys }, (_, i) => workload.keyName(i));
  const faults = scheduleKvFaults(cluster, options, profile, cuts, schedule);
  tuning.operations?.(cluster, faultPhaseEndMs);
  const { samples, sampler } = stageKvRun(cluster, workload, faultPhaseEndMs);
  const world: KvWorld = { cluster, history, keys };
  const result = runChecked({ sim, world, checkers: [...checkersFor(replication), sampler], faultPhaseEndMs, durationMs: options.durationMs });
  const t = cluster.totals();
  return {
    violations: [...result.violations, ...history.violations.slice(1).map((v) => ({ ...v, checker: `history/${v.checker}` }))],
    simMs: result.simMs,
    derived: profile ? { faultProfile: profile, ...faults } : {},
    plan: reportedPlan(schedule, profile, result.simMs, workload.drawn),
    timeline: { ops: workload.ops, faults: schedule, samples },
    figures: {
      recoverySeconds: result.recoveryMs === null ? null : result.recoveryMs / 1000,
      ...workload.counts,
      ...history.figures,
      readRepairs: t.coordinator.readRepairs,
      hintsStored: t.hints.stored,
      hintsDelivered: t.hints.delivered,
      hintsDroppedForRoom: t.hints.droppedForRoom,
      sloppyFallbacks: t.coordinator.sloppyFallbacks,
      // Writes a restarted coordinator started again above its earlier incarnation's version (kv-restart-skew's mark).
      writesRestamped: t.coordinator.writesRestamped,
      // Of those, restamped after the write had finished: a silent owner's late ack told of the predecessor's record.
      writesRestampedLate: t.coordinator.writesRestampedLate,
      standInWritesRecalled: t.coordinator.standInWritesRecalled,
      syncRecordsPulled: t.sync.recordsPulled,
      syncRecordsPushed: t.sync.recordsPushed,
      syncPartitionsByBucket: t.sync.partitionsByBucket,
      syncBucketsDiffering: t.sync.bucketsDiffering,
      syncEntriesListed: t.sync.entriesListed,
      restarts: sim.nodes.reduce((s, n) => s + n.stats.crashes, 0),
      network: { ...sim.network.stats },
      backpressure: {
        overloaded: t.coordinator.overloaded,
        replicasBusy: t.coordinator.replicasBusy,
        mailboxRejected: t.mailboxes.rejected,
        // Deepest mailbox of the nodes up at the end (totals would add the nodes' peaks up).
        mailboxPeakDepth: Math.max(0, ...sim.upNodes().map((n) => n.process!.stats().mailboxes.peakDepth)),
      },
    },
  };
}

/**
 * What every kv run does around its checked run: at the end of faults the workload stops and every
 * fault heals; the workload starts; each check point samples the nodes (the artifacts' timeline).
 */
export function stageKvRun(cluster: KvCluster, workload: KvWorkload, faultPhaseEndMs: number): { samples: NodeSample[]; sampler: Checker<KvWorld> } {
  const sim = cluster.sim;
  sim.at(faultPhaseEndMs, () => {
    workload.stop();
    healEverything(sim);
  }, 'heal');
  workload.start(KV_WORKLOAD_START_MS);
  const samples: NodeSample[] = [];
  return { samples, sampler: { name: 'timeline', invariant: () => (samples.push(sampleNodes(cluster)), null) } };
}

/** Every node's state now: up, ring version, members seen alive (the artifacts' membership chart). */
export function sampleNodes(cluster: KvCluster): NodeSample {
  const sim = cluster.sim;
  return {
    atMs: sim.now,
    nodes: sim.nodes.map((n) => {
      const p = n.up ? n.process : null;
      return { up: n.up, ring: p ? p.placement().version : null, alive: p ? p.membership.members().filter((m) => m.state === 'alive').length : 0 };
    }),
  };
}

/**
 * Schedules the swarm faults of a kv run on `cluster` (none without a profile): crashes are skipped
 * while a node catches up, another is down, or one is leaving or stopping for a restart (at most
 * N - W down at once), and every network cut
 * is recorded in `cuts` for read-your-writes. `schedule`: drawn from the seed unless the run was
 * given a plan. Returns the fault counters the run reports.
 */
export function scheduleKvFaults(
  cluster: KvCluster,
  options: ScenarioOptions,
  profile: SwarmProfile | null,
  cuts: [number, number][],
  schedule = profile ? drawSwarmSchedule(options.seed, options.nodes, profile, { maxDown: 1 }) : [],
): { scheduled: number; applied: number; crashesSkippedWhileCatchingUp: number } {
  const sim = cluster.sim;
  const faults = { scheduled: 0, applied: 0, crashesSkippedWhileCatchingUp: 0 };
  if (!profile) return faults;
  faults.scheduled = schedule.length;
  for (const f of schedule) sim.at(f.atMs, () => applyKvFault(f), f.action.kind);
  function applyKvFault(f: TimedFault): void {
    const a = f.action;
    if (a.kind === 'crash') {
      if (cluster.anyCatchingUp(a.node) || sim.upNodes().length < sim.nodes.length || cluster.anyStopping()) {
        faults.crashesSkippedWhileCatchingUp++;
        return;
      }
      cluster.crash(a.node);
      sim.after(a.restartAfterMs, () => cluster.restart(a.node), 'restart');
    } else {
      if (a.kind === 'isolate' || a.kind === 'split' || a.kind === 'asymmetric') cuts.push([sim.now, sim.now + a.forMs]);
      applyFault(sim, a);
    }
    faults.applied++;
  }
  return faults;
}

export const kvScenario: Scenario = {
  name: 'kv',
  summary: 'replicated get/set/delete under swarm faults: no lost acknowledged write, no fabricated value, read-your-writes, convergence',
  defaults: { nodes: 5, durationMs: 60_000, faults: 'swarm' },
  keyedDraws: true,
  run: runKv,
};
