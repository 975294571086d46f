// Written by `node --import tsx bench/health/predictor.ts --write-model` (its defaults): do not edit by hand.
import type { FailureModel } from './failure-predictor.ts';

export const FAILURE_MODEL: FailureModel = {
  "horizonSeconds": 60,
  "features": [
    "heapLevel",
    "heapSlope",
    "heapSoon",
    "lagLevel",
    "lagSlope",
    "lagSoon",
    "errorRate",
    "errorSlope",
    "errorSoon",
    "peerReports"
  ],
  "weights": [
    4.903075,
    1.557325,
    5.116128,
    3.541894,
    -1.559637,
    0.052377,
    5.204182,
    -0.413724,
    -0.350313,
    1.182153
  ],
  "bias": -5.378269,
  "threshold": 0.86
};
