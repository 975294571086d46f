/**
 * `kv-sdk`: the kv scenario with the whole stack. Every client is a real SDK client (src/client:
 * its connections, batching, routing by the ring, retries, reconnects and keepalive) talking over
 * simulated WebSocket connections (../client-links.ts) to a real client session (src/server) on
 * every node, while the nodes suffer kv's swarm faults and the connections their own: drops,
 * half-open connections (only keepalive notices) and clients that stop reading for a while (the
 * session holds their replies, stops reading them, and cuts one that stalls too long).
 *
 * The history is judged by kv's checkers. The SDK reports no versions, so the nodes say which
 * version each value got: the service behind each session notes the version of every value it
 * writes or reads (values are unique), and a write's coordinator. A miss carries no value to look
 * up, so a read that returned nothing is not judged against earlier writes (counted in
 * `missesUnjudged`); sloppy writes are off (the SDK does not send them), and read-your-writes is
 * not checked (it needs a client pinned to one coordinator, and the SDK picks its own).
 *
 * One more check sees what versions cannot: every SDK request carries its deadline, and a node
 * takes a request up only before it by its own clock (session.ts `expired`), so a write the client
 * gave up on is never versioned after writes acknowledged since (probe-sdk finding 1: a set stuck in
 * a frozen node's socket). The service behind each session notes the node's clock whenever it
 * starts a write, against the deadline its client stamped (`lateWrites`); the history checkers
 * cannot tell such a write from an ordinary concurrent one, since its version is newer. Each
 * node's sessions share an admission gate, as a daemon's do, and bursts of sets fill it: a write
 * that waited there past its deadline must be refused when its turn comes.
 */
