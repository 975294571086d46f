/**
 * `kv-rmw`: read-modify-write under swarm faults (docs/REPLICATION.md, "Read-modify-write").
 * Clients issue INCRBY 1 on a few counters, APPEND of unique tokens on a few strings and SETNX on
 * keys each contested by several clients, through different coordinators (each client sticks to
 * its own node while it is up), while the fault schedule crashes, pauses, slows, partitions,
 * clogs and skews nodes as in `kv`. A client retries a failed or silent operation with the same
 * request id. When faults stop, the cluster must converge, and the checker (kv-rmw-checker.ts)
 * counts lost and duplicated increments and appends and SETNX double winners. Like kv, a run
 * reports its plan (faults and operations as data, `RmwOpSpec`) and follows a given one, which is
 * how `shoal sim --shrink` reduces a failing run (src/sim/shrink.ts).
 *
 * Violations: any duplicate; any double winner or loss in a run without a network partition
 * (isolate, split, asymmetric). With a partition, losses are reported as figures, not violations:
 * a primary cut off from its clients' coordinators is replaced while it may still finish an
 * operation, which the guarantee does not cover. kv-rmw-crash-pressure (crashes and evictions,
 * no partition) counts a loss only where the update had not left every memory (rmw-memory.ts).
 */
import { runChecked, type Checker } from '../checkers.ts';
import { FAULT_KINDS, healEverything } from '../faults.ts';
import { planOps, type NodeSample, type Scenario, type ScenarioOptions, type ScenarioResult } from '../scenario.ts';
import type { EventTrace } from '../trace.ts';
import type { ShoalNode } from '../../node/node.ts';
import type { KvError, RmwOp, RmwResult } from '../../replication/api.ts';
import { decodeRecord } from '../../replication/record.ts';
import type { SeededRandom } from '../../runtime/seeded-random.ts';
import { runStream } from '../rng.ts';
import type { Simulation } from '../simulation.ts';
import { KvCluster } from './kv-cluster.ts';
import { RmwMemoryRecord } from './rmw-memory.ts';
import { KV_SIM_PARTITIONS, KV_SIM_REPLICATION, KV_WORKLOAD_START_MS, kvSwarmFaults, reportedPlan, sampleNodes, scheduleKvFaults } from './kv.ts';
import { checkRmwHistory, type AppendRecord, type IncrRecord, type OpTimes, type SetNxRecord } from './kv-rmw-checker.ts';

export interface KvRmwWorkloadConfig {
  clients: number;
  counters: number;
  strings: number;
  /** SETNX keys; each is contested by `setNxContenders` operations from different clients. */
  setNxKeys: number;
  meanThinkMs: number;
  /** Attempts per operation at the client (retries reuse the request id). */
  clientAttempts: number;
}

export const DEFAULT_KV_RMW_WORKLOAD: KvRmwWorkloadConfig = { clients: 5, counters: 3, strings: 3, setNxKeys: 60, meanThinkMs: 60, clientAttempts: 3 };
/** A client gives up on one attempt after this long (longer than the coordinator's deadline). */
export const RMW_CLIENT_TIMEOUT_MS = 5_000;

type Outcome = 'acked' | 'failed' | 'unknown';

/**
 * One kv-rmw client operation as data, before it is sent: a run records the ones it drew from its
 * seed (`KvRmwWorkload.drawn`), and a run given a plan issues exactly those instead, so a failing
 * run can be replayed and shrunk (src/sim/shrink.ts).
 */
export interface RmwOpSpec {
  client: number;
  /** Virtual time of its first attempt: a plan issues it then, or once the client's previous operation ended if that is later. */
  atMs: number;
  /** INCRBY 1 on a counter, APPEND of a unique token, or SETNX of a unique value. */
  kind: 'incr' | 'append' | 'setnx';
  /** The key's name (`ctr0`, `str1`, `nx5`). */
  key: string;
  /** The node its first attempt went to (a plan sends it there if that node is up, else as a client would choose); retries choose afresh. */
  coordinator: number;
}

