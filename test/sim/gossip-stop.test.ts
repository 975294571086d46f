// A stopped member leaves no timer armed: in a daemon, an armed timer would keep the event loop
// (and the process) alive after a graceful stop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCluster, runUntilAgreed } from '../../src/sim/scenarios/swim-harness.ts';
import { EventTrace } from '../../src/sim/trace.ts';

test('stop() cancels every timer the member armed, including probe and nack follow-ups', () => {
  const sim = buildCluster({ seed: 3, nodes: 5, trace: new EventTrace() });
  assert.notEqual(runUntilAgreed(sim, 60_000), null);
  // Stop each member at a different moment, so some are mid-probe.
  for (let i = 0; i < 5; i++) {
    sim.runUntil(sim.now + 137 * (i + 1));
    sim.process(i)!.stop();
    assert.equal(sim.nodes[i]!.timers.size, 0, `n${i + 1} still has ${sim.nodes[i]!.timers.size} timers armed after stop()`);
  }
});
