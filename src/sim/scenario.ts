/**
 * A scenario is a named simulation recipe: which protocol runs, which faults it suffers, which
 * checkers judge it, and which figures it reports. `shoal sim --scenario NAME` runs one; the
 * registry is `src/sim/scenarios/index.ts`.
 */
import type { Violation } from './checkers.ts';
import type { EventTrace } from './trace.ts';
import type { ReplicationBugs } from '../replication/config.ts';
import type { NetworkConfig } from './network.ts';
import type { TimedFault } from './faults.ts';
import type { Op, OpSpec } from './scenarios/kv-workload.ts';
import type { RmwOpRecord, RmwOpSpec } from './scenarios/kv-rmw.ts';
import type { Draws } from './rng.ts';

/** One client operation of a plan: kv's get, set and delete, or kv-rmw's INCR, APPEND and SETNX. */
export type PlannedOp = OpSpec | RmwOpSpec;

/**
 * A run's random choices as data: its fault schedule, its network faults and its workload. A
 * scenario that supports plans reports the one it drew from the seed, and follows one it is given
 * in place of drawing (src/sim/shrink.ts reduces a failing run's plan and replays it).
 */
export interface RunPlan {
  faults: TimedFault[];
  network: Pick<NetworkConfig, 'lossRate' | 'duplicateRate'>;
  ops: PlannedOp[];
}

/** A plan a scenario cannot follow (`shoal sim --plan` reports it as a usage error). */
export class PlanError extends Error {}

/**
 * A given plan's operations, checked to be of `kinds` (the scenario's own): a plan written for
 * another scenario is refused with the reason rather than misread.
 */
export function planOps<K extends PlannedOp['kind']>(plan: RunPlan | undefined, scenario: string, kinds: readonly K[]): Extract<PlannedOp, { kind: K }>[] | undefined {
  if (!plan) return undefined;
  const stranger = plan.ops.find((op) => !(kinds as readonly string[]).includes(op.kind));
  if (stranger) throw new PlanError(`the plan's operation ${JSON.stringify(stranger)} is not a ${scenario} operation (${kinds.join(', ')}); was the plan written for another scenario?`);
  return plan.ops as Extract<PlannedOp, { kind: K }>[];
}

export type FaultMode = 'swarm' | 'none';

export interface ScenarioOptions {
  seed: number;
  nodes: number;
  durationMs: number;
  faults: FaultMode;
  /** Test-only: fixed or planted bugs to switch on in every node (kv, kv-join, kv-rmw and the kv-pressure family honour it), to show a checker catches them. */
  bugs?: ReplicationBugs;
  /** Switch BUGGIFY's fault points on for this run (src/sim/probes.ts); off, a seed runs as it always has. */
  buggify?: boolean;
  /** Follow this plan instead of drawing faults and workload from the seed (scenarios that report a `plan`). */
  plan?: RunPlan;
  /**
   * How the network, the nodes and the clients draw their randomness (src/sim/rng.ts): 'shared'
   * (the default, as every seed always has) or 'keyed', which makes removing an operation or a
   * fault from a plan change only what it touches (src/sim/shrink.ts runs candidates with it).
   * Scenarios with `keyedDraws` honour it.
   */
  draws?: Draws;
}

export interface ScenarioResult {
  violations: Violation[];
  /** Virtual time simulated, in ms (summed over sub-runs when a scenario runs several). */
  simMs: number;
  /** Parameters the run drew from its seed (fault profile, etc.), printed so a run can be understood. */
  derived: Record<string, unknown>;
  /** The scenario's measurements, printed at the top level of the JSON report. */
  figures: Record<string, unknown>;
  /** The plan the run followed (drawn or given), up to where it stopped; absent when the scenario does not support plans. */
  plan?: RunPlan;
  /** What happened over time, for the run's artifacts (src/sim/artifacts.ts); absent when the scenario does not record it. */
  timeline?: RunTimeline;
}

/** One sample of every node's state, taken at each check point. */
export interface NodeSample {
  atMs: number;
  /** Per node: up or not, its ring version, and how many members it sees alive. */
  nodes: { up: boolean; ring: string | null; alive: number }[];
}

export interface RunTimeline {
  ops: (Op | RmwOpRecord)[];
  faults: TimedFault[];
  samples: NodeSample[];
}

export interface Scenario {
  name: string;
  summary: string;
  defaults: Omit<ScenarioOptions, 'seed'>;
  /** The fewest nodes the scenario can run with (default 1); `shoal sim` refuses fewer. */
  minNodes?: number;
  /** It honours `ScenarioOptions.draws` ('keyed'); `shoal sim --draws keyed` refuses other scenarios. */
  keyedDraws?: true;
  /** A measurement (figures, no checkers that can fail): `--hunt` leaves it out unless named in `--only`. */
  measurement?: true;
  /** Runs deterministically from `options`; every simulated event is recorded in `trace`. */
  run(options: ScenarioOptions, trace: EventTrace): ScenarioResult;
}

/**
 * A scenario whose run is asynchronous: kv-sdk, whose real SDK clients need their promises to
 * settle between events (Simulation.runUntilSettled). `shoal sim` runs it with runAnyScenario;
 * shrinking and hunting take synchronous scenarios only.
 */
export interface AsyncScenario extends Omit<Scenario, 'run'> {
  runAsync(options: ScenarioOptions, trace: EventTrace): Promise<ScenarioResult>;
}