/** What happened to one operation, for the run's artifacts (src/sim/artifacts.ts). */
export interface RmwOpRecord {
  kind: 'rmw';
  op: RmwOpSpec['kind'];
  client: number;
  key: string;
  requestId: string;
  /** The token or value it appends or sets (none for INCR). */
  value: string | null;
  coordinator: number;
  attempts: number;
  startMs: number;
  endMs: number | null;
  outcome: 'pending' | Outcome;
  /** The answer: INCR's new value, APPEND's length, SETNX won or not. */
  result: string | null;
}

class KvRmwWorkload {
  readonly incrs: IncrRecord[] = [];
  readonly appends: AppendRecord[] = [];
  readonly setNxs: SetNxRecord[] = [];
  readonly counts = { opsIssued: 0, opsAcked: 0, opsFailed: 0, opsUnknown: 0, clientRetries: 0, errors: {} as Record<string, number> };
  /** The operations issued, as data (what a plan would have to give to issue them again). */
  readonly drawn: RmwOpSpec[] = [];
  /** Every operation issued and what became of it. */
  readonly ops: RmwOpRecord[] = [];
  private readonly random: SeededRandom;
  /** Per client, the planned operations still to issue (null: draw them from the seed). */
  private readonly scripted: RmwOpSpec[][] | null;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private running = true;
  private seq = 0;

  constructor(
    private readonly sim: Simulation<ShoalNode>,
    seed: number,
    readonly config: KvRmwWorkloadConfig,
    script?: readonly RmwOpSpec[],
  ) {
    this.random = runStream(seed, 'kv-rmw/clients', sim.draws, () => sim.now);
    this.scripted = script ? Array.from({ length: config.clients }, (_, c) => script.filter((o) => o.client === c)) : null;
  }

  start(delayMs: number): void {
    for (let c = 0; c < this.config.clients; c++) {
      if (this.scripted && this.scripted[c]!.length === 0) continue;
      this.sim.after(this.scripted ? this.think(c) : delayMs + this.think(c), () => this.next(c), 'rmw-client');
    }
  }

  stop(): void {
    this.running = false;
  }

  private next(client: number): void {
    if (!this.running) return;
    const c = this.config;
    const spec = this.scripted?.[client]!.shift();
    const requestId = `cl${client}:${++this.seq}`;
    const kind = spec ? spec.kind : drawKind(this.random.next());
    if (kind === 'incr') {
      const rec: IncrRecord = { key: spec?.key ?? `ctr${this.random.int(c.counters)}`, outcome: 'unknown', result: null, startMs: this.sim.now, endMs: null };
      this.incrs.push(rec);
      this.issue(client, 'incr', rec.key, null, { op: 'incrby', by: 1n }, requestId, spec, rec, (outcome, result) => {
        rec.outcome = outcome;
        if (result?.kind === 'integer') rec.result = result.value;
        else if (outcome === 'acked') rec.outcome = 'failed';
        return rec.outcome;
      });
    } else if (kind === 'append') {
      const token = `${client}.${this.seq}`;
      const rec: AppendRecord = { key: spec?.key ?? `str${this.random.int(c.strings)}`, token, outcome: 'unknown', startMs: this.sim.now, endMs: null };
      this.appends.push(rec);
      this.issue(client, 'append', rec.key, token, { op: 'append', value: this.encoder.encode(`|${token}`) }, requestId, spec, rec, (outcome) => (rec.outcome = outcome));
    } else {
      // Keys are contested in order, a few at a time, so several clients race for each.
      const at = Math.min(c.setNxKeys - 1, Math.floor(this.setNxs.length / c.clients));
      const value = `w${client}.${this.seq}`;
      const rec: SetNxRecord = { key: spec?.key ?? `nx${at}`, value, outcome: 'unknown', won: null, startMs: this.sim.now, endMs: null };
      this.setNxs.push(rec);
      const op: RmwOp = { op: 'set', value: this.encoder.encode(value), expiry: { kind: 'none' }, condition: 'nx', get: false };
      this.issue(client, 'setnx', rec.key, value, op, requestId, spec, rec, (outcome, result) => {
        rec.outcome = outcome;
        if (result) rec.won = result.kind === 'ok';
        return outcome;
      });
    }
  }

