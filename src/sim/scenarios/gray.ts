/**
 * The gray-failure scenarios (issue 18): full nodes on the simulated network, a closed-loop
 * client workload, and one gray fault from FAULT_AT_MS: a node whose replies take ten times as
 * long (`gray-slow`), a node dropping 5% of its packets (`gray-loss`), GC-style pauses of up
 * to 3 s on every node (`gray-gc`), or a node paused most of the time in a duty cycle
 * (`duty`: SIGSTOP/SIGCONT from outside). Each runs with health routing on and off (NodeConfig.healthRouting)
 * and, for the read p99, against the same seed without the fault.
 *
 * Clients coordinate through the healthy nodes only: moving clients off a gray coordinator is the
 * client's routing, not measured here. Figures, in virtual time:
 * - `demotedAfterMs`: from the fault until every other node's verdict on the gray node is not
 *   healthy (polled every POLL_MS), or null if that never happens;
 * - `degradedAfterMs`: from the fault until every other node's merged peer views (gossiped
 *   verdicts, src/node/peer-verdicts.ts) call the gray node degraded (routing on only);
 * - `declaredDead`: polls at which some node's membership held the gray node dead (SWIM alone);
 * - `readP99Ms` during the fault, `baselineReadP99Ms` (same seed, no fault) and their ratio;
 * - `falseDemotionsPerNodeDay` under pauses (every demotion there is false: no node is gray);
 * - stability (`verdictChanges`, `grayVerdictChanges`, `grayRecoveries`, `incarnationBumps`): how
 *   often verdicts changed over the whole run, and how often each node republished its metadata.
 *
 * `load` replaces the default light workload (8 clients through the healthy nodes) with a heavier
 * one through every node, and `loopStalls` gives every node a busy process's event-loop lag: the
 * conditions under which verdicts flapped on real nodes (probe s18, F1).
 */
import type { PeerHealthOptions } from '../../health/peer-health.ts';
import { createNode } from '../../node/create-node.ts';
import type { ShoalNode } from '../../node/node.ts';
import { memberHealth } from '../../node/peer-verdicts.ts';
import { namedStream } from '../rng.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import { Simulation, nodeAddress } from '../simulation.ts';
import type { EventTrace } from '../trace.ts';
import { GrayFaults, scheduleDutyCycle, scheduleGcPauses, scheduleLoopStalls } from '../gray-faults.ts';
import { KV_SIM_GOSSIP } from './kv-cluster.ts';
import { KV_SIM_PARTITIONS, KV_WORKLOAD_START_MS } from './kv.ts';

export type GrayFaultName = 'slow' | 'loss' | 'gc' | 'duty' | 'none';

export const FAULT_AT_MS = 5_000;
export const POLL_MS = 10;
export const SLOW_FACTOR = 10;
export const LOSS_FRACTION = 0.05;
export const GC_MAX_PAUSE_MS = 3_000;
/** Pauses come far more often than in a real process (one per node every 20 s), to test many in little time. */
export const GC_MEAN_GAP_MS = 20_000;
/** The probe's duty cycle (s18 F1): paused 60 ms, running 20 ms. */
export const DEFAULT_DUTY = { pausedMs: 60, runningMs: 20 };
const CLIENTS = 8;
const KEYS = 200;
const MEAN_THINK_MS = 10;
const READ_FRACTION = 0.7;
const DAY_MS = 86_400_000;

export interface GrayRunOptions {
  seed: number;
  nodes: number;
  durationMs: number;
  fault: GrayFaultName;
  routing: boolean;
  /** GC-style pause lengths, ms (default 100 ms to GC_MAX_PAUSE_MS). */
  gcPauseMs?: [number, number];
  /** Peer health options over the defaults (a test switches a rule off to show it matters). */
  peerHealth?: Partial<PeerHealthOptions>;
  /** The duty cycle of the `duty` fault (default DEFAULT_DUTY: paused 60 ms, running 20 ms). */
  duty?: { pausedMs: number; runningMs: number };
  /** A heavier workload: this many closed-loop clients, each thinking this long on average, through every node. */
  load?: { clients: number; meanThinkMs: number };
  /** Event-loop stalls on every node from the workload's start (gray-faults.ts scheduleLoopStalls). */
  loopStalls?: { meanGapMs: number; minMs: number; maxMs: number };
  trace?: EventTrace;
  /** Every node's log lines (with virtual time); dropped by default. */
  logSink?: (line: string) => void;
}

