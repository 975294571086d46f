// Peer health (src/health): the phi accrual detector against Akka's figures, and the verdicts a
// coordinator's answers lead to: slow, erroring, silent, back to healthy, and a GC-style pause
// that must not demote.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AKKA_PHI, PhiAccrual, phiOf } from '../../src/health/phi-accrual.ts';
import { PeerHealth, DEFAULT_PEER_HEALTH } from '../../src/health/peer-health.ts';

test('phi grows with silence and stays low through the acceptable pause', () => {
  const phi = new PhiAccrual(AKKA_PHI);
  for (let t = 0; t <= 10_000; t += 100) phi.heartbeat(t);
  assert.ok(phi.phi(10_100) < 1, 'on time');
  assert.ok(phi.phi(10_000 + 3_000) < 1, 'a 3 s pause is acceptable');
  assert.ok(!phi.suspected(10_000 + 3_300));
  assert.ok(phi.suspected(10_000 + 4_000), 'well past the pause');
  // Akka's approximation: phi(mean) is log10(2), monotonic beyond.
  assert.ok(Math.abs(phiOf(1000, 1000, 100) - Math.log10(2)) < 1e-3);
  assert.ok(phiOf(1300, 1000, 100) < phiOf(1400, 1000, 100));
});

/** A coordinator's view of two peers, driven by hand: every 20 ms `fast` answers in 1 ms, `other` as told. */
function world() {
  let now = 0;
  const health = new PeerHealth(() => now, DEFAULT_PEER_HEALTH);
  const step = (otherMs: number) => {
    now += 20;
    health.answered('fast', now - 1);
    health.answered('other', now - otherMs);
  };
  return { health, step, advance: (ms: number) => (now += ms), at: () => now };
}

test('a peer 10x slower than the fastest is demoted once most recent answers are slow, and recovers', () => {
  const { health, step } = world();
  const { slowToDemote, slowWindow, slowToRecover } = DEFAULT_PEER_HEALTH;
  for (let i = 0; i < 20; i++) step(1);
  assert.equal(health.verdictOf('other'), 'healthy');
  for (let i = 0; i < slowToDemote - 1; i++) step(10);
  assert.equal(health.verdictOf('other'), 'healthy', 'not before slowToDemote slow answers');
  step(10);
  assert.equal(health.verdictOf('other'), 'slow');
  assert.equal(health.counters.demotions, 1);
  for (let i = 0; i < slowWindow - slowToRecover - 1; i++) step(1);
  assert.equal(health.verdictOf('other'), 'slow', 'still most of the window slow');
  step(1);
  assert.equal(health.verdictOf('other'), 'healthy');
  assert.equal(health.counters.recoveries, 1);
});

test('requests lost while the peer answers others make it erroring; a pause does not', () => {
  const { health, step } = world();
  for (let i = 0; i < 20; i++) step(1);
  // One in ten requests lost: the moving average of losses passes the threshold.
  for (let i = 0; i < 100 && health.verdictOf('other') === 'healthy'; i++) {
    // Each lost request was sent before the answers of the next ones.
    if (i % 10 === 0) health.silent('other', 0);
    step(1);
  }
  assert.equal(health.verdictOf('other'), 'erroring');
  for (let i = 0; i < 200; i++) step(1);
  assert.equal(health.verdictOf('other'), 'healthy');
});

test('a 3 s pause (answers held, then all at once) neither demotes nor counts as loss', () => {
  const { health, step, advance, at } = world();
  for (let i = 0; i < 50; i++) step(1);
  const sends: number[] = [];
  for (let i = 0; i < 150; i++) {
    sends.push(at());
    health.answered('fast', at());
    advance(20);
  }
  assert.equal(health.deferRead('other'), false, 'phi stays under 8 within 3 s of silence');
  for (const sent of sends) health.answered('other', sent);
  for (let i = 0; i < 20; i++) step(1);
  assert.equal(health.verdictOf('other'), 'healthy');
  assert.equal(health.counters.demotions, 0);
});

test('a demoted peer is re-probed at most once per interval', () => {
  const { health, step, advance } = world();
  for (let i = 0; i < 20; i++) step(1);
  for (let i = 0; i < DEFAULT_PEER_HEALTH.slowToDemote; i++) step(10);
  assert.equal(health.deferRead('other'), true);
  advance(DEFAULT_PEER_HEALTH.reprobeIntervalMs);
  assert.equal(health.deferRead('other'), false, 'due a re-probe');
  assert.equal(health.deferRead('other'), true, 'only one per interval');
  assert.equal(health.counters.reprobes, 1);
});

test('with routing off, verdicts are kept but no read is deferred', () => {
  let now = 0;
  const health = new PeerHealth(() => now, { ...DEFAULT_PEER_HEALTH, routing: false });
  for (let i = 0; i < 30; i++) {
    health.answered('fast', now);
    health.answered('other', now - (i < 15 ? 1 : 10));
    now += 20;
  }
  assert.equal(health.verdictOf('other'), 'slow');
  assert.equal(health.deferRead('other'), false);
});

test('self health: the least-squares trend of a growing heap says when it reaches its limit; a flat one says never', async () => {
  const { SelfHealth, trend } = await import('../../src/health/self-health.ts');
  let heap = 100;
  const health = new SelfHealth({ heapBytes: 1000, eventLoopLagMs: 200, errorRate: 0.05 }, { sample: () => ({ eventLoopLagMs: 1, eventLoopUtilisation: 0.1, heapUsedBytes: heap, rssBytes: 2000 }) });
  for (let s = 0; s < 10; s++) {
    health.record(s * 1000, { requests: s * 100, errors: s >= 5 ? (s - 4) * 10 : 0, hintBacklog: 0 });
    heap += 10;
  }
  const view = health.view();
  assert.equal(view.heap.slopePerSecond, 10);
  assert.equal(view.heap.secondsToThreshold, (1000 - 190) / 10);
  assert.equal(view.eventLoopLag.secondsToThreshold, null, 'flat lag never gets there');
  assert.ok(view.errorRate.slopePerSecond! > 0 && view.errorRate.value === 0.1);
  assert.deepEqual(trend([{ atMs: 0, value: 1 }], 5), { value: 1, fittedValue: null, slopePerSecond: null, secondsToThreshold: null });
});
