/**
 * This node's failure prediction, once a store tick (src/health/failure-predictor.ts): the
 * probability of failing within the model's horizon and the predicted time to failure, what it
 * publishes of them in its member metadata (PREDICTION_META: peers and `shoal status` see them),
 * and the automatic drain policy that watches them (src/health/auto-drain.ts; none by default).
 */
import { AutoDrain, type AutoDrainOptions, type AutoDrainTarget } from '../health/auto-drain.ts';
import { predictFailure, type FailureInputs, type FailureModel, type FailurePrediction } from '../health/failure-predictor.ts';
import { SELF_WINDOW } from '../health/self-health.ts';
import { PREDICTION_META } from './peer-verdicts.ts';

/** Below this probability nothing is published: a healthy cluster's metadata stays as it was. */
export const PUBLISH_FROM = 0.05;

/**
 * Samples the node's own window must hold before it predicts anything: half the window (30 s).
 * A process just started has no history, and its first seconds are its start-up (the event loop
 * slow while code compiles and the catch-up streams in, then easing off; peers reporting it slow
 * meanwhile): trends fitted over a few of those samples read a start as a failure. A node
 * restarted after kill -9 on a loaded 5-node cluster published 5% (its lag easing from 49 ms to
 * 17 ms, 3 of 4 peers reporting it slow) within 8 s of its start (restart-probe F6). The model's
 * training runs start without such a transient, and a drain cannot help a process failing within
 * 30 s of its start.
 */
export const PREDICTION_WARM_UP_SAMPLES = SELF_WINDOW / 2;

export interface FailureWatchOptions {
  model: FailureModel;
  /** Whether the prediction goes into the member metadata (NodeConfig.failurePrediction.publish). */
  publish: boolean;
  autoDrain: { options: AutoDrainOptions; control: AutoDrainTarget } | null;
}

export class FailureWatch {
  private last: FailurePrediction | null = null;
  private lastInputs: FailureInputs | null = null;
  readonly autoDrain: AutoDrain | null;

  constructor(private readonly options: FailureWatchOptions) {
    this.autoDrain = options.autoDrain ? new AutoDrain(options.autoDrain.options, options.autoDrain.control) : null;
  }

  get horizonSeconds(): number {
    return this.options.model.horizonSeconds;
  }

  /** The prediction from this tick's inputs; null (nothing published, no drain asked) while the window is shorter than PREDICTION_WARM_UP_SAMPLES. */
  update(atMs: number, inputs: FailureInputs): FailurePrediction | null {
    this.lastInputs = inputs;
    if (inputs.self.samples < PREDICTION_WARM_UP_SAMPLES) return (this.last = null);
    this.last = predictFailure(this.options.model, inputs);
    this.autoDrain?.observe(atMs, this.last.probability);
    return this.last;
  }

  /** What the last prediction was made from (the simulator's corpus records it); null before the first store tick. */
  get inputs(): FailureInputs | null {
    return this.lastInputs;
  }

  /** The last prediction; null before the first store tick and while warming up (PREDICTION_WARM_UP_SAMPLES). */
  get prediction(): FailurePrediction | null {
    return this.last;
  }

  /**
   * `meta` with this node's prediction in it (or taken out): the probability in whole percent,
   * rounded to 5 so that noise does not gossip, and the time to failure rounded up to 10 s.
   */
  withPrediction(meta: Record<string, string | number>): Record<string, string | number> {
    const next = { ...meta };
    delete next[PREDICTION_META.probability];
    delete next[PREDICTION_META.secondsToFailure];
    const p = this.last;
    if (!this.options.publish || p === null || p.probability < PUBLISH_FROM) return next;
    next[PREDICTION_META.probability] = Math.round((p.probability * 100) / 5) * 5;
    if (p.secondsToFailure !== null) next[PREDICTION_META.secondsToFailure] = Math.ceil(p.secondsToFailure / 10) * 10;
    return next;
  }
}
