// The swarm sweeps CI runs on every change, and every seed that ever failed (regression-seeds.json),
// as node:test tests. The sweeps are split over several test files (sweeps-*.test.ts,
// regression-seeds.test.ts) so the test runner can run two of them at once on CI's 2 cores: as
// one file they were ~6 minutes of a loaded CI run on one core, the last of it with nothing beside.
// Determinism is checked on a sample, as FoundationDB checks it on a sample of its runs: every
// regression seed and one sweep seed in DETERMINISM_EVERY run twice, and a seed whose two runs
// differ fails like any other violation. Nondeterminism (a stray Date or Math.random) shows on any
// seed that reaches the code, so the sample catches it while the sweeps cost half the CPU.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runScenario, type RunReport } from '../../src/sim/driver.ts';
import type { ScenarioOptions } from '../../src/sim/scenario.ts';
import { SCENARIOS } from '../../src/sim/scenarios/index.ts';

export interface Sweep {
  scenario: string;
  seeds: [number, number];
  nodes?: number;
  durationMs?: number;
  /** What every seed's report must also show, besides passing its scenario's checkers (throws if not). */
  expect?: (report: RunReport) => void;
  /**
   * Seeds also run twice to check determinism, besides one in DETERMINISM_EVERY: those a test
   * checked that way before its runs, the same as the sweep's, moved into `expect`.
   */
  determinism?: number[];
}

interface RegressionSeed {
  scenario: string;
  seed: number;
  nodes?: number;
  durationMs?: number;
  /** Found with BUGGIFY on (`--buggify`): replayed with it. */
  buggify?: boolean;
  /** Found with keyed draws (`--draws keyed`): replayed with them. */
  draws?: 'keyed';
  note: string;
}

/** One sweep seed in this many also runs twice to check determinism. */
const DETERMINISM_EVERY = 5;

function check(scenarioName: string, seed: number, overrides: Partial<ScenarioOptions>, determinism: boolean): RunReport {
  const scenario = SCENARIOS.get(scenarioName);
  assert.ok(scenario, `no scenario named ${scenarioName}`);
  const options: ScenarioOptions = { seed, ...scenario.defaults, faults: 'swarm', ...overrides };
  const report = runScenario(scenario, options, determinism);
  assert.deepEqual(report.violations, [], `seed ${seed} failed; replay: ${report.replay}`);
  return report;
}

/** Seeds between two progress lines of a sweep. */
const PROGRESS_EVERY = 10;

/**
 * A progress line on stdout, which the test runner's spec reporter prints as it arrives (a
 * diagnostic would only appear once the test ends), so a sweep of several minutes shows life in CI.
 */
function progress(line: string): void {
  process.stdout.write(`sweeps: ${line}\n`);
}

/** One test per sweep: every seed of it must pass every checker of its scenario. */
export function sweepTests(sweeps: Sweep[]): void {
  for (const sweep of sweeps) {
    const [first, last] = sweep.seeds;
    const label = `${sweep.scenario} seeds ${first}..${last}${sweep.nodes ? `, ${sweep.nodes} nodes` : ''}`;
    const overrides = { ...(sweep.nodes ? { nodes: sweep.nodes } : {}), ...(sweep.durationMs ? { durationMs: sweep.durationMs } : {}) };
    test(`${sweep.scenario}: seeds ${first}..${last} (swarm faults where the scenario injects them), determinism checked on one seed in ${DETERMINISM_EVERY}`, () => {
      const started = performance.now();
      progress(`${label}: starting`);
      for (let seed = first; seed <= last; seed++) {
        const report = check(sweep.scenario, seed, overrides, (seed - first) % DETERMINISM_EVERY === 0 || sweep.determinism?.includes(seed) === true);
        sweep.expect?.(report);
        const done = seed - first + 1;
        if (done % PROGRESS_EVERY === 0 || seed === last) {
          // Elapsed time is for the reader only; nothing depends on it.
          progress(`${label}: ${done}/${last - first + 1} passed (${((performance.now() - started) / 1000).toFixed(0)}s)`);
        }
      }
    });
  }
}

/** One test per seed in regression-seeds.json, replayed as it was found, determinism checked. */
export function regressionTests(): void {
  const regressions = JSON.parse(readFileSync(new URL('./regression-seeds.json', import.meta.url), 'utf8')) as RegressionSeed[];
  for (const r of regressions) {
    test(`regression: ${r.scenario} seed ${r.seed} (${r.note})`, () => {
      check(r.scenario, r.seed, { ...(r.nodes ? { nodes: r.nodes } : {}), ...(r.durationMs ? { durationMs: r.durationMs } : {}), ...(r.buggify ? { buggify: true } : {}), ...(r.draws ? { draws: r.draws } : {}) }, true);
    });
  }
}
