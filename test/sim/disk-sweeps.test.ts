// The disk tier under the kv checkers, on simulated disks with write errors, torn writes and
// rotting bits that outlive node crashes:
// - kv-pressure-disk: kv-pressure with a tier of 8x memory under every store;
// - kv-disk: the kv workload (few hot keys, overwritten and deleted again and again) on stores too
//   small for half of it, over a tier of 4x memory: stale disk copies that newer writes outrank.
// The kv checkers judge every read; the disk must serve reads (or the tier would be tested idle).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario } from '../../src/sim/driver.ts';
import type { Scenario } from '../../src/sim/scenario.ts';
import { kvDiskScenario, kvPressureDiskScenario } from '../../src/sim/scenarios/kv-pressure.ts';

const SEEDS = 50;

/** Runs seeds 1..SEEDS (determinism checked on the first two) and checks the disk was used and faulted. */
function diskSweep(scenario: Scenario, minPutsPerSeed: number): void {
  const totals = { hits: 0, puts: 0, corrupt: 0, evictionMisses: 0, writeFailures: 0, crashes: 0 };
  for (let seed = 1; seed <= SEEDS; seed++) {
    const report = runScenario(scenario, { seed, nodes: 5, durationMs: 20_000, faults: 'swarm' }, seed <= 2);
    assert.deepEqual(report.violations, [], `seed ${seed}; replay: ${report.replay}`);
    const disk = report['disk'] as Record<string, number>;
    totals.hits += disk['hits']!;
    totals.puts += disk['puts']!;
    totals.corrupt += disk['corrupt']!;
    totals.writeFailures += disk['device.writeErrors']! + disk['device.tornWrites']!;
    totals.crashes += disk['device.crashes']!;
    totals.evictionMisses += report['evictionMisses'] as number;
  }
  process.stdout.write(`${scenario.name} over ${SEEDS} seeds: ${JSON.stringify(totals)}\n`);
  assert.ok(totals.puts > SEEDS * minPutsPerSeed && totals.hits > SEEDS * 10, 'evicted records went to disk and reads found them there');
  assert.ok(totals.writeFailures > 0 && totals.crashes > 0, 'disk faults and node crashes happened');
}

test(`kv-pressure-disk: seeds 1..${SEEDS} under swarm faults and disk faults: no violation, and reads come back from disk`, () => {
  diskSweep(kvPressureDiskScenario, 100);
});

test(`kv-disk: seeds 1..${SEEDS} under swarm faults and disk faults: no violation, and reads come back from disk`, () => {
  diskSweep(kvDiskScenario, 10);
});
