// kv-pressure-ring: kv-pressure-forgetful while owners restart, a node joins, nodes drain, leave and
// rejoin (src/sim/scenarios/kv-pressure-ring.ts). No violation, no eviction inversion (here a
// violation), and not vacuous: the ring steps ran, and restarted or newly gaining owners answered
// reads of keys another owner had forgotten, some of them answered over that inexact eviction.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario, type RunReport } from '../../src/sim/driver.ts';
import { kvPressureRingScenario } from '../../src/sim/scenarios/kv-pressure-ring.ts';

// Chosen because, on this code, they reach the rarest count asserted below (a fresh owner behind an
// acknowledged write beside an inexact eviction: 6 and 4 reads; seeds 1..12 reach it in 4 seeds).
// A change to replication that shifts the runs can take them past it: pick others with
// `shoal sim --scenario kv-pressure-ring --seeds 1..20 --json` (its freshOwners.behindBeside).
const SEEDS = [5, 10];

function run(seed: number): RunReport {
  // Determinism (two runs, one digest) checked on the first seed only: each run is a full minute of five nodes.
  return runScenario(kvPressureRingScenario, { seed, nodes: 5, durationMs: 60_000, faults: 'swarm' }, seed === SEEDS[0]);
}

test('kv-pressure-ring: seeds 5 and 10: no violation, and restarted or gaining owners answered beside owners that forgot the key', () => {
  const ring: Record<string, number> = {};
  const fresh: Record<string, number> = {};
  let overInexact = 0;
  for (const seed of SEEDS) {
    const report = run(seed);
    assert.deepEqual(report.violations, [], `seed ${seed}; replay: ${report.replay}`);
    assert.equal((report['evictionInversions'] as { count: number }).count, 0);
    for (const [k, n] of Object.entries(report['ring'] as Record<string, number>)) ring[k] = (ring[k] ?? 0) + n;
    for (const [k, n] of Object.entries(report['freshOwners'] as Record<string, number>)) fresh[k] = (fresh[k] ?? 0) + n;
    overInexact += report['answersOverInexactEviction'] as number;
  }
  for (const step of ['crash-restart', 'join', 'drain', 'stop-restart', 'leave', 'miss-then-restart']) assert.ok(ring[step]! > 0, `no ${step} step ran: ${JSON.stringify(ring)}`);
  assert.ok(ring['distinctRings']! > 1, 'the ring never changed');
  assert.ok(fresh['beside']! > 0, `no fresh owner answered beside an inexact eviction: ${JSON.stringify(fresh)}`);
  assert.ok(fresh['countedInAnswer']! > 0, `no read was answered over an inexact eviction with a fresh owner answering: ${JSON.stringify(fresh)}`);
  assert.ok(fresh['behindBeside']! > 0, `no fresh owner answered older than an acknowledged write beside an inexact eviction (see SEEDS): ${JSON.stringify(fresh)}`);
  assert.ok(overInexact > 0);
});
