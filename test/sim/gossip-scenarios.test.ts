/**
 * Small versions of the SWIM scenarios, asserting their checks and figures. Each scenario's own
 * checkers (convergence, detection, heal, no resurrection) turn into violations; these tests also
 * assert the headline claims of each experiment.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario } from '../../src/sim/driver.ts';
import type { Scenario } from '../../src/sim/scenario.ts';
import { gossipScenario } from '../../src/sim/scenarios/swim-gossip.ts';
import {
  swimChurnScenario,
  swimConvergenceScenario,
  swimCostScenario,
  swimDetectionScenario,
  swimPartitionHealScenario,
  swimSlowMembersScenario,
} from '../../src/sim/scenarios/swim.ts';

function run(scenario: Scenario, nodes: number, seed = 1, checkDeterminism = false) {
  const report = runScenario(scenario, { seed, nodes, durationMs: scenario.defaults.durationMs, faults: scenario.defaults.faults }, checkDeterminism);
  assert.deepEqual(report.violations, [], `${scenario.name} seed ${seed}: ${JSON.stringify(report.violations)}`);
  return report;
}

test('swim-convergence: 60 members joining through one seed reach one complete view, deterministically', () => {
  const r = run(swimConvergenceScenario, 60, 3, true);
  assert.equal(typeof r.convergenceSeconds, 'number');
});

test('swim-detection: every crash is detected by everyone, first suspicion within a few periods', () => {
  const r = run(swimDetectionScenario, 30);
  assert.equal((r.trials as unknown[]).length, 8);
  assert.ok((r.firstDetectionPeriods as number) < 5, `first detection after ${r.firstDetectionPeriods} periods`);
});

test('swim-partition-heal: a 50/50 split heals into one view', () => {
  const r = run(swimPartitionHealScenario, 20);
  const during = r.liveMembersSeenDuringSplit as { sideA: number; sideB: number };
  assert.deepEqual(during, { sideA: 10, sideB: 10 }, 'each side gave up on the other during the split');
  assert.equal(typeof r.healSeconds, 'number');
});

test('swim-churn: restarts, crashes and leaves cause no resurrection and views agree after', () => {
  for (const seed of [1, 2]) {
    const r = run(swimChurnScenario, 20, seed);
    assert.equal(r.resurrections, 0);
  }
});

test('swim-cost: steady-state load per member does not grow from 10 to 100 members', () => {
  const small = run(swimCostScenario, 10);
  const large = run(swimCostScenario, 100);
  assert.ok((large.msgsPerMemberPerSecond as number) <= (small.msgsPerMemberPerSecond as number) * 1.5, `${small.msgsPerMemberPerSecond} -> ${large.msgsPerMemberPerSecond}`);
});

test('swim-slow-members: Lifeguard removes most false positives without slowing real detection much', () => {
  const r = run(swimSlowMembersScenario, 60, 2);
  const fp = r.falsePositives as { baseline: number; lifeguard: number };
  const det = r.detectionSeconds as { baseline: number; lifeguard: number };
  assert.ok(fp.baseline >= 10, `the baseline must suffer false positives for the comparison to mean anything (${fp.baseline})`);
  assert.ok(fp.lifeguard * 10 <= fp.baseline, `baseline ${fp.baseline}, lifeguard ${fp.lifeguard}`);
  assert.ok(det.lifeguard <= det.baseline * 1.5, `detection ${det.baseline}s -> ${det.lifeguard}s`);
});

test('gossip swarm: seeds 1..6 keep every invariant and recover, deterministically', () => {
  for (let seed = 1; seed <= 6; seed++) run(gossipScenario, 8, seed, true);
});
