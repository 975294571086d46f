/**
 * `shoal sim`: run a scenario of the deterministic simulator for one seed or a sweep of seeds.
 * Exit status 0 only when every run passed.
 */
import { formatHelp, parseArgs, UsageError, type FlagSpecs } from './args.ts';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { hunt } from '../sim/hunt.ts';
import { parseBugs, parseSeeds, replayCommand, runAnyScenario, traceFor, type RunReport } from '../sim/driver.ts';
import { PlanError, type FaultMode, type RunPlan, type Scenario, type ScenarioOptions } from '../sim/scenario.ts';
import { shrinkRun, type ShrinkFigures } from '../sim/shrink.ts';
import { ASYNC_SCENARIOS, DEFAULT_SCENARIO, SCENARIOS } from '../sim/scenarios/index.ts';
import { bar, eta, Progress } from './progress.ts';
import { writeArtifacts } from '../sim/artifacts.ts';
import { CoverageTally } from '../sim/coverage.ts';

/** Candidate runs `--shrink` tries by default (a few minutes of kv runs). */
const DEFAULT_SHRINK_RUNS = 400;

const FLAGS: FlagSpecs = {
  scenario: { kind: 'string', description: 'scenario to run (see --list)', default: DEFAULT_SCENARIO },
  seed: { kind: 'string', description: 'the seed of a single run', default: 1 },
  seeds: { kind: 'string', description: 'sweep seeds: a range A..B or a list a,b,c' },
  nodes: { kind: 'number', description: 'simulated node count (default: the scenario\'s)' },
  duration: { kind: 'duration', description: 'simulated time, like 60s (default: the scenario\'s)' },
  faults: { kind: 'string', description: 'swarm (drawn from the seed) or none (default: the scenario\'s)' },
  'check-determinism': { kind: 'boolean', description: 'run each seed twice and compare event digests' },
  json: { kind: 'boolean', description: 'print one JSON object per run on stdout' },
  bugs: { kind: 'string', description: 'test-only: switch planted or fixed bugs on, like dropWritesOn=n1,skipReadRepair' },
  buggify: { kind: 'boolean', description: 'switch BUGGIFY fault points on (each enabled per run by the seed; --hunt does it for half its seeds)' },
  draws: { kind: 'string', description: 'shared (default) or keyed: each message\'s fate, and each node\'s and client\'s draws, keyed by link or node and virtual time, so removing an operation changes only what it touches (kv, kv-overload, kv-rmw; --shrink uses it when the failure reproduces with it)' },
  plan: { kind: 'string', description: 'run the fault schedule and workload in this JSON file instead of drawing them (what --shrink writes)' },
  shrink: { kind: 'boolean', description: 'shrink the failing run of --seed (faults, ops, clients, nodes) and print its replay command' },
  'shrink-runs': { kind: 'number', description: 'the most candidate runs --shrink tries', default: DEFAULT_SHRINK_RUNS },
  hunt: { kind: 'boolean', description: 'run new seeds across every scenario (and node counts) until --minutes are up; failures go to --out' },
  minutes: { kind: 'number', description: 'how long --hunt runs', default: 10 },
  from: { kind: 'number', description: 'the first seed --hunt runs (above the CI sweeps\' seeds)', default: 100_000 },
  only: { kind: 'string', description: 'the scenarios --hunt runs, as a comma list (default: all but the measurements)' },
  out: { kind: 'string', description: 'where --hunt appends failures, one JSON line each (shrunk plans beside it)', default: 'sim-hunt.jsonl' },
  artifacts: { kind: 'string', description: 'write an HTML page and a JSONL history into this directory for every failing run (and for a single --seed run)' },
  list: { kind: 'boolean', description: 'list the scenarios and exit' },
  help: { kind: 'boolean', description: 'show this help' },
};

