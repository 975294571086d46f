/**
 * `ring-balance` and `ring-move`: the ring's placement targets (issue 4) as simulator scenarios.
 * They simulate no network; they build rings for every cluster size from 3 to `--nodes` (default
 * 64) at Q = 1024, N = 3 and report, per size, max/mean partition replicas per node
 * (`maxOverMean`) or replicas moved by one join and one leave over the ideal share
 * (`movedOverIdeal`). A size that misses its target is a violation. The seed picks the member
 * names, so a seed sweep measures different member sets; each ring's figures go into the event
 * trace, so `--check-determinism` compares them across runs.
 */
import {
  BALANCE_TARGET,
  DEFAULT_PARTITION_COUNT,
  DEFAULT_REPLICAS,
  MOVEMENT_TARGET,
  measureBalance,
  measureMovement,
} from '../../ring/index.ts';
import type { Violation } from '../checkers.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import { fnv1aString } from '../../protocol/hash.ts';
import type { EventTrace } from '../trace.ts';

/** The smallest cluster measured: below N + 1 nodes every node holds everything. */
const SMALLEST_CLUSTER = 3;
/** Trace event kinds (arbitrary, distinct from other scenarios' only by convention). */
const BALANCE_EVENT = 401;
const MOVE_EVENT = 402;

const ringOptions = (seed: number) => ({ seed, partitions: DEFAULT_PARTITION_COUNT, replicas: DEFAULT_REPLICAS });
const round = (x: number) => Math.round(x * 1000) / 1000;

function sizes(options: ScenarioOptions): number[] {
  const largest = Math.max(SMALLEST_CLUSTER, options.nodes);
  return Array.from({ length: largest - SMALLEST_CLUSTER + 1 }, (_, i) => SMALLEST_CLUSTER + i);
}

function runBalance(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const maxOverMean: Record<string, number> = {};
  const violations: Violation[] = [];
  for (const nodes of sizes(options)) {
    const b = measureBalance(nodes, ringOptions(options.seed));
    maxOverMean[nodes] = round(b.maxOverMean);
    trace.record(0, nodes, BALANCE_EVENT, fnv1aString(`${b.max}/${b.min}`));
    if (b.maxOverMean > BALANCE_TARGET) {
      violations.push({ checker: 'ring-balance', atMs: 0, message: `${nodes} nodes: max/mean ${round(b.maxOverMean)} > ${BALANCE_TARGET}` });
    }
  }
  return { violations, simMs: 0, derived: {}, figures: { target: BALANCE_TARGET, worst: Math.max(...Object.values(maxOverMean)), maxOverMean } };
}

function runMove(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const join: Record<string, number> = {};
  const leave: Record<string, number> = {};
  const violations: Violation[] = [];
  const check = (what: string, nodes: number, ratio: number) => {
    if (ratio > MOVEMENT_TARGET) {
      violations.push({ checker: 'ring-move', atMs: 0, message: `${what} at ${nodes} nodes: moved/ideal ${round(ratio)} > ${MOVEMENT_TARGET}` });
    }
  };
  for (const nodes of sizes(options)) {
    const m = measureMovement(nodes, ringOptions(options.seed));
    join[nodes] = round(m.join.movedOverIdeal);
    check('join', nodes, m.join.movedOverIdeal);
    if (m.leave) {
      leave[nodes] = round(m.leave.movedOverIdeal);
      check('leave', nodes, m.leave.movedOverIdeal);
    }
    trace.record(0, nodes, MOVE_EVENT, fnv1aString(`${m.join.moved}/${m.leave?.moved ?? -1}`));
  }
  const worst = Math.max(...Object.values(join), ...Object.values(leave));
  return { violations, simMs: 0, derived: {}, figures: { target: MOVEMENT_TARGET, worst, movedOverIdeal: { join, leave } } };
}

const defaults = { nodes: 64, durationMs: 0, faults: 'none' as const };

export const ringBalanceScenario: Scenario = {
  name: 'ring-balance',
  summary: 'max/mean partition replicas per node for 3..--nodes nodes (Q=1024, N=3); target <= 1.10',
  defaults,
  run: runBalance,
};

export const ringMoveScenario: Scenario = {
  name: 'ring-move',
  summary: 'replicas moved by one join and one leave over the ideal share, 3..--nodes nodes; target <= 1.2',
  defaults,
  run: runMove,
};
