// A partition that outlasts deadReclaimMs: both sides declare each other dead and then forget the
// tombstones, so only the seeds are left to bridge them. The cluster must still heal into one view.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAN_PROFILE } from '../../src/gossip/config.ts';
import { buildCluster, runUntilAgreed, viewsAgree } from '../../src/sim/scenarios/swim-harness.ts';
import { EventTrace } from '../../src/sim/trace.ts';

test('a 50/50 split longer than deadReclaimMs still heals into one view', () => {
  const sim = buildCluster({ seed: 1, nodes: 6, trace: new EventTrace(), seedCount: 1 });
  assert.notEqual(runUntilAgreed(sim, 60_000), null, 'the cluster should form first');
  const [a, b] = [[0, 1, 2], [3, 4, 5]];
  const heal = [sim.network.cut(a, b), sim.network.cut(b, a)];
  sim.runUntil(sim.now + LAN_PROFILE.deadReclaimMs + 60_000);
  assert.deepEqual(sim.upNodes().map((n) => n.process!.liveMembers()), [3, 3, 3, 3, 3, 3], 'each side sees only itself during the split');
  for (const undo of heal) undo();
  const healedAt = sim.now;
  assert.notEqual(runUntilAgreed(sim, healedAt + 300_000), null, 'never healed');
  assert.equal(viewsAgree(sim), null);
  assert.deepEqual(sim.upNodes().map((n) => n.process!.liveMembers()), [6, 6, 6, 6, 6, 6]);
});