export interface GrayFigures {
  fault: GrayFaultName;
  routing: boolean;
  demotedAfterMs: number | null;
  degradedAfterMs: number | null;
  declaredDead: number;
  readP99Ms: number;
  reads: number;
  readsFailed: number;
  writesFailed: number;
  demotions: number;
  falseDemotionsPerNodeDay: number;
  /** Messages the gray node received during the fault (reads routed away show here). */
  grayNodeReceived: number;
  /** Verdict changes over the run, on every node about every peer; and those about the gray node. */
  verdictChanges: number;
  grayVerdictChanges: number;
  /** Times an observer took the gray node back to healthy after the fault began. */
  grayRecoveries: number;
  /** Metadata republications over the run (each one a new incarnation gossiped to every member). */
  incarnationBumps: number;
  /** Rings the nodes installed over the run: each is announced in the node's metadata, one republication (ring-lifecycle.ts). */
  ringsInstalled: number;
  simMs: number;
}

/** The node made gray (the last: never the first seed). */
function grayIndex(nodes: number): number {
  return nodes - 1;
}

export function runGray(options: GrayRunOptions): GrayFigures {
  const { seed, nodes, durationMs, fault, routing } = options;
  const seeds = Array.from({ length: nodes }, (_, i) => nodeAddress(i));
  const gray = grayIndex(nodes);
  const grayName = nodeAddress(gray);
  const changes = { all: 0, gray: 0, grayRecoveries: 0, rings: 0 };
  const sim = new Simulation<ShoalNode>({
    seed,
    nodes,
    ...(options.trace ? { trace: options.trace } : {}),
    ...(options.logSink ? { logSink: options.logSink } : {}),
    factory: (env) => {
      const node = createNode({
        env,
        config: { seeds, partitions: KV_SIM_PARTITIONS, gossipProfile: 'local', gossip: KV_SIM_GOSSIP, peerHealth: { routing, ...options.peerHealth }, replication: { sloppyQuorum: false } },
      });
      node.onTopologyChange(() => changes.rings++);
      // Counted beside the node's own listener (its log line), which stays in place.
      const logged = node.peerHealth.onVerdict;
      node.peerHealth.onVerdict = (name, verdict, previous) => {
        changes.all++;
        if (name === grayName) changes.gray++;
        if (name === grayName && verdict === 'healthy' && sim.now >= FAULT_AT_MS) changes.grayRecoveries++;
        logged?.(name, verdict, previous);
      };
      return node;
    },
  });
  const faults = new GrayFaults(seed);
  faults.install(sim);
  if (fault === 'slow') sim.at(FAULT_AT_MS, () => faults.add({ kind: 'slow-replies', node: gray, factor: SLOW_FACTOR }), 'gray-slow');
  if (fault === 'loss') sim.at(FAULT_AT_MS, () => faults.add({ kind: 'packet-loss', node: gray, fraction: LOSS_FRACTION }), 'gray-loss');
  if (fault === 'duty') scheduleDutyCycle(sim, gray, { fromMs: FAULT_AT_MS, untilMs: durationMs, ...(options.duty ?? DEFAULT_DUTY) });
  if (options.loopStalls) scheduleLoopStalls(sim, seed, { fromMs: KV_WORKLOAD_START_MS, untilMs: durationMs, ...options.loopStalls });
  if (fault === 'gc') scheduleGcPauses(sim, seed, { fromMs: FAULT_AT_MS, untilMs: durationMs, meanGapMs: GC_MEAN_GAP_MS, minPauseMs: options.gcPauseMs?.[0] ?? 100, maxPauseMs: options.gcPauseMs?.[1] ?? GC_MAX_PAUSE_MS });

  // Clients: closed loops through the healthy coordinators (every node when none is gray).
  const r = namedStream(seed, 'gray-clients');
  const coordinators = sim.nodes.map((n) => n.index).filter((i) => fault === 'gc' || fault === 'none' || i !== gray);
  const clients = options.load?.clients ?? CLIENTS;
  const meanThinkMs = options.load?.meanThinkMs ?? MEAN_THINK_MS;
  const readLatencies: number[] = [];
  const counts = { readsFailed: 0, writesFailed: 0 };
  let seq = 0;
  const issue = (client: number) => {
    if (sim.now >= durationMs) return;
    const node = sim.process(coordinators[r.int(coordinators.length)]!);
    const again = () => sim.after(r.exponential(meanThinkMs), () => issue(client), 'client');
    if (!node) return again();
    const key = new TextEncoder().encode(`k${r.int(KEYS)}`);
    const started = sim.now;
    if (r.chance(READ_FRACTION)) {
      node.kv.get(key, {}, (error) => {
        if (error) counts.readsFailed++;
        else if (started >= FAULT_AT_MS) readLatencies.push(sim.now - started);
        again();
      });
    } else {
      node.kv.set(key, new TextEncoder().encode(`c${client}:${seq++}`), {}, (error) => {
        if (error) counts.writesFailed++;
        again();
      });
    }
  };
  for (let c = 0; c < clients; c++) sim.at(KV_WORKLOAD_START_MS + c, () => issue(c), 'client');

  // Polls: when every other node demoted the gray node, and whether SWIM ever declared it dead.
  let demotedAt: number | null = null;
  let degradedAt: number | null = null;
  let declaredDead = 0;
  let grayReceivedAtFault = 0;
  sim.at(FAULT_AT_MS, () => (grayReceivedAtFault = sim.nodes[gray]!.stats.received), 'mark');
  const poll = () => {
    const others = sim.nodes.filter((n) => n.index !== gray).map((n) => sim.process(n.index)).filter((p): p is ShoalNode => p !== null);
    if (demotedAt === null && sim.now >= FAULT_AT_MS && others.every((p) => p.peerHealth.verdictOf(grayName) !== 'healthy')) demotedAt = sim.now;
    const degraded = (p: ShoalNode) => memberHealth(p.membership.members()).find((m) => m.name === grayName)?.state === 'degraded';
    if (degradedAt === null && sim.now >= FAULT_AT_MS && others.every(degraded)) degradedAt = sim.now;
    if (others.some((p) => p.membership.members().some((m) => m.name === grayName && m.state === 'dead'))) declaredDead++;
    if (sim.now + POLL_MS < durationMs) sim.after(POLL_MS, poll, 'poll');
  };
  sim.at(KV_WORKLOAD_START_MS, poll, 'poll');
  sim.runUntil(durationMs);

  let demotions = 0;
  let incarnationBumps = 0;
  for (const n of sim.nodes) {
    const p = sim.process(n.index);
    demotions += p?.peerHealth.counters.demotions ?? 0;
    incarnationBumps += p?.membership.self().incarnation ?? 0;
  }
  const faultNodeMs = Math.max(1, (durationMs - FAULT_AT_MS) * nodes);
  return {
    fault,
    routing,
    demotedAfterMs: demotedAt === null ? null : demotedAt - FAULT_AT_MS,
    degradedAfterMs: degradedAt === null ? null : degradedAt - FAULT_AT_MS,
    declaredDead,
    readP99Ms: round3(percentile(readLatencies, 0.99)),
    reads: readLatencies.length,
    ...counts,
    demotions,
    falseDemotionsPerNodeDay: fault === 'gc' ? round3((demotions * DAY_MS) / faultNodeMs) : 0,
    grayNodeReceived: sim.nodes[gray]!.stats.received - grayReceivedAtFault,
    verdictChanges: changes.all,
    grayVerdictChanges: changes.gray,
    grayRecoveries: changes.grayRecoveries,
    incarnationBumps,
    ringsInstalled: changes.rings,
    simMs: durationMs,
  };
}

