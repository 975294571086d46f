// A member that refuted a few suspicions (incarnation 3, say) crashes, is declared dead and restarts
// under the same name at incarnation 0. While the others remember its death (dead@3), the restart
// hears of it, refutes it (alive@4) and every member sees it above 3. Once they have forgotten the
// tombstone (deadReclaimMs after the death), the restarted process is simply a new member: nothing
// tells it of its past life, and it is seen at whatever incarnation it reached on its own (0 here).
// That is what cluster-failover.test.ts saw on a starved machine ("n1 sees incarnation 3, was 3").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAN_PROFILE } from '../../src/gossip/config.ts';
import { buildCluster, runUntilAgreed, viewsAgree, type SwimSim } from '../../src/sim/scenarios/swim-harness.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const VICTIM = 2;
const VICTIM_NAME = 'n3';
/** Short, so the reclaim case does not simulate minutes; the cases differ only in when n3 restarts. */
const DEAD_RECLAIM_MS = 20_000;

/** n3 refutes suspicions (paused past a probe timeout, not past the suspicion timeout) until at incarnation >= 3. */
function refuteUntilIncarnation3(sim: SwimSim): number {
  for (let round = 0; round < 20 && sim.process(VICTIM)!.self().incarnation < 3; round++) {
    sim.pause(VICTIM, 1_500);
    sim.runUntil(sim.now + 1_500);
    assert.notEqual(runUntilAgreed(sim, sim.now + 30_000), null, `views should agree again: ${viewsAgree(sim)}`);
  }
  const before = sim.process(0)!.member(VICTIM_NAME)!;
  assert.equal(before.state, 'alive');
  assert.ok(before.incarnation >= 3, `n3 should have refuted at least 3 suspicions, is at ${before.incarnation}`);
  return before.incarnation;
}

function crashUntilSeenDead(sim: SwimSim): void {
  sim.crash(VICTIM);
  const seenDead = () => [0, 1].every((i) => sim.process(i)!.member(VICTIM_NAME)?.state === 'dead');
  sim.runUntil(sim.now + DEAD_RECLAIM_MS / 2, seenDead);
  assert.ok(seenDead(), 'the survivors should declare n3 dead well within the reclaim time');
}

function cluster(): SwimSim {
  const sim = buildCluster({ seed: 41, nodes: 3, trace: new EventTrace(), config: { deadReclaimMs: DEAD_RECLAIM_MS } });
  assert.notEqual(runUntilAgreed(sim, 60_000), null, 'the cluster should form first');
  return sim;
}

test('a member restarted while its death is remembered is seen by every member above the incarnation it died with', () => {
  const sim = cluster();
  const before = refuteUntilIncarnation3(sim);
  crashUntilSeenDead(sim);
  sim.start(VICTIM);
  assert.notEqual(runUntilAgreed(sim, sim.now + DEAD_RECLAIM_MS / 2), null, `n3 should rejoin: ${viewsAgree(sim)}`);
  for (const i of [0, 1, 2]) {
    const m = sim.process(i)!.member(VICTIM_NAME)!;
    assert.equal(m.state, 'alive');
    assert.ok(m.incarnation > before, `n${i + 1} sees incarnation ${m.incarnation}, was ${before}`);
  }
});

test('a member restarted after its tombstone was reclaimed is a new member, at the incarnation it reached on its own', () => {
  const sim = cluster();
  const before = refuteUntilIncarnation3(sim);
  crashUntilSeenDead(sim);
  // The probe loop reclaims tombstones older than deadReclaimMs on its ticks.
  const forgotten = () => [0, 1].every((i) => sim.process(i)!.member(VICTIM_NAME) === undefined);
  sim.runUntil(sim.now + 2 * DEAD_RECLAIM_MS, forgotten);
  assert.ok(forgotten(), 'the survivors should forget n3 after deadReclaimMs');
  sim.start(VICTIM);
  assert.notEqual(runUntilAgreed(sim, sim.now + LAN_PROFILE.joinRetryMaxMs * 3), null, `n3 should rejoin: ${viewsAgree(sim)}`);
  for (const i of [0, 1, 2]) {
    const m = sim.process(i)!.member(VICTIM_NAME)!;
    assert.equal(m.state, 'alive');
    // Nobody remembers dead@3 to tell it of: it never had to refute, and starts over.
    assert.equal(m.incarnation, 0, `n${i + 1} sees incarnation ${m.incarnation} (the dead one was ${before})`);
  }
});
