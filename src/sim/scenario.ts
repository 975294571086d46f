/**
 * A scenario is a named simulation recipe: which protocol runs, which faults it suffers, which
 * checkers judge it, and which figures it reports. `shoal sim --scenario NAME` runs one; the
 * registry is `src/sim/scenarios/index.ts`.
 */
import type { Violation } from './checkers.ts';
import type { EventTrace } from './trace.ts';
import type { ReplicationBugs } from '../replication/config.ts';

export type FaultMode = 'swarm' | 'none';

export interface ScenarioOptions {
  seed: number;
  nodes: number;
  durationMs: number;
  faults: FaultMode;
  /** Test-only: fixed bugs to switch back on in every node (the kv scenario honours it), to show a checker catches them. */
  bugs?: ReplicationBugs;
}

export interface ScenarioResult {
  violations: Violation[];
  /** Virtual time simulated, in ms (summed over sub-runs when a scenario runs several). */
  simMs: number;
  /** Parameters the run drew from its seed (fault profile, etc.), printed so a run can be understood. */
  derived: Record<string, unknown>;
  /** The scenario's measurements, printed at the top level of the JSON report. */
  figures: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  summary: string;
  defaults: Omit<ScenarioOptions, 'seed'>;
  /** The fewest nodes the scenario can run with (default 1); `shoal sim` refuses fewer. */
  minNodes?: number;
  /** Runs deterministically from `options`; every simulated event is recorded in `trace`. */
  run(options: ScenarioOptions, trace: EventTrace): ScenarioResult;
}