  /**
   * Runs one operation, retrying with the same request id, then records its outcome (`record`
   * returns the outcome the checker counts) and schedules the client's next. `spec`: the planned
   * operation, whose coordinator its first attempt goes to while that node is up; `times`: the
   * checker's record of it, given the time it ends.
   */
  private issue(
    client: number,
    kind: RmwOpSpec['kind'],
    key: string,
    value: string | null,
    op: RmwOp,
    requestId: string,
    spec: RmwOpSpec | undefined,
    times: OpTimes,
    record: (outcome: Outcome, result: RmwResult | null) => Outcome,
  ): void {
    this.counts.opsIssued++;
    const keyBytes = this.encoder.encode(key);
    const home = client % this.sim.nodes.length;
    const planned = spec && spec.coordinator < this.sim.nodes.length && this.sim.nodes[spec.coordinator]!.up ? spec.coordinator : null;
    const first = planned ?? this.coordinatorFor(client);
    const entry: RmwOpRecord = { kind: 'rmw', op: kind, client, key, requestId, value, coordinator: first ?? home, attempts: 0, startMs: this.sim.now, endMs: null, outcome: 'pending', result: null };
    this.ops.push(entry);
    this.drawn.push({ client, atMs: this.sim.now, kind, key, coordinator: entry.coordinator });
    let finished = false;
    let sawUnknown = false;
    const finish = (outcome: Outcome, result: RmwResult | null, error: KvError | null) => {
      finished = true;
      if (outcome === 'acked') this.counts.opsAcked++;
      else if (outcome === 'unknown') this.counts.opsUnknown++;
      else {
        this.counts.opsFailed++;
        const code = error?.code ?? 'none';
        this.counts.errors[code] = (this.counts.errors[code] ?? 0) + 1;
      }
      entry.outcome = record(outcome, result);
      entry.endMs = times.endMs = this.sim.now;
      entry.result = describeResult(result);
      this.later(client);
    };
    const tryOnce = (node: number | null) => {
      entry.attempts++;
      if (node === null) return retry({ code: 'unavailable', message: 'no node up' });
      let answered = false;
      this.sim.after(RMW_CLIENT_TIMEOUT_MS, () => {
        if (answered || finished) return;
        answered = true;
        sawUnknown = true;
        retry(null);
      }, 'rmw-client-timeout');
      this.sim.process(node)!.rmw.rmw([keyBytes], op, { requestId }, (error, result) => {
        if (answered || finished) return;
        answered = true;
        if (error || !result) return retry(error ?? null);
        if (result.kind === 'error') return finish('failed', result, null);
        finish('acked', result, null);
      });
    };
    const retry = (error: KvError | null) => {
      if (finished) return;
      if (entry.attempts >= this.config.clientAttempts || !this.running) return finish(sawUnknown || error === null ? 'unknown' : 'failed', null, error);
      this.counts.clientRetries++;
      this.sim.after(50 + this.random.exponential(100), () => tryOnce(this.coordinatorFor(client)), 'rmw-client-retry');
    };
    tryOnce(first);
  }

  /** Schedules the client's next operation, if it has one. */
  private later(client: number): void {
    if (this.scripted && this.scripted[client]!.length === 0) return;
    this.sim.after(this.think(client), () => this.next(client), 'rmw-client');
  }

  /** The wait before the client's next operation: until the plan's time for it, or a think time drawn from the seed. */
  private think(client: number): number {
    const planned = this.scripted?.[client]![0];
    return planned ? Math.max(0, planned.atMs - this.sim.now) : this.random.exponential(this.config.meanThinkMs);
  }

