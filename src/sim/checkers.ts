/**
 * Checkers judge a simulated run. An invariant (safety) must hold at every check point, faults or
 * not; the first violation ends the run. A liveness check must come to hold once faults have
 * stopped, within the run's liveness phase, and still hold at the end.
 */
import type { Simulation, SimProcess } from './simulation.ts';

export interface Violation {
  checker: string;
  /** Virtual time of the check that failed, in ms. */
  atMs: number;
  message: string;
}

export interface Checker<W> {
  name: string;
  /** Returns null when the invariant holds, else what is wrong. */
  invariant?(world: W): string | null;
  /** Returns null when the system has recovered, else what is still wrong. */
  liveness?(world: W): string | null;
}

export interface CheckedRunOptions<P extends SimProcess, W> {
  sim: Simulation<P>;
  world: W;
  checkers: readonly Checker<W>[];
  /** When faults stop (liveness checks start). */
  faultPhaseEndMs: number;
  durationMs: number;
  /** How often, in virtual ms, checks run. */
  checkEveryMs?: number;
  /** Stop as soon as liveness holds instead of running to the end of the duration. */
  stopWhenLive?: boolean;
}

export interface CheckedRunResult {
  violations: Violation[];
  simMs: number;
  /** Virtual ms from the end of faults until every liveness check held; null if never. */
  recoveryMs: number | null;
}

export const DEFAULT_CHECK_EVERY_MS = 250;

export function runChecked<P extends SimProcess, W>(options: CheckedRunOptions<P, W>): CheckedRunResult {
  const run = checkPoints(options);
  for (let next = run.next(); ; next = run.next()) {
    if (next.done) return next.value;
    options.sim.runUntil(next.value);
  }
}

/**
 * runChecked for a world with promise-based code in it (the kv-sdk scenario's SDK clients):
 * `advance(t)` runs the simulation to `t`, letting that code's promises settle as it goes.
 */
export async function runCheckedAsync<P extends SimProcess, W>(options: CheckedRunOptions<P, W>, advance: (until: number) => Promise<void>): Promise<CheckedRunResult> {
  const run = checkPoints(options);
  for (let next = run.next(); ; next = run.next()) {
    if (next.done) return next.value;
    await advance(next.value);
  }
}

/** The checked run itself: yields each time the simulation must be run to, then checks there. */
function* checkPoints<P extends SimProcess, W>(options: CheckedRunOptions<P, W>): Generator<number, CheckedRunResult, void> {
  const { sim, world, checkers } = options;
  const step = options.checkEveryMs ?? DEFAULT_CHECK_EVERY_MS;
  const violations: Violation[] = [];
  let recoveryMs: number | null = null;
  let lastLivenessFailures: Violation[] = [];

  for (let t = Math.min(step, options.durationMs); ; t = Math.min(t + step, options.durationMs)) {
    yield t;
    for (const c of checkers) {
      const problem = c.invariant?.(world);
      if (problem) violations.push({ checker: c.name, atMs: sim.now, message: problem });
    }
    if (violations.length > 0) return { violations, simMs: sim.now, recoveryMs };
    if (sim.now >= options.faultPhaseEndMs) {
      lastLivenessFailures = [];
      for (const c of checkers) {
        const problem = c.liveness?.(world);
        if (problem) lastLivenessFailures.push({ checker: c.name, atMs: sim.now, message: problem });
      }
      if (lastLivenessFailures.length === 0 && recoveryMs === null) {
        recoveryMs = sim.now - options.faultPhaseEndMs;
        if (options.stopWhenLive) break;
      }
    }
    if (t >= options.durationMs) break;
  }
  if (lastLivenessFailures.length > 0) {
    const phase = options.durationMs - options.faultPhaseEndMs;
    for (const v of lastLivenessFailures) {
      violations.push({ ...v, message: `not recovered ${(phase / 1000).toFixed(1)}s after faults stopped: ${v.message}` });
    }
  }
  return { violations, simMs: sim.now, recoveryMs };
}
