// A member that left gracefully and starts again knows only its seeds. When every seed is down, the
// only way back in is a member that remembers it: push-pull calls one remembered dead *or left*
// member each round (swim-churn seed 300163: five members that left and came back while the three
// seeds were down stayed alone for good when only dead members were called).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAN_PROFILE } from '../../src/gossip/config.ts';
import { buildCluster, runUntilAgreed, viewsAgree } from '../../src/sim/scenarios/swim-harness.ts';
import { EventTrace } from '../../src/sim/trace.ts';

test('a member that left and restarts while its only seed is down is called back in by a peer that remembers it', () => {
  const sim = buildCluster({ seed: 1, nodes: 5, trace: new EventTrace(), seedCount: 1 });
  assert.notEqual(runUntilAgreed(sim, 60_000), null, 'the cluster should form first');
  sim.crash(0); // the only seed, down for good
  sim.stop(4); // a graceful leave
  sim.runUntil(sim.now + 5_000);
  assert.equal(sim.nodes[1]!.process!.member('n5')?.state, 'left');
  sim.start(4);
  sim.runUntil(sim.now + 1_000);
  assert.equal(sim.nodes[4]!.process!.liveMembers(), 1, 'alone: its seed is down');
  // Within the tombstone's lifetime some peer's push-pull picks it.
  const agreed = runUntilAgreed(sim, sim.now + LAN_PROFILE.deadReclaimMs);
  assert.notEqual(agreed, null, `the restarted member never rejoined: ${viewsAgree(sim)}`);
  assert.deepEqual(sim.upNodes().map((n) => n.process!.liveMembers()), [4, 4, 4, 4]);
});
