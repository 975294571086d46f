// A process just started predicts nothing about itself until its window has PREDICTION_WARM_UP_SAMPLES
// samples (restart-probe F6): its start-up (the event loop slow while code compiles and the
// catch-up streams in, then easing off; peers reporting it slow meanwhile) is no failure, but a
// trend fitted over a few such samples reads it as one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_AUTO_DRAIN } from '../../src/health/auto-drain.ts';
import { FAILURE_MODEL } from '../../src/health/failure-model.ts';
import { SelfHealth, type ProcessSample } from '../../src/health/self-health.ts';
import { FailureWatch, PREDICTION_WARM_UP_SAMPLES } from '../../src/node/failure-watch.ts';
import { PREDICTION_META } from '../../src/node/peer-verdicts.ts';

const HEAP_LIMIT = 4 * 2 ** 30;
const LAG_THRESHOLD_MS = 200;

interface StartUp {
  /** Event-loop lag, ms, of each second since the start; then `settledLagMs`. */
  lagMs: number[];
  settledLagMs: number;
  /** Share of the requests that fail in each second since the start (unavailable while catching up); then 0. */
  errorShare: number[];
  peerReportShare: number;
}

/** One second per store tick for `seconds`, through SelfHealth and FailureWatch as the node runs them. */
function run(startUp: StartUp, seconds: number) {
  let second = 0;
  const source = { sample: (): ProcessSample => ({ eventLoopLagMs: startUp.lagMs[second] ?? startUp.settledLagMs, eventLoopUtilisation: 0.3, heapUsedBytes: 40e6 + second * 1e5, rssBytes: null }) };
  const self = new SelfHealth({ heapBytes: HEAP_LIMIT, eventLoopLagMs: LAG_THRESHOLD_MS, errorRate: 0.05 }, source);
  const drains: string[] = [];
  const watch = new FailureWatch({ model: FAILURE_MODEL, publish: true, autoDrain: { options: DEFAULT_AUTO_DRAIN, control: { drain: (reason) => drains.push(reason) > 0 } } });
  let requests = 0;
  let errors = 0;
  const published: number[] = [];
  let highest = 0;
  for (second = 0; second < seconds; second++) {
    requests += 1000;
    errors += Math.round(1000 * (startUp.errorShare[second] ?? 0));
    self.record(second * 1000, { requests, errors, hintBacklog: 0 });
    const p = watch.update(second * 1000, { self: self.view(), heapLimitBytes: HEAP_LIMIT, lagThresholdMs: LAG_THRESHOLD_MS, peerReportShare: startUp.peerReportShare });
    highest = Math.max(highest, p?.probability ?? 0);
    const percent = watch.withPrediction({})[PREDICTION_META.probability];
    if (typeof percent === 'number') published.push(percent);
  }
  return { published, drains, highest };
}

test('a restart under load (lag easing from ~50 ms, 3 of 4 peers reporting it slow) publishes no prediction in its first seconds', () => {
  // The shape seen on real processes: a node restarted after kill -9 on a loaded 5-node cluster.
  const { published, highest } = run({ lagMs: [20, 45, 80, 30, 22, 25, 20, 18, 17, 19], settledLagMs: 17, errorShare: [], peerReportShare: 0.75 }, PREDICTION_WARM_UP_SAMPLES + 30);
  assert.deepEqual(published, [], `published percentages: ${published.join(', ')} (highest probability ${highest.toFixed(3)})`);
});

test('a heavy start (lag easing from 150 ms, a third of its requests failing while it catches up, every peer reporting it) is not named as about to fail, nor drained', () => {
  const lagMs = [40, 150, 150, 120, 90, 70, 50, 40, 30, 25, 22, 20];
  const errorShare = [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.2, 0.1];
  const { published, drains, highest } = run({ lagMs, settledLagMs: 18, errorShare, peerReportShare: 1 }, PREDICTION_WARM_UP_SAMPLES + 30);
  // `shoal status` names a member publishing 50% or more as predicting its own failure.
  assert.deepEqual(published.filter((percent) => percent >= 50), [], `highest probability ${highest.toFixed(3)}`);
  assert.deepEqual(drains, []);
});

test('from the warm-up on the prediction runs as before: a heap growing towards its limit is published, and the policy drains', () => {
  let second = 0;
  const source = { sample: (): ProcessSample => ({ eventLoopLagMs: 15, eventLoopUtilisation: 0.3, heapUsedBytes: HEAP_LIMIT * (0.5 + second * 0.006), rssBytes: null }) };
  const self = new SelfHealth({ heapBytes: HEAP_LIMIT, eventLoopLagMs: LAG_THRESHOLD_MS, errorRate: 0.05 }, source);
  const drains: number[] = [];
  const watch = new FailureWatch({ model: FAILURE_MODEL, publish: true, autoDrain: { options: DEFAULT_AUTO_DRAIN, control: { drain: () => drains.push(second) > 0 } } });
  const predictions: (number | null)[] = [];
  for (second = 0; second < 80; second++) {
    self.record(second * 1000, { requests: second * 1000, errors: 0, hintBacklog: 0 });
    predictions.push(watch.update(second * 1000, { self: self.view(), heapLimitBytes: HEAP_LIMIT, lagThresholdMs: LAG_THRESHOLD_MS, peerReportShare: 0 })?.probability ?? null);
  }
  assert.equal(predictions.findIndex((p) => p !== null), PREDICTION_WARM_UP_SAMPLES - 1, 'the first prediction comes with the window at PREDICTION_WARM_UP_SAMPLES samples');
  assert.ok(predictions.at(-1)! >= FAILURE_MODEL.threshold, `last probability ${predictions.at(-1)}`);
  assert.equal(drains.length, 1, 'the automatic drain was asked once');
});
