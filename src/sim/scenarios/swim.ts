/**
 * SWIM + Lifeguard scenarios (issue 3). Each builds a simulated cluster of SwimMembership
 * processes with the LAN profile, drives one experiment, and reports the figures the issue names.
 *
 * - swim-convergence: K nodes join through one seed; time until every view is identical and complete.
 * - swim-detection: crashes one member at a time; time to first suspicion and to full dissemination.
 * - swim-slow-members: starved members, with Lifeguard off and on, same seed: false positives and real detection.
 * - swim-partition-heal: a 50/50 split for 60 s, then heal; time until one identical view again.
 * - swim-churn: random restarts, crashes and graceful leaves; no resurrections, views agree after.
 * - swim-cost: steady-state messages and bytes per member per second.
 */
import { LAN_PROFILE, scaledPushPullIntervalMs } from '../../gossip/config.ts';
import type { Violation } from '../checkers.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import { nodeAddress } from '../simulation.ts';
import { namedStream } from '../rng.ts';
import type { EventTrace } from '../trace.ts';
import {
  MembershipJudge,
  buildCluster,
  mean,
  round,
  runUntilAgreed,
  stallReceives,
  trafficTotals,
  viewsAgree,
  type StallWindow,
  type SwimSim,
} from './swim-harness.ts';

const PROBE_INTERVAL_MS = LAN_PROFILE.probeIntervalMs;

function violation(checker: string, atMs: number, message: string): Violation {
  return { checker, atMs, message };
}

// ---- swim-convergence -------------------------------------------------------------------------

function runConvergence(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const sim = buildCluster({ seed: options.seed, nodes: options.nodes, trace });
  const agreedAt = runUntilAgreed(sim, options.durationMs);
  const violations = agreedAt === null ? [violation('convergence', sim.now, `views never agreed: ${viewsAgree(sim)}`)] : [];
  const totals = trafficTotals(sim);
  return {
    violations,
    simMs: sim.now,
    derived: { seeds: [nodeAddress(0)] },
    figures: {
      convergenceSeconds: agreedAt === null ? null : round(agreedAt / 1000),
      convergenceProbePeriods: agreedAt === null ? null : round(agreedAt / PROBE_INTERVAL_MS, 2),
      log2Nodes: round(Math.log2(options.nodes), 2),
      messagesPerMemberToConverge: round(totals.messages / options.nodes, 1),
      network: { ...sim.network.stats },
    },
  };
}

export const swimConvergenceScenario: Scenario = {
  name: 'swim-convergence',
  summary: 'K members join through one seed; seconds until every view is identical and complete',
  defaults: { nodes: 100, durationMs: 300_000, faults: 'none' },
  run: runConvergence,
};

// ---- swim-detection ---------------------------------------------------------------------------

/** Crashes in one run, one after another, so the figures are means rather than one draw. */
const DETECTION_TRIALS = 8;

