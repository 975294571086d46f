/**
 * Runs scenarios for the `shoal sim` command and for tests: one seed, a sweep, and the determinism
 * self-check (same seed twice, digests compared; on a mismatch, the first diverging event is
 * located and described from both runs).
 */
import type { Violation } from './checkers.ts';
import type { ReplicationBugs } from '../replication/config.ts';
import type { AsyncScenario, Scenario, ScenarioOptions, ScenarioResult } from './scenario.ts';
import { EventTrace, firstDivergence, type TraceOptions } from './trace.ts';
import { RunProbes } from './probes.ts';
import { BUGGIFY_POINTS } from '../runtime/probes.ts';

export interface RunReport {
  scenario: string;
  seed: number;
  options: Omit<ScenarioOptions, 'seed' | 'plan'>;
  derived: Record<string, unknown>;
  digest: string;
  events: number;
  simSeconds: number;
  wallSeconds: number;
  simSecondsPerWallSecond: number;
  violations: Violation[];
  /** How many times each rare path ran (src/runtime/probes.ts), for `shoal sim`'s coverage table. */
  coverage: Record<string, number>;
  /** With buggify on: the fault points enabled in this run and how often each fired. */
  buggify?: { enabled: string[]; fired: Record<string, number> };
  replay: string;
  [figure: string]: unknown;
}

/** The command line that reruns exactly this run (`planFile`: where the run's plan was saved, when it was given one). */
export function replayCommand(scenario: string, options: ScenarioOptions, checkDeterminism: boolean, planFile?: string): string {
  const seconds = options.durationMs / 1000;
  return (
    `npx shoal sim --scenario ${scenario} --seed ${options.seed} --nodes ${options.nodes} ` +
    `--duration ${seconds}s --faults ${options.faults}${checkDeterminism ? ' --check-determinism' : ''}` +
    (options.bugs ? ` --bugs ${formatBugs(options.bugs)}` : '') +
    (options.buggify ? ' --buggify' : '') +
    (options.draws === 'keyed' ? ' --draws keyed' : '') +
    (planFile ? ` --plan ${planFile}` : '')
  );
}

/** Every test-only bug switch, and whether it takes a node name (`dropWritesOn=n1`) or is on/off. */
const BUG_SWITCHES = {
  forgetStandInWrites: 'flag',
  forgetPastShadow: 'flag',
  rmwIgnoreRequestIds: 'flag',
  rmwNoFencing: 'flag',
  rmwAbandonBuiltOnDoubts: 'flag',
  rmwTrustIdsByHolder: 'flag',
  rmwClaimedIdsStayLocal: 'flag',
  rmwLateIdsStayBehind: 'flag',
  rmwUnpromisedRefusalFences: 'flag',
  rmwCatchingUpCountsAsAnswered: 'flag',
  rmwIgnoreLineage: 'flag',
  rmwNoGroupCommit: 'flag',
  rmwBatchAnswersEarly: 'flag',
  jointIgnoresRefusers: 'flag',
  readRefusalWithoutRecord: 'flag',
  readsTakeDuplicateRefusals: 'flag',
  readyBeforeHandoff: 'flag',
  readsWithoutOwnerCount: 'flag',
  jointEndsEarly: 'flag',
  ringsUnannounced: 'flag',
  leaveWaitsForIdle: 'flag',
  undrainWithoutPeers: 'flag',
  aloneWithoutConfirmation: 'flag',
  jointQuorumOfLiveOwners: 'flag',
  handOffAtTimerPace: 'flag',
  catchUpAtTimerPace: 'flag',
  expireBeforeReading: 'flag',
  ignoreStaleAccusations: 'flag',
  silentToAccused: 'flag',
  dropWritesOn: 'node',
  bucketDigestSkipsNewKeys: 'flag',
  answerOldest: 'flag',
  sessionIgnoresDeadlines: 'flag',
  admissionIgnoresDeadlines: 'flag',
  skipReadRepair: 'flag',
  takeEveryRepair: 'flag',
  forgetHints: 'flag',
  noJointQuorum: 'flag',
  hlcIgnoresRemote: 'flag',
  hlcForgetsPredecessor: 'flag',
  lateTellsIgnored: 'flag',
  peerClocksIgnored: 'flag',
  clockCeilingIgnored: 'flag',
} as const satisfies Record<keyof Required<ReplicationBugs>, 'flag' | 'node'>;

/** Parses `--bugs`: a comma list of switch names, `name=node` for those naming a node. */
export function parseBugs(text: string): ReplicationBugs {
  const bugs: Record<string, string | boolean> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, value] = part.split('=') as [string, string | undefined];
    const kind = (BUG_SWITCHES as Record<string, 'flag' | 'node'>)[name];
    if (!kind) throw new Error(`unknown bug switch "${name}"; known: ${Object.keys(BUG_SWITCHES).join(', ')}`);
    if ((kind === 'node') !== (value !== undefined)) throw new Error(kind === 'node' ? `${name} names a node: ${name}=n1` : `${name} takes no value`);
    bugs[name] = value ?? true;
  }
  return bugs as ReplicationBugs;
}

function formatBugs(bugs: ReplicationBugs): string {
  return Object.entries(bugs)
    .filter(([, v]) => v !== undefined && v !== false)
    .map(([k, v]) => (v === true ? k : `${k}=${String(v)}`))
    .join(',');
}

const DESCRIBE_BEFORE = 5;

/** The most seeds one sweep may name (the list is built up front). */
const MAX_SWEEP_SEEDS = 1_000_000;

