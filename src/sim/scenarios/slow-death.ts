/**
 * Runs that end in a node's failure, and healthy runs with noise, for failure prediction (issue
 * 18): three full nodes with health routing on, a light closed-loop workload through every node,
 * each node's signals from a fake process (src/sim/slow-death.ts), and once a second every live
 * node's own prediction (ShoalNode.failureWatch) recorded. The kind of run comes from the seed
 * (seed % 4: leak, lag-creep, error-storm, healthy); the failing node, the fault's onset and
 * how long it takes to kill the node are drawn from it. A run that fails ends FAIL_TAIL_MS after
 * the failure; a healthy one after HEALTHY_RUN_MS.
 *
 * bench/health/predictor.ts turns the runs into the labelled corpus (a sample is positive when
 * its node fails within the horizon), trains the model on some seeds and evaluates it on others;
 * `shoal sim --scenario slow-death` runs one seed with the committed model.
 */
import { DEFAULT_AUTO_DRAIN, type AutoDrainOptions } from '../../health/auto-drain.ts';
import type { FailureInputs, FailureModel } from '../../health/failure-predictor.ts';
import { createNode } from '../../node/create-node.ts';
import type { ShoalNode } from '../../node/node.ts';
import { GrayFaults, scheduleGcPauses, type GrayFault } from '../gray-faults.ts';
import { namedStream } from '../rng.ts';
import { Simulation, nodeAddress } from '../simulation.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import type { EventTrace } from '../trace.ts';
import type { Violation } from '../checkers.ts';
import { CRASH_LAG_MS, FakeProcess, STORM_REMOVAL_LOSS, type LoadBurst, type SlowDeathKind } from '../slow-death.ts';
import { KV_SIM_GOSSIP } from './kv-cluster.ts';
import { KV_SIM_PARTITIONS, KV_WORKLOAD_START_MS } from './kv.ts';

export type RunKind = SlowDeathKind | 'healthy';
export const RUN_KINDS: readonly RunKind[] = ['leak', 'lag-creep', 'error-storm', 'healthy'];

const NODES = 3;
const CLIENTS = 2;
const MEAN_THINK_MS = 100;
const KEYS = 200;
const SAMPLE_MS = 1_000;
export const HEALTHY_RUN_MS = 300_000;
export const FAIL_TAIL_MS = 10_000;
/** The fault starts in [ONSET_MS...]; the node dies DEATH_AFTER_MS after it. */
const ONSET_MS: [number, number] = [20_000, 60_000];
const DEATH_AFTER_MS: [number, number] = [120_000, 300_000];

export interface PredictionSample {
  atMs: number;
  probability: number;
  secondsToFailure: number | null;
  /** What the prediction was made from: the features are a function of it and the horizon (failureFeatures). */
  inputs: FailureInputs;
}

export interface NodeRun {
  index: number;
  /** When it failed (crashed or was removed); null if it lived to the end. */
  failedAtMs: number | null;
  /** When its automatic drain policy asked for a drain; null if it never did (or had none). */
  drainAtMs: number | null;
  /** When that drain finished (every partition handed off): only with `drainForReal`; null if it did not. */
  drainedAtMs: number | null;
  samples: PredictionSample[];
}

export interface SlowDeathRun {
  seed: number;
  kind: RunKind;
  /** The node the fault was on; null for a healthy run. */
  failingNode: number | null;
  onsetMs: number | null;
  durationMs: number;
  nodes: NodeRun[];
  requests: number;
  requestsFailed: number;
  /** When each failed request was issued (`checkedWorkload`; empty otherwise). */
  failedRequestsAtMs: number[];
  /** Acknowledged writes the QUORUM read of every key after the run did not see (`checkedWorkload`). */
  lostWrites: number;
  /** Keys whose QUORUM read after the run failed (not counted as lost: unknown). */
  unreadAfterRun: number;
  /** QUORUM reads that answered an older value than the key's last acknowledged write (`checkedWorkload`). */
  staleReads: number;
}

