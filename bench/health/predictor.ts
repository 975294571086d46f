/**
 * Failure prediction (issue 18): the labelled corpus, training and the held-out evaluation.
 *
 *   node --import tsx bench/health/predictor.ts [--train 1..60] [--heldout 61..100] [--horizon 60]
 *     [--sustain 10] [--lead 30] [--min-precision 0.95] [--corpus FILE] [--write-model] [--json]
 *
 * 1. The corpus: one simulator run per seed (src/sim/scenarios/slow-death.ts; seed % 4 picks a
 *    slow memory leak, lag creep, an error storm or a healthy run with noise), every live node's
 *    features once a second. With --corpus FILE the runs are read from FILE if it exists, else
 *    written there (one JSON run a line); either way they are a function of the seeds.
 * 2. Training on the --train seeds (every 5th second of every node, labelled "fails within
 *    --horizon seconds"): logistic regression by gradient descent (bench/health/logistic.ts), then
 *    the alarm threshold with the best recall at --lead seconds whose precision on the training
 *    runs is at least --min-precision. --write-model writes src/health/failure-model.ts.
 * 3. The evaluation on the --heldout seeds, next to trend extrapolation alone (an alarm when a
 *    signal's trend crosses its threshold within the horizon): precision, recall at the lead, the
 *    lead times, per kind of run, and the per-sample figures. The alarm is the automatic drain
 *    policy (src/health/auto-drain.ts), so "recall at lead" is also the share of failing nodes
 *    whose drain would have started at least that long before the failure.
 *
 * Prints a table; writes JSON to bench/results/health-predictor-DATE.json (and stdout with --json).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { FAILURE_FEATURES, predictFailure, type FailureModel } from '../../src/health/failure-predictor.ts';
import { RUN_KINDS, runSlowDeath, type SlowDeathRun } from '../../src/sim/scenarios/slow-death.ts';
import { benchArgs, positive, seedList, seedListCheck } from '../help.ts';
import { alarms, chooseThreshold, eventFigures, examples, outcomes, round, sampleFigures, train, type NodeOutcome } from './logistic.ts';

const MODEL_FILE = new URL('../../src/health/failure-model.ts', import.meta.url);
const TRAIN_STRIDE = 5;

const flags = benchArgs('node --import tsx bench/health/predictor.ts', {
  train: { kind: 'string', description: 'seeds of the training runs', default: '1..60', check: seedListCheck },
  heldout: { kind: 'string', description: 'seeds of the held-out runs the evaluation uses', default: '61..100', check: seedListCheck },
  horizon: { kind: 'number', value: 'S', description: 'seconds ahead a failure is predicted', default: 60, check: positive },
  sustain: { kind: 'number', value: 'S', description: 'seconds the alarm must hold before it counts', default: 10, check: positive },
  lead: { kind: 'number', value: 'S', description: 'seconds before the failure an alarm must come to count for recall', default: 30, check: positive },
  'min-precision': { kind: 'number', value: 'P', description: 'the precision on the training runs the alarm threshold must reach', default: 0.95, check: positive },
  corpus: { kind: 'string', value: 'FILE', description: 'read the runs from FILE if it exists, else write them there (one JSON run a line)' },
  'write-model': { kind: 'boolean', description: 'write src/health/failure-model.ts' },
  json: { kind: 'boolean', description: 'print the result as JSON too' },
}, (given) => {
  // Held-out runs the model was trained on would flatter it.
  const heldout = seedList(String(given.heldout))!;
  const shared = seedList(String(given.train))!.filter((seed) => heldout.includes(seed));
  return shared.length === 0 ? undefined : `--train and --heldout share seeds ${shared.join(',')}: the held-out runs must be runs the model was not trained on`;
});

interface Args {
  train: number[];
  heldout: number[];
  horizon: number;
  sustainMs: number;
  lead: number;
  minPrecision: number;
  corpus: string | null;
  writeModel: boolean;
  json: boolean;
}

function readArgs(): Args {
  const args: Args = {
    train: seedList(String(flags.train))!,
    heldout: seedList(String(flags.heldout))!,
    horizon: Number(flags.horizon),
    sustainMs: Number(flags.sustain) * 1000,
    lead: Number(flags.lead),
    minPrecision: Number(flags['min-precision']),
    corpus: flags.corpus === undefined ? null : String(flags.corpus),
    writeModel: flags['write-model'] === true,
    json: flags.json === true,
  };
  return args;
}

function corpus(seeds: readonly number[], file: string | null): SlowDeathRun[] {
  const cached = new Map<number, SlowDeathRun>();
  if (file && existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const run = JSON.parse(line) as SlowDeathRun;
      cached.set(run.seed, run);
    }
  }
  const runs = seeds.map((seed) => {
    const known = cached.get(seed);
    if (known) return known;
    const started = Date.now();
    const run = runSlowDeath({ seed });
    process.stderr.write(`seed ${seed} (${run.kind}): ${Math.round(run.durationMs / 1000)} s simulated in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    cached.set(seed, run);
    if (file) writeFileSync(file, `${JSON.stringify(run)}\n`, { flag: 'a' });
    return run;
  });
  return runs;
}

function writeModel(model: FailureModel): void {
  const body = JSON.stringify(model, (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 1e6) / 1e6 : v), 2);
  writeFileSync(MODEL_FILE, `// Written by \`node --import tsx bench/health/predictor.ts --write-model\` (its defaults): do not edit by hand.\nimport type { FailureModel } from './failure-predictor.ts';\n\nexport const FAILURE_MODEL: FailureModel = ${body};\n`);
}

function main(): void {
  const args = readArgs();
  const trainRuns = corpus(args.train, args.corpus);
  const heldRuns = corpus(args.heldout, args.corpus);

  const trainingExamples = examples(trainRuns, args.horizon, TRAIN_STRIDE);
  const fitted = train(trainingExamples);
  const base = { horizonSeconds: args.horizon, features: FAILURE_FEATURES, ...fitted };
  const model: FailureModel = { ...base, threshold: chooseThreshold(trainRuns, base, args.sustainMs, args.lead, args.minPrecision) };
  if (args.writeModel) writeModel(model);

  const evaluate = (list: NodeOutcome[]) => ({
    all: eventFigures(list, args.lead),
    byKind: Object.fromEntries(RUN_KINDS.map((k) => [k, eventFigures(list.filter((o) => o.kind === k), args.lead)])),
  });
  const logistic = outcomes(heldRuns, model, args.sustainMs);
  // The alternative: trend extrapolation alone, an alarm when a signal is to cross its threshold within the horizon.
  const trend = alarms(heldRuns, (s) => (s.secondsToFailure !== null && s.secondsToFailure <= args.horizon ? 1 : 0), 1, args.sustainMs);
  const drainBefore = (list: NodeOutcome[], seconds: number) => round(list.filter((o) => (o.leadSeconds ?? -1) >= seconds).length / Math.max(1, list.filter((o) => o.failed).length));
  const result = {
    command: `node --import tsx bench/health/predictor.ts ${process.argv.slice(2).join(' ')}`.trim(),
    corpus: {
      trainSeeds: `${args.train[0]}..${args.train.at(-1)}`,
      heldoutSeeds: `${args.heldout[0]}..${args.heldout.at(-1)}`,
      trainingExamples: trainingExamples.length,
      trainingPositives: trainingExamples.filter((e) => e.label === 1).length,
      runsByKind: Object.fromEntries(RUN_KINDS.map((k) => [k, { train: trainRuns.filter((r) => r.kind === k).length, heldout: heldRuns.filter((r) => r.kind === k).length }])),
    },
    horizonSeconds: args.horizon,
    sustainSeconds: args.sustainMs / 1000,
    model,
    heldout: {
      logistic: evaluate(logistic),
      trendOnly: evaluate(trend),
      samples: sampleFigures(examples(heldRuns, args.horizon, 1), model),
      drainStartedBefore: { s30: drainBefore(logistic, 30), s60: drainBefore(logistic, 60) },
      timeToFailureAtAlarm: Object.fromEntries(['all', ...RUN_KINDS].map((k) => [k, timeToFailureError(heldRuns, logistic.filter((o) => k === 'all' || o.kind === k), model)])),
    },
  };
  printTable(result.heldout.logistic, result.heldout.trendOnly, result);
  for (const [kind, t] of Object.entries(result.heldout.timeToFailureAtAlarm)) {
    if (t.detected === 0) continue;
    process.stdout.write(`time to failure at the alarm (${kind}): ${t.withPrediction} of ${t.detected} detected nodes had one; median error ${t.medianAbsErrorSeconds} s, median predicted/actual ${t.medianPredictedOverActual}\n`);
  }
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`../results/health-predictor-${new Date().toISOString().slice(0, 10)}.json`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

/**
 * How far off the published time to failure is when the alarm fires: per detected node, the
 * predicted seconds at the alarm's sample against the seconds the node actually had left.
 */
