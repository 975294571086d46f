// Quick kv runs for the local test suite (CI sweeps 100 seeds through `shoal sim --scenario kv --seeds 1..100`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario } from '../../src/sim/driver.ts';
import { kvJoinScenario } from '../../src/sim/scenarios/kv-join.ts';
import { kvScenario } from '../../src/sim/scenarios/kv.ts';

test('kv: seeds 1..5 under swarm faults pass every checker, deterministically', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const report = runScenario(kvScenario, { seed, ...kvScenario.defaults }, true);
    assert.deepEqual(report.violations, [], `seed ${seed}; replay: ${report.replay}`);
    assert.ok((report['opsAcked'] as number) > 0);
  }
});

test('kv-join: the joiner and the leaver hand off, no acknowledged write is lost, replicas converge', () => {
  const report = runScenario(kvJoinScenario, { seed: 1, ...kvJoinScenario.defaults }, true);
  assert.deepEqual(report.violations, []);
  assert.ok((report['keysReceivedByJoiner'] as number) > 0);
  assert.ok(typeof report['joinHandoffSeconds'] === 'number');
  assert.ok(typeof report['leaveHandoffSeconds'] === 'number');
});
