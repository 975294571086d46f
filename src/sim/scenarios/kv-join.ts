/**
 * `kv-join`: a node joins a loaded 4-node cluster while clients keep reading and writing; then, once
 * ownership handoff has settled, the first node leaves gracefully (handing its partitions off before
 * it stops). Reports how many partitions and keys moved and how long each handoff took in simulated
 * seconds; the kv checkers (no lost acknowledged write, no fabricated value, read-your-writes,
 * convergence) judge the run as in `kv`.
 */
import { runChecked, type Checker } from '../checkers.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import type { EventTrace } from '../trace.ts';
import { KvCluster } from './kv-cluster.ts';
import { KvHistoryChecker } from './kv-checkers.ts';
import { DEFAULT_KV_WORKLOAD, KvWorkload } from './kv-workload.ts';
import { KV_SIM_REPLICATION } from './kv.ts';
import type { Placement } from '../../replication/context.ts';
import type { ReplicationConfig } from '../../replication/config.ts';

/** Production's partition count: handoff figures should reflect real partition sizes. */
const JOIN_PARTITIONS = 1024;
const LOAD_PHASE_MS = 10_000;
const SETTLE_POLL_MS = 50;
/** Hint and request bounds sized for the heavier join workload. */
const JOIN_REPLICATION: Partial<ReplicationConfig> = { ...KV_SIM_REPLICATION, maxHints: 2_000, maxHintBytes: 1024 * 1024, maxPendingRequests: 256 };

interface World {
  cluster: KvCluster;
  history: KvHistoryChecker;
  keys: string[];
}

function replicaMoves(before: Placement, after: Placement): number {
  let moved = 0;
  for (let p = 0; p < before.partitions; p++) {
    const old = before.owners(p);
    for (const owner of after.owners(p)) if (!old.includes(owner)) moved++;
  }
  return moved;
}

export function runKvJoin(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const initial = Math.max(1, options.nodes - 1);
  const cluster = new KvCluster({ seed: options.seed, nodes: options.nodes, initialNodes: initial, partitions: JOIN_PARTITIONS, replication: { ...JOIN_REPLICATION, ...(options.bugs ? { bugs: options.bugs } : {}) }, network: {}, trace });
  const sim = cluster.sim;
  const history = new KvHistoryChecker(3, () => false);
  const workloadConfig = { ...DEFAULT_KV_WORKLOAD, keys: 2_000, clients: 8, meanThinkMs: 10, zipfExponent: 0.8 };
  const workload = new KvWorkload(sim, options.seed, workloadConfig, history);
  const keys = Array.from({ length: workloadConfig.keys }, (_, i) => workload.keyName(i));
  const figures = {
    partitionReplicasMovedOnJoin: 0,
    keysReceivedByJoiner: 0,
    joinHandoffSeconds: null as number | null,
    partitionReplicasMovedOnLeave: 0,
    keysHandedOff: 0,
    leaveHandoffSeconds: null as number | null,
  };

  const settled = () => sim.upNodes().every((n) => n.process!.settled());
  const whenSettled = (since: number, then: (seconds: number) => void) => {
    const poll = () => (settled() ? then((sim.now - since) / 1000) : sim.after(SETTLE_POLL_MS, poll, 'settle-poll'));
    sim.after(SETTLE_POLL_MS, poll, 'settle-poll');
  };

  sim.at(LOAD_PHASE_MS, () => {
    const before = sim.process(0)!.placement();
    const joinedAt = sim.now;
    const joiner = cluster.addNode();
    // Settled means the joiner has joined (gossip brought it into every ring) and handoff is done.
    whenSettled(joinedAt, (seconds) => {
      figures.partitionReplicasMovedOnJoin = replicaMoves(before, sim.process(0)!.placement());
      figures.joinHandoffSeconds = seconds;
      figures.keysReceivedByJoiner = sim.process(joiner)!.stats().sync.recordsPulled;
      const beforeLeave = sim.process(joiner)!.placement();
      const leftAt = sim.now;
      cluster.leave(0, () => {
        figures.partitionReplicasMovedOnLeave = replicaMoves(beforeLeave, sim.process(joiner)!.placement());
        whenSettled(leftAt, (s) => {
          figures.leaveHandoffSeconds = s;
          workload.stop();
        });
      });
    });
  }, 'join');
  workload.start(500);

  const checkers: Checker<World>[] = [
    { name: 'history', invariant: (w) => (w.history.violations[0] ? `${w.history.violations[0].checker}: ${w.history.violations[0].message}` : null) },
    { name: 'no-evictions', invariant: (w) => w.cluster.noEvictions() },
    { name: 'handoff-finished', liveness: () => (figures.leaveHandoffSeconds === null ? 'join and leave handoffs have not both finished' : null) },
    { name: 'convergence', liveness: (w) => w.cluster.convergence(w.keys) },
  ];
  const world: World = { cluster, history, keys };
  const result = runChecked({ sim, world, checkers, faultPhaseEndMs: LOAD_PHASE_MS, durationMs: options.durationMs, stopWhenLive: true });
  const t = cluster.totals();
  figures.keysHandedOff = t.sync.keysHandedOff;
  return {
    violations: result.violations,
    simMs: result.simMs,
    derived: { partitions: JOIN_PARTITIONS, keys: workloadConfig.keys, loadPhaseMs: LOAD_PHASE_MS },
    figures: {
      ...figures,
      ...workload.counts,
      ...history.figures,
      readRepairs: t.coordinator.readRepairs,
      hintsStored: t.hints.stored,
      hintsDelivered: t.hints.delivered,
      syncRecordsPulled: t.sync.recordsPulled,
      syncRecordsPushed: t.sync.recordsPushed,
      partitionsHandedOff: t.sync.partitionsHandedOff,
    },
  };
}

export const kvJoinScenario: Scenario = {
  name: 'kv-join',
  summary: 'a node joins a loaded 4-node cluster, then one leaves gracefully: keys moved, handoff time, no acknowledged write lost',
  defaults: { nodes: 5, durationMs: 60_000, faults: 'none' },
  run: runKvJoin,
};
