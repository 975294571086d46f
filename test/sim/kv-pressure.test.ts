// kv-pressure: the kv workload on stores several times too small. Anomalies evictions account for
// are counted apart; anything else is a violation. Each run checks determinism (two runs, same digest).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario, type RunReport } from '../../src/sim/driver.ts';
import type { ReplicationBugs } from '../../src/replication/config.ts';
import type { FaultMode } from '../../src/sim/scenario.ts';
import { kvPressureForgetfulScenario, kvPressureScenario } from '../../src/sim/scenarios/kv-pressure.ts';

function run(seed: number, faults: FaultMode, durationMs: number): RunReport {
  return runScenario(kvPressureScenario, { seed, nodes: 5, durationMs, faults }, true);
}

test('kv-pressure: seeds 1..3 with and without swarm faults: every node evicts, no violation beyond the counted anomalies, deterministic', () => {
  for (const faults of ['none', 'swarm'] as const) {
    for (let seed = 1; seed <= 3; seed++) {
      const report = run(seed, faults, 30_000);
      assert.deepEqual(report.violations, [], `seed ${seed}; replay: ${report.replay}`);
      // Not vacuous: reads were judged, and every store was under pressure.
      assert.ok((report['strictReadsChecked'] as number) > 0);
      const perNode = report['perNode'] as { node: string; evictions: number }[];
      for (const n of perNode) assert.ok(n.evictions > 0, `${n.node} never evicted (seed ${seed}, ${faults}): the budget no longer pressures the store`);
      // The eviction shadow (src/replication/eviction-shadow.ts): sync no longer copies evicted
      // records back, and nothing older than an evicted version is stored again.
      const churn = report['churn'] as { reinserted: Record<string, number>; olderThanDropped: Record<string, number> };
      assert.equal(churn.reinserted['sync'], 0, `sync copied back evicted records (seed ${seed}, ${faults})`);
      for (const [path, count] of Object.entries(churn.olderThanDropped)) {
        assert.equal(count, 0, `${count} records older than an evicted version were stored by ${path} (seed ${seed}, ${faults})`);
      }
    }
  }
});

// Seed 21 without faults used to show a stale read: a write refused by one replica's store was
// hinted, both other replicas evicted it, the hint of an older write landed after the newer one
// was evicted, and sync spread the older version. The eviction shadow makes that older copy stale.
test('kv-pressure seed 21: an older write landing after the newer one was evicted is not stored or spread', () => {
  const report = run(21, 'none', 60_000);
  assert.deepEqual(report.violations, [], report.replay);
  const inversions = report['evictionInversions'] as { count: number; examples: string[] };
  assert.equal(inversions.count, 0, `eviction inversions: ${inversions.examples.join(' | ')}`);
  const churn = report['churn'] as { olderThanDropped: Record<string, number> };
  assert.deepEqual(Object.values(churn.olderThanDropped).filter((n) => n > 0), []);
});

// Swarm seed 13 (5 nodes, 60 s): no eviction inversion, checked in the kv-pressure sweep
// (sweeps-pressure.test.ts), which makes that run.

// kv-pressure-forgetful: each node's eviction shadow holds 64 keys, so evicted keys are forgotten
// within the run and the filter of forgotten keys (src/replication/forgotten-keys.ts) answers for
// them. Without it (forgetPastShadow, restart-probe F5) sync and hints stored older copies of keys
// a node had evicted and forgotten, the step before a stale read (swarm seed 28: 8 of them).
function runForgetful(seed: number, faults: FaultMode, durationMs: number, bugs?: ReplicationBugs): RunReport {
  return runScenario(kvPressureForgetfulScenario, { seed, nodes: 5, durationMs, faults, ...(bugs ? { bugs } : {}) }, true);
}

test('kv-pressure-forgetful: seeds 1..3: keys past the shadow are answered by the filter or the horizon, and no older copy is stored', () => {
  for (const faults of ['none', 'swarm'] as const) {
    for (let seed = 1; seed <= 3; seed++) {
      const report = runForgetful(seed, faults, 30_000);
      assert.deepEqual(report.violations, [], `seed ${seed}; replay: ${report.replay}`);
      // A horizon answer (a key the filter no longer holds) shows the forgetting as well: seed 2's
      // swarm run forgets some 20 keys a node in 30 s, and since the horizon answers, reads of them
      // take another course (5 horizon answers, no filter answer).
      const perNode = report['perNode'] as { forgottenAnswers: number; forgottenRefusals: number; horizonAnswers: number }[];
      assert.ok(perNode.some((n) => n.forgottenAnswers + n.forgottenRefusals + n.horizonAnswers > 0), `neither the filter nor a horizon answered (seed ${seed}, ${faults}): the shadow no longer forgets within the run`);
      const churn = report['churn'] as { olderThanDropped: Record<string, number> };
      assert.deepEqual(Object.values(churn.olderThanDropped).filter((n) => n > 0), [], `seed ${seed}, ${faults}`);
    }
  }
});

test('kv-pressure-forgetful swarm seed 28: a key evicted past the shadow lets no older copy back in', () => {
  const olderStored = (report: RunReport) => Object.values((report['churn'] as { olderThanDropped: Record<string, number> }).olderThanDropped).reduce((a, b) => a + b, 0);
  const without = runForgetful(28, 'swarm', 60_000, { forgetPastShadow: true });
  assert.ok(olderStored(without) > 0, 'the re-injected F5 should store older copies (the scenario no longer shows it)');
  const report = runForgetful(28, 'swarm', 60_000);
  assert.deepEqual(report.violations, [], report.replay);
  assert.equal(olderStored(report), 0);
});
