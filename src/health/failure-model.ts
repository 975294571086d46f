// Written by `node --import tsx bench/health/predictor.ts --write-model`: do not edit by hand.
import type { FailureModel } from './failure-predictor.ts';

export const FAILURE_MODEL: FailureModel = {"horizonSeconds":60,"features":[],"weights":[],"bias":-10,"threshold":1};
