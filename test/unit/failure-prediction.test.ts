/** Failure prediction's parts (issue 18): the drain policy, what a node publishes, and how `shoal status` shows it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AUTO_DRAIN_RETRY_MS, AutoDrain } from '../../src/health/auto-drain.ts';
import { FAILURE_FEATURES, failureFeatures, predictFailure, type FailureModel } from '../../src/health/failure-predictor.ts';
import { FAILURE_MODEL } from '../../src/health/failure-model.ts';
import type { SelfHealthView, Trend } from '../../src/health/self-health.ts';
import { FailureWatch } from '../../src/node/failure-watch.ts';
import { memberHealth, PREDICTION_META } from '../../src/node/peer-verdicts.ts';
import type { Member } from '../../src/gossip/membership.ts';
import { nodeStatus, type StatusSources } from '../../src/daemon/status.ts';
import { formatStatus } from '../../src/cli/status.ts';
import { decodeServerFrame, encodeReplies } from '../../src/protocol/codec.ts';
import type { Reply } from '../../src/protocol/index.ts';
import { fullHealth } from './health-fixtures.ts';

const flat: Trend = { value: 0, fittedValue: 0, slopePerSecond: 0, secondsToThreshold: null };
const view = (heap: Trend): SelfHealthView => ({ samples: 60, eventLoopUtilisation: 0.1, rssBytes: null, hintBacklog: 0, heap, eventLoopLag: { ...flat, value: 5, fittedValue: 5 }, errorRate: flat });

test('the drain policy asks once, and only after the probability stayed over the threshold for long enough', () => {
  const reasons: string[] = [];
  const policy = new AutoDrain({ threshold: 0.8, sustainMs: 10_000 }, { drain: (reason) => reasons.push(reason) > 0 });
  assert.equal(policy.observe(0, 0.9), false);
  assert.equal(policy.observe(5_000, 0.5), false, 'a dip restarts the clock');
  assert.equal(policy.observe(6_000, 0.9), false);
  assert.equal(policy.observe(15_000, 0.95), false);
  assert.equal(policy.observe(16_000, 0.95), true);
  assert.equal(policy.observe(30_000, 0.99), false, 'once');
  assert.equal(policy.drainedAtMs, 16_000);
  assert.equal(reasons.length, 1);
  assert.match(reasons[0]!, /predicted failure: probability 0\.95 at or above 0\.8 for 10 s/);
});

test('a refused automatic drain is asked again every AUTO_DRAIN_RETRY_MS while the probability holds, and not once it drops', () => {
  let refuse = true;
  const asked: number[] = [];
  const policy = new AutoDrain({ threshold: 0.8, sustainMs: 10_000 }, { drain: () => (asked.push(now), !refuse) });
  let now = 0;
  const at = (ms: number, p: number) => policy.observe((now = ms), p);
  at(0, 0.9);
  assert.equal(at(10_000, 0.9), false, 'refused');
  assert.deepEqual(asked, [10_000]);
  assert.equal(at(10_000 + AUTO_DRAIN_RETRY_MS - 1, 0.9), false);
  assert.deepEqual(asked, [10_000], 'not asked again before the retry interval');
  assert.equal(at(10_000 + AUTO_DRAIN_RETRY_MS, 0.9), false);
  assert.equal(asked.length, 2, 'asked again');
  assert.equal(policy.refusals, 2);
  assert.equal(policy.drainedAtMs, null);
  refuse = false;
  assert.equal(at(40_000, 0.5), false, 'the prediction dropped: nothing asked');
  assert.equal(asked.length, 2);
  at(41_000, 0.9);
  assert.equal(at(51_000, 0.9), true, 'held for the sustain time again, then started');
  assert.equal(policy.drainedAtMs, 51_000);
  assert.equal(at(80_000, 0.99), false, 'once started, never again');
  assert.equal(asked.length, 3);
});

test('the committed model has one weight per feature, and a heap about to reach its limit scores over its threshold while a flat one does not', () => {
  assert.deepEqual(FAILURE_MODEL.features, FAILURE_FEATURES);
  assert.equal(FAILURE_MODEL.weights.length, FAILURE_FEATURES.length);
  const limit = 1000;
  const leaking = predictFailure(FAILURE_MODEL, { self: view({ value: 950, fittedValue: 950, slopePerSecond: 2, secondsToThreshold: 20 }), heapLimitBytes: limit, lagThresholdMs: 200, peerReportShare: 0 });
  const calm = predictFailure(FAILURE_MODEL, { self: view({ value: 350, fittedValue: 350, slopePerSecond: 0, secondsToThreshold: null }), heapLimitBytes: limit, lagThresholdMs: 200, peerReportShare: 0 });
  assert.ok(leaking.probability >= FAILURE_MODEL.threshold, `leaking: ${leaking.probability}`);
  assert.ok(calm.probability < FAILURE_MODEL.threshold, `calm: ${calm.probability}`);
  assert.equal(leaking.secondsToFailure, 20);
  assert.equal(calm.secondsToFailure, null);
  // Without a heap limit (the simulator's default) the heap says nothing.
  assert.deepEqual(failureFeatures({ self: view({ value: 950, fittedValue: 950, slopePerSecond: 2, secondsToThreshold: 20 }), heapLimitBytes: null, lagThresholdMs: 200, peerReportShare: 0 }, 60).slice(0, 3), [0, 0, 0]);
});

test('a node publishes its prediction in 5% steps from 5% on, only when told to, and members read it back', () => {
  const model: FailureModel = { horizonSeconds: 60, features: ['x'], weights: [1], bias: 0, threshold: 0.9 };
  const inputs = { self: view({ value: 10, fittedValue: 10, slopePerSecond: 1, secondsToThreshold: 42 }), heapLimitBytes: 100, lagThresholdMs: 200, peerReportShare: 0 };
  const watch = new FailureWatch({ model: { ...model, features: FAILURE_FEATURES, weights: FAILURE_FEATURES.map(() => 0), bias: 1.2 }, publish: true, autoDrain: null });
  watch.update(0, inputs);
  const meta = watch.withPrediction({ keep: 'me', [PREDICTION_META.probability]: 5 });
  assert.deepEqual(meta, { keep: 'me', [PREDICTION_META.probability]: 75, [PREDICTION_META.secondsToFailure]: 50 }, 'sigmoid(1.2) = 0.77 -> 75; 42 s -> 50');
  const quiet = new FailureWatch({ model: { ...model, features: FAILURE_FEATURES, weights: FAILURE_FEATURES.map(() => 0), bias: 1.2 }, publish: false, autoDrain: null });
  quiet.update(0, inputs);
  assert.deepEqual(quiet.withPrediction({ keep: 'me' }), { keep: 'me' });
  const low = new FailureWatch({ model: { ...model, features: FAILURE_FEATURES, weights: FAILURE_FEATURES.map(() => 0), bias: -4 }, publish: true, autoDrain: null });
  low.update(0, inputs);
  assert.deepEqual(low.withPrediction({ [PREDICTION_META.probability]: 75 }), {}, 'below 5% it is taken out');

  const members: Member[] = [
    { name: 'a', address: 'a:1', zone: '', state: 'alive', incarnation: 1, meta },
    { name: 'b', address: 'b:1', zone: '', state: 'alive', incarnation: 1, meta: {} },
  ] as unknown as Member[];
  const health = memberHealth(members);
  assert.deepEqual(health.map((h) => [h.name, h.failureProbability, h.secondsToFailure]), [['a', 0.75, 50], ['b', null, null]]);
});

test('shoal status shows a member that predicts its own failure, through the wire codec', () => {
  const health = fullHealth([
    { name: 'a', state: 'healthy', score: 1, reportedBy: [], selfDeclared: false, failureProbability: 0.85, secondsToFailure: 120 },
    { name: 'b', state: 'healthy', score: 1, reportedBy: [], selfDeclared: false, failureProbability: 0.1, secondsToFailure: null },
  ]);
  const m = (name: string) => ({ name, address: `${name}:1`, zone: 'z', state: 'alive', incarnation: 1, clientAddress: null, leaving: false, inRing: true, partitionsOwned: 1, primaries: 1 });
  const status = nodeStatus({
    node: 'b', cluster: 'shoal', zone: 'z', version: '1', readQuorum: 2, writeQuorum: 2,
    uptimeMs: () => 1,
    view: () => ({ joined: true, waitingFor: null, ring: { version: 'v', partitions: 3, replicas: 2, members: 2 }, members: [m('a'), m('b')], partitionsHeld: 0, handoff: { partitionsCatchingUp: 0, partitionsToHandOff: 0, keysToHandOff: 0, partitionsHandedOff: 0, keysHandedOff: 0 }, health }) as unknown as ReturnType<StatusSources['view']>,
    refused: () => [],
    clientConnections: () => 0,
  });
  assert.deepEqual(status.members.map((x) => x.health), [{ degraded: false, score: 1, failureProbability: 0.85, secondsToFailure: 120 }, { degraded: false, score: 1, failureProbability: 0.1 }]);
  const frame = decodeServerFrame(encodeReplies([{ id: 1, ok: true, result: { kind: 'status', status } }]));
  assert.deepEqual((frame as { replies: Reply[] }).replies[0], { id: 1, ok: true, result: { kind: 'status', status } });
  const text = formatStatus(status);
  assert.match(text, /a predicts its own failure: probability 0\.85, in about 120 s/);
  assert.doesNotMatch(text, /b predicts/);
});
