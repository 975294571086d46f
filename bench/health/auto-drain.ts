/**
 * The automatic drain against the held-out slow-death runs (issue 18's target: the drain
 * completes before the crash in >= 80% of the failing runs, 0 acknowledged writes lost, 0
 * quorum failures caused).
 *
 *   node --import tsx bench/health/auto-drain.ts [--seeds 61..100] [--json]
 *
 * Each failing seed (seed % 4 != 3; the held-out seeds of bench/health/predictor.ts) runs twice
 * with the kv-style checked workload at QUORUM (src/sim/scenarios/slow-death.ts): once with the
 * policy really draining its node (`--auto-drain on`), once with the policy only recording when
 * it would (the alternative: no automatic drain; the two runs are the same event for event up to
 * the drain). Figures: when the drain was asked for and finished against the failure, lost
 * acknowledged writes and stale reads, and failed requests issued between the drain and the
 * failure in each run (the difference is what the drain caused).
 *
 * Prints a table; writes JSON to bench/results/health-auto-drain-DATE.json (and stdout with --json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { benchArgs, seedList, seedListCheck } from '../help.ts';
import { DEFAULT_AUTO_DRAIN } from '../../src/health/auto-drain.ts';
import { runKindOf, runSlowDeath, type SlowDeathRun } from '../../src/sim/scenarios/slow-death.ts';

export interface DrainOutcome {
  seed: number;
  kind: string;
  failedAtS: number | null;
  drainAskedAtS: number | null;
  drainedAtS: number | null;
  /** The drain finished (every partition handed off) before the node failed. */
  completedBeforeFailure: boolean;
  /** Seconds between the drain finishing and the failure. */
  leadS: number | null;
  lostWrites: number;
  /** Keys whose read-back after the run failed (unknown, not counted as lost). */
  unreadAfterRun: number;
  staleReads: number;
  /** Failed requests issued between the drain being asked for and the failure, with the drain and without it. */
  failedWhileDraining: number;
  failedWithoutDrain: number;
  /** Nodes drained that did not fail. */
  falseDrains: number;
}

/** One failing seed, drained for real and not. */
export function measureSeed(seed: number): DrainOutcome {
  const drained = runSlowDeath({ seed, autoDrain: DEFAULT_AUTO_DRAIN, drainForReal: true, checkedWorkload: true });
  const recorded = runSlowDeath({ seed, autoDrain: DEFAULT_AUTO_DRAIN, checkedWorkload: true });
  return drainOutcome(drained, recorded);
}

export function drainOutcome(drained: SlowDeathRun, recorded: SlowDeathRun): DrainOutcome {
  const node = drained.nodes[drained.failingNode!]!;
  const s = (ms: number | null) => (ms === null ? null : Math.round(ms / 100) / 10);
  const from = node.drainAtMs;
  const until = node.failedAtMs ?? drained.durationMs;
  const inWindow = (run: SlowDeathRun) => (from === null ? 0 : run.failedRequestsAtMs.filter((at) => at >= from && at < until).length);
  const completed = node.drainedAtMs !== null && node.failedAtMs !== null && node.drainedAtMs < node.failedAtMs;
  return {
    seed: drained.seed,
    kind: drained.kind,
    failedAtS: s(node.failedAtMs),
    drainAskedAtS: s(node.drainAtMs),
    drainedAtS: s(node.drainedAtMs),
    completedBeforeFailure: completed,
    leadS: completed ? s(node.failedAtMs! - node.drainedAtMs!) : null,
    lostWrites: drained.lostWrites,
    unreadAfterRun: drained.unreadAfterRun,
    staleReads: drained.staleReads,
    failedWhileDraining: inWindow(drained),
    failedWithoutDrain: inWindow(recorded),
    falseDrains: drained.nodes.filter((n) => n.failedAtMs === null && n.drainAtMs !== null).length,
  };
}

function main(): void {
  const flags = benchArgs('node --import tsx bench/health/auto-drain.ts', {
    seeds: { kind: 'string', description: 'seeds of the slow-death runs (the healthy ones are skipped)', default: '61..100', check: seedListCheck },
    json: { kind: 'boolean', description: 'print the result as JSON too' },
  });
  const seeds = seedList(String(flags.seeds))!;
  const json = flags.json === true;
  const outcomes = seeds.filter((seed) => runKindOf(seed) !== 'healthy').map(measureSeed);
  const completed = outcomes.filter((o) => o.completedBeforeFailure);
  const leads = completed.map((o) => o.leadS!).sort((a, b) => a - b);
  const sum = (f: (o: DrainOutcome) => number) => outcomes.reduce((n, o) => n + f(o), 0);
  const summary = {
    failingRuns: outcomes.length,
    drainCompletedBeforeFailure: completed.length,
    share: outcomes.length === 0 ? 0 : Math.round((completed.length / outcomes.length) * 1000) / 1000,
    medianLeadS: leads.length === 0 ? null : leads[Math.floor(leads.length / 2)]!,
    lostWrites: sum((o) => o.lostWrites),
    unreadAfterRun: sum((o) => o.unreadAfterRun),
    staleReads: sum((o) => o.staleReads),
    failedWhileDraining: sum((o) => o.failedWhileDraining),
    failedWithoutDrain: sum((o) => o.failedWithoutDrain),
    falseDrains: sum((o) => o.falseDrains),
  };
  console.log('| seed | kind | failed at s | drain asked s | drained s | done before failure | lead s | lost writes | unread after the run | stale reads | failed requests while draining: drain / no drain | false drains |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const o of outcomes) {
    console.log(`| ${o.seed} | ${o.kind} | ${o.failedAtS ?? '-'} | ${o.drainAskedAtS ?? '-'} | ${o.drainedAtS ?? '-'} | ${o.completedBeforeFailure ? 'yes' : 'no'} | ${o.leadS ?? '-'} | ${o.lostWrites} | ${o.unreadAfterRun} | ${o.staleReads} | ${o.failedWhileDraining} / ${o.failedWithoutDrain} | ${o.falseDrains} |`);
  }
  console.log(`| all | ${summary.failingRuns} failing | | | | ${summary.drainCompletedBeforeFailure}/${summary.failingRuns} (${summary.share}) | median ${summary.medianLeadS ?? '-'} | ${summary.lostWrites} | ${summary.unreadAfterRun} | ${summary.staleReads} | ${summary.failedWhileDraining} / ${summary.failedWithoutDrain} | ${summary.falseDrains} |`);
  const result = { seeds, policy: DEFAULT_AUTO_DRAIN, summary, outcomes };
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`../results/health-auto-drain-${new Date().toISOString().slice(0, 10)}.json`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  if (json) console.log(JSON.stringify(result));
}

if (import.meta.url === `file://${process.argv[1]}`) main();
