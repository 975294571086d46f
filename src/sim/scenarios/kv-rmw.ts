/**
 * `kv-rmw`: read-modify-write under swarm faults (docs/REPLICATION.md, "Read-modify-write").
 * Clients issue INCRBY 1 on a few counters, APPEND of unique tokens on a few strings and SETNX on
 * keys each contested by several clients, through different coordinators (each client sticks to
 * its own node while it is up), while the fault schedule crashes, pauses, slows, partitions,
 * clogs and skews nodes as in `kv`. A client retries a failed or silent operation with the same
 * request id. When faults stop, the cluster must converge, and the checker (kv-rmw-checker.ts)
 * counts lost and duplicated increments and appends and SETNX double winners.
 *
 * Violations: any duplicate; any double winner or loss in a run without a network partition
 * (isolate, split, asymmetric). With a partition, losses are reported as figures, not violations:
 * a primary cut off from its clients' coordinators is replaced while it may still finish an
 * operation, which the guarantee does not cover.
 */
import { runChecked, type Checker } from '../checkers.ts';
import { drawSwarmProfile, healEverything } from '../faults.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import type { EventTrace } from '../trace.ts';
import type { ShoalNode } from '../../node/node.ts';
import type { KvError, RmwOp, RmwResult } from '../../replication/api.ts';
import { decodeRecord } from '../../replication/record.ts';
import type { SeededRandom } from '../../runtime/seeded-random.ts';
import { namedStream } from '../rng.ts';
import type { Simulation } from '../simulation.ts';
import { KvCluster } from './kv-cluster.ts';
import { KV_SIM_PARTITIONS, KV_SIM_REPLICATION, KV_WORKLOAD_START_MS, scheduleKvFaults } from './kv.ts';
import { checkRmwHistory, type AppendRecord, type IncrRecord, type SetNxRecord } from './kv-rmw-checker.ts';

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

class KvRmwWorkload {
  readonly incrs: IncrRecord[] = [];
  readonly appends: AppendRecord[] = [];
  readonly setNxs: SetNxRecord[] = [];
  readonly counts = { opsIssued: 0, opsAcked: 0, opsFailed: 0, opsUnknown: 0, clientRetries: 0, errors: {} as Record<string, number> };
  private readonly random: SeededRandom;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private running = true;
  private seq = 0;

  constructor(
    private readonly sim: Simulation<ShoalNode>,
    seed: number,
    readonly config: KvRmwWorkloadConfig,
  ) {
    this.random = namedStream(seed, 'kv-rmw/clients');
  }

  keys(): string[] {
    const c = this.config;
    return [
      ...Array.from({ length: c.counters }, (_, i) => `ctr${i}`),
      ...Array.from({ length: c.strings }, (_, i) => `str${i}`),
      ...Array.from({ length: c.setNxKeys }, (_, i) => `nx${i}`),
    ];
  }

  start(delayMs: number): void {
    for (let c = 0; c < this.config.clients; c++) this.sim.after(delayMs + this.random.exponential(this.config.meanThinkMs), () => this.next(c), 'rmw-client');
  }

  stop(): void {
    this.running = false;
  }

  private next(client: number): void {
    if (!this.running) return;
    const c = this.config;
    const requestId = `cl${client}:${++this.seq}`;
    const roll = this.random.next();
    if (roll < 0.4) {
      const rec: IncrRecord = { key: `ctr${this.random.int(c.counters)}`, outcome: 'unknown', result: null };
      this.incrs.push(rec);
      this.issue(client, rec.key, { op: 'incrby', by: 1n }, requestId, (outcome, result) => {
        rec.outcome = outcome;
        if (result?.kind === 'integer') rec.result = result.value;
        else if (outcome === 'acked') rec.outcome = 'failed';
      });
    } else if (roll < 0.7) {
      const token = `${client}.${this.seq}`;
      const rec: AppendRecord = { key: `str${this.random.int(c.strings)}`, token, outcome: 'unknown' };
      this.appends.push(rec);
      this.issue(client, rec.key, { op: 'append', value: this.encoder.encode(`|${token}`) }, requestId, (outcome) => {
        rec.outcome = outcome;
      });
    } else {
      // Keys are contested in order, a few at a time, so several clients race for each.
      const at = Math.min(c.setNxKeys - 1, Math.floor(this.setNxs.length / c.clients));
      const value = `w${client}.${this.seq}`;
      const rec: SetNxRecord = { key: `nx${at}`, value, outcome: 'unknown', won: null };
      this.setNxs.push(rec);
      const op: RmwOp = { op: 'set', value: this.encoder.encode(value), expiry: { kind: 'none' }, condition: 'nx', get: false };
      this.issue(client, rec.key, op, requestId, (outcome, result) => {
        rec.outcome = outcome;
        if (result) rec.won = result.kind === 'ok';
      });
    }
  }

