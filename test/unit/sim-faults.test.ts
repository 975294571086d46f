// Each fault kind means what it says. These run tiny hand-built simulations with a probe protocol
// that records everything it sees, so each assertion is about one fault alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Env, NodeAddress } from '../../src/runtime/env.ts';
import { SIM_EPOCH_MS } from '../../src/sim/clock.ts';
import { applyFault } from '../../src/sim/faults.ts';
import { Simulation } from '../../src/sim/simulation.ts';

/** Records arrivals and timer firings; sends on demand. */
class Probe {
  readonly received: { from: NodeAddress; at: number; text: string }[] = [];
  readonly timerFiredAt: number[] = [];
  constructor(readonly env: Env) {
    env.transport.onReceive((from, bytes) => this.received.push({ from, at: env.clock.monoMs(), text: new TextDecoder().decode(bytes) }));
  }
  send(to: NodeAddress, text: string): void {
    this.env.transport.send(to, new TextEncoder().encode(text));
  }
  timerIn(ms: number): void {
    this.env.timers.setTimer(ms, () => this.timerFiredAt.push(this.env.clock.monoMs()));
  }
}

function world(nodes = 3, network = {}) {
  return new Simulation<Probe>({ seed: 7, nodes, factory: (env) => new Probe(env), network: { minLatencyMs: 1, meanExtraLatencyMs: 0, ...network } });
}

test('a message arrives after the link latency, as a copy of the bytes', () => {
  const sim = world(2);
  const bytes = new TextEncoder().encode('hello');
  sim.process(0)!.env.transport.send('n2', bytes);
  bytes[0] = 0; // mutating the sender's buffer after sending must not change what arrives
  sim.runUntil(10);
  assert.deepEqual(sim.process(1)!.received, [{ from: 'n1', at: 1, text: 'hello' }]);
});

test('a crashed node receives nothing, loses its timers, and restarts with fresh state', () => {
  const sim = world(2);
  sim.process(1)!.timerIn(5);
  const before = sim.process(1)!;
  sim.crash(1);
  sim.process(0)!.send('n2', 'lost');
  sim.runUntil(10);
  assert.equal(sim.process(1), null);
  assert.deepEqual(before.received, []);
  assert.deepEqual(before.timerFiredAt, []);
  sim.start(1);
  const after = sim.process(1)!;
  assert.notEqual(after, before);
  assert.equal(sim.nodes[1]!.incarnation, 1);
  sim.process(0)!.send('n2', 'hello again');
  sim.runUntil(20);
  assert.deepEqual(after.received.map((r) => r.text), ['hello again']);
});

test('a partition drops both directions; an asymmetric one only one', () => {
  const sim = world(2);
  applyFault(sim, { kind: 'isolate', node: 1, forMs: 100 });
  sim.process(0)!.send('n2', 'a');
  sim.process(1)!.send('n1', 'b');
  sim.runUntil(50);
  assert.equal(sim.process(0)!.received.length, 0);
  assert.equal(sim.process(1)!.received.length, 0);
  sim.runUntil(101); // healed
  applyFault(sim, { kind: 'asymmetric', from: [0], to: [1], forMs: 100 });
  sim.process(0)!.send('n2', 'c');
  sim.process(1)!.send('n1', 'd');
  sim.runUntil(150);
  assert.deepEqual(sim.process(1)!.received.map((r) => r.text), []);
  assert.deepEqual(sim.process(0)!.received.map((r) => r.text), ['d']);
});

test('a majority/minority split cuts across the groups but not within them', () => {
  const sim = world(4);
  applyFault(sim, { kind: 'split', minority: [0], forMs: 100 });
  sim.process(1)!.send('n1', 'across');
  sim.process(1)!.send('n3', 'within');
  sim.runUntil(50);
  assert.equal(sim.process(0)!.received.length, 0);
  assert.deepEqual(sim.process(2)!.received.map((r) => r.text), ['within']);
});

test('a clogged link holds messages until the clog ends instead of dropping them', () => {
  const sim = world(2);
  applyFault(sim, { kind: 'clog', from: 0, to: 1, forMs: 40 });
  sim.process(0)!.send('n2', 'held');
  sim.runUntil(100);
  const [arrival] = sim.process(1)!.received;
  assert.equal(arrival?.text, 'held');
  assert.ok(arrival!.at >= 40, `arrived at ${arrival!.at}, before the clog ended`);
});

test("a paused node's timers fire late, and messages to it wait, in order", () => {
  const sim = world(2);
  sim.process(1)!.timerIn(10);
  sim.pause(1, 50);
  sim.process(0)!.send('n2', 'first');
  sim.process(0)!.send('n2', 'second');
  sim.runUntil(100);
  assert.deepEqual(sim.process(1)!.timerFiredAt, [50]);
  assert.deepEqual(sim.process(1)!.received.map((r) => [r.text, r.at]), [['first', 50], ['second', 50]]);
});

test('a slow node spends extra time on every event', () => {
  const sim = world(2);
  sim.slow(1, 10, 1_000);
  for (const text of ['a', 'b', 'c']) sim.process(0)!.send('n2', text);
  sim.runUntil(100);
  assert.deepEqual(sim.process(1)!.received.map((r) => r.at), [1, 11, 21]);
});

test('clock skew shows in that node\'s wall clock only, and monotonic time never goes back', () => {
  const sim = world(2);
  sim.runUntil(1_000);
  applyFault(sim, { kind: 'clock-offset', node: 1, offsetMs: 5_000 });
  applyFault(sim, { kind: 'clock-step', node: 1, stepMs: -20_000 });
  const [a, b] = [sim.nodes[0]!.clock, sim.nodes[1]!.clock];
  assert.equal(a.wallMs(), SIM_EPOCH_MS + 1_000);
  assert.equal(b.wallMs(), SIM_EPOCH_MS + 1_000 - 15_000);
  assert.equal(b.monoMs(), 1_000);
  applyFault(sim, { kind: 'clock-drift', node: 0, ppm: 1_000 });
  sim.runUntil(11_000);
  assert.equal(a.wallMs(), SIM_EPOCH_MS + 11_000 + 10);
  assert.equal(a.monoMs(), 11_000);
});

test('loss drops messages and duplication delivers copies, both counted', () => {
  const lossy = world(2, { lossRate: 0.5 });
  for (let i = 0; i < 200; i++) lossy.process(0)!.send('n2', 'x');
  lossy.runUntil(10);
  const got = lossy.process(1)!.received.length;
  assert.ok(got > 50 && got < 150, `${got} of 200 arrived at 50% loss`);
  assert.equal(lossy.network.stats.lost, 200 - got);

  const dup = world(2, { duplicateRate: 1 });
  dup.process(0)!.send('n2', 'twice');
  dup.runUntil(10);
  assert.deepEqual(dup.process(1)!.received.map((r) => r.text), ['twice', 'twice']);
});
