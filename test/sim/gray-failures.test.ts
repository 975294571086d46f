// Gray failures (issue 18) in virtual time: a node 10x slower, a node dropping 5% of its packets,
// GC-style pauses. Peer health must demote the first within 1 s and the second within 7 s, SWIM
// must never declare either dead, pauses must not demote, and routing must take reads off a
// demoted replica. test/sim/health-stability.test.ts adds heavy load, the coordinators' own
// stalls and SIGSTOP duty cycles. Figures for more seeds:
// `shoal sim --scenario gray-slow|gray-loss|gray-gc --seeds 1..5`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runGray } from '../../src/sim/scenarios/gray.ts';

const SEEDS = [1, 2];
const RUN = { nodes: 3, durationMs: 12_000 };

test('a node whose replies take 10x as long is demoted by every other node within 1 s, never declared dead; routing takes reads off it', () => {
  for (const seed of SEEDS) {
    const on = runGray({ seed, ...RUN, fault: 'slow', routing: true });
    const off = runGray({ seed, ...RUN, fault: 'slow', routing: false });
    for (const run of [on, off]) {
      assert.ok(run.demotedAfterMs !== null && run.demotedAfterMs <= 1_000, `seed ${seed}: ${JSON.stringify(run)}`);
      assert.equal(run.declaredDead, 0);
      assert.equal(run.readsFailed + run.writesFailed, 0);
    }
    assert.ok(on.degradedAfterMs !== null && on.degradedAfterMs <= 7_000, `seed ${seed}: the gossiped views call it degraded`);
    assert.equal(off.degradedAfterMs, null, 'nothing is published with routing off');
    assert.ok(on.grayNodeReceived < off.grayNodeReceived * 0.6, `seed ${seed}: ${on.grayNodeReceived} vs ${off.grayNodeReceived} messages to the slow node`);
    assert.ok(on.readP99Ms <= off.readP99Ms * 1.1, `seed ${seed}: routing must not worsen read p99 (${on.readP99Ms} vs ${off.readP99Ms} ms)`);
  }
});

test('a node dropping 5% of its packets is demoted within 7 s, never declared dead, and no request fails', () => {
  for (const seed of SEEDS) {
    const run = runGray({ seed, ...RUN, fault: 'loss', routing: true });
    assert.ok(run.demotedAfterMs !== null && run.demotedAfterMs <= 7_000, `seed ${seed}: ${JSON.stringify(run)}`);
    assert.equal(run.declaredDead, 0);
    assert.equal(run.readsFailed + run.writesFailed, 0);
  }
});

test('GC-style pauses up to 3 s demote nobody, nor do shorter ones', () => {
  const run = runGray({ seed: 1, nodes: 3, durationMs: 30_000, fault: 'gc', routing: true });
  assert.equal(run.demotions, 0, JSON.stringify(run));
  // Whether the pause rule is what keeps them from demoting: test/unit/health-peer.test.ts ("the
  // pause rule"). Since verdicts are judged on windows of time, a pause's backlog rarely fills
  // the two windows a demotion takes, so in the simulator they demote nobody even without it.
  const short = runGray({ seed: 2, nodes: 3, durationMs: 30_000, fault: 'gc', routing: true, gcPauseMs: [100, 450] });
  assert.equal(short.demotions, 0, JSON.stringify(short));
});
