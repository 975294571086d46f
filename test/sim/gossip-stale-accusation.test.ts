// A refutation that every random gossip target missed (kv-rmw seed 106, keyed draws, shrunk to two
// faults and no operations): n4 comes back from an isolation and suspects n1; n1 refutes, and the
// 16 transmissions of its refutation by n1..n4 all go to members other than n5, which keeps n1
// suspect. n5 gossips its stale suspicion on, and a member that already heard the refutation
// answers it with n1's newer state. Memberlist ignores a stale suspicion, as the switch
// `ignoreStaleAccusations` does: then n5 keeps n1 suspect until its timer runs out (18 s with
// nobody confirming) or a push-pull happens to pair them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScenario } from '../../src/sim/driver.ts';
import type { RunPlan } from '../../src/sim/scenario.ts';
import { kvRmwScenario } from '../../src/sim/scenarios/kv-rmw.ts';

/** What `shoal sim --scenario kv-rmw --seed 106 --draws keyed --shrink` printed (node 3 is n4, node 1 is n2). */
const SHRUNK_106: RunPlan = {
  faults: [
    { atMs: 3254, action: { kind: 'isolate', node: 3, forMs: 7715 } },
    { atMs: 3825, action: { kind: 'pause', node: 1, forMs: 615 } },
  ],
  network: { lossRate: 0, duplicateRate: 0 },
  ops: [],
};

test('kv-rmw seed 106 (keyed, shrunk): a member told a suspicion older than what it knows answers the sender, so a missed refutation still reaches it', () => {
  const options = { ...kvRmwScenario.defaults, seed: 106, draws: 'keyed' as const, plan: SHRUNK_106 };
  const fixed = runScenario(kvRmwScenario, options);
  assert.deepEqual(fixed.violations, [], `replay: ${fixed.replay}`);
  const buggy = runScenario(kvRmwScenario, { ...options, bugs: { ignoreStaleAccusations: true } });
  assert.deepEqual(
    buggy.violations.map((v) => `${v.checker}: ${v.message}`),
    ['convergence: not recovered 8.0s after faults stopped: n5 sees n1 as suspect'],
    'with the switch, n5 still holds the suspicion the others dropped',
  );
});