const USAGE =
  'Usage: shoal sim [--scenario NAME] [--seed N | --seeds A..B] [--nodes K] [--duration 60s]\n' +
  '                 [--faults swarm|none] [--check-determinism] [--json]\n' +
  '                 [--bugs LIST] [--buggify] [--draws shared|keyed] [--plan FILE] [--shrink [--shrink-runs N]] [--artifacts DIR]\n' +
  '       shoal sim --hunt [--minutes 10] [--only kv,gossip] [--from SEED] [--out FILE] [--shrink-runs N]';

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(formatHelp(USAGE, FLAGS));
    return 0;
  }
  if (flags.list) {
    for (const s of [...SCENARIOS.values(), ...ASYNC_SCENARIOS.values()]) process.stdout.write(`${s.name.padEnd(22)} ${s.summary}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (flags.hunt === true) return runHunt(flags);

  const name = String(flags.scenario ?? DEFAULT_SCENARIO);
  const scenario = SCENARIOS.get(name) ?? ASYNC_SCENARIOS.get(name);
  if (!scenario) throw new UsageError(`unknown scenario "${name}"; known: ${[...SCENARIOS.keys(), ...ASYNC_SCENARIOS.keys()].join(', ')}`);
  const synchronous = 'run' in scenario ? scenario : null;
  if (synchronous === null && (flags.shrink === true || flags.artifacts !== undefined || flags.plan !== undefined)) {
    throw new UsageError(`${name} does not support --shrink, --artifacts or --plan yet`);
  }
  if (flags.seed !== undefined && flags.seeds !== undefined) throw new UsageError('give --seed or --seeds, not both');

  let seeds: number[];
  try {
    seeds = parseSeeds(String(flags.seeds ?? flags.seed ?? 1));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const faults = String(flags.faults ?? scenario.defaults.faults);
  if (faults !== 'swarm' && faults !== 'none') throw new UsageError(`--faults takes swarm or none, not "${faults}"`);
  const nodes = Number(flags.nodes ?? scenario.defaults.nodes);
  const minNodes = scenario.minNodes ?? 1;
  if (!Number.isInteger(nodes) || nodes < minNodes) throw new UsageError(`--nodes takes a whole number >= ${minNodes} for ${scenario.name}, not ${nodes}`);
  const durationMs = Number(flags.duration ?? scenario.defaults.durationMs);
  if (!(durationMs >= 0)) throw new UsageError('--duration must not be negative');
  // A scenario that simulates time judges what happened in it: with none, its checks fail for want of a run.
  if (durationMs === 0 && scenario.defaults.durationMs > 0) throw new UsageError(`--duration must be more than 0 for ${name} (its default is ${scenario.defaults.durationMs / 1000}s)`);

  let bugs: ScenarioOptions['bugs'];
  try {
    bugs = flags.bugs === undefined ? undefined : parseBugs(String(flags.bugs));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const planFile = flags.plan === undefined ? undefined : String(flags.plan);
  const plan = planFile === undefined ? undefined : readPlan(planFile);
  const draws = String(flags.draws ?? 'shared');
  if (draws !== 'shared' && draws !== 'keyed') throw new UsageError(`--draws takes shared or keyed, not "${draws}"`);
  if (draws === 'keyed' && !scenario.keyedDraws) throw new UsageError(`${name} does not support --draws keyed (kv, kv-overload and kv-rmw do)`);
  const extra = {
    ...(bugs ? { bugs } : {}),
    ...(plan ? { plan } : {}),
    ...(flags.buggify === true ? { buggify: true } : {}),
    ...(draws === 'keyed' ? { draws: 'keyed' as const } : {}),
  };
  if (flags.shrink === true) {
    if (seeds.length !== 1) throw new UsageError('--shrink takes one --seed');
    return shrink(synchronous!, { seed: seeds[0]!, nodes, durationMs, faults: faults as FaultMode, ...extra }, Number(flags['shrink-runs'] ?? DEFAULT_SHRINK_RUNS));
  }

  const json = flags.json === true;
  const artifacts = flags.artifacts === undefined ? undefined : String(flags.artifacts);
  if (artifacts !== undefined) checkArtifactsDir(artifacts);
  const checkDeterminism = flags['check-determinism'] === true;
  const sweep = seeds.length > 1;
  const failed: RunReport[] = [];
  const coverage = new CoverageTally();
  const started = performance.now();

  // A sweep on a terminal shows one progress line (failures stay above it); written to a pipe or a
  // CI log, it keeps one line per seed instead; --json keeps stderr quiet but for the summary.
  const progress = new Progress({ enabled: sweep && !json });
  const showProgress = (i: number, seed: number) =>
    progress.update(`${scenario.name} ${bar(i, seeds.length)} ${failed.length} failed; seed ${seed} ${eta(i, seeds.length, performance.now() - started)}`.trimEnd());
  for (const [i, seed] of seeds.entries()) {
    showProgress(i, seed);
    const options: ScenarioOptions = { seed, nodes, durationMs, faults: faults as FaultMode, ...extra };
    const report = await runAnyScenario(scenario, options, checkDeterminism, planFile).catch((e: unknown) => {
      throw e instanceof PlanError ? new UsageError(`--plan ${planFile}: ${e.message}`) : e;
    });
    if (report.violations.length > 0) failed.push(report);
    coverage.add(report.coverage);
    if (artifacts !== undefined && (report.violations.length > 0 || !sweep)) {
      // The run is deterministic: run it again for its timeline rather than keep every run's in memory.
      const timeline = synchronous!.run(options, traceFor(options)).timeline;
      if (timeline) process.stderr.write(`artifacts: ${writeArtifactsOrSay(artifacts, report, timeline)}\n`);
      else process.stderr.write(`artifacts: ${scenario.name} does not record a timeline (kv, kv-overload and kv-rmw do)\n`);
    }
    if (json) process.stdout.write(JSON.stringify(report) + '\n');
    else if (!sweep) process.stdout.write(describe(report));
    if (sweep && !json) {
      const verdict = report.violations.length === 0 ? 'pass' : 'FAIL';
      const line = `[${i + 1}/${seeds.length}] seed ${seed}: ${verdict}, digest ${report.digest}, ${report.wallSeconds}s`;
      if (!progress.active) process.stderr.write(`${line}\n`);
      else if (report.violations.length > 0) progress.log(line);
    }
  }
  progress.done();

  if (sweep) {
    const wall = ((performance.now() - started) / 1000).toFixed(1);
    const summary =
      `\n${scenario.name}: ${seeds.length - failed.length} passed, ${failed.length} failed (${seeds.length} seeds, ${wall}s)\n` +
      failed.map((r) => `  seed ${r.seed}: ${r.violations[0]!.checker}: ${firstLine(r.violations[0]!.message)}\n    replay: ${r.replay}\n`).join('') +
      coverage.format();
    (json ? process.stderr : process.stdout).write(summary);
  }
  return failed.length === 0 ? 0 : 1;
}

function runHunt(flags: Record<string, string | number | boolean | undefined>): number {
  const names = flags.only === undefined ? [...SCENARIOS.values()].filter((s) => !s.measurement).map((s) => s.name) : String(flags.only).split(',').map((n) => n.trim());
  const scenarios = names.map((n) => {
    const s = SCENARIOS.get(n);
    if (!s) throw new UsageError(`unknown scenario "${n}" in --only; known: ${[...SCENARIOS.keys()].join(', ')}`);
    return s;
  });
  const minutes = Number(flags.minutes ?? 10);
  if (!(minutes > 0)) throw new UsageError('--minutes takes a positive number');
  const out = String(flags.out ?? 'sim-hunt.jsonl');
  const firstSeed = Number(flags.from ?? 100_000);
  if (!Number.isSafeInteger(firstSeed) || firstSeed < 0) throw new UsageError('--from takes a whole number');
  const dir = dirname(out);
  const progress = new Progress({ enabled: true });
  let failures = 0;
  const summary = hunt({
    scenarios,
    firstSeed,
    now: () => performance.now(),
    deadline: performance.now() + minutes * 60_000,
    shrinkRuns: Number(flags['shrink-runs'] ?? DEFAULT_SHRINK_RUNS),
    onSeed: (scenario, seed, passed) => progress.update(`hunting: ${scenario} seed ${seed} ${passed ? 'pass' : 'FAIL'}; ${failures} failures so far`),
    onFailure: (f) => {
      failures++;
      if (f.shrunk) writeFileSync(join(dir, `shrunk-${f.scenario}-${f.seed}.json`), JSON.stringify(f.shrunk.plan, null, 1) + '\n');
      appendFileSync(out, JSON.stringify({ ...f, shrunk: f.shrunk ? { ...f.shrunk, plan: undefined } : undefined }) + '\n');
      progress.log(`FAIL ${f.scenario} seed ${f.seed}: ${f.kind}\n  replay: ${f.replay}${f.shrunk ? `\n  shrunk (faults ${f.shrunk.faults}, ops ${f.shrunk.ops}): ${f.shrunk.replay}` : ''}`);
    },
  });
  progress.done();
  const rows = summary.perScenario.map((r) => `  ${r.scenario.padEnd(22)} ${String(r.seeds).padStart(7)} seeds ${String(r.seedsPerMinute).padStart(8)}/min ${String(r.failures).padStart(4)} failed`);
  process.stdout.write(`hunt: ${summary.seeds} seeds in ${minutes} min, ${summary.failures} failures (in ${out})\n${rows.join('\n')}\n`);
  return summary.failures === 0 ? 0 : 1;
}

/**
 * Refuses an --artifacts that cannot become a directory (it, or a folder on its path, is a file)
 * before any run, so a sweep does not fail at its first failing seed. It is made when written.
 */
function checkArtifactsDir(dir: string): void {
  const wanted = resolve(dir);
  for (let path = wanted; ; ) {
    let stats;
    try {
      stats = statSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new UsageError(`--artifacts ${dir}: cannot look at ${path} (${code ?? (e as Error).message})`);
      const up = dirname(path);
      if (up === path) return;
      path = up;
      continue;
    }
    if (stats.isDirectory()) return;
    throw new UsageError(path === wanted ? `--artifacts ${dir} is a file, not a directory: give a directory to write the pages into` : `--artifacts ${dir}: ${path} is a file, not a directory`);
  }
}

/** writeArtifacts, with a failure to write (no permission, a full disk) as one line naming --artifacts. */
function writeArtifactsOrSay(dir: string, report: RunReport, timeline: NonNullable<ReturnType<Scenario['run']>['timeline']>): string {
  try {
    return writeArtifacts(dir, report, timeline);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw e;
    throw new UsageError(`--artifacts ${dir}: cannot write the run's pages there (${(e as Error).message})`);
  }
}

