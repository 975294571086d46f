import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../src/sim/driver.ts';
import { ringBalanceScenario, ringMoveScenario } from '../../src/sim/scenarios/ring.ts';

// Small sizes keep this fast; bench/ring and `shoal sim --scenario ring-*` cover 3..64.
const options = (seed: number, nodes: number) => ({ seed, nodes, durationMs: 0, faults: 'none' as const });

test('ring-balance reports max/mean for every size from 3 to --nodes, deterministically', () => {
  const report = runScenario(ringBalanceScenario, options(1, 12), true);
  const figures = report['maxOverMean'] as Record<string, number>;
  assert.deepEqual(Object.keys(figures).map(Number), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  for (const ratio of Object.values(figures)) assert.ok(ratio >= 1 && ratio <= 1.1);
  assert.deepEqual(report.violations, []);
  assert.equal(report.events, 10);
});

test('ring-move reports join and leave movement per size; seeds measure different member sets', () => {
  const a = runScenario(ringMoveScenario, options(1, 8));
  const b = runScenario(ringMoveScenario, options(2, 8));
  const moves = a['movedOverIdeal'] as { join: Record<string, number>; leave: Record<string, number> };
  assert.deepEqual(Object.keys(moves.join).map(Number), [3, 4, 5, 6, 7, 8]);
  assert.deepEqual(Object.keys(moves.leave).map(Number), [4, 5, 6, 7, 8]);
  assert.deepEqual(a.violations, []);
  assert.notEqual(a.digest, b.digest);
});
