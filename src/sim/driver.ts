/**
 * Runs scenarios for the `shoal sim` command and for tests: one seed, a sweep, and the determinism
 * self-check (same seed twice, digests compared; on a mismatch, the first diverging event is
 * located and described from both runs).
 */
import type { Violation } from './checkers.ts';
import type { Scenario, ScenarioOptions } from './scenario.ts';
import { EventTrace, firstDivergence } from './trace.ts';

export interface RunReport {
  scenario: string;
  seed: number;
  options: Omit<ScenarioOptions, 'seed'>;
  derived: Record<string, unknown>;
  digest: string;
  events: number;
  simSeconds: number;
  wallSeconds: number;
  simSecondsPerWallSecond: number;
  violations: Violation[];
  replay: string;
  [figure: string]: unknown;
}

/** The command line that reruns exactly this run. */
export function replayCommand(scenario: string, options: ScenarioOptions, checkDeterminism: boolean): string {
  const seconds = options.durationMs / 1000;
  return (
    `npx shoal sim --scenario ${scenario} --seed ${options.seed} --nodes ${options.nodes} ` +
    `--duration ${seconds}s --faults ${options.faults}${checkDeterminism ? ' --check-determinism' : ''}`
  );
}

const DESCRIBE_BEFORE = 5;

/** The most seeds one sweep may name (the list is built up front). */
const MAX_SWEEP_SEEDS = 1_000_000;

export function runScenario(scenario: Scenario, options: ScenarioOptions, checkDeterminism = false): RunReport {
  const trace = new EventTrace({ recordHashes: checkDeterminism });
  const started = performance.now();
  const result = scenario.run(options, trace);
  const wallSeconds = (performance.now() - started) / 1000;
  const violations = [...result.violations];

  if (checkDeterminism) {
    const again = new EventTrace({ recordHashes: true });
    scenario.run(options, again);
    if (again.digest() !== trace.digest()) {
      violations.push(describeDivergence(scenario, options, trace, again));
    }
  }

  const simSeconds = result.simMs / 1000;
  const { seed, ...rest } = options;
  return {
    scenario: scenario.name,
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
    replay: replayCommand(scenario.name, options, checkDeterminism),
  };
}

function describeDivergence(scenario: Scenario, options: ScenarioOptions, first: EventTrace, second: EventTrace): Violation {
  const index = firstDivergence(first, second);
  const range = { from: Math.max(0, index - DESCRIBE_BEFORE), to: index };
  const a = new EventTrace({ describeRange: range });
  const b = new EventTrace({ describeRange: range });
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
