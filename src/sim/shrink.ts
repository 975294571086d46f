/**
 * Shrinking a failing run (`shoal sim --shrink`): delta debugging (Zeller's ddmin) over the run's
 * plan, its fault schedule and its workload ops as data (scenario.ts, `RunPlan`), then its node
 * count, network faults and fault durations. A candidate is kept only when it reproduces the same
 * violation: the same checker and kind (`violationKind`), whatever the details. Candidates run
 * with keyed draws (rng.ts) when the scenario has them and the run's plan still fails with them.
 */
import type { Violation } from './checkers.ts';
import type { FaultAction, TimedFault } from './faults.ts';
import type { PlannedOp, RunPlan, Scenario, ScenarioOptions } from './scenario.ts';
import { runOnce } from './driver.ts';

/** A violation's checker and kind: `history/read-your-writes`, `convergence`, ... */
export function violationKind(v: Violation): string {
  const kind = /^([\w-]+): /.exec(v.message)?.[1];
  return kind ? `${v.checker}/${kind}` : v.checker;
}

export interface ShrinkFigures {
  faults: number;
  ops: number;
  clients: number;
  nodes: number;
}

export interface ShrinkResult {
  kind: string;
  /** The run as the seed drew it, up to its first violation. */
  original: ShrinkFigures;
  shrunk: ShrinkFigures;
  /** The minimal case: run it with `options` (whose `draws` say whether it was shrunk with keyed draws). */
  options: ScenarioOptions;
  plan: RunPlan;
  violation: Violation;
  /** Candidate runs tried (the budget bounds it). */
  runs: number;
}

export interface ShrinkOptions {
  /** The most candidate runs to try (default 400). */
  maxRuns?: number;
  /** Called after each candidate run, for progress. */
  onRun?: (runs: number, kept: boolean, current: ShrinkFigures) => void;
}

/**
 * Shrinks the failing run `options` of `scenario`. Throws when the run passes, or when the
 * scenario does not report a plan.
 */
export function shrinkRun(scenario: Scenario, options: ScenarioOptions, shrinkOptions: ShrinkOptions = {}): ShrinkResult {
  const maxRuns = shrinkOptions.maxRuns ?? 400;
  const first = runOnce(scenario, options);
  const target = first.violations[0];
  if (!target) throw new Error(`${scenario.name} seed ${options.seed} passes; nothing to shrink`);
  if (!first.plan) throw new Error(`${scenario.name} does not report a plan (faults and workload as data), so it cannot be shrunk (kv, kv-overload and kv-rmw can)`);
  const kind = violationKind(target);

  let runs = 0;
  let best = { options: { ...options, plan: first.plan }, violation: target };
  const figures = (o: ScenarioOptions): ShrinkFigures => ({ faults: o.plan!.faults.length, ops: o.plan!.ops.length, clients: new Set(o.plan!.ops.map((op) => op.client)).size, nodes: o.nodes });
  const original = figures(best.options);

  /** Runs a candidate; keeps it as the best when it reproduces the violation. */
  const reproduces = (candidate: ScenarioOptions): boolean => {
    if (runs >= maxRuns) return false;
    runs++;
    const result = runOnce(scenario, candidate);
    const same = result.violations.find((v) => violationKind(v) === kind);
    // What the candidate got through before its violation stopped it is all the case needs.
    if (same) best = { options: { ...candidate, plan: result.plan ?? candidate.plan! }, violation: same };
    shrinkOptions.onRun?.(runs, same !== undefined, figures(best.options));
    return same !== undefined;
  };
  const withPlan = (change: Partial<RunPlan>, nodes = best.options.nodes): ScenarioOptions => ({ ...best.options, nodes, plan: { ...best.options.plan!, ...change } });

  // The drawn plan replayed as a plan must fail too (the workload then draws nothing from the seed).
  // With keyed draws first, where the scenario has them: removing an op or a fault then changes
  // only what it touches, where with shared draws it reshuffles the fate of every later message.
  const keyed = scenario.keyedDraws && best.options.draws !== 'keyed' ? { ...best.options, draws: 'keyed' as const } : null;
  if (!(keyed && reproduces(keyed)) && !reproduces(best.options)) {
    throw new Error(`${scenario.name} seed ${options.seed}: the run's own plan does not reproduce ${kind}`);
  }

  // Message loss and duplication first: each message removed later reshuffles which ones they hit.
  if (best.options.plan!.network.lossRate > 0) reproduces(withPlan({ network: { ...best.options.plan!.network, lossRate: 0 } }));
  if (best.options.plan!.network.duplicateRate > 0) reproduces(withPlan({ network: { ...best.options.plan!.network, duplicateRate: 0 } }));
  // No faults at all first: a planted bug often needs none.
  if (best.options.plan!.faults.length > 0) reproduces(withPlan({ faults: [] }));
  for (let round = 0; round < 2 && runs < maxRuns; round++) {
    const before = JSON.stringify(figures(best.options));
    // Whole clients (the fewest groups), then whole keys, then single operations, then the
    // faults: each candidate runs faster with fewer operations.
    for (const groupOf of [(op: PlannedOp) => op.client, (op: PlannedOp) => op.key]) {
      const groups = [...new Set(best.options.plan!.ops.map(groupOf))];
      ddmin(groups, (kept) => reproduces(withPlan({ ops: best.options.plan!.ops.filter((op) => kept.includes(groupOf(op))) })));
    }
    ddmin(best.options.plan!.ops, (ops) => reproduces(withPlan({ ops })));
    ddmin(best.options.plan!.faults, (faults) => reproduces(withPlan({ faults })));
    const minNodes = scenario.minNodes ?? 1;
    for (let nodes = best.options.nodes - 1; nodes >= minNodes; nodes--) {
      if (!reproduces(withPlan({ faults: faultsWithin(best.options.plan!.faults, nodes) }, nodes))) break;
    }
    if (JSON.stringify(figures(best.options)) === before) break;
  }
  // Shorter faults: halve each one's duration while the violation stays.
  for (let i = 0; i < best.options.plan!.faults.length; i++) {
    for (let halvings = 0; halvings < 4; halvings++) {
      const faults = best.options.plan!.faults;
      const shorter = halved(faults[i]!.action);
      if (!shorter || !reproduces(withPlan({ faults: faults.map((f, j) => (j === i ? { ...f, action: shorter } : f)) }))) break;
    }
  }
  return { kind, original, shrunk: figures(best.options), options: best.options, plan: best.options.plan!, violation: best.violation, runs };
}