  /** The client's own node while it is up, else any node up (null: none). */
  private coordinatorFor(client: number): number | null {
    const home = client % this.sim.nodes.length;
    if (this.sim.nodes[home]!.up) return home;
    const up = this.sim.upNodes();
    return up.length === 0 ? null : up[this.random.int(up.length)]!.index;
  }

  decode(bytes: Uint8Array): string {
    return this.decoder.decode(bytes);
  }
}

/** Every key a kv-rmw workload operates on. */
function rmwKeys(c: KvRmwWorkloadConfig): string[] {
  return [
    ...Array.from({ length: c.counters }, (_, i) => `ctr${i}`),
    ...Array.from({ length: c.strings }, (_, i) => `str${i}`),
    ...Array.from({ length: c.setNxKeys }, (_, i) => `nx${i}`),
  ];
}

/** kv-rmw-pressure's filler writes, until the fault phase ends; their answers do not matter. */
function writeFillers(sim: Simulation<ShoalNode>, pressure: RmwPressure, untilMs: number): void {
  const value = new Uint8Array(pressure.fillerBytes);
  const encoder = new TextEncoder();
  let written = 0;
  const write = (): void => {
    if (sim.now >= untilMs) return;
    const up = sim.upNodes();
    if (up.length > 0) up[written % up.length]!.process!.kv.set(encoder.encode(`filler${written}`), value, { consistency: 'one' }, () => {});
    written++;
    sim.after(pressure.fillerEveryMs, write, 'rmw-filler');
  };
  sim.after(KV_WORKLOAD_START_MS, write, 'rmw-filler');
}

/** 40% INCR, 30% APPEND, 30% SETNX. */
function drawKind(roll: number): RmwOpSpec['kind'] {
  return roll < 0.4 ? 'incr' : roll < 0.7 ? 'append' : 'setnx';
}

/** An answer as redis-cli would print it. */
function describeResult(result: RmwResult | null): string | null {
  if (result === null) return null;
  if (result.kind === 'integer') return String(result.value);
  if (result.kind === 'error') return `error ${result.code}`;
  return result.kind === 'ok' ? 'OK' : '(nil)';
}

/**
 * Memory pressure on one node for kv-rmw-pressure: its store holds `maxMemory` bytes, and a writer
 * stores `fillerBytes`-byte values under fresh keys every `fillerEveryMs` through the nodes in turn,
 * so that node keeps evicting the counters, strings and SETNX keys it owns. The others have room
 * for everything, and no node crashes (PRESSURE_FAULTS): every acknowledged update stays in some
 * owner's memory, so a lost update is still a violation. With crashes it would not be: an update
 * acknowledged by the pressed node and one that then crashed is gone from memory, as in any cache;
 * kv-rmw-crash-pressure has both, and judges losses by where the values were (rmw-memory.ts).
 */
export interface RmwPressure {
  maxMemory: number;
  fillerBytes: number;
  fillerEveryMs: number;
}

export const RMW_PRESSURE: RmwPressure = { maxMemory: 32 * 1024, fillerBytes: 1024, fillerEveryMs: 2 };
const PRESSED_NODE = 0;
const PRESSURE_FAULTS = FAULT_KINDS.filter((kind) => kind !== 'crash');
/**
 * kv-rmw-crash-pressure's faults: crashes in every run, and no network partition (isolate, split,
 * asymmetric), so that every loss is judged (with one, a cut-off primary's residue may overwrite
 * an acknowledged update, which kv-rmw reports as figures only).
 */
const CRASH_PRESSURE_FAULTS = FAULT_KINDS.filter((kind) => kind !== 'isolate' && kind !== 'split' && kind !== 'asymmetric');

