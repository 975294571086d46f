/**
 * The failure predictor's offline half (issue 18): labels, a deterministic logistic regression by
 * full-batch gradient descent, the alarm threshold, and the figures a classifier is judged by.
 * Used by bench/health/predictor.ts and test/sim/failure-prediction.test.ts.
 *
 * A sample is positive when its node fails within the horizon after it. An alarm is what the
 * automatic drain does (src/health/auto-drain.ts): the probability at or above the threshold for
 * `sustainMs`. Per node and run (an event): a failing node is detected when its first alarm comes
 * after the fault's onset and before the failure, with lead = failure - alarm; an alarm on a node
 * that does not fail, or before the onset, is a false alarm.
 */
import { AutoDrain } from '../../src/health/auto-drain.ts';
import { FAILURE_FEATURES, failureFeatures, probabilityOf, type FailureModel } from '../../src/health/failure-predictor.ts';
import type { PredictionSample, SlowDeathRun } from '../../src/sim/scenarios/slow-death.ts';

export interface Example {
  features: number[];
  label: 0 | 1;
}

/** Every `stride`-th sample of every node, labelled for `horizonSeconds`. */
export function examples(runs: readonly SlowDeathRun[], horizonSeconds: number, stride: number): Example[] {
  const out: Example[] = [];
  for (const run of runs) {
    for (const node of run.nodes) {
      node.samples.forEach((s, i) => {
        if (i % stride !== 0) return;
        const fails = node.failedAtMs !== null && node.failedAtMs - s.atMs <= horizonSeconds * 1000;
        out.push({ features: failureFeatures(s.inputs, horizonSeconds), label: fails ? 1 : 0 });
      });
    }
  }
  return out;
}

export interface TrainOptions {
  iterations: number;
  learningRate: number;
  /** L2 penalty on the weights (not the bias). */
  l2: number;
}

export const DEFAULT_TRAIN: TrainOptions = { iterations: 3000, learningRate: 0.5, l2: 1e-3 };

/**
 * Weights and bias by full-batch gradient descent on the class-balanced log loss (each class
 * weighs half), from zeros: the same examples give the same weights, bit for bit.
 */
export function train(data: readonly Example[], options: TrainOptions = DEFAULT_TRAIN): { weights: number[]; bias: number } {
  const d = FAILURE_FEATURES.length;
  const positives = data.filter((e) => e.label === 1).length;
  const negatives = data.length - positives;
  if (positives === 0 || negatives === 0) throw new Error(`training needs both classes (${positives} positive, ${negatives} negative examples)`);
  const classWeight = [0.5 / negatives, 0.5 / positives];
  const weights = new Array<number>(d).fill(0);
  let bias = 0;
  const model = (): FailureModel => ({ horizonSeconds: 0, features: FAILURE_FEATURES, weights, bias, threshold: 0 });
  for (let it = 0; it < options.iterations; it++) {
    const grad = new Array<number>(d).fill(0);
    let gradBias = 0;
    for (const e of data) {
      const err = (probabilityOf(model(), e.features) - e.label) * classWeight[e.label]!;
      for (let j = 0; j < d; j++) grad[j]! += err * e.features[j]!;
      gradBias += err;
    }
    for (let j = 0; j < d; j++) weights[j]! -= options.learningRate * (grad[j]! + options.l2 * weights[j]!);
    bias -= options.learningRate * gradBias;
  }
  return { weights, bias };
}

export interface NodeOutcome {
  seed: number;
  kind: string;
  node: number;
  failed: boolean;
  alarmAtMs: number | null;
  /** Seconds from the alarm to the failure; null unless detected. */
  leadSeconds: number | null;
  falseAlarm: boolean;
}

/** Each node's alarm under `model` (probabilities recomputed from the recorded features). */
export function outcomes(runs: readonly SlowDeathRun[], model: FailureModel, sustainMs: number): NodeOutcome[] {
  return alarms(runs, (s) => probabilityOf(model, failureFeatures(s.inputs, model.horizonSeconds)), model.threshold, sustainMs);
}

