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
    5.30815,
    1.286628,
    4.951706,
    3.439326,
    -1.418216,
    -0.105417,
    4.891869,
    -0.113042,
    -0.156992,
    1.339551
  ],
  "bias": -5.507029,
  "threshold": 0.86
};