/** What kv-rmw's variants change: the workload, memory pressure on one node, and crashes with it (kv-rmw-crash-pressure). */
interface RmwVariant {
  workload?: KvRmwWorkloadConfig;
  pressure?: RmwPressure;
  /** With pressure: crash nodes too, and judge every loss by where the values were (rmw-memory.ts). */
  crashes?: boolean;
}

export function runKvRmw(options: ScenarioOptions, trace: EventTrace, variant: RmwVariant = {}): ScenarioResult {
  const { workload: workloadConfig = DEFAULT_KV_RMW_WORKLOAD, pressure = null, crashes = false } = variant;
  const kinds = pressure === null ? FAULT_KINDS : crashes ? CRASH_PRESSURE_FAULTS : PRESSURE_FAULTS;
  const { profile, schedule } = kvSwarmFaults(options, kinds, crashes ? ['crash'] : []);
  const replication = { ...KV_SIM_REPLICATION, ...(options.bugs ? { bugs: options.bugs } : {}) };
  const draws = options.draws === undefined ? {} : { draws: options.draws };
  const nodeConfig = pressure === null ? {} : { nodeConfig: ({ index }: { index: number }) => (index === PRESSED_NODE ? { maxMemory: pressure.maxMemory } : {}) };
  const keys = rmwKeys(workloadConfig);
  let now = () => 0;
  const memory = crashes ? new RmwMemoryRecord(keys, () => now()) : null;
  const watched = memory === null ? {} : { instrument: memory.instrument, onCrash: memory.crashed };
  const cluster = new KvCluster({ seed: options.seed, nodes: options.nodes, partitions: KV_SIM_PARTITIONS, replication, network: profile?.network ?? {}, trace, ...draws, ...nodeConfig, ...watched });
  const sim = cluster.sim;
  now = () => sim.now;
  const faultPhaseEndMs = profile?.faultPhaseMs ?? Math.floor(options.durationMs * 0.6);
  const cuts: [number, number][] = [];
  const workload = new KvRmwWorkload(sim, options.seed, workloadConfig, planOps(options.plan, 'kv-rmw', ['incr', 'append', 'setnx']));
  const faults = scheduleKvFaults(cluster, options, profile, cuts, schedule);
  sim.at(faultPhaseEndMs, () => {
    workload.stop();
    healEverything(sim);
  }, 'heal');
  workload.start(KV_WORKLOAD_START_MS);
  if (pressure !== null) writeFillers(sim, pressure, faultPhaseEndMs);

  const samples: NodeSample[] = [];
  const checkers: Checker<null>[] = [
    // The pressed node may have evicted any key: the owners that hold one must agree.
    { name: 'convergence', liveness: () => cluster.convergence(keys, { missingAllowed: pressure !== null }) },
    { name: 'rmw-settled', liveness: () => (sim.upNodes().some((n) => n.process!.rmw.pendingCount > 0) ? 'read-modify-writes still in flight' : null) },
    // Reads the nodes only: the artifacts' membership chart.
    { name: 'timeline', invariant: () => (samples.push(sampleNodes(cluster)), null) },
  ];
  const result = runChecked({ sim, world: null, checkers, faultPhaseEndMs, durationMs: options.durationMs });

  // The replicas agree once converged: the final value is any owner's record.
  const finalValue = (key: string): string | null => {
    const bytes = new TextEncoder().encode(key);
    const placement = sim.upNodes()[0]!.process!.placement();
    const p = placement.partitionOfKey(bytes);
    for (const owner of placement.owners(p)) {
      const raw = sim.process(sim.indexOf(owner)!)?.heldPartitions().get(p)?.peek(key) ?? null;
      if (raw === null) continue;
      const record = decodeRecord(raw);
      return record.tombstone ? null : workload.decode(record.value);
    }
    return null;
  };
  const judge = memory === null ? undefined : { judge: (key: string, holds: (value: string) => boolean) => memory.judge(key, holds), endMs: sim.now };
  const { figures, problems } = checkRmwHistory(workload.incrs, workload.appends, workload.setNxs, finalValue, judge);
  // With a network partition only duplicates count (see the top of this file).
  const judged = cuts.length > 0 ? problems.filter((p) => p.startsWith('duplicated-')) : problems;
  const violations = [...result.violations];
  if (judged.length > 0) violations.push({ checker: 'rmw-history', atMs: sim.now, message: judged.slice(0, 3).join('; ') });
  const t = cluster.totals();
  return {
    violations,
    simMs: result.simMs,
    derived: profile ? { faultProfile: profile, ...faults } : {},
    plan: reportedPlan(schedule, profile, result.simMs, workload.drawn),
    timeline: { ops: workload.ops, faults: schedule, samples },
    figures: {
      recoverySeconds: result.recoveryMs === null ? null : result.recoveryMs / 1000,
      networkPartitions: cuts.length,
      ...workload.counts,
      ...figures,
      problems: problems.slice(0, 5),
      rmw: t.rmw,
      restarts: sim.nodes.reduce((s, n) => s + n.stats.crashes, 0),
      ...(pressure === null ? {} : { pressedEvictions: sim.process(PRESSED_NODE)?.stats().store.size ?? 0 }),
    },
  };
}