function runDetection(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const r = namedStream(options.seed, 'scenario/detection');
  const firstSuspect = new Map<string, number>();
  const deadAt = new Map<string, Set<number>>();
  const sim: SwimSim = buildCluster({
    seed: options.seed,
    nodes: options.nodes,
    trace,
    onEvent: (observer, _inc, e) => {
      if (e.type === 'suspect' && !firstSuspect.has(e.member.name)) firstSuspect.set(e.member.name, sim.now);
      if (e.type === 'dead') {
        let s = deadAt.get(e.member.name);
        if (!s) deadAt.set(e.member.name, (s = new Set()));
        s.add(observer);
      }
    },
  });
  const violations: Violation[] = [];
  if (runUntilAgreed(sim, Math.min(options.durationMs, 120_000)) === null) {
    return { violations: [violation('convergence', sim.now, `never converged: ${viewsAgree(sim)}`)], simMs: sim.now, derived: {}, figures: {} };
  }
  const candidates = Array.from({ length: options.nodes - 1 }, (_, i) => i + 1);
  const trials: { victim: string; firstDetectionPeriods: number; fullDisseminationSeconds: number }[] = [];
  for (let t = 0; t < Math.min(DETECTION_TRIALS, candidates.length) && sim.now < options.durationMs; t++) {
    const victim = candidates.splice(r.int(candidates.length), 1)[0]!;
    const name = nodeAddress(victim);
    // A random phase against everyone's probe timers.
    sim.runUntil(sim.now + 2_000 + r.between(0, PROBE_INTERVAL_MS));
    firstSuspect.delete(name);
    deadAt.delete(name);
    const crashedAt = sim.now;
    sim.crash(victim);
    const everyone = () => sim.upNodes().every((n) => deadAt.get(name)?.has(n.index));
    const deadline = Math.min(options.durationMs, crashedAt + 120_000);
    while (!everyone() && sim.now < deadline) sim.runUntil(sim.now + 50);
    const suspectedAt = firstSuspect.get(name);
    if (!everyone() || suspectedAt === undefined) {
      violations.push(violation('detection', sim.now, `${name} crashed at ${crashedAt} ms and was not marked dead by every member`));
      break;
    }
    trials.push({
      victim: name,
      firstDetectionPeriods: round((suspectedAt - crashedAt) / PROBE_INTERVAL_MS, 2),
      fullDisseminationSeconds: round((sim.now - crashedAt) / 1000),
    });
  }
  return {
    violations,
    simMs: sim.now,
    derived: { trials: trials.length },
    figures: {
      firstDetectionPeriods: round(mean(trials.map((t) => t.firstDetectionPeriods)), 2),
      swimExpectedFirstDetectionPeriods: round(Math.E / (Math.E - 1), 2),
      fullDisseminationSeconds: round(mean(trials.map((t) => t.fullDisseminationSeconds))),
      trials,
    },
  };
}

export const swimDetectionScenario: Scenario = {
  name: 'swim-detection',
  summary: 'members crash one at a time; probe periods to first suspicion, seconds until all mark it dead',
  defaults: { nodes: 100, durationMs: 600_000, faults: 'none' },
  run: runDetection,
};

// ---- swim-slow-members ------------------------------------------------------------------------

/** Lifeguard's setup: a few members whose receive path stalls in bursts, the rest healthy. */
const STARVED_FRACTION = 0.05;
const STALL_MIN_MS = 6_000;
const STALL_MAX_MS = 20_000;
const STALL_GAP_MIN_MS = 5_000;
const STALL_GAP_MAX_MS = 20_000;
const SLOW_WARMUP_MS = 20_000;
const SLOW_FAULT_MS = 120_000;

interface SlowRun {
  falsePositives: number;
  healthyMembersDeclaredDead: number;
  detectionSeconds: number | null;
  starvedDeclaredDead: number;
  msgs: number;
}

function runSlowOnce(options: ScenarioOptions, trace: EventTrace, lifeguard: boolean, starved: Map<number, StallWindow[]>, victim: number, crashAtMs: number): SlowRun {
  const falseDeaths = new Set<string>();
  const healthyDead = new Set<string>();
  const starvedDead = new Set<string>();
  const victimDeadAt = new Set<number>();
  const sim: SwimSim = buildCluster({
    seed: options.seed,
    nodes: options.nodes,
    trace,
    seedCount: 3,
    config: { lifeguard },
    wrapEnv: (env, index) => {
      const windows = starved.get(index);
      return windows ? stallReceives(env, windows) : env;
    },
    onEvent: (observer, _inc, e) => {
      if (e.type !== 'dead') return;
      const subject = sim.indexOf(e.member.address)!;
      if (subject === victim) {
        if (!starved.has(observer)) victimDeadAt.add(observer);
      } else if (starved.has(subject)) {
        starvedDead.add(`${e.member.name}@${e.member.incarnation}`);
      } else {
        falseDeaths.add(`${e.member.name}@${e.member.incarnation}`);
        healthyDead.add(e.member.name);
      }
    },
  });
  sim.at(crashAtMs, () => sim.crash(victim), 'crash victim');
  let detectedAt: number | null = null;
  const end = SLOW_WARMUP_MS + SLOW_FAULT_MS + 60_000;
  while (sim.now < end) {
    sim.runUntil(sim.now + 100);
    if (detectedAt === null && sim.now > crashAtMs) {
      const healthyUp = sim.upNodes().filter((n) => !starved.has(n.index));
      if (healthyUp.every((n) => victimDeadAt.has(n.index))) detectedAt = sim.now;
    }
  }
  return {
    falsePositives: falseDeaths.size,
    healthyMembersDeclaredDead: healthyDead.size,
    detectionSeconds: detectedAt === null ? null : round((detectedAt - crashAtMs) / 1000),
    starvedDeclaredDead: starvedDead.size,
    msgs: trafficTotals(sim).messages,
  };
}

