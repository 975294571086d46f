// The rare-path coverage gate: a bounded kv sweep (BUGGIFY on for the odd seeds, as hunts do) must
// reach every listed rare path of src/runtime/probes.ts in at least the seeds it requires. A path
// that stops being reached (a refactor that makes an error branch dead, a fault the swarm no longer
// draws) fails it, and the tests below show it does: the planted bugs skipReadRepair, forgetHints and
// noJointQuorum, which no history checker catches (anti-entropy repairs what the first two break;
// the third needs a ring moving under writes at the wrong moment), each fail it in one seed.
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
  'joint-quorum-waited': 1,
  'retry-on-newer-ring': 1,
  'sync-repaired': 5,
  'handoff-finished': 1,
  'suspect-refuted': 5,
  'indirect-probe-ack': 3,
  'member-declared-dead': 5,
};

function sweep(seeds: readonly number[], bugs?: ReplicationBugs): { tally: CoverageTally; failed: string[] } {
  const tally = new CoverageTally();
  const failed: string[] = [];
  for (const seed of seeds) {
    const report = runScenario(kvScenario, { seed, ...kvScenario.defaults, ...(bugs ? { bugs } : {}), ...(seed % 2 === 1 ? { buggify: true } : {}) });
    if (report.violations.length > 0) failed.push(`${report.violations[0]!.checker}: ${report.replay}`);
    tally.add(report.coverage);
  }
  return { tally, failed };
}

test(`kv seeds ${GATE_SEEDS[0]}..${GATE_SEEDS.at(-1)} pass and reach every listed rare path in enough seeds`, () => {
  const { tally, failed } = sweep(GATE_SEEDS);
  assert.deepEqual(failed, []);
  assert.deepEqual(tally.shortfalls(REQUIRED), [], tally.format());
});

/**
 * Planted bugs (ReplicationBugs) that each make one rare path unreachable, run together in the one
 * gate seed whose ring moves under writes (joint-quorum-waited's only seed in the sweep; the other
 * two paths run in every seed): the gate must report those three paths short, and not a path they
 * leave alone (replica-timeout).
 */
test('the gate fails when rare paths are made unreachable (skipReadRepair, forgetHints, noJointQuorum)', () => {
  const { tally } = sweep([4], { skipReadRepair: true, forgetHints: true, noJointQuorum: true });
  const short = tally.shortfalls({ 'read-repair-sent': 1, 'stand-in-hint-delivered': 1, 'joint-quorum-waited': 1, 'replica-timeout': 1 });
  assert.deepEqual(short.map((s) => s.path), ['stand-in-hint-delivered', 'read-repair-sent', 'joint-quorum-waited'], 'only the paths the bugs cut are short');
});