export const kvRmwScenario: Scenario = {
  name: 'kv-rmw',
  summary: 'concurrent INCRBY, APPEND and SETNX through different coordinators under swarm faults: no duplicates; no lost update or double SETNX winner without a network partition',
  defaults: { nodes: 5, durationMs: 20_000, faults: 'swarm' },
  minNodes: 3,
  keyedDraws: true,
  run: (options, trace) => runKvRmw(options, trace),
};

/**
 * kv-rmw on hot keys: 20 clients with short think times on one counter, one string and a few SETNX
 * keys, so operations queue on their partition's primary and leave in batches (group commit,
 * docs/REPLICATION.md; `batches` and `batchedOps` in the figures count them). Same checker.
 */
export const HOT_KV_RMW_WORKLOAD: KvRmwWorkloadConfig = { clients: 20, counters: 1, strings: 1, setNxKeys: 20, meanThinkMs: 10, clientAttempts: 3 };

export const kvRmwHotScenario: Scenario = {
  name: 'kv-rmw-hot',
  summary: 'kv-rmw with 20 clients on one counter, one string and few SETNX keys: operations queue on one primary and commit in batches; same checks',
  defaults: { nodes: 5, durationMs: 20_000, faults: 'swarm' },
  minNodes: 3,
  keyedDraws: true,
  run: (options, trace) => runKvRmw(options, trace, { workload: HOT_KV_RMW_WORKLOAD }),
};

export const kvRmwPressureScenario: Scenario = {
  name: 'kv-rmw-pressure',
  summary: 'kv-rmw while one node\'s store is far too small and filler writes keep it evicting the keys it owns; swarm faults without crashes; same checks',
  defaults: { nodes: 5, durationMs: 20_000, faults: 'swarm' },
  minNodes: 3,
  keyedDraws: true,
  run: (options, trace) => runKvRmw(options, trace, { pressure: RMW_PRESSURE }),
};

/**
 * kv-rmw-pressure with crashes and restarts on every seed (the pressed node too) and no network
 * partition: an acknowledged update may now leave every memory (the pressed owner evicts it, the
 * others crash), which a cache may do, so the checker asks the run's record of every store
 * (rmw-memory.ts) whether each update it finds missing left memory so, or was written over while
 * some node still held it. Duplicates are violations as always.
 */
export const kvRmwCrashPressureScenario: Scenario = {
  name: 'kv-rmw-crash-pressure',
  summary: 'kv-rmw-pressure with crashes on every seed and no network partition: a loss is a violation unless the update left every memory by an eviction or a crash',
  defaults: { nodes: 5, durationMs: 20_000, faults: 'swarm' },
  minNodes: 3,
  keyedDraws: true,
  run: (options, trace) => runKvRmw(options, trace, { pressure: RMW_PRESSURE, crashes: true }),
};
