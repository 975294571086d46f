/**
 * `heartbeat`: the simulator proving itself on its own small protocol. Under swarm faults, checks
 * that no echo answers a ping that was never sent (no fabricated or cross-wired messages), and that
 * once faults stop every live pair of nodes hears from each other again.
 */
import { runChecked, type Checker } from '../checkers.ts';
import { drawSwarmProfile, drawSwarmSchedule, scheduleFaults } from '../faults.ts';
import { HEARTBEAT_INTERVAL_MS, HeartbeatNode } from '../protocols/heartbeat.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import { Simulation, nodeAddress } from '../simulation.ts';
import type { EventTrace } from '../trace.ts';

/** A live pair must have heard from each other within this long (a few intervals plus latency). */
const HEARD_WITHIN_MS = 10 * HEARTBEAT_INTERVAL_MS;

type World = Simulation<HeartbeatNode>;

const checkers: Checker<World>[] = [
  {
    name: 'no-fabricated-echo',
    invariant: (sim) => {
      for (const n of sim.upNodes()) {
        if (n.process!.counts.fabricatedEchoes > 0) return `${n.address} received an echo for a ping it never sent`;
        if (n.process!.counts.malformed > 0) return `${n.address} received ${n.process!.counts.malformed} malformed messages`;
      }
      return null;
    },
  },
  {
    name: 'all-pairs-hear',
    liveness: (sim) => {
      const up = sim.upNodes();
      for (const n of up) {
        for (const peer of up) {
          if (peer === n) continue;
          const heard = n.process!.lastHeard.get(peer.address);
          if (heard === undefined || sim.now - heard > HEARD_WITHIN_MS) return `${n.address} has not heard from ${peer.address}`;
        }
      }
      return null;
    },
  },
];

export function runHeartbeat(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const profile = options.faults === 'swarm' ? drawSwarmProfile(options.seed, options.durationMs) : null;
  const addresses = Array.from({ length: options.nodes }, (_, i) => nodeAddress(i));
  const sim = new Simulation<HeartbeatNode>({
    seed: options.seed,
    nodes: options.nodes,
    trace,
    network: profile?.network ?? {},
    factory: (env) => new HeartbeatNode(env, addresses),
  });
  const faultPhaseEndMs = profile?.faultPhaseMs ?? 0;
  const schedule = profile ? drawSwarmSchedule(options.seed, options.nodes, profile, { maxDown: options.nodes - 1 }) : [];
  if (profile) scheduleFaults(sim, schedule, faultPhaseEndMs);

  const result = runChecked({ sim, world: sim, checkers, faultPhaseEndMs, durationMs: options.durationMs });
  const totals = { pingsSent: 0, echoes: 0, staleEchoes: 0, lateTimers: 0 };
  let maxSkewSeenMs = 0;
  for (const n of sim.upNodes()) {
    const c = n.process!.counts;
    totals.pingsSent += c.pingsSent;
    totals.echoes += c.echoes;
    totals.staleEchoes += c.staleEchoes;
    totals.lateTimers += c.lateTimers;
    maxSkewSeenMs = Math.max(maxSkewSeenMs, n.process!.maxSkewSeenMs);
  }
  return {
    violations: result.violations,
    simMs: result.simMs,
    derived: profile ? { faultProfile: profile, faultsScheduled: schedule.length } : {},
    figures: {
      recoverySeconds: result.recoveryMs === null ? null : result.recoveryMs / 1000,
      network: { ...sim.network.stats },
      restarts: sim.nodes.reduce((s, n) => s + n.stats.crashes, 0),
      eventsDelayedByPauseOrSlowness: sim.nodes.reduce((s, n) => s + n.stats.eventsDelayed, 0),
      heartbeat: { ...totals, maxSkewSeenMs },
    },
  };
}

export const heartbeatScenario: Scenario = {
  name: 'heartbeat',
  summary: "the simulator's own ping/echo protocol under faults (a smoke test of the simulator itself)",
  defaults: { nodes: 5, durationMs: 60_000, faults: 'swarm' },
  run: runHeartbeat,
};