function runSlowMembers(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const r = namedStream(options.seed, 'scenario/slow-members');
  const count = Math.max(1, Math.round(options.nodes * STARVED_FRACTION));
  const pool = Array.from({ length: options.nodes - 3 }, (_, i) => i + 3);
  const starved = new Map<number, StallWindow[]>();
  for (let i = 0; i < count && pool.length > 1; i++) {
    const node = pool.splice(r.int(pool.length), 1)[0]!;
    const windows: StallWindow[] = [];
    for (let t = SLOW_WARMUP_MS + r.between(0, STALL_GAP_MAX_MS); t < SLOW_WARMUP_MS + SLOW_FAULT_MS; ) {
      const len = r.between(STALL_MIN_MS, STALL_MAX_MS);
      windows.push({ fromMs: Math.floor(t), toMs: Math.floor(t + len) });
      t += len + r.between(STALL_GAP_MIN_MS, STALL_GAP_MAX_MS);
    }
    starved.set(node, windows);
  }
  const victim = pool.splice(r.int(pool.length), 1)[0]!;
  const crashAtMs = Math.floor(SLOW_WARMUP_MS + SLOW_FAULT_MS / 2 + r.between(0, PROBE_INTERVAL_MS));
  const baseline = runSlowOnce(options, trace, false, starved, victim, crashAtMs);
  const lifeguard = runSlowOnce(options, trace, true, starved, victim, crashAtMs);
  const violations: Violation[] = [];
  if (baseline.detectionSeconds === null) violations.push(violation('detection', 0, 'baseline never detected the real crash'));
  if (lifeguard.detectionSeconds === null) violations.push(violation('detection', 0, 'lifeguard never detected the real crash'));
  const ratio = baseline.falsePositives / Math.max(1, lifeguard.falsePositives);
  const detectionRatio =
    baseline.detectionSeconds && lifeguard.detectionSeconds ? round(lifeguard.detectionSeconds / baseline.detectionSeconds, 2) : null;
  return {
    violations,
    simMs: 2 * (SLOW_WARMUP_MS + SLOW_FAULT_MS + 60_000),
    derived: {
      starved: [...starved].map(([i, w]) => ({ node: nodeAddress(i), stalls: w.length, stalledSeconds: round(w.reduce((s, x) => s + x.toMs - x.fromMs, 0) / 1000, 1) })),
      victim: nodeAddress(victim),
      crashAtMs,
    },
    figures: {
      falsePositives: { baseline: baseline.falsePositives, lifeguard: lifeguard.falsePositives },
      falsePositiveReduction: lifeguard.falsePositives === 0 ? `>=${baseline.falsePositives}x (lifeguard had none)` : `${round(ratio, 1)}x`,
      healthyMembersDeclaredDead: { baseline: baseline.healthyMembersDeclaredDead, lifeguard: lifeguard.healthyMembersDeclaredDead },
      starvedMembersDeclaredDead: { baseline: baseline.starvedDeclaredDead, lifeguard: lifeguard.starvedDeclaredDead },
      detectionSeconds: { baseline: baseline.detectionSeconds, lifeguard: lifeguard.detectionSeconds },
      detectionRatio,
      messages: { baseline: baseline.msgs, lifeguard: lifeguard.msgs },
    },
  };
}

export const swimSlowMembersScenario: Scenario = {
  name: 'swim-slow-members',
  summary: 'starved members (stalled receive loop) with Lifeguard off and on: false positives and real detection time',
  defaults: { nodes: 100, durationMs: 2 * (SLOW_WARMUP_MS + SLOW_FAULT_MS + 60_000), faults: 'none' },
  // Three healthy observers, at least one starved member and a crash victim.
  minNodes: 5,
  run: runSlowMembers,
};