import { ShoalClient } from '../../client/client.ts';
import type { ShoalError } from '../../client/errors.ts';
import { DEFAULT_WIRE_LIMITS } from '../../protocol/index.ts';
import type { KvError, KvService, Version } from '../../replication/api.ts';
import type { Env } from '../../runtime/env.ts';
import { ClientSession, type ClientServerStats, type SessionConfig } from '../../server/session.ts';
import { AdmissionGate, type AdmittedCall, type GateClient } from '../../replication/admission-gate.ts';
import { runCheckedAsync, type Violation } from '../checkers.ts';
import { SIM_EPOCH_MS } from '../clock.ts';
import { ClientLinks, type ClientLink } from '../client-links.ts';
import { drawSwarmProfile, drawSwarmSchedule } from '../faults.ts';
import { namedStream } from '../rng.ts';
import type { AsyncScenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import type { SimProcess, Simulation } from '../simulation.ts';
import type { EventTrace } from '../trace.ts';
import { KvCluster } from './kv-cluster.ts';
import { KvHistoryChecker } from './kv-checkers.ts';
import { checkersFor, KV_SIM_PARTITIONS, KV_SIM_REPLICATION, KV_WORKLOAD_START_MS, scheduleKvFaults, stageKvRun, type KvWorld } from './kv.ts';
import { CLIENT_TIMEOUT_MS, DEFAULT_KV_WORKLOAD, KvWorkload, type ClientKv } from './kv-workload.ts';

/** The port in every node's client address (`n1:7000`); only a name here. */
const CLIENT_PORT = 7000;
/**
 * SDK clients; the workload's clients take turns on them (client c uses SDK client c mod this), so
 * each has several calls outstanding, which it batches, and a slow reader leaves replies unread.
 */
const SDK_CLIENTS = 2;
/** Clients dial this long before the workload starts. */
const CLIENTS_START_MS = 500;
/**
 * The SDK's options in the simulator (besides seeds, timers, sockets and randomness), its timings
 * shortened so a short run sees keepalive cut half-open connections: a ping after 1 s of silence,
 * answered within 1 s.
 */
export const SIM_CLIENT_OPTIONS = { keepaliveIntervalMs: 1_000, keepaliveTimeoutMs: 1_000, dialTimeoutMs: 1_000, commandTimeoutMs: CLIENT_TIMEOUT_MS };
/** Mean time between two connection faults, while faults run. */
const MEAN_LINK_FAULT_INTERVAL_MS = 1_500;
/** How long a slow reader reads nothing, drawn uniformly (past the session's stall limit at the top). */
const SLOW_READER_MS: [number, number] = [200, 3_000];


/**
 * The session's limits, shrunk to the simulated traffic (values of a few bytes): 96 bytes of unread
 * replies stops the reading of a connection, and one that then reads nothing for 1 s is closed.
 */
const SIM_SESSION = { unreadLimitBytes: 96, unreadStallMs: 1_000, helloTimeoutMs: 2_000, maxInFlight: 1_024 };
/**
 * Each node's admission gate (src/replication/admission-gate.ts), shrunk to the simulated traffic
 * as the session's limits are: the workload's few clients keep a handful of calls in flight, so a
 * gate of 1 to 4 makes calls wait their turn behind slow quorum calls (a paused, slow or cut-off
 * replica holds one for its replica timeout), and with the bursts (scheduleBursts) some wait past
 * their client's deadline.
 */
const SIM_ADMISSION = { initial: 2, min: 1, max: 4 };

/**
 * Test-only (`bugs.admissionIgnoresDeadlines`): a gate that starts every call whose turn comes
 * without asking whether its client gave up meanwhile, as a gate without the deadline check would.
 */
class GateIgnoringDeadlines extends AdmissionGate {
  override admit(start: AdmittedCall, _abandoned?: () => boolean, client?: GateClient): void {
    super.admit(start, undefined, client);
  }
}

/** Values up to 64 bytes: a get in flight counts that much against the unread limit (session.ts). */
const SIM_LIMITS = { ...DEFAULT_WIRE_LIMITS, maxValueBytes: 64 };

/** Raw bytes in and out: the workload's values are text it encodes itself. */
const BYTES = { encode: (v: Uint8Array) => v, decode: (b: Uint8Array) => b };

/**
 * Which version each value got, as the nodes saw it (values are unique), and which node coordinated
 * its write; and the writes a node started after their client's deadline by its own clock.
 */
class ValueVersions {
  private readonly byValue = new Map<string, { version: Version; coordinator?: number; incarnation?: number }>();
  /** The wall-clock deadline (ms) each value's write was sent with, as the SDK stamps it. */
  private readonly deadlines = new Map<string, number>();
  readonly lateWrites: Violation[] = [];
  private readonly decoder = new TextDecoder();

  constructor(private readonly now: () => number) {}

  /** Notes the deadline of a write the SDK is sending now, as the SDK computes it (client.ts `call`). */
  sending(value: Uint8Array, timeoutMs: number): void {
    this.deadlines.set(this.decoder.decode(value), Math.floor(SIM_EPOCH_MS + this.now() + timeoutMs));
  }

  /** The service a node's session serves: the node's coordinator, noting versions as they pass. */
  observe(kv: KvService, index: number, incarnation: number, wallMs: () => number): KvService {
    return {
      topology: () => kv.topology(),
      get: (key, options, done) =>
        kv.get(key, options, (error, result) => {
          if (result?.value && result.version) this.note(this.decoder.decode(result.value), result.version);
          done(error, result);
        }),
      set: (key, value, options, done) => {
        const text = this.decoder.decode(value);
        const deadline = this.deadlines.get(text);
        const nodeWallMs = wallMs();
        if (deadline !== undefined && nodeWallMs >= deadline) {
          this.lateWrites.push({
            checker: 'sdk/write-after-deadline',
            atMs: this.now(),
            message: `n${index + 1} started the write of ${JSON.stringify(text)} ${nodeWallMs - deadline} ms after its client's deadline by its own clock: its client had given up on it, and it is versioned after writes acknowledged since`,
          });
        }
        kv.set(key, value, options, (error, result) => {
          if (error === null && result?.version) this.byValue.set(text, { version: result.version, coordinator: index, incarnation });
          done(error, result);
        });
      },
      delete: (key, options, done) => kv.delete(key, options, done),
    };
  }

  of(value: Uint8Array): { version: Version; coordinator?: number; incarnation?: number } | undefined {
    return this.byValue.get(this.decoder.decode(value));
  }

  private note(value: string, version: Version): void {
    if (!this.byValue.has(value)) this.byValue.set(value, { version });
  }
}

/** A workload client's way to the cluster: its SDK client, called as a KvService is. */
function sdkKv(client: ShoalClient<Uint8Array>, versions: ValueVersions, links: ClientLinks): ClientKv {
  const failed = (done: (error: KvError) => void) => (error: ShoalError) => done({ code: (error.code ?? 'internal') as KvError['code'], message: error.message });
  return {
    get: (key, options, done) =>
      links.onClient(() => {
        client.get(key, { detail: true, ...options }).then(
          (d) => done(null, { value: d.value, expiresAtMs: d.expiresAtMs, acks: d.acks, version: d.value === null ? null : (versions.of(d.value)?.version ?? null) }),
          failed(done),
        );
      }),
    set: (key, value, options, done) =>
      links.onClient(() => {
        const { consistency, ttlMs } = options;
        versions.sending(value, SIM_CLIENT_OPTIONS.commandTimeoutMs);
        client.set(key, value, { ...(consistency ? { consistency } : {}), ...(ttlMs ? { ttlMs } : {}) }).then(() => done(null, { acks: 0, ...versions.of(value) }), failed(done));
      }),
    delete: (key, options, done) =>
      links.onClient(() => {
        client.delete(key, options.consistency ? { consistency: options.consistency } : {}).then(() => done(null, { acks: 0 }), failed(done));
      }),
  };
}

/**
 * A node's client session in the simulator: its own timers and clock, the limits above.
 * `ignoreDeadlines` (test-only, `bugs.sessionIgnoresDeadlines`): its wall clock reads as the start
 * of time, so no deadline ever passes (the session reads that clock for deadlines alone here: the
 * simulated sessions serve no read-modify-writes).
 */
export function simSessionConfig(env: Env, kv: KvService, stats: ClientServerStats, admission: AdmissionGate | null, ignoreDeadlines = false): SessionConfig {
  return {
    stats,
    timers: env.timers,
    clock: ignoreDeadlines ? { wallMs: () => 0, monoMs: () => env.clock.monoMs() } : env.clock,
    kv,
    admission,
    rmw: null,
    nodeName: env.address,
    limits: SIM_LIMITS,
    ...SIM_SESSION,
    ownersOnly: false,
    status: null,
    drain: null,
    hotKeys: null,
    invalidations: null,
    log: env.log,
    acl: null,
    authGuard: null,
  };
}

/** Sets one SDK client fires at once in a burst, and the mean time between two bursts while faults run. */
const BURST_SETS = 96;
const MEAN_BURST_INTERVAL_MS = 2_000;

/**
 * Bursts while node faults run: one SDK client fires BURST_SETS sets at once, on keys of their
 * own (`burst:...`, which the history checkers do not judge), so a node's admission gate holds a
 * queue that slow quorum calls can keep waiting past their client's deadline. Each value is
 * unique and its deadline noted, so sdk/write-after-deadline judges these writes too.
 */
function scheduleBursts(sim: Simulation<SimProcess>, links: ClientLinks, clients: readonly ShoalClient<Uint8Array>[], versions: ValueVersions, seed: number, untilMs: number): void {
  const random = namedStream(seed, 'kv-sdk/bursts');
  const encoder = new TextEncoder();
  let burst = 0;
  const next = (): void => {
    if (sim.now >= untilMs) return;
    const client = clients[random.int(SDK_CLIENTS)];
    const n = burst++;
    if (client !== undefined) {
      links.onClient(() => {
        for (let i = 0; i < BURST_SETS; i++) {
          const value = encoder.encode(`b${n}:${i}`);
          versions.sending(value, SIM_CLIENT_OPTIONS.commandTimeoutMs);
          client.set(`burst:${i}`, value).catch(() => undefined);
        }
      });
    }
    sim.after(random.exponential(MEAN_BURST_INTERVAL_MS), next, 'sdk burst');
  };
  sim.at(KV_WORKLOAD_START_MS + random.exponential(MEAN_BURST_INTERVAL_MS), next, 'sdk burst');
}

/** Draws connection faults while node faults run: each a drop, a half-open link or a slow reader. */
function scheduleLinkFaults(sim: Simulation<SimProcess>, links: ClientLinks, seed: number, untilMs: number): void {
  const random = namedStream(seed, 'kv-sdk/link-faults');
  const next = (): void => {
    if (sim.now >= untilMs) return;
    const open = links.openLinks();
    if (open.length > 0) {
      const link: ClientLink = open[random.int(open.length)]!;
      const roll = random.next();
      if (roll < 0.4) links.drop(link);
      else if (roll < 0.6) links.halfOpen(link);
      else links.slowReader(link, random.between(...SLOW_READER_MS));
    }
    sim.after(random.exponential(MEAN_LINK_FAULT_INTERVAL_MS), next, 'link fault');
  };
  sim.at(KV_WORKLOAD_START_MS + random.exponential(MEAN_LINK_FAULT_INTERVAL_MS), next, 'link fault');
}

export async function runKvSdk(options: ScenarioOptions, trace: EventTrace): Promise<ScenarioResult> {
  const swarm = options.faults === 'swarm';
  const profile = swarm ? drawSwarmProfile(options.seed, options.durationMs) : null;
  const workloadConfig = { ...DEFAULT_KV_WORKLOAD, sloppyFraction: 0 };
  const replication = { ...KV_SIM_REPLICATION, ...(options.bugs ? { bugs: options.bugs } : {}) };
  const addressOf = (index: number) => `n${index + 1}:${CLIENT_PORT}`;
  // Called only once the run has started, after `cluster` exists.
  const versions = new ValueVersions(() => cluster.sim.now);
  const sessionStats: ClientServerStats = { framesReceived: 0, requestsReceived: 0, replyFramesSent: 0, connectionsFailed: 0, connectionsClosedUnread: 0, repliesRefusedUnread: 0 };
  const gates: AdmissionGate[] = [];
  let links: ClientLinks | null = null;
  // The first nodes start as the cluster is built, before the links exist: they listen once the links do.
  const waiting: (() => void)[] = [];
  const cluster = new KvCluster({
    seed: options.seed,
    nodes: options.nodes,
    partitions: KV_SIM_PARTITIONS,
    replication,
    network: profile?.network ?? {},
    trace,
    nodeConfig: (info) => ({ clientAddress: addressOf(info.index) }),
    instrument: (env, info, build) => {
      const node = build(env);
      const kv = versions.observe(node.kv, info.index, info.incarnation, () => env.clock.wallMs());
      const ignoreDeadlines = options.bugs?.sessionIgnoresDeadlines === true;
      // One gate per node (per incarnation: a restart starts with an empty one), on the node's clock.
      const Gate = options.bugs?.admissionIgnoresDeadlines === true ? GateIgnoringDeadlines : AdmissionGate;
      const admission = new Gate({ ...SIM_ADMISSION, nowMs: () => env.clock.monoMs() });
      gates.push(admission);
      const listen = () => links!.listen(addressOf(info.index), info.index, env, (socket, remote) => new ClientSession(socket, simSessionConfig(env, kv, sessionStats, admission, ignoreDeadlines), remote));
      if (links) listen();
      else waiting.push(listen);
      return node;
    },
  });
  const sim = cluster.sim;
  links = new ClientLinks(sim as Simulation<SimProcess>, namedStream(options.seed, 'kv-sdk/links'));
  for (const listen of waiting) listen();
  const faultPhaseEndMs = profile?.faultPhaseMs ?? Math.floor(options.durationMs * 0.6);

  const cuts: [number, number][] = [];
  const missesUnjudged = { count: 0 };
  const history = new KvHistoryChecker(KV_SIM_REPLICATION.replicas ?? 3, (from, to) => cuts.some(([a, b]) => a <= to && b >= from), (_checker, read) => {
    if (read.version !== null) return false;
    missesUnjudged.count++;
    return true;
  });
  const clients: ShoalClient<Uint8Array>[] = [];
  const seeds = sim.nodes.map((n) => addressOf(n.index));
  const workload = new KvWorkload(sim, options.seed, workloadConfig, history, undefined, undefined, (c) => sdkKv(clients[c % SDK_CLIENTS]!, versions, links!));
  sim.at(CLIENTS_START_MS, () =>
    links!.onClient(() => {
      for (let c = 0; c < SDK_CLIENTS; c++) {
        const random = namedStream(options.seed, `kv-sdk/client/${c}`);
        clients.push(new ShoalClient<Uint8Array>({ seeds, codec: BYTES, clientName: `sim-c${c}`, random: () => random.next(), timers: links!.timers, webSocket: links!.WebSocket, ...SIM_CLIENT_OPTIONS }));
      }
    }),
  'sdk clients');
  const keys = Array.from({ length: workloadConfig.keys }, (_, i) => workload.keyName(i));

  const schedule = profile ? drawSwarmSchedule(options.seed, options.nodes, profile, { maxDown: 1 }) : [];
  const faults = scheduleKvFaults(cluster, options, profile, cuts, schedule);
  if (swarm) scheduleLinkFaults(sim as Simulation<SimProcess>, links, options.seed, faultPhaseEndMs);
  if (swarm) scheduleBursts(sim as Simulation<SimProcess>, links, clients, versions, options.seed, faultPhaseEndMs);
  const { samples, sampler } = stageKvRun(cluster, workload, faultPhaseEndMs);
  const world: KvWorld = { cluster, history, keys };
  const result = await runCheckedAsync(
    { sim, world, checkers: [...checkersFor(replication), sampler], faultPhaseEndMs, durationMs: options.durationMs },
    (until) => sim.runUntilSettled(until, links!.settle).then(() => undefined),
  );
  // Closing settles every call still pending; the run is over, so nothing more is simulated.
  for (const client of clients) void client.close();
  return {
    violations: [...result.violations, ...history.violations.slice(1).map((v) => ({ ...v, checker: `history/${v.checker}` })), ...versions.lateWrites],
    simMs: result.simMs,
    derived: profile ? { faultProfile: profile, ...faults } : {},
    timeline: { ops: workload.ops, faults: schedule, samples },
    figures: {
      recoverySeconds: result.recoveryMs === null ? null : result.recoveryMs / 1000,
      ...workload.counts,
      ...history.figures,
      missesUnjudged: missesUnjudged.count,
      links: { ...links.stats },
      sessions: { ...sessionStats },
      admission: {
        waited: gates.reduce((n, g) => n + g.waited, 0),
        abandoned: gates.reduce((n, g) => n + g.abandoned, 0),
        peakWaiting: gates.reduce((n, g) => Math.max(n, g.peakWaiting), 0),
      },
      restarts: sim.nodes.reduce((s, n) => s + n.stats.crashes, 0),
    },
  };
}

export const kvSdkScenario: AsyncScenario = {
  name: 'kv-sdk',
  summary: 'kv with real SDK clients over simulated WebSocket connections (drops, half-open, slow readers) to real client sessions',
  defaults: { nodes: 5, durationMs: 30_000, faults: 'swarm' },
  runAsync: runKvSdk,
};
