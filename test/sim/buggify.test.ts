// BUGGIFY (src/sim/probes.ts): off, a seed runs exactly as it always has; on, the run fires the
// fault points the seed enabled, replays identically, and says so in its replay line.
// About 5 s of CPU (three kv runs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario } from '../../src/sim/driver.ts';
import { RunProbes } from '../../src/sim/probes.ts';
import { kvScenario } from '../../src/sim/scenarios/kv.ts';
import { BUGGIFY_POINTS } from '../../src/runtime/probes.ts';

test('kv seed 2 with --buggify fires its enabled points, passes, replays identically, and differs from the run without', () => {
  const options = { seed: 2, ...kvScenario.defaults };
  const plain = runScenario(kvScenario, options);
  assert.equal(plain.buggify, undefined);
  const buggy = runScenario(kvScenario, { ...options, buggify: true }, true);
  assert.deepEqual(buggy.violations, [], 'passes, and the determinism check (a second run) agrees');
  assert.ok(buggy.buggify && buggy.buggify.enabled.length > 0, 'seed 2 enables some points');
  for (const point of Object.keys(buggy.buggify.fired)) assert.ok(buggy.buggify.enabled.includes(point), `${point} fired only if enabled`);
  assert.ok(Object.values(buggy.buggify.fired).reduce((a, b) => a + b, 0) > 0, 'an enabled point fired');
  assert.notEqual(buggy.digest, plain.digest);
  assert.match(buggy.replay, / --buggify$/);
});

test('off, no point ever fires; on, which points are enabled depends on the seed alone', () => {
  const off = new RunProbes();
  const probes = off.forNode('n1', () => 0);
  for (let i = 0; i < 1000; i++) for (const p of BUGGIFY_POINTS) assert.equal(probes.buggify(p), false);
  const enabledIn = (seed: number, order: readonly (typeof BUGGIFY_POINTS)[number][]) => {
    const run = new RunProbes(seed);
    return order.map((p) => [p, run.isEnabled(p)] as const).sort();
  };
  const seeds = Array.from({ length: 40 }, (_, i) => i + 1);
  for (const seed of seeds) assert.deepEqual(enabledIn(seed, BUGGIFY_POINTS), enabledIn(seed, [...BUGGIFY_POINTS].reverse()));
  const enabledCount = seeds.reduce((n, seed) => n + BUGGIFY_POINTS.filter((p) => new RunProbes(seed).isEnabled(p)).length, 0);
  const share = enabledCount / (seeds.length * BUGGIFY_POINTS.length);
  assert.ok(share > 0.3 && share < 0.7, `about half the points are enabled per run (got ${share})`);
});