/**
 * ddmin: the smallest subset of `items` (1-minimal, within the test's budget) for which `fails`
 * holds, given that it holds for all of them. Tries the empty set first: a fault schedule is often
 * not needed at all.
 */
export function ddmin<T>(items: readonly T[], fails: (subset: T[]) => boolean): T[] {
  let current = [...items];
  if (current.length === 0 || fails([])) return [];
  let n = 2;
  while (current.length >= 2) {
    const chunks = split(current, n);
    let reduced = false;
    for (const chunk of chunks) {
      if (fails(chunk)) {
        current = chunk;
        n = 2;
        reduced = true;
        break;
      }
    }
    if (!reduced && n > 2) {
      for (let i = 0; i < chunks.length; i++) {
        const complement = chunks.filter((_, j) => j !== i).flat();
        if (fails(complement)) {
          current = complement;
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (!reduced) {
      if (n >= current.length) break;
      n = Math.min(current.length, n * 2);
    }
  }
  return current;
}

function split<T>(items: T[], n: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < n; i++) {
    const chunk = items.slice(Math.floor((i * items.length) / n), Math.floor(((i + 1) * items.length) / n));
    if (chunk.length > 0) chunks.push(chunk);
  }
  return chunks;
}

/** The faults that still make sense with only nodes 0..nodes-1. */
function faultsWithin(faults: readonly TimedFault[], nodes: number): TimedFault[] {
  const out: TimedFault[] = [];
  for (const f of faults) {
    const a = f.action;
    const within = (list: number[]) => list.filter((i) => i < nodes);
    if ('node' in a) {
      if (a.node < nodes) out.push(f);
    } else if (a.kind === 'split') {
      const minority = within(a.minority);
      if (minority.length > 0 && minority.length < nodes) out.push({ ...f, action: { ...a, minority } });
    } else if (a.kind === 'asymmetric') {
      const from = within(a.from);
      const to = within(a.to);
      if (from.length > 0 && to.length > 0) out.push({ ...f, action: { ...a, from, to } });
    } else if (a.from < nodes && a.to < nodes) {
      out.push(f);
    }
  }
  return out;
}

/** The action lasting half as long, or null when it has no duration to halve (or is already short). */
function halved(a: FaultAction): FaultAction | null {
  if (a.kind === 'crash') return a.restartAfterMs >= 100 ? { ...a, restartAfterMs: Math.floor(a.restartAfterMs / 2) } : null;
  if ('forMs' in a) return a.forMs >= 100 ? { ...a, forMs: Math.floor(a.forMs / 2) } : null;
  return null;
}
