// kv-pressure: the kv workload on stores several times too small. Anomalies evictions account for
// are counted apart; anything else is a violation. Each run checks determinism (two runs, same digest).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario, type RunReport } from '../../src/sim/driver.ts';
import type { FaultMode } from '../../src/sim/scenario.ts';
import { kvPressureScenario } from '../../src/sim/scenarios/kv-pressure.ts';

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
      const churn = report['churn'] as { reinserted: { sync: number } };
      assert.ok(churn.reinserted.sync > 0, 'sync copied back no evicted record');
    }
  }
});

// Seed 21 without faults shows a stale read today: a write refused by one replica's store is
// hinted, both other replicas evict it, the hint of the older write lands after the newer one
// was evicted, and sync spreads the older version. It must be counted, not reported as a
// violation. Once replication respects evictions this seed should show none: then drop this test.
test('kv-pressure: a stale read caused by evictions is counted as an eviction inversion, with its trace', () => {
  const report = run(21, 'none', 60_000);
  assert.deepEqual(report.violations, [], report.replay);
  const inversions = report['evictionInversions'] as { count: number; examples: string[] };
  assert.ok(inversions.count >= 1, `no eviction inversion; replay: ${report.replay}`);
  assert.match(inversions.examples[0]!, /stored older .* by sync/);
});