export interface SlowDeathOptions {
  seed: number;
  /** Default: the seed's kind (seed % 4). */
  kind?: RunKind;
  model?: FailureModel;
  autoDrain?: AutoDrainOptions;
  /** The policy really drains its node (the node's own drain). Default false: it only records when it would (the corpus). */
  drainForReal?: boolean;
  /**
   * The kv-style checked workload (checkedWorkload below) instead of the corpus's light one: each
   * client writes and reads its own keys at QUORUM, and every key is read back after the run.
   */
  checkedWorkload?: boolean;
  /** A healthy run's length (default HEALTHY_RUN_MS; a failing run's comes from its seed). */
  healthyMs?: number;
  trace?: EventTrace;
}

export function runKindOf(seed: number): RunKind {
  return RUN_KINDS[((seed % RUN_KINDS.length) + RUN_KINDS.length) % RUN_KINDS.length]!;
}

export function runSlowDeath(options: SlowDeathOptions): SlowDeathRun {
  const { seed } = options;
  const kind = options.kind ?? runKindOf(seed);
  const plan = namedStream(seed, 'slow-death');
  const failingNode = kind === 'healthy' ? null : plan.int(NODES);
  const onsetMs = kind === 'healthy' ? null : Math.round(plan.between(...ONSET_MS));
  const deathMs = onsetMs === null ? null : onsetMs + Math.round(plan.between(...DEATH_AFTER_MS));
  const durationMs = deathMs === null ? (options.healthyMs ?? HEALTHY_RUN_MS) : deathMs + FAIL_TAIL_MS;
  const bursts = loadBursts(plan, durationMs);

  const seeds = Array.from({ length: NODES }, (_, i) => nodeAddress(i));
  const drainAt: (number | null)[] = Array.from({ length: NODES }, () => null);
  let sim: Simulation<ShoalNode> | null = null;
  const now = () => sim!.now;
  const processes = Array.from({ length: NODES }, (_, i) => new FakeProcess(now, namedStream(seed, `fake-process/${i}`), bursts));
  sim = new Simulation<ShoalNode>({
    seed,
    nodes: NODES,
    ...(options.trace ? { trace: options.trace } : {}),
    factory: (env, { index }) =>
      createNode({
        env,
        config: {
          seeds,
          partitions: KV_SIM_PARTITIONS,
          gossipProfile: 'local',
          gossip: KV_SIM_GOSSIP,
          peerHealth: { routing: true },
          replication: { sloppyQuorum: false },
          processSignals: processes[index]!,
          // Not published: gossiping it would make the run, and so the corpus, depend on the model in force.
          failurePrediction: { ...(options.model ? { model: options.model } : {}), publish: false },
          ...(options.autoDrain ? { autoDrain: { options: options.autoDrain, ...(options.drainForReal ? {} : { control: { drain: () => ((drainAt[index] ??= sim!.now), true) } }) } } : {}),
        },
      }),
  });
  const s = sim;
  const gray = new GrayFaults(seed);
  gray.install(s);
  healthyNoise(s, seed, plan, processes, gray, durationMs);

  const failedAt: (number | null)[] = Array.from({ length: NODES }, () => null);
  const fail = (i: number) => {
    if (failedAt[i] !== null) return;
    failedAt[i] = s.now;
    s.crash(i);
  };
  if (failingNode !== null && onsetMs !== null && deathMs !== null) {
    const p = processes[failingNode]!;
    const span = deathMs - onsetMs;
    if (kind === 'leak') {
      // The crash is when the heap (sawtooth included) reaches its limit: by deathMs at the latest.
      p.leakUntil(onsetMs, deathMs);
    } else if (kind === 'lag-creep') {
      p.lagCreep = { fromMs: onsetMs, perMs: CRASH_LAG_MS / span };
      const slow: GrayFault = { kind: 'slow-replies', node: failingNode, factor: 1 };
      s.at(onsetMs, () => gray.add(slow), 'lag-creep');
      // Replies slow with the lag: 1x at the onset, 1 + lag / 200 ms after.
      for (let t = onsetMs; t < deathMs; t += SAMPLE_MS) s.at(t, () => (slow.factor = 1 + (p.lagMs(s.now) - p.lagMs(onsetMs)) / 200), 'lag-creep');
    } else {
      const loss: GrayFault = { kind: 'packet-loss', node: failingNode, fraction: 0 };
      s.at(onsetMs, () => gray.add(loss), 'error-storm');
      for (let t = onsetMs; t < deathMs; t += SAMPLE_MS) s.at(t, () => (loss.fraction = (STORM_REMOVAL_LOSS * (s.now - onsetMs)) / span), 'error-storm');
      s.at(deathMs, () => fail(failingNode), 'removed');
    }
  }

  const intensity = () => bursts.reduce((x, b) => (s.now >= b.fromMs && s.now < b.untilMs ? Math.max(x, b.intensity) : x), 1);
  const workload = options.checkedWorkload ? checkedWorkload(s, seed, durationMs, intensity) : lightWorkload(s, seed, durationMs, intensity);

  // Once a second: the watchdog (a leak at its limit, lag past CRASH_LAG_MS) and every live node's prediction.
  const samples: PredictionSample[][] = Array.from({ length: NODES }, () => []);
  const drainedAt: (number | null)[] = Array.from({ length: NODES }, () => null);
  const tick = () => {
    for (let i = 0; i < NODES; i++) {
      const node = s.process(i);
      if (!node) continue;
      if (options.drainForReal) {
        drainAt[i] ??= node.failureWatch.autoDrain?.drainedAtMs ?? null;
        const progress = node.drainProgress();
        if (drainAt[i] !== null && progress.state === 'drained') drainedAt[i] ??= drainAt[i]! + progress.elapsedMs;
      }
      if (processes[i]!.heapShare(s.now) >= 1 || processes[i]!.lagMs(s.now) >= CRASH_LAG_MS) {
        fail(i);
        continue;
      }
      const p = node.failureWatch.prediction;
      const inputs = node.failureWatch.inputs;
      if (p && inputs) samples[i]!.push({ atMs: s.now, probability: p.probability, secondsToFailure: p.secondsToFailure, inputs });
    }
    if (s.now + SAMPLE_MS < durationMs) s.after(SAMPLE_MS, tick, 'sample');
  };
  s.at(KV_WORKLOAD_START_MS + SAMPLE_MS / 2, tick, 'sample');
  s.runUntil(durationMs);
  const checked = workload.finish();

  return {
    seed,
    kind,
    failingNode,
    onsetMs,
    durationMs,
    nodes: samples.map((list, index) => ({ index, failedAtMs: failedAt[index]!, drainAtMs: drainAt[index]!, drainedAtMs: drainedAt[index]!, samples: list })),
    ...checked,
  };
}

