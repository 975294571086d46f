// Determinism is the simulator's whole point: the same seed must give the same run, event for
// event, and every fault kind must leave a mark on the trace (a fault that changes nothing is a
// fault the simulator does not really inject).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { runScenario } from '../../src/sim/driver.ts';
import { scheduleFaults, type FaultAction } from '../../src/sim/faults.ts';
import type { NetworkConfig } from '../../src/sim/network.ts';
import { HeartbeatNode } from '../../src/sim/protocols/heartbeat.ts';
import { heartbeatScenario } from '../../src/sim/scenarios/heartbeat.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

test('the same seed gives the same digest (swarm faults on)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 2, max: 6 }), (seed, nodes) => {
      const options = { seed, nodes, durationMs: 5_000, faults: 'swarm' as const };
      const a = runScenario(heartbeatScenario, options);
      const b = runScenario(heartbeatScenario, options);
      assert.equal(a.digest, b.digest);
      assert.equal(a.events, b.events);
    }),
    { numRuns: 25 },
  );
});

test('different seeds give different runs', () => {
  const digests = new Set<string>();
  for (let seed = 1; seed <= 20; seed++) digests.add(runScenario(heartbeatScenario, { seed, nodes: 3, durationMs: 3_000, faults: 'swarm' }).digest);
  assert.equal(digests.size, 20);
});

function heartbeatDigest(faults: FaultAction[], network: Partial<NetworkConfig> = {}): string {
  const addresses = [0, 1, 2, 3].map(nodeAddress);
  const trace = new EventTrace();
  const sim = new Simulation<HeartbeatNode>({ seed: 42, nodes: 4, trace, network, factory: (env) => new HeartbeatNode(env, addresses) });
  scheduleFaults(sim, faults.map((action) => ({ atMs: 1_000, action })), 3_000);
  sim.runUntil(4_000);
  return trace.digest();
}

test('turning on any fault kind changes the trace', () => {
  const baseline = heartbeatDigest([]);
  assert.equal(heartbeatDigest([]), baseline);
  const faults: Record<string, FaultAction> = {
    crash: { kind: 'crash', node: 1, restartAfterMs: 500 },
    pause: { kind: 'pause', node: 1, forMs: 500 },
    slow: { kind: 'slow', node: 1, costMs: 5, forMs: 500 },
    isolate: { kind: 'isolate', node: 1, forMs: 500 },
    split: { kind: 'split', minority: [0], forMs: 500 },
    asymmetric: { kind: 'asymmetric', from: [0], to: [1], forMs: 500 },
    clog: { kind: 'clog', from: 0, to: 1, forMs: 500 },
    'clock-offset': { kind: 'clock-offset', node: 1, offsetMs: 1_000 },
    'clock-drift': { kind: 'clock-drift', node: 1, ppm: 300 },
    'clock-step': { kind: 'clock-step', node: 1, stepMs: -700 },
  };
  for (const [name, fault] of Object.entries(faults)) {
    assert.notEqual(heartbeatDigest([fault]), baseline, `${name} left no mark on the trace`);
  }
  assert.notEqual(heartbeatDigest([], { lossRate: 0.1 }), baseline, 'loss left no mark');
  assert.notEqual(heartbeatDigest([], { duplicateRate: 0.1 }), baseline, 'duplication left no mark');
  assert.notEqual(heartbeatDigest([], { meanExtraLatencyMs: 3 }), baseline, 'latency left no mark');
});

test('--check-determinism finds no divergence in a deterministic scenario', () => {
  const report = runScenario(heartbeatScenario, { seed: 3, nodes: 5, durationMs: 10_000, faults: 'swarm' }, true);
  assert.deepEqual(report.violations, []);
});

test('--check-determinism reports the first diverging event of a nondeterministic scenario', () => {
  let runs = 0;
  const flaky = {
    ...heartbeatScenario,
    name: 'flaky',
    // Each call behaves differently: the second run's nodes start with extra latency.
    run: (options: Parameters<typeof heartbeatScenario.run>[0], trace: EventTrace) => {
      runs++;
      const addresses = [0, 1].map(nodeAddress);
      const sim = new Simulation<HeartbeatNode>({
        seed: options.seed,
        nodes: 2,
        trace,
        network: { minLatencyMs: runs % 2 === 0 ? 5 : 1 },
        factory: (env) => new HeartbeatNode(env, addresses),
      });
      sim.runUntil(1_000);
      return { violations: [], simMs: 1_000, derived: {}, figures: {} };
    },
  };
  const report = runScenario(flaky, { seed: 1, nodes: 2, durationMs: 1_000, faults: 'none' }, true);
  assert.equal(report.violations.length, 1);
  assert.equal(report.violations[0]!.checker, 'determinism');
  assert.match(report.violations[0]!.message, /first divergence at event #\d+/);
  assert.match(report.violations[0]!.message, /message n\d -> n\d/);
});