// ---- swim-partition-heal ----------------------------------------------------------------------

const SPLIT_MS = 60_000;

function runPartitionHeal(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const sim = buildCluster({ seed: options.seed, nodes: options.nodes, trace, seedCount: 3 });
  const converged = runUntilAgreed(sim, 120_000);
  if (converged === null) return { violations: [violation('convergence', sim.now, `never converged: ${viewsAgree(sim)}`)], simMs: sim.now, derived: {}, figures: {} };
  const half = Math.floor(options.nodes / 2);
  const a = Array.from({ length: half }, (_, i) => i);
  const b = Array.from({ length: options.nodes - half }, (_, i) => i + half);
  const undoAB = sim.network.cut(a, b);
  const undoBA = sim.network.cut(b, a);
  const splitAt = sim.now;
  sim.runUntil(splitAt + SPLIT_MS);
  // During the split each side should have given up on the other.
  const sideA = sim.process(0)!;
  const sideB = sim.process(half)!;
  const splitViews = { sideA: sideA.liveMembers(), sideB: sideB.liveMembers() };
  undoAB();
  undoBA();
  const healAt = sim.now;
  const agreed = runUntilAgreed(sim, Math.min(healAt + options.durationMs, healAt + 600_000));
  const violations = agreed === null ? [violation('partition-heal', sim.now, `the split never healed: ${viewsAgree(sim)}`)] : [];
  return {
    violations,
    simMs: sim.now,
    derived: { split: [`n1..n${half}`, `n${half + 1}..n${options.nodes}`], splitSeconds: SPLIT_MS / 1000 },
    figures: {
      healSeconds: agreed === null ? null : round((agreed - healAt) / 1000),
      liveMembersSeenDuringSplit: splitViews,
      network: { ...sim.network.stats },
    },
  };
}

export const swimPartitionHealScenario: Scenario = {
  name: 'swim-partition-heal',
  summary: 'a 50/50 split for 60 s, then heal; seconds until every member has one identical view again',
  defaults: { nodes: 50, durationMs: 300_000, faults: 'none' },
  run: runPartitionHeal,
};

// ---- swim-churn ---------------------------------------------------------------------------------

const CHURN_EVERY_MS = 3_000;

function runChurn(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const r = namedStream(options.seed, 'scenario/churn');
  const sim: SwimSim = buildCluster({ seed: options.seed, nodes: options.nodes, trace, seedCount: 3, onEvent: (o, i, e) => judge.observe(o, i, e) });
  const judge = new MembershipJudge(sim);
  const churnEnd = Math.floor(options.durationMs * 0.6);
  const actions = { restarts: 0, crashes: 0, leaves: 0 };
  const maxDown = Math.max(1, Math.floor(options.nodes / 4));
  for (let t = 10_000 + r.between(0, CHURN_EVERY_MS); t < churnEnd; t += r.exponential(CHURN_EVERY_MS)) {
    const node = r.int(options.nodes);
    const kind = r.int(3);
    const downFor = Math.floor(r.between(1_000, 30_000));
    sim.at(Math.floor(t), () => {
      const down = sim.nodes.filter((n) => !n.up).length;
      if (!sim.nodes[node]!.up) return;
      if (kind === 0) {
        actions.restarts++;
        sim.restart(node);
        return;
      }
      if (down >= maxDown) return;
      if (kind === 1) {
        actions.crashes++;
        sim.crash(node);
      } else {
        actions.leaves++;
        sim.stop(node);
      }
      // Some members stay down for good; their peers must agree they are dead.
      if (r.chance(0.7)) sim.after(downFor, () => sim.start(node), 'restart');
    });
  }
  sim.runUntil(churnEnd);
  const agreed = runUntilAgreed(sim, options.durationMs, 250);
  const violations: Violation[] = [];
  if (judge.resurrections > 0) violations.push(violation('no-resurrection', sim.now, `${judge.resurrections} resurrections: ${judge.examples.join('; ')}`));
  if (agreed === null) violations.push(violation('views-agree', sim.now, `views still differ ${(options.durationMs - churnEnd) / 1000}s after churn stopped: ${viewsAgree(sim)}`));
  return {
    violations,
    simMs: sim.now,
    derived: { churn: actions, churnSeconds: churnEnd / 1000 },
    figures: {
      flaps: judge.flaps,
      resurrections: judge.resurrections,
      refutedSuspicions: judge.refutedSuspicions,
      deathsDeclared: judge.deathsDeclared,
      agreeSecondsAfterChurn: agreed === null ? null : round((agreed - churnEnd) / 1000),
      downAtEnd: sim.nodes.filter((n) => !n.up).map((n) => n.address),
    },
  };
}

