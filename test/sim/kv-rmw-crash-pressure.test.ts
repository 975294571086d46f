// kv-rmw-crash-pressure (src/sim/scenarios/kv-rmw.ts): read-modify-writes under crashes and memory
// pressure together, losses judged by where the values were (rmw-memory.ts). A few swarm seeds,
// one of them with losses the judge excuses, and a planted switch the judge catches.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario } from '../../src/sim/driver.ts';
import { kvRmwCrashPressureScenario } from '../../src/sim/scenarios/kv-rmw.ts';

/** Seeds 1..3, and 38: its pressed owner evicted APPENDs whose other holder then crashed. */
const SEEDS = [1, 2, 3, 38];

test(`kv-rmw-crash-pressure: seeds ${SEEDS.join(', ')}: no duplicate, and no loss but of updates that left every memory by an eviction or a crash`, () => {
  let restarts = 0;
  let excused = 0;
  for (const seed of SEEDS) {
    const report = runScenario(kvRmwCrashPressureScenario, { seed, ...kvRmwCrashPressureScenario.defaults }, seed === 1);
    assert.deepEqual(report.violations, [], `seed ${seed}; replay: ${report.replay}`);
    restarts += report['restarts'] as number;
    excused += report['lossesExcused'] as number;
  }
  assert.ok(restarts > 0, 'nodes crashed and restarted');
  assert.ok(excused > 0, 'some acknowledged update left every memory, and was excused');
});

test('kv-rmw-crash-pressure seed 60: with fencing off, acknowledged increments are written over while nodes still hold them, and the judge does not excuse them', () => {
  const options = { seed: 60, ...kvRmwCrashPressureScenario.defaults };
  const buggy = runScenario(kvRmwCrashPressureScenario, { ...options, bugs: { rmwNoFencing: true } });
  assert.equal(buggy.violations.length, 1, JSON.stringify(buggy.violations));
  assert.match(buggy.violations[0]!.message, /^lost-increments: ctr2: INCR answered \d+ at [\d.]+ms, then the final counter is \d+, and no eviction or crash had taken every record/);
  const fixed = runScenario(kvRmwCrashPressureScenario, options);
  assert.deepEqual(fixed.violations, [], `replay: ${fixed.replay}`);
});