function timeToFailureError(runs: readonly SlowDeathRun[], list: readonly NodeOutcome[], model: FailureModel): { detected: number; withPrediction: number; medianAbsErrorSeconds: number | null; medianPredictedOverActual: number | null } {
  const pairs = list.flatMap((o) => {
    if (o.leadSeconds === null) return [];
    const sample = runs.find((r) => r.seed === o.seed)!.nodes[o.node]!.samples.find((s) => s.atMs === o.alarmAtMs)!;
    const predicted = predictFailure(model, sample.inputs).secondsToFailure;
    return predicted === null ? [] : [{ predicted, actual: o.leadSeconds }];
  });
  const median = (xs: number[]) => (xs.length === 0 ? null : round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!));
  return {
    detected: list.filter((o) => o.leadSeconds !== null).length,
    withPrediction: pairs.length,
    medianAbsErrorSeconds: median(pairs.map((p) => Math.abs(p.predicted - p.actual))),
    medianPredictedOverActual: median(pairs.map((p) => p.predicted / p.actual)),
  };
}

type Evaluation = { all: ReturnType<typeof eventFigures>; byKind: Record<string, ReturnType<typeof eventFigures>> };

function printTable(logistic: Evaluation, trend: Evaluation, result: { horizonSeconds: number; model: FailureModel; heldout: { samples: ReturnType<typeof sampleFigures> } }): void {
  const rows = [['held-out', 'predictor', 'failing', 'healthy', 'detected', 'false alarms', 'precision', `recall@${logistic.all.leadSeconds}s`, 'median lead s', 'min lead s']];
  for (const [name, e] of [['logistic', logistic], ['trend only', trend]] as const) {
    for (const [kind, f] of [['all', e.all], ...Object.entries(e.byKind)] as const) {
      rows.push([kind, name, String(f.failingNodes), String(f.healthyNodes), String(f.detected), String(f.falseAlarms), f.precision.toFixed(3), f.recallAtLead.toFixed(3), String(f.medianLeadSeconds ?? '-'), String(f.minLeadSeconds ?? '-')]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
  const s = result.heldout.samples;
  process.stdout.write(
    `\nper second (label: fails within ${result.horizonSeconds} s; threshold ${result.model.threshold}, no sustain): ${s.samples} samples, ${s.positives} positive, precision ${s.precision}, recall ${s.recall}, AUC ${s.auc}\n`,
  );
}

main();