export const swimChurnScenario: Scenario = {
  name: 'swim-churn',
  summary: 'members restart, crash and leave at random; no dead member returns but by a new incarnation',
  defaults: { nodes: 30, durationMs: 240_000, faults: 'none' },
  run: runChurn,
};

// ---- swim-cost ----------------------------------------------------------------------------------

/** The cluster must have formed by then; the measurement starts after. */
const COST_CONVERGENCE_DEADLINE_MS = 120_000;

/** At least a minute, and two push-pull periods, so full-state syncs are in the average. */
function costWindowMs(nodes: number): number {
  return Math.max(60_000, 2 * scaledPushPullIntervalMs(LAN_PROFILE, nodes));
}

function runCost(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
  const sim = buildCluster({ seed: options.seed, nodes: options.nodes, trace });
  const window = costWindowMs(options.nodes);
  const agreed = runUntilAgreed(sim, COST_CONVERGENCE_DEADLINE_MS);
  if (agreed === null) return { violations: [violation('convergence', sim.now, `never converged: ${viewsAgree(sim)}`)], simMs: sim.now, derived: {}, figures: {} };
  // Let the join rumors die down and every member settle on its steady push-pull period.
  sim.runUntil(sim.now + 20_000 + scaledPushPullIntervalMs(LAN_PROFILE, options.nodes));
  const counters = () => {
    let pushPulls = 0;
    let pushPullBytes = 0;
    for (const n of sim.upNodes()) {
      pushPulls += n.process!.stats.pushPulls;
      pushPullBytes += n.process!.stats.pushPullBytes;
    }
    return { ...trafficTotals(sim), pushPulls, pushPullBytes };
  };
  const before = counters();
  sim.runUntil(sim.now + window);
  const after = counters();
  const memberSeconds = options.nodes * (window / 1000);
  const violations = viewsAgree(sim) === null ? [] : [violation('steady-state', sim.now, `views drifted apart: ${viewsAgree(sim)}`)];
  const bytes = after.bytes - before.bytes;
  const syncBytes = after.pushPullBytes - before.pushPullBytes;
  return {
    violations,
    simMs: sim.now,
    derived: { windowSeconds: window / 1000, pushPullPeriodSeconds: scaledPushPullIntervalMs(LAN_PROFILE, options.nodes) / 1000 },
    figures: {
      msgsPerMemberPerSecond: round((after.messages - before.messages) / memberSeconds),
      bytesPerMemberPerSecond: round(bytes / memberSeconds, 1),
      probeAndGossipBytesPerMemberPerSecond: round((bytes - syncBytes) / memberSeconds, 1),
      pushPullBytesPerMemberPerSecond: round(syncBytes / memberSeconds, 1),
      pushPullsPerMemberPerMinute: round(((after.pushPulls - before.pushPulls) / options.nodes) * (60_000 / window)),
      convergenceSeconds: round(agreed / 1000),
    },
  };
}

export const swimCostScenario: Scenario = {
  name: 'swim-cost',
  summary: 'steady-state messages and bytes each member sends per second (should stay flat as K grows)',
  defaults: { nodes: 100, durationMs: 300_000, faults: 'none' },
  run: runCost,
};

export const SWIM_SCENARIOS: readonly Scenario[] = [
  swimConvergenceScenario,
  swimDetectionScenario,
  swimSlowMembersScenario,
  swimPartitionHealScenario,
  swimChurnScenario,
  swimCostScenario,
];
