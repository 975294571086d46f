/**
 * The SWIM + Lifeguard figures of issue 3, from the deterministic simulator: convergence, detection
 * and cost for K = 10/100/1000, and the single-size experiments (slow members, partition heal,
 * churn). Prints a table and one JSON object; `--write` also saves bench/results/gossip-<date>.json.
 *
 *   npx tsx bench/gossip/index.ts [--quick] [--write] [--seed N]
 *
 * `--quick` skips K = 1000 (which takes a few minutes of wall time).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { runScenario, type RunReport } from '../../src/sim/driver.ts';
import type { Scenario } from '../../src/sim/scenario.ts';
import {
  swimChurnScenario,
  swimConvergenceScenario,
  swimCostScenario,
  swimDetectionScenario,
  swimPartitionHealScenario,
  swimSlowMembersScenario,
} from '../../src/sim/scenarios/swim.ts';
import { benchArgs } from '../help.ts';

const flags = benchArgs('npm run bench:gossip --', {
  quick: { kind: 'boolean', description: 'clusters of 10 and 100 members only (no 1000)' },
  write: { kind: 'boolean', description: 'also save bench/results/gossip-<date>.json' },
  seed: { kind: 'number', value: 'N', description: 'simulator seed', default: 1 },
});
const quick = flags.quick === true;
const write = flags.write === true;
const seed = Number(flags.seed);
const sizes = quick ? [10, 100] : [10, 100, 1000];

function run(scenario: Scenario, nodes: number): RunReport {
  const report = runScenario(scenario, { seed, nodes, durationMs: scenario.defaults.durationMs, faults: scenario.defaults.faults });
  process.stderr.write(`${scenario.name} K=${nodes}: ${report.violations.length === 0 ? 'pass' : 'FAIL'} (${report.wallSeconds}s wall)\n`);
  return report;
}

const rows: { scenario: string; K: number; figures: Record<string, unknown>; violations: number; wallSeconds: number }[] = [];
function record(r: RunReport, keys: string[]): void {
  const figures: Record<string, unknown> = {};
  for (const k of keys) figures[k] = r[k];
  rows.push({ scenario: r.scenario, K: r.options.nodes, figures, violations: r.violations.length, wallSeconds: r.wallSeconds });
}

for (const k of sizes) record(run(swimConvergenceScenario, k), ['convergenceSeconds', 'convergenceProbePeriods', 'log2Nodes']);
for (const k of sizes) record(run(swimDetectionScenario, k), ['firstDetectionPeriods', 'swimExpectedFirstDetectionPeriods', 'fullDisseminationSeconds']);
for (const k of sizes) record(run(swimCostScenario, k), ['msgsPerMemberPerSecond', 'bytesPerMemberPerSecond', 'probeAndGossipBytesPerMemberPerSecond', 'pushPullBytesPerMemberPerSecond']);
record(run(swimSlowMembersScenario, 100), ['falsePositives', 'falsePositiveReduction', 'detectionSeconds', 'detectionRatio']);
record(run(swimPartitionHealScenario, 50), ['healSeconds', 'liveMembersSeenDuringSplit']);
record(run(swimChurnScenario, 30), ['flaps', 'resurrections', 'refutedSuspicions', 'agreeSecondsAfterChurn']);

const show = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
process.stdout.write('\nscenario             K     figures\n');
for (const r of rows) {
  const figures = Object.entries(r.figures).map(([k, v]) => `${k}=${show(v)}`).join('  ');
  process.stdout.write(`${r.scenario.padEnd(20)} ${String(r.K).padEnd(5)} ${figures}${r.violations ? `  VIOLATIONS=${r.violations}` : ''}\n`);
}
const result = { bench: 'gossip', seed, date: new Date().toISOString(), node: process.version, rows };
process.stdout.write(`\n${JSON.stringify(result)}\n`);
if (write) {
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/gossip-${result.date.slice(0, 10)}.json`;
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  process.stderr.write(`wrote ${file}\n`);
}
process.exitCode = rows.some((r) => r.violations > 0) ? 1 : 0;
