// The rare-path coverage gate: a bounded kv sweep (BUGGIFY on for the odd seeds, as hunts do) must
// reach every listed rare path of src/runtime/probes.ts in at least the seeds it requires, and a
// kv-join seed the paths of a ring moving under writes. A path that stops being reached (a refactor
// that makes an error branch dead, a fault the swarm no longer draws) fails it, and the tests below
// show it does: the planted bugs skipReadRepair, forgetHints and noJointQuorum, which no history
// checker catches (anti-entropy repairs what the first two break; the third needs a ring moving
// under writes at the wrong moment), each fail it in one seed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RarePath } from '../../src/runtime/probes.ts';
import type { ReplicationBugs } from '../../src/replication/config.ts';
import { CoverageTally } from '../../src/sim/coverage.ts';
import { runScenario } from '../../src/sim/driver.ts';
import { kvScenario } from '../../src/sim/scenarios/kv.ts';
import { kvJoinScenario } from '../../src/sim/scenarios/kv-join.ts';

const GATE_SEEDS = [1, 2, 3, 4, 5, 6];

/**
 * Seeds (of GATE_SEEDS) each rare path must run in: a little below what the sweep reaches today.
 * A kv ring moves only when a crashed node's members give up on it, and since sync rounds ask the
 * owners a joint quorum waits to see (7c501d6) its joint quorums end within a round: kv seeds 1..60
 * reached joint-quorum-waited in 4 seeds before and in none after. kv-join moves rings under writes
 * by design, so JOINING_SEED holds that path (every kv-join seed of 1..6 reaches it). Likewise
 * retry-on-newer-ring: kv seeds 1..30 reached it once (seed 6, one retry) before nodes announced
 * their rings in gossip, and not after; JOINING_SEED holds it too.
 */
const REQUIRED: Record<RarePath, number> = {
  'replica-timeout': 5,
  'sloppy-stand-in-write': 5,
  'hint-delivered': 5,
  'stand-in-hint-delivered': 5,
  'read-repair-sent': 5,
  'joint-quorum-waited': 0,
  'retry-on-newer-ring': 0,
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

const JOINING_SEED = 1;

/** One kv-join run (nodes join under writes): its coverage, and its violations. */
function joining(bugs?: ReplicationBugs): { tally: CoverageTally; failed: string[] } {
  const tally = new CoverageTally();
  const report = runScenario(kvJoinScenario, { seed: JOINING_SEED, ...kvJoinScenario.defaults, ...(bugs ? { bugs } : {}) });
  tally.add(report.coverage);
  return { tally, failed: report.violations.map((v) => `${v.checker}: ${report.replay}`) };
}

test(`kv-join seed ${JOINING_SEED} passes and reaches the paths of a ring moving under writes`, () => {
  const { tally, failed } = joining();
  assert.deepEqual(failed, []);
  assert.deepEqual(tally.shortfalls({ 'joint-quorum-waited': 1, 'retry-on-newer-ring': 1 }), [], tally.format());
});

/**
 * Planted bugs (ReplicationBugs) that each make one rare path unreachable: skipReadRepair and
 * forgetHints in a kv gate seed (their paths run in every seed), noJointQuorum in the kv-join seed.
 * The gate must report those paths short, and not a path they leave alone (replica-timeout,
 * retry-on-newer-ring).
 */
test('the gate fails when rare paths are made unreachable (skipReadRepair, forgetHints, noJointQuorum)', () => {
  const { tally } = sweep([4], { skipReadRepair: true, forgetHints: true });
  const short = tally.shortfalls({ 'read-repair-sent': 1, 'stand-in-hint-delivered': 1, 'replica-timeout': 1 });
  assert.deepEqual(short.map((s) => s.path), ['stand-in-hint-delivered', 'read-repair-sent'], 'only the paths the bugs cut are short');
  const ring = joining({ noJointQuorum: true }).tally.shortfalls({ 'joint-quorum-waited': 1, 'retry-on-newer-ring': 1 });
  assert.deepEqual(ring.map((s) => s.path), ['joint-quorum-waited'], 'noJointQuorum cuts the joint quorum alone');
});
