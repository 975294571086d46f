// Peer health (src/health): the phi accrual detector against Akka's figures, and the verdicts a
// coordinator's answers lead to: slow, erroring, silent, back to healthy once held long enough, a
// GC-style pause that must not demote, a coordinator's own stalls that must not either, and a peer
// paused most of the time that must.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AKKA_PHI, PhiAccrual, phiOf } from '../../src/health/phi-accrual.ts';
import { PeerHealth, DEFAULT_PEER_HEALTH, type PeerHealthOptions } from '../../src/health/peer-health.ts';
import { LatencyWindow } from '../../src/health/latency-window.ts';

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
  // Far past the mean, where the logistic term underflows: still finite (status carries it, JSON and wire) and growing.
  assert.ok(Number.isFinite(phiOf(100_000, 1000, 10)) && phiOf(100_000, 1000, 10) > phiOf(10_000, 1000, 10));
});

/** A coordinator's view of two peers, driven by hand: every 20 ms `fast` answers in 1 ms, `other` as told. */
function world(options: Partial<PeerHealthOptions> = {}) {
  let now = 0;
  const health = new PeerHealth(() => now, { ...DEFAULT_PEER_HEALTH, ...options });
  const step = (otherMs: number) => {
    now += 20;
    health.answered('fast', now - 1);
    health.answered('other', now - otherMs);
  };
  /** Steps for `ms` of time. */
  const run = (ms: number, otherMs: number) => {
    for (const until = now + ms; now < until; ) step(otherMs);
  };
  return { health, step, run, advance: (ms: number) => (now += ms), at: () => now };
}

const { windowMs, slowWindowsToDemote, healthyWindowsToRecover, minHoldMs } = DEFAULT_PEER_HEALTH;

test('a peer 10x slower than the others is demoted after two slow windows, held, and recovers after two healthy windows once its hold is over', () => {
  const { health, run, at } = world();
  run(1_000, 1);
  assert.equal(health.verdictOf('other'), 'healthy');
  run(windowMs - 20, 10);
  assert.equal(health.verdictOf('other'), 'healthy', 'one window of slow answers is not enough');
  run((slowWindowsToDemote + 1) * windowMs, 10);
  assert.equal(health.verdictOf('other'), 'slow');
  assert.equal(health.counters.demotions, 1);
  const demotedAt = at();
  run(minHoldMs - 2 * windowMs, 1);
  assert.equal(health.verdictOf('other'), 'slow', 'held, though its answers are fast again');
  run(demotedAt + minHoldMs + (healthyWindowsToRecover + 1) * windowMs - at(), 1);
  assert.equal(health.verdictOf('other'), 'healthy');
  assert.equal(health.counters.recoveries, 1);
});

test('a peer demoted again soon after it recovered is held twice as long (flap damping)', () => {
  const { health, run, at } = world();
  run(1_000, 1);
  run(1_000, 10);
  run(minHoldMs + 1_000, 1);
  assert.equal(health.verdictOf('other'), 'healthy');
  run(1_000, 10);
  assert.equal(health.verdictOf('other'), 'slow');
  const demotedAt = at();
  run(minHoldMs + 1_000, 1);
  assert.equal(health.verdictOf('other'), 'slow', 'still held: its second demotion came soon after its recovery');
  run(demotedAt + 2 * minHoldMs + 1_000 - at(), 1);
  assert.equal(health.verdictOf('other'), 'healthy');
  assert.equal(health.counters.demotions + health.counters.recoveries, 4);
});

test('a coordinator that stalls now and then (every peer\'s answers late at once) demotes nobody, however many answers a turn brings', () => {
  // Pipelined load: each 5 ms turn, 20 answers from each of three peers, sent 1 ms before; every
  // 100 ms the coordinator stalls 20 ms, and the answers of that turn come 20 ms late (probe s18, F1).
  let now = 0;
  const health = new PeerHealth(() => now, DEFAULT_PEER_HEALTH);
  for (let turn = 0; turn < 4_000; turn++) {
    now += 5;
    const late = turn % 20 === 0 ? 20 : 0;
    for (let i = 0; i < 20; i++) for (const peer of ['a', 'b', 'c']) health.answered(peer, now - 1 - late - (i % 3) * 0.2);
  }
  assert.equal(health.counters.demotions, 0, JSON.stringify(health.view()));
});

