/**
 * `kv-restart-skew`: the kv scenario lined up for what versions across a restart need
 * (docs/REPLICATION.md, "Versions across restarts"). One node drawn from the seed, the laggard,
 * has a wall clock behind the others', so the versions it reads pull its hybrid
 * logical clock ahead of its own wall clock; it crashes and restarts quickly, again and again,
 * sometimes after its wall clock stepped back; and clients pinned to every node, the laggard's
 * among them, each write two keys of their own and read any, before and after each restart, on
 * partitions the laggard does not own (`keysOffLaggard`). A new
 * incarnation starts its clock from its wall clock, below versions the old one handed out: a write
 * through it must still come out newer than the old incarnation's (bugs.hlcForgetsPredecessor
 * switches off the fix, and the history checker's versions-across-restarts or no-fabricated-value
 * then fails, or convergence does). The swarm adds slowness, clogs and network partitions; it
 * crashes, pauses and moves clocks in no other way.
 */
import type { FaultKind, TimedFault } from '../faults.ts';
import { namedStream } from '../rng.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import { nodeAddress } from '../simulation.ts';
import { EventTrace } from '../trace.ts';
import { KvCluster } from './kv-cluster.ts';
import { DEFAULT_KV_WORKLOAD } from './kv-workload.ts';
import { KV_SIM_PARTITIONS, KV_SIM_REPLICATION, KV_WORKLOAD_START_MS, runKv, type KvTuning } from './kv.ts';

/** How far behind the others the laggard's wall clock runs from the start, in ms (drawn in this range). */
export const LAGGARD_BEHIND_MS: [number, number] = [500, 6_000];
/** Time between the laggard's restarts and the crash before it, in ms (a restart is drawn in these ranges). */
export const RESTART_GAP_MS: [number, number] = [1_500, 5_000];
export const RESTART_AFTER_MS: [number, number] = [20, 800];
/** Half of the crashes follow a step back of the laggard's wall clock in this range, in ms. */
export const STEP_BACK_MS: [number, number] = [100, 2_000];

/** The swarm's share: everything but crashes, pauses and clock faults, which are the scenario's own. */
const SWARM_KINDS: readonly FaultKind[] = ['slow', 'isolate', 'split', 'asymmetric', 'clog'];

/** The laggard's clock set behind from the start, then its crashes, each quickly restarted, drawn from the seed. */
export function restartSkewFaults(options: ScenarioOptions, faultPhaseEndMs: number): TimedFault[] {
  const r = namedStream(options.seed, 'kv-restart-skew/faults');
  const node = r.int(options.nodes); // laggardOf's draw
  const faults: TimedFault[] = [{ atMs: 0, action: { kind: 'clock-offset', node, offsetMs: -Math.floor(r.between(...LAGGARD_BEHIND_MS)) } }];
  for (let at = KV_WORKLOAD_START_MS + r.between(...RESTART_GAP_MS); at < faultPhaseEndMs - RESTART_AFTER_MS[1]; at += r.between(...RESTART_GAP_MS)) {
    const atMs = Math.floor(at);
    if (r.chance(0.5)) faults.push({ atMs, action: { kind: 'clock-step', node, stepMs: -Math.floor(r.between(...STEP_BACK_MS)) } });
    faults.push({ atMs, action: { kind: 'crash', node, restartAfterMs: Math.floor(r.between(...RESTART_AFTER_MS)) } });
  }
  return faults;
}

/** Clients (client c sticks to node c mod n) and the keys each writes; every client reads every key. */
const CLIENTS = 8;
const CLIENT_KEYS = 2;

/** The node drawn to lag: the first draw of the scenario's own fault stream. */
function laggardOf(options: ScenarioOptions): number {
  return namedStream(options.seed, 'kv-restart-skew/faults').int(options.nodes);
}

/**
 * Names of `count` keys on partitions the laggard does not own (plain `k<i>` when it owns them all,
 * as with 3 nodes), from the ring a quiet cluster of this size forms by the workload's start (the
 * same for every seed: names and claim seeds do not depend on it). So the laggard applies no
 * replica write of them and its clock moves only by what it reads: after a restart, nothing folds
 * a newer version in before it writes them again.
 */
export function keysOffLaggard(options: ScenarioOptions, count: number): string[] {
  const probe = new KvCluster({ seed: 0, nodes: options.nodes, partitions: KV_SIM_PARTITIONS, replication: KV_SIM_REPLICATION, network: {}, trace: new EventTrace() });
  probe.sim.runUntil(KV_WORKLOAD_START_MS);
  const placement = probe.sim.process(0)!.placement();
  const laggard = nodeAddress(laggardOf(options));
  const names: string[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; names.length < count && i < count * 64; i++) {
    if (!placement.owners(placement.partitionOfKey(encoder.encode(`k${i}`))).includes(laggard)) names.push(`k${i}`);
  }
  return names.length === count ? names : Array.from({ length: count }, (_, i) => `k${i}`);
}

export function restartSkewTuning(options: ScenarioOptions): KvTuning {
  const keys = CLIENTS * CLIENT_KEYS;
  return {
    swarmKinds: SWARM_KINDS,
    ownFaults: restartSkewFaults,
    // Every client writes keys of its own, so what the laggard wrote before a restart stays the
    // newest until it writes the key again after it (through another node only while it is down).
    workload: { ...DEFAULT_KV_WORKLOAD, clients: CLIENTS, keys, clientKeys: CLIENT_KEYS, keyNames: keysOffLaggard(options, keys) },
  };
}

export function runKvRestartSkew(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  return runKv(options, trace, restartSkewTuning(options));
}

export const kvRestartSkewScenario: Scenario = {
  name: 'kv-restart-skew',
  summary: 'kv on a few hot keys through a node whose clock is behind and which restarts quickly, again and again: its writes must still version above its earlier incarnations\'',
  defaults: { nodes: 4, durationMs: 30_000, faults: 'swarm' },
  keyedDraws: true,
  run: runKvRestartSkew,
};