  /** Runs one operation, retrying with the same request id, then records its outcome and schedules the client's next. */
  private issue(client: number, key: string, op: RmwOp, requestId: string, record: (outcome: Outcome, result: RmwResult | null) => void): void {
    this.counts.opsIssued++;
    const keyBytes = this.encoder.encode(key);
    let attempt = 0;
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
      record(outcome, result);
      this.sim.after(this.random.exponential(this.config.meanThinkMs), () => this.next(client), 'rmw-client');
    };
    const tryOnce = () => {
      attempt++;
      const node = this.coordinatorFor(client);
      if (node === null) return retry({ code: 'unavailable', message: 'no node up' });
      let answered = false;
      this.sim.after(RMW_CLIENT_TIMEOUT_MS, () => {
        if (answered || finished) return;
        answered = true;
        sawUnknown = true;
        retry(null);
      }, 'rmw-client-timeout');
      node.rmw.rmw([keyBytes], op, { requestId }, (error, result) => {
        if (answered || finished) return;
        answered = true;
        if (error || !result) return retry(error ?? null);
        if (result.kind === 'error') return finish('failed', result, null);
        finish('acked', result, null);
      });
    };
    const retry = (error: KvError | null) => {
      if (finished) return;
      if (attempt >= this.config.clientAttempts || !this.running) return finish(sawUnknown || error === null ? 'unknown' : 'failed', null, error);
      this.counts.clientRetries++;
      this.sim.after(50 + this.random.exponential(100), tryOnce, 'rmw-client-retry');
    };
    tryOnce();
  }

  private coordinatorFor(client: number): ShoalNode | null {
    const home = client % this.sim.nodes.length;
    if (this.sim.nodes[home]!.up) return this.sim.process(home)!;
    const up = this.sim.upNodes();
    return up.length === 0 ? null : up[this.random.int(up.length)]!.process!;
  }

  decode(bytes: Uint8Array): string {
    return this.decoder.decode(bytes);
  }
}

export function runKvRmw(options: ScenarioOptions, trace: EventTrace, workloadConfig: KvRmwWorkloadConfig = DEFAULT_KV_RMW_WORKLOAD): ScenarioResult {
  const profile = options.faults === 'swarm' ? drawSwarmProfile(options.seed, options.durationMs) : null;
  const replication = { ...KV_SIM_REPLICATION, ...(options.bugs ? { bugs: options.bugs } : {}) };
  const cluster = new KvCluster({ seed: options.seed, nodes: options.nodes, partitions: KV_SIM_PARTITIONS, replication, network: profile?.network ?? {}, trace });
  const sim = cluster.sim;
  const faultPhaseEndMs = profile?.faultPhaseMs ?? Math.floor(options.durationMs * 0.6);
  const cuts: [number, number][] = [];
  const workload = new KvRmwWorkload(sim, options.seed, workloadConfig);
  const keys = workload.keys();
  const faults = scheduleKvFaults(cluster, options, profile, cuts);
  sim.at(faultPhaseEndMs, () => {
    workload.stop();
    healEverything(sim);
  }, 'heal');
  workload.start(KV_WORKLOAD_START_MS);

  const checkers: Checker<null>[] = [
    { name: 'convergence', liveness: () => cluster.convergence(keys) },
    { name: 'rmw-settled', liveness: () => (sim.upNodes().some((n) => n.process!.rmw.pendingCount > 0) ? 'read-modify-writes still in flight' : null) },
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
  const { figures, problems } = checkRmwHistory(workload.incrs, workload.appends, workload.setNxs, finalValue);
  const split = cuts.length > 0;
  const violations = [...result.violations];
  if (figures.duplicatedIncrements + figures.duplicatedAppends > 0 || (!split && problems.length > 0)) {
    violations.push({ checker: 'rmw-history', atMs: sim.now, message: problems.slice(0, 3).join('; ') });
  }
  const t = cluster.totals();
  return {
    violations,
    simMs: result.simMs,
    derived: profile ? { faultProfile: profile, ...faults } : {},
    figures: {
      recoverySeconds: result.recoveryMs === null ? null : result.recoveryMs / 1000,
      networkPartitions: cuts.length,
      ...workload.counts,
      ...figures,
      problems: problems.slice(0, 5),
      rmw: t.rmw,
      restarts: sim.nodes.reduce((s, n) => s + n.stats.crashes, 0),
    },
  };
}

export const kvRmwScenario: Scenario = {
  name: 'kv-rmw',
  summary: 'concurrent INCRBY, APPEND and SETNX through different coordinators under swarm faults: no duplicates; no lost update or double SETNX winner without a network partition',
  defaults: { nodes: 5, durationMs: 20_000, faults: 'swarm' },
  minNodes: 3,
  run: (options, trace) => runKvRmw(options, trace),
};