test('requests lost while the peer answers others make it erroring; a pause does not', () => {
  const { health, step, run } = world();
  for (let i = 0; i < 20; i++) step(1);
  // One in ten requests lost: the moving average of losses passes the threshold.
  for (let i = 0; i < 100 && health.verdictOf('other') === 'healthy'; i++) {
    // Each lost request was sent before the answers of the next ones.
    if (i % 10 === 0) health.silent('other', 0);
    step(1);
  }
  assert.equal(health.verdictOf('other'), 'erroring');
  run(minHoldMs, 1);
  assert.equal(health.verdictOf('other'), 'healthy');
});

/** `other` pauses `pauseMs` while asked every 10 ms, then answers all at once; `fast` answers throughout. */
function pause(w: ReturnType<typeof world>, pauseMs: number): void {
  const sends: number[] = [];
  for (const until = w.at() + pauseMs; w.at() < until; ) {
    sends.push(w.at());
    w.health.answered('fast', w.at());
    w.advance(10);
  }
  for (const sent of sends) w.health.answered('other', sent);
}

test('a 3 s pause (answers held, then all at once) neither demotes nor counts as loss', () => {
  const w = world();
  w.run(1_000, 1);
  pause(w, 3_000);
  assert.equal(w.health.deferRead('other'), false, 'phi stays under 8 within 3 s of silence');
  w.run(1_000, 1);
  assert.equal(w.health.verdictOf('other'), 'healthy');
  assert.equal(w.health.counters.demotions, 0);
});

test('the pause rule: a pause whose backlog fills two windows demotes only without it', () => {
  // Whether the backlog fills two windows depends on where the pause falls in a window: try each place.
  const demoted = (pauseMinMs: number) =>
    Array.from({ length: windowMs / 20 + 1 }, (_, i) => i * 20).filter((offset) => {
      const w = world({ pauseMinMs });
      w.run(1_000 + offset, 1);
      pause(w, 600);
      w.run(windowMs + 40, 1);
      return w.health.verdictOf('other') !== 'healthy';
    });
  assert.deepEqual(demoted(DEFAULT_PEER_HEALTH.pauseMinMs), []);
  assert.notDeepEqual(demoted(Number.POSITIVE_INFINITY), [], 'without the rule, some place in a window demotes');
});

test('a peer paused most of the time is pause-ridden: the backlog of its pauses is evidence, and it is demoted', () => {
  const w = world();
  w.run(1_000, 1);
  // Paused 400 ms, running 100 ms, for 15 s.
  for (let cycle = 0; cycle < 30 && w.health.verdictOf('other') === 'healthy'; cycle++) {
    pause(w, 400);
    w.run(100, 1);
  }
  assert.equal(w.health.verdictOf('other'), 'slow');
});

test('an idle peer is not silent: silence counts only while it has been asked something', () => {
  const { health, run, advance, at } = world();
  run(1_000, 1);
  // A minute with no traffic at all: nothing was asked, so nothing went unanswered.
  advance(60_000);
  assert.equal(health.deferRead('other'), false, 'the first read after the idle minute asks it');
  assert.equal(health.verdictOf('other'), 'healthy');
  // Asked, and no answer for 10 s: that is silence.
  health.asked('other', at());
  advance(10_000);
  assert.equal(health.deferRead('other'), true, 'demoted to silent: this read leaves it out');
  assert.equal(health.verdictOf('other'), 'silent');
});

test('a demoted peer is re-probed at most once per interval', () => {
  const { health, run, advance } = world();
  run(1_000, 1);
  run(1_000, 10);
  assert.equal(health.deferRead('other'), true);
  advance(DEFAULT_PEER_HEALTH.reprobeIntervalMs);
  assert.equal(health.deferRead('other'), false, 'due a re-probe');
  assert.equal(health.deferRead('other'), true, 'only one per interval');
  assert.equal(health.counters.reprobes, 1);
});

test('with routing off, verdicts are kept but no read is deferred', () => {
  const { health, run } = world({ routing: false });
  run(1_000, 1);
  run(1_000, 10);
  assert.equal(health.verdictOf('other'), 'slow');
  assert.equal(health.deferRead('other'), false);
});

test('a latency window keeps a bounded, evenly spread sample and gives its median', () => {
  const w = new LatencyWindow(0, 8);
  for (let i = 1; i <= 1_000; i++) w.add(i);
  assert.equal(w.answers, 1_000);
  const median = w.close(10);
  assert.ok(median > 400 && median < 600, `median ${median} of 1..1000`);
  assert.equal(w.answers, 0);
  w.add(3);
  assert.equal(w.close(20), 3);
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