/**
 * `shoal sim --scenario slow-death`: the seed's run (seed % 4: leak, lag-creep, error-storm,
 * healthy) with the committed model and the automatic drain policy; figures: when the failing
 * node failed, when its drain was asked for and the lead between, and the drains asked of nodes
 * that did not fail. The run's length comes from the seed (`--duration` is not used).
 */
export const slowDeathScenario: Scenario = {
  name: 'slow-death',
  summary: 'a slow leak, lag creep or error storm that kills a node (or a healthy run with noise): failure prediction and the automatic drain policy, lead time before the failure',
  defaults: { nodes: NODES, durationMs: HEALTHY_RUN_MS, faults: 'none' },
  minNodes: NODES,
  run(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
    const run = runSlowDeath({ seed: options.seed, trace, autoDrain: DEFAULT_AUTO_DRAIN });
    return { violations: [], simMs: run.durationMs, derived: {}, figures: drainFigures(run) };
  },
};

/** The failing node's failure and drain, drains of nodes that did not fail, and the requests. */
function drainFigures(run: SlowDeathRun): ScenarioResult['figures'] {
  const failing = run.failingNode === null ? null : run.nodes[run.failingNode]!;
  return {
    kind: run.kind,
    failingNode: run.failingNode,
    failedAtMs: failing?.failedAtMs ?? null,
    drainAtMs: failing?.drainAtMs ?? null,
    drainLeadSeconds: failing?.failedAtMs != null && failing.drainAtMs !== null ? (failing.failedAtMs - failing.drainAtMs) / 1000 : null,
    drainedAtMs: failing?.drainedAtMs ?? null,
    falseDrains: run.nodes.filter((n) => n.failedAtMs === null && n.drainAtMs !== null).length,
    requests: run.requests,
    requestsFailed: run.requestsFailed,
  };
}