/** A fresh trace for one run of `options`, with its probes (buggify on when the options say so). */
export function traceFor(options: ScenarioOptions, traceOptions: Omit<TraceOptions, 'probes'> = {}): EventTrace {
  return new EventTrace({ ...traceOptions, probes: new RunProbes(options.buggify ? options.seed : null) });
}

/**
 * Runs `options` once on `trace`. A failed core assertion fails the run: one violation each,
 * named after the assertion, ahead of the checkers' (the assertion saw the bug first).
 */
export function runOnce(scenario: Scenario, options: ScenarioOptions, trace = traceFor(options)): ScenarioResult {
  return withAssertions(scenario.run(options, trace), trace);
}

function withAssertions(result: ScenarioResult, trace: EventTrace): ScenarioResult {
  const asserted = trace.probes.failures.map((f) => ({ checker: `assertion/${f.name}`, atMs: f.atMs, message: `${f.node}: ${f.detail}` }));
  return asserted.length === 0 ? result : { ...result, violations: [...asserted, ...result.violations] };
}

export function runScenario(scenario: Scenario, options: ScenarioOptions, checkDeterminism = false, planFile = 'PLAN.json'): RunReport {
  const trace = traceFor(options, { recordHashes: checkDeterminism });
  const started = performance.now();
  const result = runOnce(scenario, options, trace);
  const wallSeconds = (performance.now() - started) / 1000;
  const violations = [...result.violations];

  if (checkDeterminism) {
    const again = traceFor(options, { recordHashes: true });
    scenario.run(options, again);
    if (again.digest() !== trace.digest()) {
      violations.push(describeDivergence(scenario, options, trace, again));
    }
  }
  return report(scenario.name, options, result, trace, wallSeconds, violations, checkDeterminism, planFile);
}

/**
 * runScenario for any scenario, asynchronous ones (kv-sdk) included. A determinism failure of an
 * asynchronous run names the first diverging event without describing it.
 */
export async function runAnyScenario(scenario: Scenario | AsyncScenario, options: ScenarioOptions, checkDeterminism = false, planFile = 'PLAN.json'): Promise<RunReport> {
  if (!('runAsync' in scenario)) return runScenario(scenario, options, checkDeterminism, planFile);
  const trace = traceFor(options, { recordHashes: checkDeterminism });
  const started = performance.now();
  const result = withAssertions(await scenario.runAsync(options, trace), trace);
  const wallSeconds = (performance.now() - started) / 1000;
  const violations = [...result.violations];
  if (checkDeterminism) {
    const again = traceFor(options, { recordHashes: true });
    await scenario.runAsync(options, again);
    if (again.digest() !== trace.digest()) {
      const message = `the same seed gave different runs (digests ${trace.digest()} and ${again.digest()}); first divergence at event #${firstDivergence(trace, again)}`;
      violations.push({ checker: 'determinism', atMs: 0, message });
    }
  }
  return report(scenario.name, options, result, trace, wallSeconds, violations, checkDeterminism, planFile);
}

function report(
  scenario: string,
  options: ScenarioOptions,
  result: ScenarioResult,
  trace: EventTrace,
  wallSeconds: number,
  violations: Violation[],
  checkDeterminism: boolean,
  planFile: string,
): RunReport {
  const simSeconds = result.simMs / 1000;
  const { seed, plan, ...rest } = options;
  return {
    scenario,
    seed,
    options: rest,
    derived: result.derived,
    digest: trace.digest(),
    events: trace.eventCount,
    simSeconds,
    wallSeconds: round(wallSeconds, 3),
    simSecondsPerWallSecond: round(simSeconds / Math.max(wallSeconds, 1e-6), 1),
    ...result.figures,
    violations,
    coverage: Object.fromEntries(trace.probes.coverage),
    ...(trace.probes.buggifyOn
      ? { buggify: { enabled: BUGGIFY_POINTS.filter((p) => trace.probes.isEnabled(p)), fired: Object.fromEntries(trace.probes.fired) } }
      : {}),
    replay: replayCommand(scenario, options, checkDeterminism, plan ? planFile : undefined),
  };
}

function describeDivergence(scenario: Scenario, options: ScenarioOptions, first: EventTrace, second: EventTrace): Violation {
  const index = firstDivergence(first, second);
  const range = { from: Math.max(0, index - DESCRIBE_BEFORE), to: index };
  const a = traceFor(options, { describeRange: range });
  const b = traceFor(options, { describeRange: range });
  scenario.run(options, a);
  scenario.run(options, b);
  const show = (t: EventTrace) => t.descriptions.map((d) => `    #${d.index} ${d.text}`).join('\n');
  return {
    checker: 'determinism',
    atMs: 0,
    message:
      `the same seed gave different runs (digests ${first.digest()} and ${second.digest()}); ` +
      `first divergence at event #${index}.\n  run 1:\n${show(a)}\n  run 2:\n${show(b)}`,
  };
}

/** Parses a seed list: `7`, `1..50`, or `1,5,9`. */
export function parseSeeds(text: string): number[] {
  const range = /^(\d+)\.\.(\d+)$/.exec(text);
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (hi < lo) throw new Error(`seed range ${text} is empty; write it low..high`);
    if (hi - lo >= MAX_SWEEP_SEEDS) throw new Error(`seed range ${text} has more than ${MAX_SWEEP_SEEDS} seeds; sweep it in parts`);
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  }
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((s) => !/^\d+$/.test(s) || !Number.isSafeInteger(Number(s)))) throw new Error(`"${text}" is not a seed, a list a,b,c or a range A..B`);
  return parts.map(Number);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