/** Reads a plan file, refusing anything that is not one (with the reason). */
function readPlan(file: string): RunPlan {
  let plan: Partial<RunPlan>;
  try {
    plan = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunPlan>;
  } catch (e) {
    throw new UsageError(`--plan ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(plan.faults) || !Array.isArray(plan.ops) || typeof plan.network?.lossRate !== 'number' || typeof plan.network.duplicateRate !== 'number') {
    throw new UsageError(`--plan ${file} is not a run plan (faults, network {lossRate, duplicateRate}, ops), as --shrink writes`);
  }
  return plan as RunPlan;
}

function shrink(scenario: Scenario, options: ScenarioOptions, maxRuns: number): number {
  const progress = new Progress({ enabled: true });
  let result;
  try {
    result = shrinkRun(scenario, options, {
      maxRuns,
      onRun: (runs, kept, now) => progress.update(`shrinking ${scenario.name} seed ${options.seed}: ${bar(runs, maxRuns)} ${runs} runs; ${figuresText(now)}${kept ? ' (smaller)' : ''}`),
    });
  } catch (e) {
    progress.done();
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  progress.done();
  const file = `shrunk-${scenario.name}-${options.seed}.json`;
  writeFileSync(file, JSON.stringify(result.plan, null, 1) + '\n');
  const pct = (a: number, b: number) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);
  const o = result.original;
  const m = result.shrunk;
  process.stdout.write(
    [
      `shrunk     ${result.kind} in ${result.runs} runs`,
      `original   ${figuresText(o)}`,
      `minimal    ${figuresText(m)}`,
      `kept       faults ${pct(m.faults, o.faults)}, ops ${pct(m.ops, o.ops)}, clients ${m.clients} of ${o.clients}, nodes ${m.nodes} of ${o.nodes}; network loss ${result.plan.network.lossRate}, duplication ${result.plan.network.duplicateRate}`,
      `draws      ${result.options.draws === 'keyed' ? 'keyed' : `shared${scenario.keyedDraws ? ` (the run's plan passes with keyed draws, so each removal reshuffles later messages; a seed failing with --draws keyed shrinks better)` : ''}`}`,
      `violation  [${result.violation.checker} at ${(result.violation.atMs / 1000).toFixed(3)}s] ${result.violation.message}`,
      `faults     ${result.plan.faults.map((f) => `${f.atMs}ms ${JSON.stringify(f.action)}`).join('\n           ') || 'none'}`,
      `replay     ${replayCommand(scenario.name, result.options, false, file)}`,
    ].join('\n') + '\n',
  );
  return 0;
}

function figuresText(f: ShrinkFigures): string {
  return `${f.faults} faults, ${f.ops} ops, ${f.clients} clients, ${f.nodes} nodes`;
}

function describe(r: RunReport): string {
  const { scenario, seed, options, derived, digest, events, simSeconds, wallSeconds, simSecondsPerWallSecond, violations, replay, ...figures } = r;
  const lines = [
    `scenario   ${scenario}`,
    `seed       ${seed}`,
    `options    ${JSON.stringify(options)}`,
    ...(Object.keys(derived).length > 0 ? [`derived    ${JSON.stringify(derived)}`] : []),
    `figures    ${JSON.stringify(figures)}`,
    `digest     ${digest} (${events} events)`,
    `speed      ${simSeconds}s simulated in ${wallSeconds}s (${simSecondsPerWallSecond}x real time)`,
    `verdict    ${violations.length === 0 ? 'PASS' : `FAIL (${violations.length} violations)`}`,
    ...violations.map((v) => `  - [${v.checker} at ${(v.atMs / 1000).toFixed(3)}s] ${v.message}`),
    `replay     ${replay}`,
  ];
  return lines.join('\n') + '\n';
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}