/**
 * `shoal sim --scenario slow-death-drain`: the seed's run with the automatic drain on for real
 * (`--auto-drain on`) under the checked QUORUM workload. Violations: an acknowledged write the
 * read-back after the run did not see, a stale read. Figures: when the failing node's drain was
 * asked for and finished against its failure (bench/health/auto-drain.ts sweeps the held-out seeds).
 */
export const slowDeathDrainScenario: Scenario = {
  name: 'slow-death-drain',
  summary: 'slow-death with the automatic drain really draining the node under a checked QUORUM workload: lost writes, stale reads, the drain finishing before the failure',
  defaults: { nodes: NODES, durationMs: HEALTHY_RUN_MS, faults: 'none' },
  minNodes: NODES,
  run(options: ScenarioOptions, trace: EventTrace): ScenarioResult {
    const run = runSlowDeath({ seed: options.seed, trace, autoDrain: DEFAULT_AUTO_DRAIN, drainForReal: true, checkedWorkload: true });
    const violations: Violation[] = [];
    if (run.lostWrites > 0) violations.push({ checker: 'slow-death/lost-write', atMs: run.durationMs, message: `${run.lostWrites} acknowledged writes not read back after the run` });
    if (run.staleReads > 0) violations.push({ checker: 'slow-death/stale-read', atMs: run.durationMs, message: `${run.staleReads} QUORUM reads older than the key's last acknowledged write` });
    return {
      violations,
      simMs: run.durationMs,
      derived: {},
      figures: drainFigures(run),
    };
  },
};

/** What a workload counted: the figures of a SlowDeathRun that come from its requests. */
type WorkloadFigures = Pick<SlowDeathRun, 'requests' | 'requestsFailed' | 'failedRequestsAtMs' | 'lostWrites' | 'unreadAfterRun' | 'staleReads'>;

interface Workload {
  /** Called once the run is over. */
  finish(): WorkloadFigures;
}

/** The corpus's workload: closed loops through every live node on shared keys, faster during load bursts, unchecked. */
function lightWorkload(s: Simulation<ShoalNode>, seed: number, durationMs: number, intensity: () => number): Workload {
  const r = namedStream(seed, 'slow-death-clients');
  const counts = { requests: 0, failed: 0 };
  let seq = 0;
  const issue = (client: number) => {
    if (s.now >= durationMs) return;
    const again = () => s.after(r.exponential(MEAN_THINK_MS / intensity()), () => issue(client), 'client');
    const up = s.upNodes();
    if (up.length === 0) return again();
    const node = s.process(up[r.int(up.length)]!.index)!;
    const key = new TextEncoder().encode(`k${r.int(KEYS)}`);
    counts.requests++;
    const done = (error: unknown) => {
      if (error) counts.failed++;
      again();
    };
    if (r.chance(0.7)) node.kv.get(key, {}, done);
    else node.kv.set(key, new TextEncoder().encode(`c${client}:${seq++}`), {}, done);
  };
  for (let c = 0; c < CLIENTS; c++) s.at(KV_WORKLOAD_START_MS + c, () => issue(c), 'client');

  return { finish: () => ({ requests: counts.requests, requestsFailed: counts.failed, failedRequestsAtMs: [], lostWrites: 0, unreadAfterRun: 0, staleReads: 0 }) };
}

const QUORUM = { consistency: 'quorum' } as const;
/** A client gives up on a request after this long (a coordinator that crashes mid-request never answers). */
const CLIENT_TIMEOUT_MS = 10_000;
const KEYS_PER_CLIENT = 100;

/**
 * The kv-style checked workload of `drainForReal` runs: each client writes and reads its own keys
 * at QUORUM through a random live node, one request at a time, so a key's writes never overlap.
 * A read must see the key's last acknowledged write or a later write that did not answer (it may
 * have landed); after the run every key is read back once more the same way (lost writes).
 */