/** Each node's alarm when `score` of its samples stays at or above `threshold` for `sustainMs`. */
export function alarms(runs: readonly SlowDeathRun[], score: (s: PredictionSample) => number, threshold: number, sustainMs: number): NodeOutcome[] {
  return runs.flatMap((run) =>
    run.nodes.map((node) => {
      const policy = new AutoDrain({ threshold, sustainMs }, { drain: () => true });
      for (const s of node.samples) if (policy.observe(s.atMs, score(s))) break;
      const alarm = policy.drainedAtMs;
      const failed = node.failedAtMs !== null;
      const detected = failed && alarm !== null && alarm >= (run.onsetMs ?? 0) && alarm < node.failedAtMs!;
      return {
        seed: run.seed,
        kind: run.kind,
        node: node.index,
        failed,
        alarmAtMs: alarm,
        leadSeconds: detected ? (node.failedAtMs! - alarm!) / 1000 : null,
        falseAlarm: alarm !== null && !detected,
      };
    }),
  );
}

export interface EventFigures {
  failingNodes: number;
  healthyNodes: number;
  detected: number;
  falseAlarms: number;
  precision: number;
  /** Detected with at least `leadSeconds` of lead, over the failing nodes. */
  recallAtLead: number;
  leadSeconds: number;
  medianLeadSeconds: number | null;
  minLeadSeconds: number | null;
}

export function eventFigures(list: readonly NodeOutcome[], leadSeconds: number): EventFigures {
  const leads = list.flatMap((o) => (o.leadSeconds === null ? [] : [o.leadSeconds])).sort((a, b) => a - b);
  const failing = list.filter((o) => o.failed).length;
  const falseAlarms = list.filter((o) => o.falseAlarm).length;
  return {
    failingNodes: failing,
    healthyNodes: list.length - failing,
    detected: leads.length,
    falseAlarms,
    precision: round(leads.length + falseAlarms === 0 ? 1 : leads.length / (leads.length + falseAlarms)),
    recallAtLead: round(failing === 0 ? 1 : leads.filter((l) => l >= leadSeconds).length / failing),
    leadSeconds,
    medianLeadSeconds: leads.length === 0 ? null : leads[Math.floor(leads.length / 2)]!,
    minLeadSeconds: leads[0] ?? null,
  };
}

/** Per-sample figures at the model's threshold (without the sustain): how well each second is labelled. */
export function sampleFigures(data: readonly Example[], model: FailureModel): { samples: number; positives: number; precision: number; recall: number; auc: number } {
  const scored = data.map((e) => ({ p: probabilityOf(model, e.features), label: e.label }));
  const tp = scored.filter((s) => s.label === 1 && s.p >= model.threshold).length;
  const fp = scored.filter((s) => s.label === 0 && s.p >= model.threshold).length;
  const positives = scored.filter((s) => s.label === 1).length;
  return { samples: data.length, positives, precision: round(tp + fp === 0 ? 1 : tp / (tp + fp)), recall: round(positives === 0 ? 1 : tp / positives), auc: round(auc(scored)) };
}

/** Area under the ROC curve: the chance a random positive scores above a random negative (ties half). */
function auc(scored: readonly { p: number; label: 0 | 1 }[]): number {
  const sorted = [...scored].sort((a, b) => a.p - b.p);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j]!.p === sorted[i]!.p) j++;
    const midRank = (i + j + 1) / 2;
    for (let k = i; k < j; k++) {
      if (sorted[k]!.label !== 1) continue;
      rankSum += midRank;
      positives++;
    }
    i = j;
  }
  const negatives = sorted.length - positives;
  return positives === 0 || negatives === 0 ? 1 : (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * The alarm threshold: on the training runs, the one (of 0.50, 0.51, ... 0.99) with the best
 * recall at the lead among those whose precision is at least `minPrecision`; ties go to the lower.
 */
export function chooseThreshold(runs: readonly SlowDeathRun[], model: Omit<FailureModel, 'threshold'>, sustainMs: number, leadSeconds: number, minPrecision: number): number {
  let best = { threshold: 0.99, recall: -1 };
  for (let t = 50; t <= 99; t++) {
    const figures = eventFigures(outcomes(runs, { ...model, threshold: t / 100 }, sustainMs), leadSeconds);
    if (figures.precision >= minPrecision && figures.recallAtLead > best.recall) best = { threshold: t / 100, recall: figures.recallAtLead };
  }
  return best.threshold;
}

export function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
