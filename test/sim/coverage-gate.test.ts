// The rare-path coverage gate: a bounded kv sweep (BUGGIFY on for the odd seeds, as hunts do) must
// reach every listed rare path of src/runtime/probes.ts in at least the seeds it requires. A path
// that stops being reached (a refactor that makes an error branch dead, a fault the swarm no longer
// draws) fails it, and the tests below show it does: the planted bugs skipReadRepair and forgetHints,
// which no history checker catches (anti-entropy repairs what they break), each fail it in one seed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RarePath } from '../../src/runtime/probes.ts';
import type { ReplicationBugs } from '../../src/replication/config.ts';
import { CoverageTally } from '../../src/sim/coverage.ts';
import { runScenario } from '../../src/sim/driver.ts';
import { kvScenario } from '../../src/sim/scenarios/kv.ts';

const GATE_SEEDS = [1, 2, 3, 4, 5, 6];

/** Seeds (of GATE_SEEDS) each rare path must run in: a little below what the sweep reaches today. */
const REQUIRED: Record<RarePath, number> = {
  'replica-timeout': 5,
  'sloppy-stand-in-write': 5,
  'hint-delivered': 5,
  'stand-in-hint-delivered': 5,
  'read-repair-sent': 5,
  'retry-on-newer-ring': 1,
  'sync-repaired': 5,
  'handoff-finished': 1,
  'suspect-refuted': 5,
  'indirect-probe-ack': 3,
  'member-declared-dead': 5,
};

function sweep(seeds: readonly number[], bugs?: ReplicationBugs): CoverageTally {
  const tally = new CoverageTally();
  for (const seed of seeds) {
    const report = runScenario(kvScenario, { seed, ...kvScenario.defaults, ...(bugs ? { bugs } : {}), ...(seed % 2 === 1 ? { buggify: true } : {}) });
    assert.deepEqual(report.violations, [], `kv seed ${seed} must pass: ${report.replay}`);
    tally.add(report.coverage);
  }
  return tally;
}

test(`kv seeds ${GATE_SEEDS[0]}..${GATE_SEEDS.at(-1)} reach every listed rare path in enough seeds`, () => {
  const tally = sweep(GATE_SEEDS);
  assert.deepEqual(tally.shortfalls(REQUIRED), [], tally.format());
});

/** Planted bugs (ReplicationBugs) that make a rare path unreachable: the gate must fail within one seed. */
const UNREACHABLE: { bugs: ReplicationBugs; path: RarePath }[] = [
  { bugs: { skipReadRepair: true }, path: 'read-repair-sent' },
  { bugs: { forgetHints: true }, path: 'stand-in-hint-delivered' },
];

for (const { bugs, path } of UNREACHABLE) {
  test(`the gate fails when ${path} is made unreachable (${Object.keys(bugs).join()})`, () => {
    const tally = sweep([2], bugs);
    assert.deepEqual(tally.shortfalls({ [path]: 1 }), [{ path, seeds: 0, required: 1 }]);
  });
}
