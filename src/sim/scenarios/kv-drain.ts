/**
 * `kv-drain`: the `kv` scenario (swarm faults: crashes, pauses, slow nodes, network partitions,
 * clogs, message loss and duplication, clock faults) with nodes drained and undrained during the
 * fault phase (src/node/drain.ts): every 4 s of it, one node is drained, and undrained 4 s later.
 * The kv checkers judge it (no lost acknowledged write, no fabricated value, read-your-writes,
 * convergence). A drain the node refuses (joining after a crash, or the last holder) is counted,
 * and a crashed node comes back undrained (a drain lasts as long as the process).
 */
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import type { EventTrace } from '../trace.ts';
import { DrainRefusedError } from '../../node/drain.ts';
import type { KvCluster } from './kv-cluster.ts';
import { runKv } from './kv.ts';

const DRAIN_EVERY_MS = 4_000;
const FIRST_DRAIN_MS = 3_000;

export function runKvDrain(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const counts = { drains: 0, undrains: 0, refused: 0 };
  const operations = (cluster: KvCluster, faultPhaseEndMs: number) => {
    const sim = cluster.sim;
    for (let at = FIRST_DRAIN_MS, i = 0; at + DRAIN_EVERY_MS < faultPhaseEndMs; at += 2 * DRAIN_EVERY_MS, i++) {
      const index = i % options.nodes;
      sim.at(at, () => {
        const node = sim.process(index);
        if (!node) return;
        try {
          node.drain();
          counts.drains++;
        } catch (error) {
          if (!(error instanceof DrainRefusedError)) throw error;
          counts.refused++;
        }
      }, 'drain');
      sim.at(at + DRAIN_EVERY_MS, () => {
        const node = sim.process(index);
        if (!node || node.drainProgress().state === 'serving') return;
        node.undrain();
        counts.undrains++;
      }, 'undrain');
    }
  };
  const result = runKv(options, trace, { operations });
  return { ...result, figures: { ...result.figures, ...counts } };
}

export const kvDrainScenario: Scenario = {
  name: 'kv-drain',
  summary: 'kv under swarm faults while nodes are drained and undrained in turn: no lost acknowledged write, no fabricated value, convergence',
  defaults: { nodes: 5, durationMs: 60_000, faults: 'swarm' },
  run: runKvDrain,
};