export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The scenario of one fault: runs it with routing on and off, and the same seed without the fault. */
function grayScenario(fault: Exclude<GrayFaultName, 'none'>, summary: string, durationMs: number): Scenario {
  return {
    name: `gray-${fault}`,
    summary,
    defaults: { nodes: 3, durationMs, faults: 'none' },
    minNodes: 3,
    run(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
      const base = { seed: options.seed, nodes: options.nodes, durationMs: options.durationMs };
      const on = runGray({ ...base, fault, routing: true, trace });
      const off = runGray({ ...base, fault, routing: false });
      const baseline = runGray({ ...base, fault: 'none', routing: true });
      const violations = [];
      if (on.declaredDead > 0) violations.push({ checker: 'gray/not-dead', atMs: options.durationMs, message: `SWIM declared the gray node dead at ${on.declaredDead} polls` });
      return {
        violations,
        simMs: options.durationMs * 3,
        derived: {},
        figures: { on, off, baselineReadP99Ms: baseline.readP99Ms, p99RatioOn: round3(on.readP99Ms / baseline.readP99Ms), p99RatioOff: round3(off.readP99Ms / baseline.readP99Ms) },
      };
    },
  };
}

export const GRAY_SCENARIOS: readonly Scenario[] = [
  grayScenario('slow', `one node's replies take ${SLOW_FACTOR}x as long: demoted within 1 s, never dead, read p99 against the healthy baseline`, 20_000),
  grayScenario('loss', `one node drops ${LOSS_FRACTION * 100}% of its packets: demoted within 7 s, never dead`, 20_000),
  grayScenario('gc', `GC-style pauses up to ${GC_MAX_PAUSE_MS / 1000} s on every node: false demotions per node-day`, 120_000),
];