function checkedWorkload(s: Simulation<ShoalNode>, seed: number, durationMs: number, intensity: () => number): Workload {
  const r = namedStream(seed, 'slow-death-checked-clients');
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const keys = new Map<string, { acked: string | null; unanswered: string[] }>();
  const failedAt: number[] = [];
  let requests = 0;
  let staleReads = 0;
  let seq = 0;
  const seen = (name: string, value: Uint8Array | null) => {
    const key = keys.get(name)!;
    const text = value === null ? null : decoder.decode(value);
    return text === key.acked || (text !== null && key.unanswered.includes(text));
  };
  /** One request through a random live node; `then` runs once with its outcome (false after a timeout). */
  const request = (name: string, write: string | null, then: (ok: boolean, value: Uint8Array | null) => void) => {
    const up = s.upNodes();
    const node = s.process(up[r.int(up.length)]!.index)!;
    const key = keys.get(name) ?? { acked: null, unanswered: [] };
    keys.set(name, key);
    let settled = false;
    const settle = (ok: boolean, value: Uint8Array | null) => {
      if (settled) return;
      settled = true;
      then(ok, value);
    };
    s.after(CLIENT_TIMEOUT_MS, () => settle(false, null), 'client-timeout');
    if (write === null) {
      node.kv.get(encoder.encode(name), QUORUM, (error, result) => settle(error === null, result?.value ?? null));
      return;
    }
    key.unanswered.push(write);
    node.kv.set(encoder.encode(name), encoder.encode(write), QUORUM, (error) => {
      if (error === null && !settled) {
        key.acked = write;
        key.unanswered = [];
      }
      settle(error === null, null);
    });
  };
  const issue = (client: number) => {
    if (s.now >= durationMs) return;
    const again = () => s.after(r.exponential(MEAN_THINK_MS / intensity()), () => issue(client), 'client');
    if (s.upNodes().length === 0) return again();
    const name = `c${client}/k${r.int(KEYS_PER_CLIENT)}`;
    const at = s.now;
    const write = r.chance(0.5) ? `c${client}:${seq++}` : null;
    requests++;
    request(name, write, (ok, value) => {
      if (!ok) failedAt.push(at);
      else if (write === null && !seen(name, value)) staleReads++;
      again();
    });
  };
  for (let c = 0; c < CLIENTS; c++) s.at(KV_WORKLOAD_START_MS + c, () => issue(c), 'client');

  return {
    finish() {
      let lostWrites = 0;
      let unreadAfterRun = 0;
      if (s.upNodes().length > 0) {
        for (const name of keys.keys()) {
          request(name, null, (ok, value) => {
            if (!ok) unreadAfterRun++;
            else if (!seen(name, value)) lostWrites++;
          });
        }
        s.runUntil(s.now + CLIENT_TIMEOUT_MS + 1);
      }
      return { requests, requestsFailed: failedAt.length, failedRequestsAtMs: failedAt, lostWrites, unreadAfterRun, staleReads };
    },
  };
}

/** Bursts of 1.5-4x the load, 10-40 s long, about one a minute. */
function loadBursts(plan: ReturnType<typeof namedStream>, durationMs: number): LoadBurst[] {
  const out: LoadBurst[] = [];
  for (let at = plan.exponential(60_000); at < durationMs; at += plan.exponential(60_000)) {
    const length = plan.between(10_000, 40_000);
    out.push({ fromMs: at, untilMs: at + length, intensity: plan.between(1.5, 4) });
    at += length;
  }
  return out;
}

/** What healthy processes do too: GC-style pauses, a cache warm-up on some nodes, short packet loss on some runs. */
function healthyNoise(sim: Simulation<ShoalNode>, seed: number, plan: ReturnType<typeof namedStream>, processes: FakeProcess[], gray: GrayFaults, durationMs: number): void {
  scheduleGcPauses(sim, seed, { fromMs: KV_WORKLOAD_START_MS, untilMs: durationMs, meanGapMs: 60_000, minPauseMs: 100, maxPauseMs: 3_000 });
  for (const p of processes) {
    if (!plan.chance(0.4)) continue;
    const fromMs = plan.between(10_000, Math.max(10_000, durationMs - 60_000));
    p.warmUp = { fromMs, untilMs: fromMs + plan.between(30_000, 120_000), share: plan.between(0.1, 0.3) };
  }
  if (plan.chance(0.3)) {
    const loss: GrayFault = { kind: 'packet-loss', node: plan.int(NODES), fraction: plan.between(0.05, 0.3) };
    const fromMs = plan.between(10_000, Math.max(10_000, durationMs - 60_000));
    sim.at(fromMs, () => {
      const undo = gray.add(loss);
      sim.after(plan.between(10_000, 40_000), undo, 'loss-ends');
    }, 'loss');
  }
}
