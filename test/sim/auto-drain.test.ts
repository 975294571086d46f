/**
 * The automatic drain wired to the node (NodeConfig.autoDrain without a control of its own; the
 * daemon's --auto-drain on): the policy drains its own node, logs why, logs a refusal instead of
 * throwing; on held-out leak seeds of the slow-death runs the drain finishes before the crash
 * with no acknowledged write lost (bench/health/auto-drain.ts measures all held-out seeds).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_AUTO_DRAIN } from '../../src/health/auto-drain.ts';
import { createNode } from '../../src/node/create-node.ts';
import { PREDICTION_WARM_UP_SAMPLES } from '../../src/node/failure-watch.ts';
import { STORE_TICK_INTERVAL_MS, type ShoalNode } from '../../src/node/node.ts';
import { runSlowDeath } from '../../src/sim/scenarios/slow-death.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';

/** A policy that asks at the first prediction: the wiring, not the model, is under test. */
const AT_ONCE = { options: { threshold: 0, sustainMs: 0 } };
/** When the first prediction comes: a node predicts nothing in its first PREDICTION_WARM_UP_SAMPLES store ticks. */
const WARM_UP_MS = PREDICTION_WARM_UP_SAMPLES * STORE_TICK_INTERVAL_MS;

function cluster(nodes: number, autoDrainOn: number, log: string[]): Simulation<ShoalNode> {
  const seeds = Array.from({ length: nodes }, (_, i) => nodeAddress(i));
  return new Simulation<ShoalNode>({
    seed: 3,
    nodes,
    logSink: (line) => log.push(line),
    factory: (env, { index }) => createNode({ env, config: { seeds, partitions: 32, gossipProfile: 'local', ...(index === autoDrainOn ? { autoDrain: AT_ONCE } : {}) } }),
  });
}

test('the policy drains its own node and says why at warn; the other nodes keep serving', () => {
  const log: string[] = [];
  const sim = cluster(3, 2, log);
  sim.runUntil(WARM_UP_MS + 20_000, () => sim.process(2)!.drainProgress().state === 'drained');
  assert.equal(sim.process(2)!.drainProgress().state, 'drained');
  assert.equal(sim.process(0)!.drainProgress().state, 'serving');
  assert.equal(sim.process(1)!.drainProgress().state, 'serving');
  assert.ok(log.some((l) => l.includes(`${nodeAddress(2)} warn draining this node automatically: predicted failure`)), log.filter((l) => l.includes('drain')).join('\n'));
});

test('a refused automatic drain is logged, not thrown: a lone node holds the only copy', () => {
  const log: string[] = [];
  const sim = cluster(1, 0, log);
  sim.runUntil(WARM_UP_MS + 10_000);
  assert.equal(sim.process(0)!.drainProgress().state, 'serving');
  assert.ok(log.some((l) => l.includes('warn automatic drain refused')), log.filter((l) => l.includes('drain')).join('\n'));
});

// Held-out leak seeds (bench/health/predictor.ts keeps 61..100 out of training).
for (const seed of [64, 72]) {
  test(`slow-death seed ${seed}: the leaking node's automatic drain finishes before it crashes; no acknowledged write lost, no stale read`, () => {
    const run = runSlowDeath({ seed, autoDrain: DEFAULT_AUTO_DRAIN, drainForReal: true, checkedWorkload: true });
    assert.equal(run.kind, 'leak');
    const node = run.nodes[run.failingNode!]!;
    assert.notEqual(node.failedAtMs, null, 'the node crashes');
    assert.notEqual(node.drainedAtMs, null, 'its drain finished');
    assert.ok(node.drainedAtMs! < node.failedAtMs!, `drained at ${node.drainedAtMs} ms, crashed at ${node.failedAtMs} ms`);
    for (const other of run.nodes) if (other !== node) assert.equal(other.drainAtMs, null, `node ${other.index} does not fail and is not drained`);
    assert.ok(run.requests > 1_000, `${run.requests} requests`);
    assert.equal(run.lostWrites, 0);
    assert.equal(run.staleReads, 0);
  });
}
