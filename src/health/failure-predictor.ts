/**
 * The probability that this node fails (crashes or must be removed) within the next T seconds,
 * and when: the second step of prediction after trend extrapolation (self-health.ts). A logistic
 * regression over a handful of features of this node's own signals and of what its peers say of
 * it, with weights trained offline on labelled simulator runs (bench/health/predictor.ts writes
 * failure-model.ts; docs/OPERATIONS.md, "Failure prediction"). The predicted time to failure is
 * the trend extrapolation's: the earliest time a rising signal crosses its threshold.
 */
import type { SelfHealthView, Trend } from './self-health.ts';

/** The features, in the order the model's weights are in. Each is scaled to about 0..1. */
export const FAILURE_FEATURES = [
  'heapLevel',
  'heapSlope',
  'heapSoon',
  'lagLevel',
  'lagSlope',
  'lagSoon',
  'errorRate',
  'errorSlope',
  'errorSoon',
  'peerReports',
] as const;

export interface FailureModel {
  /** T: the model says whether the node fails within this many seconds. */
  horizonSeconds: number;
  features: readonly string[];
  weights: readonly number[];
  bias: number;
  /** The probability at or above which the node counts as about to fail (chosen at training). */
  threshold: number;
}

export interface FailurePrediction {
  /** 0..1: the probability of failing within the model's horizon. */
  probability: number;
  /** The earliest time a rising signal crosses its threshold, seconds; null when none heads there. */
  secondsToFailure: number | null;
  features: number[];
}

/** What the features are computed from: the node's own view, its heap's limit, and its peers' reports. */
export interface FailureInputs {
  self: SelfHealthView;
  heapLimitBytes: number | null;
  lagThresholdMs: number;
  /** 0..1: the share of the other live members that report this node slow, erroring or silent. */
  peerReportShare: number;
}

export function failureFeatures(inputs: FailureInputs, horizonSeconds: number): number[] {
  const { self, heapLimitBytes, lagThresholdMs } = inputs;
  const heap = heapLimitBytes ? self.heap : null;
  // Levels from the trend's fitted line: one noisy sample (a GC sawtooth's peak, a burst) does not move them.
  const lag = self.eventLoopLag;
  return [
    heap?.fittedValue == null ? 0 : clamp(heap.fittedValue / heapLimitBytes!, 0, 1.5),
    // Slopes as the share of the threshold gained per minute.
    heap?.slopePerSecond == null ? 0 : clamp((heap.slopePerSecond * 60) / heapLimitBytes!, -1, 1),
    soon(heap, horizonSeconds),
    lag.fittedValue === null ? 0 : Math.log1p(Math.max(0, lag.fittedValue) / lagThresholdMs),
    lag.slopePerSecond === null ? 0 : clamp((lag.slopePerSecond * 60) / lagThresholdMs, -2, 2),
    soon(lag, horizonSeconds),
    clamp(self.errorRate.fittedValue ?? 0, 0, 1),
    self.errorRate.slopePerSecond === null ? 0 : clamp(self.errorRate.slopePerSecond * 60, -1, 1),
    soon(self.errorRate, horizonSeconds),
    clamp(inputs.peerReportShare, 0, 1),
  ];
}

/** 1 when the trend crosses its threshold now, falling towards 0 the further off it is (0 when it does not head there). */
function soon(trend: Trend | null, horizonSeconds: number): number {
  const s = trend?.secondsToThreshold;
  return s == null ? 0 : Math.exp(-s / horizonSeconds);
}

export function probabilityOf(model: FailureModel, features: readonly number[]): number {
  let z = model.bias;
  for (let i = 0; i < model.weights.length; i++) z += model.weights[i]! * (features[i] ?? 0);
  return sigmoid(z);
}

export function predictFailure(model: FailureModel, inputs: FailureInputs): FailurePrediction {
  const features = failureFeatures(inputs, model.horizonSeconds);
  const crossings = [inputs.heapLimitBytes ? inputs.self.heap : null, inputs.self.eventLoopLag, inputs.self.errorRate]
    .map((t) => t?.secondsToThreshold ?? null)
    .filter((s): s is number => s !== null);
  return {
    probability: probabilityOf(model, features),
    secondsToFailure: crossings.length === 0 ? null : Math.min(...crossings),
    features,
  };
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
