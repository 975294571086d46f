/**
 * Seed hunting (`shoal sim --hunt --minutes M`): new seeds across every scenario, and across node
 * counts where a scenario takes a range, until the time is up; each scenario gets an equal share
 * of the time. Every failure is reported with its
 * replay line (and, for scenarios that report a plan, its shrunk case). The caller passes the
 * wall clock: the simulator itself never reads it.
 */
import { replayCommand, runScenario } from './driver.ts';
import type { Scenario, ScenarioOptions } from './scenario.ts';
import { shrinkRun, violationKind } from './shrink.ts';

/** Node counts a hunt tries per scenario (default: the scenario's own). */
const NODE_RANGES: Record<string, [number, number]> = {
  kv: [3, 7],
  'kv-pressure': [3, 6],
  // Fewer than 4 and a leave or drain leaves some partition short of its replicas.
  'kv-pressure-ring': [4, 6],
  'kv-overload': [3, 6],
  'kv-rmw': [3, 6],
  'kv-rmw-crash-pressure': [3, 6],
  'kv-buckets': [3, 6],
  // With 3 nodes every node owns every partition, and the laggard applies replica writes of every key.
  'kv-restart-skew': [4, 5],
};

export interface HuntFailure {
  scenario: string;
  seed: number;
  nodes: number;
  kind: string;
  message: string;
  replay: string;
  /** The shrunk case's replay and figures, when the scenario can be shrunk. */
  shrunk?: { replay: string; plan: unknown; faults: string; ops: string };
}

export interface HuntOptions {
  scenarios: readonly Scenario[];
  /** The first seed; each scenario's seeds count up from it. */
  firstSeed: number;
  /** Wall milliseconds now (the caller's clock) and when to stop. */
  now: () => number;
  deadline: number;
  /** Candidate runs to shrink each failure with (0: do not shrink). */
  shrinkRuns: number;
  onFailure: (failure: HuntFailure) => void;
  onSeed?: (scenario: string, seed: number, passed: boolean) => void;
}

export interface HuntSummary {
  perScenario: { scenario: string; seeds: number; failures: number; wallSeconds: number; seedsPerMinute: number }[];
  seeds: number;
  failures: number;
}

export function hunt(options: HuntOptions): HuntSummary {
  const stats = options.scenarios.map((s) => ({ scenario: s, seeds: 0, failures: 0, wallMs: 0 }));
  // Each scenario gets an equal share of the time: the next seed goes to the one that has had least.
  while (options.now() < options.deadline && stats.length > 0) {
    const st = stats.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    const s = st.scenario;
    const seed = options.firstSeed + st.seeds;
    const [lo, hi] = NODE_RANGES[s.name] ?? [s.defaults.nodes, s.defaults.nodes];
    const nodes = lo + (seed % (hi - lo + 1));
    // BUGGIFY on for half the seeds (the odd ones): rare paths get common, and the even half still
    // finds what needs no help.
    const run: ScenarioOptions = { seed, ...s.defaults, nodes, ...(seed % 2 === 1 ? { buggify: true } : {}) };
    const started = options.now();
    const report = runScenario(s, run);
    st.wallMs += options.now() - started;
    st.seeds++;
    const first = report.violations[0];
    options.onSeed?.(s.name, seed, !first);
    if (!first) continue;
    st.failures++;
    const failure: HuntFailure = { scenario: s.name, seed, nodes, kind: violationKind(first), message: first.message, replay: report.replay };
    if (options.shrinkRuns > 0) {
      try {
        const r = shrinkRun(s, run, { maxRuns: options.shrinkRuns });
        const file = `shrunk-${s.name}-${seed}.json`;
        failure.shrunk = {
          replay: replayCommand(s.name, r.options, false, file),
          plan: r.plan,
          faults: `${r.shrunk.faults} of ${r.original.faults}`,
          ops: `${r.shrunk.ops} of ${r.original.ops}`,
        };
      } catch {
        // Not shrinkable (no plan) or not reproducible from its plan: the replay line stands.
      }
    }
    options.onFailure(failure);
  }
  const perScenario = stats.map((st) => ({
    scenario: st.scenario.name,
    seeds: st.seeds,
    failures: st.failures,
    wallSeconds: Math.round(st.wallMs / 100) / 10,
    seedsPerMinute: st.wallMs > 0 ? Math.round((st.seeds * 60_000 * 10) / st.wallMs) / 10 : 0,
  }));
  return { perScenario, seeds: stats.reduce((n, st) => n + st.seeds, 0), failures: stats.reduce((n, st) => n + st.failures, 0) };
}
