// The swarm sweeps CI runs on every change, plus every seed that ever failed (regression-seeds.json).
// Determinism is checked on a sample, as FoundationDB checks it on a sample of its runs: every
// regression seed and one sweep seed in DETERMINISM_EVERY run twice, and a seed whose two runs
// differ fails like any other violation. Nondeterminism (a stray Date or Math.random) shows on any
// seed that reaches the code, so the sample catches it while the sweeps cost half the CPU.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runScenario } from '../../src/sim/driver.ts';
import type { ScenarioOptions } from '../../src/sim/scenario.ts';
import { SCENARIOS } from '../../src/sim/scenarios/index.ts';

interface Sweep {
  scenario: string;
  seeds: [number, number];
  nodes?: number;
  durationMs?: number;
}

/** Seeds per scenario; sized so the whole file stays within a few minutes on CI's 2 cores. */
const SWEEPS: Sweep[] = [
  { scenario: 'heartbeat', seeds: [1, 100] },
  { scenario: 'kv', seeds: [1, 100], nodes: 5 },
  { scenario: 'kv-join', seeds: [1, 20] },
  { scenario: 'kv-pressure', seeds: [1, 20], nodes: 5 },
  // 3 nodes: each owns every partition, so a restarted node catches all of them up (seeds 4, 18, 24, 29 never did before the fix).
  { scenario: 'kv-pressure', seeds: [1, 30], nodes: 3 },
  // Slow partition actors, tiny mailboxes: backpressure (`overloaded`) under swarm faults.
  { scenario: 'kv-overload', seeds: [1, 5], nodes: 5, durationMs: 30_000 },
  // 16 nodes cost ~2.8 s a seed on a loaded machine; `shoal sim --hunt` runs gossip at every size beyond these.
  { scenario: 'gossip', seeds: [1, 20], nodes: 16, durationMs: 120_000 },
];

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

const regressions = JSON.parse(readFileSync(new URL('./regression-seeds.json', import.meta.url), 'utf8')) as RegressionSeed[];

/** One sweep seed in this many also runs twice to check determinism. */
const DETERMINISM_EVERY = 5;

function check(scenarioName: string, seed: number, overrides: Partial<ScenarioOptions>, determinism: boolean): void {
  const scenario = SCENARIOS.get(scenarioName);
  assert.ok(scenario, `no scenario named ${scenarioName}`);
  const options: ScenarioOptions = { seed, ...scenario.defaults, faults: 'swarm', ...overrides };
  const report = runScenario(scenario, options, determinism);
  assert.deepEqual(report.violations, [], `seed ${seed} failed; replay: ${report.replay}`);
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

for (const sweep of SWEEPS) {
  const [first, last] = sweep.seeds;
  const label = `${sweep.scenario} seeds ${first}..${last}${sweep.nodes ? `, ${sweep.nodes} nodes` : ''}`;
  test(`${sweep.scenario}: seeds ${first}..${last} (swarm faults where the scenario injects them), determinism checked on one seed in ${DETERMINISM_EVERY}`, () => {
    const started = performance.now();
    progress(`${label}: starting`);
    for (let seed = first; seed <= last; seed++) {
      const overrides = { ...(sweep.nodes ? { nodes: sweep.nodes } : {}), ...(sweep.durationMs ? { durationMs: sweep.durationMs } : {}) };
      check(sweep.scenario, seed, overrides, (seed - first) % DETERMINISM_EVERY === 0);
      const done = seed - first + 1;
      if (done % PROGRESS_EVERY === 0 || seed === last) {
        // Elapsed time is for the reader only; nothing depends on it.
        progress(`${label}: ${done}/${last - first + 1} passed (${((performance.now() - started) / 1000).toFixed(0)}s)`);
      }
    }
  });
}

for (const r of regressions) {
  test(`regression: ${r.scenario} seed ${r.seed} (${r.note})`, () => {
    check(r.scenario, r.seed, { ...(r.nodes ? { nodes: r.nodes } : {}), ...(r.durationMs ? { durationMs: r.durationMs } : {}), ...(r.buggify ? { buggify: true } : {}), ...(r.draws ? { draws: r.draws } : {}) }, true);
  });
}
