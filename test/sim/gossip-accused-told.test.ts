// An accusation its subject never heard (kv-sdk seed 147, 3 nodes, 10 s): a split cut n1 off from
// n2 and n3 for 5 s. n1 came to suspect n2, and n2 and n3 declared n1 dead; every transmission of
// those accusations went into the split, and Lifeguard had stretched n1's probe interval after its
// failed probes, so the buddy system's next ping to n2 was seconds away. After the heal the three
// talked (gossip, probes of n3), but nobody told the accused: 4 s later n1 still saw n2 as suspect.
// A member holding the sender of a message as suspect or dead now answers it with that accusation,
// and the sender refutes at once. The switch `silentToAccused` keeps members quiet, as before.
// The fixed run is replayed in kv-sdk.test.ts's regression list.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runAnyScenario } from '../../src/sim/driver.ts';
import { kvSdkScenario } from '../../src/sim/scenarios/kv-sdk.ts';

test('kv-sdk seed 147 (3 nodes, 10 s): with members silent to the accused, a suspicion outlives the healed split it came from', async () => {
  const report = await runAnyScenario(kvSdkScenario, { seed: 147, nodes: 3, durationMs: 10_000, faults: 'swarm', bugs: { silentToAccused: true } });
  assert.deepEqual(
    report.violations.map((v) => `${v.checker}: ${v.message}`),
    ['convergence: not recovered 4.0s after faults stopped: n1 sees n2 as suspect'],
    `replay: ${report.replay}`,
  );
});
