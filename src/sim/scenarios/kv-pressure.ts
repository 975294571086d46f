/**
 * `kv-pressure`: the kv workload and checkers on a cluster whose stores are several times too
 * small for the data, so every node's store (W-TinyLFU) evicts on its own, all the time. It
 * measures what Shoal guarantees then:
 *
 * - evictions per node, and what anti-entropy and read repair do about them: a record a replica
 *   evicted is, to sync, a difference like any other, so it is copied back (`churn`);
 * - read anomalies that evictions account for, counted apart rather than as violations (as skew
 *   inversions are in `kv`): `evictionMisses` (the read found no record at all: the cache lost the
 *   key, which a cache may do) and `evictionInversions` (the read returned an older version than
 *   an acknowledged write, or a value after an acknowledged delete, and some replica had dropped
 *   a record at least as new as that write). Every other checker failure stays a violation.
 *
 * The stores are watched from outside (EvictionWatch): a node cannot tell us what its store
 * evicted, so the watch wraps each node's store to see every record set into it and which of the
 * records it had seen stored are gone afterwards. Nothing in the node is changed: the wrappers
 * only read, so a seed's trace is the same with or without them.
 *
 * Faults: with `--faults swarm`, the same swarm schedule and limits as `kv` (maxDown 1, no crash
 * while a node catches up); `--faults none` shows what eviction alone does.
 */
import type { ShoalNode } from '../../node/node.ts';
import { MessageFamily } from '../../node/wire.ts';
import { compareVersions, versionToString, ZERO_VERSION, type Version } from '../../replication/hlc.ts';
import { decodeKvMessage } from '../../replication/messages.ts';
import { decodeRecord, HEADER_BYTES, type StoredRecord } from '../../replication/record.ts';
import type { Env, Transport } from '../../runtime/env.ts';
import type { Store } from '../../store/index.ts';
import { runChecked } from '../checkers.ts';
import { drawSwarmProfile, healEverything } from '../faults.ts';
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.ts';
import type { ProcessInfo } from '../simulation.ts';
import type { EventTrace } from '../trace.ts';
import { KvCluster, type KvClusterOptions } from './kv-cluster.ts';
import { KvHistoryChecker } from './kv-checkers.ts';
import { DEFAULT_KV_WORKLOAD, KvWorkload, type KvWorkloadConfig, type Op, type OpListener, type ReadOp, type WriteOp } from './kv-workload.ts';
import { KV_SIM_PARTITIONS, KV_SIM_REPLICATION, KV_WORKLOAD_START_MS, checkersFor, scheduleKvFaults, type KvWorld } from './kv.ts';

/**
 * More keys than `kv`, flatter popularity and padded values: with 5 nodes each node owns about
 * 0.6 x 1,500 keys of ~350 accounted bytes (~310 KB), against a 32 KB budget, so once most keys
 * have been written every node evicts on nearly every insert (`workingSetToMemory` reports the
 * measured ratio).
 */
export const PRESSURE_WORKLOAD: KvWorkloadConfig = { ...DEFAULT_KV_WORKLOAD, keys: 1_500, zipfExponent: 0.8, valuePaddingBytes: 100 };
export const PRESSURE_MAX_MEMORY = 32 * 1024;
/** Examples kept per anomaly kind in the report. */
const EXAMPLES_PER_KIND = 2;

const REPLICAS = KV_SIM_REPLICATION.replicas ?? 3;

/** A record a node's store stopped holding for lack of memory: evicted, or refused on insert (W-TinyLFU admission). */
interface Drop {
  node: string;
  key: string;
  version: Version;
  atMs: number;
  cause: 'evicted' | 'refused';
}

/** Which kind of message made a node store a record again; `local` is a node's own replica traffic, delivered on a timer. */
type Cause = 'sync' | 'readRepair' | 'hint' | 'write' | 'local';
const CAUSE_OF_MESSAGE: Record<string, Cause> = { sd: 'sync', rp: 'readRepair', hd: 'hint', w: 'write' };

const zeroCauses = (): Record<Cause, number> => ({ sync: 0, readRepair: 0, hint: 0, write: 0, local: 0 });

/**
 * Watches every node process's store from outside. For each process it keeps the (key -> version)
 * it last saw stored; after a set, keys of that map no longer in the store were evicted (within
 * a run no store deadline passes: tombstones and expired values are kept for the tombstone grace,
 * hours, so nothing else removes entries except a partition drop or a record superseded by a newer
 * version evicted elsewhere, which are watched too).
 */
class EvictionWatch {
  /** Every drop, per key, in time order. */
  readonly drops = new Map<string, Drop[]>();
  readonly churn = {
    /** Records stored again, with the very version this process had dropped, by what brought them back. */
    reinserted: zeroCauses(),
    /** Records stored that are older than a version this process had dropped: an evicted newer version let an older one back in. */
    olderThanDropped: zeroCauses(),
    /** Drops of a (key, version) this process had already dropped once: evicted, copied back, evicted again. */
    droppedAgain: 0,
  };
  /** Each store of a record older than one its node had dropped: node, key, version stored, what brought it, when. */
  readonly olderStores: { node: string; key: string; version: Version; cause: Cause; atMs: number }[] = [];
  /** Every process started, per node index (a restart is a new process with a new store). */
  readonly processes: ShoalNode[][] = [];

  constructor(private readonly now: () => number) {}

  /** KvCluster's `instrument` hook. */
  readonly instrument = (env: Env, info: ProcessInfo, build: (env: Env) => ShoalNode): ShoalNode => {
    // The message being handled, so a store write can be attributed to sync, read repair, etc.
    // (records are applied synchronously inside the handler; see replica-host.ts).
    let delivering: Uint8Array | null = null;
    let deliveringCause: Cause | null = null;
    const transport: Transport = {
      send: (to, bytes, lane) => env.transport.send(to, bytes, lane),
      onReceive: (handler) =>
        env.transport.onReceive((from, bytes) => {
          delivering = bytes;
          deliveringCause = null;
          try {
            handler(from, bytes);
          } finally {
            delivering = null;
          }
        }),
    };
    const causeNow = (): Cause => {
      if (!delivering) return 'local';
      if (deliveringCause === null) {
        const t = delivering[0] === MessageFamily.kv ? decodeKvMessage(delivering.subarray(1)).t : '';
        deliveringCause = CAUSE_OF_MESSAGE[t] ?? 'local';
      }
      return deliveringCause;
    };
    const node = build({ ...env, transport });
    (this.processes[info.index] ??= []).push(node);
    this.watchStore(node.name, node.store, causeNow);
    return node;
  };

  private watchStore(name: string, store: Store, causeNow: () => Cause): void {
    const held = new Map<string, Version>();
    /** The latest version this process dropped, per key. */
    const dropped = new Map<string, Version>();
    const drop = (key: string, version: Version, cause: Drop['cause']) => {
      const before = dropped.get(key);
      if (before && compareVersions(before, version) === 0) this.churn.droppedAgain++;
      dropped.set(key, version);
      let list = this.drops.get(key);
      if (!list) this.drops.set(key, (list = []));
      list.push({ node: name, key, version, atMs: this.now(), cause });
    };

    const set = store.set.bind(store);
    store.set = (key, value, options) => {
      const version = decodeRecord(value).version;
      const stored = set(key, value, options);
      if (stored) {
        const before = dropped.get(key);
        const order = before ? compareVersions(version, before) : 1;
        if (order === 0) this.churn.reinserted[causeNow()]++;
        else if (order < 0) {
          const cause = causeNow();
          this.churn.olderThanDropped[cause]++;
          this.olderStores.push({ node: name, key, version, cause, atMs: this.now() });
        }
        held.set(key, version);
      } else {
        held.delete(key);
        drop(key, version, 'refused');
      }
      // Fewer entries than records seen stored: the set evicted some. Find them.
      if (store.size < held.size) {
        for (const [k, v] of held) {
          if (!store.has(k)) {
            held.delete(k);
            drop(k, v, 'evicted');
          }
        }
      }
      return stored;
    };
    const del = store.delete.bind(store);
    store.delete = (key) => {
      // Superseded, not evicted: a sync source evicted a newer version (PartitionReplica.noteEvicted),
      // whose drop is counted on that source.
      held.delete(key);
      return del(key);
    };
    const dropPartition = store.dropPartition.bind(store);
    store.dropPartition = (partition) => {
      // Handed off, not evicted: forget the keys without counting them.
      for (const k of store.partitionKeys(partition)) held.delete(k);
      return dropPartition(partition);
    };
  }

  /** The first drop of `key`, on any node, of a version at least as new as `version`. */
  dropAtLeast(key: string, version: Version): Drop | undefined {
    return this.drops.get(key)?.find((d) => compareVersions(d.version, version) >= 0);
  }

  /** What happened to `key` that matters to a reader who got `version`: drops of newer records, stores of older ones, in time order. */
  timeline(key: string, version: Version): string {
    const events = [
      ...(this.drops.get(key) ?? []).filter((d) => compareVersions(d.version, version) > 0).map((d) => ({ atMs: d.atMs, text: `${d.node} ${d.cause} ${versionToString(d.version)}` })),
      ...this.olderStores.filter((o) => o.key === key).map((o) => ({ atMs: o.atMs, text: `${o.node} stored older ${versionToString(o.version)} by ${o.cause}` })),
    ].sort((a, b) => a.atMs - b.atMs);
    return events.map((e) => `${e.atMs.toFixed(1)}ms ${e.text}`).join('; ');
  }

  /** Store evictions per node (summed over its processes), from the stores' own counters. */
  storeEvictions(index: number): number {
    return (this.processes[index] ?? []).reduce((s, n) => s + n.store.stats().evictions.size, 0);
  }
}

type InversionKind = 'staleValue' | 'deletedValueBack' | 'staleMiss';

/**
 * Records acknowledged writes (for the anomaly reports) and forwards every operation to the
 * history checker.
 */
class PressureHistory implements OpListener {
  readonly byVersion = new Map<string, WriteOp>();
  /** Newest acknowledged strict write (non-sloppy, QUORUM or ALL) per key: what should survive. */
  readonly newestStrict = new Map<string, WriteOp>();

  constructor(
    private readonly inner: KvHistoryChecker,
    /** A scenario's own look at each completed operation (PressureExtras.completed). */
    private readonly also?: (op: Op) => void,
  ) {}

  issued(op: Op): void {
    this.inner.issued(op);
  }

  completed(op: Op): void {
    this.also?.(op);
    if (op.kind === 'write' && op.outcome === 'acked' && op.version) {
      this.byVersion.set(versionToString(op.version), op);
      const newest = this.newestStrict.get(op.key);
      if (!op.sloppy && op.consistency !== 'one' && (!newest || compareVersions(newest.version!, op.version) < 0)) this.newestStrict.set(op.key, op);
    }
    this.inner.completed(op);
  }
}

/**
 * `kv-pressure-disk`: each node has a disk tier (src/store/disk) of 8x its memory on a simulated
 * disk with failed and torn writes and rotting bits, kept across the node's crashes. The same
 * checkers judge it: a record read back from disk must be as new as any version the node knows.
 */
export const PRESSURE_DISK = { bytes: 8 * PRESSURE_MAX_MEMORY, regionBytes: 16 * 1024, faults: { writeError: 0.01, tornWrite: 0.01, rot: 0.01 } };

/**
 * What a run under memory pressure varies: the workload, each node's memory, a disk tier under
 * every store (or none), and how many evicted keys each node's eviction shadow remembers (unset:
 * what its budget gives, 4,096, more than the workload's keys).
 */
interface PressureVariant {
  workload: KvWorkloadConfig;
  maxMemory: number;
  disk: typeof PRESSURE_DISK | null;
  shadowEntries?: number;
  extras?: PressureExtras;
}

/**
 * What a scenario adds to a run under pressure (kv-pressure-ring: ring changes on purpose, and
 * what they did to reads).
 */
export interface PressureExtras {
  /** Per-node configuration over the run's (KvClusterOptions.nodeConfig): kv-pressure-ring gives nodes different memory. */
  nodeConfig?: KvClusterOptions['nodeConfig'];
  /** Observes each node process as it is built, after the eviction watch (it must only read). */
  instrument?: NonNullable<KvClusterOptions['instrument']>;
  /** Scheduled once the cluster exists, before the faults' heal at `faultPhaseEndMs`. */
  operations?: (cluster: KvCluster, faultPhaseEndMs: number) => void;
  /** Sees each operation as it completes, before the checkers judge it. */
  completed?: (op: Op) => void;
  /** Figures added to the report once the run ended. */
  figures?: () => Record<string, unknown>;
  /** An eviction inversion is a violation, not only counted (`kv-pressure-ring`). */
  inversionsFail?: boolean;
}

const PRESSURE: PressureVariant = { workload: PRESSURE_WORKLOAD, maxMemory: PRESSURE_MAX_MEMORY, disk: null };

export function runKvPressure(options: ScenarioOptions, trace: EventTrace, variant: PressureVariant = PRESSURE): ScenarioResult {
  const { workload: workloadConfig, maxMemory, disk, shadowEntries, extras = {} } = variant;
  const profile = options.faults === 'swarm' ? drawSwarmProfile(options.seed, options.durationMs) : null;
  let now = () => 0;
  const watch = new EvictionWatch(() => now());
  const cluster = new KvCluster({
    seed: options.seed,
    nodes: options.nodes,
    partitions: KV_SIM_PARTITIONS,
    replication: { ...KV_SIM_REPLICATION, ...(shadowEntries === undefined ? {} : { evictionShadowEntries: shadowEntries }), ...(options.bugs ? { bugs: options.bugs } : {}) },
    network: profile?.network ?? {},
    trace,
    maxMemory,
    instrument: extras.instrument === undefined ? watch.instrument : (env, info, build) => watch.instrument(env, info, (e) => extras.instrument!(e, info, build)),
    ...(disk === null ? {} : { disk }),
    ...(extras.nodeConfig === undefined ? {} : { nodeConfig: extras.nodeConfig }),
  });
  const sim = cluster.sim;
  now = () => sim.now;
  const faultPhaseEndMs = profile?.faultPhaseMs ?? Math.floor(options.durationMs * 0.6);

  const anomalies = {
    evictionMisses: 0,
    evictionInversions: { count: 0, staleValue: 0, deletedValueBack: 0, staleMiss: 0, examples: [] as string[] },
  };
  const examplesOf = new Map<InversionKind, number>();
  const describeRead = (r: ReadOp, missed: WriteOp | undefined, missedVersion: Version): string => {
    const got = r.version ? `${r.value === null ? 'no value' : `"${r.value.slice(0, 12)}"`} at ${versionToString(r.version)}` : 'nothing';
    const what = missed ? (missed.value === null ? 'the delete' : `"${missed.value.slice(0, 12)}"`) : 'a write';
    const held = ownersOf(cluster, r.key).map(({ name, record }) => `${name} ${record ? versionToString(record.version) : 'none'}`);
    const ackedAt = missed?.endMs == null ? '' : ` acknowledged at ${missed.endMs.toFixed(1)}ms`;
    return (
      `read (${r.consistency}) of ${r.key} through n${r.coordinator + 1} at ${r.startMs.toFixed(1)}-${r.endMs!.toFixed(1)}ms got ${got}; ` +
      `${what} (${versionToString(missedVersion)})${ackedAt} was newer; owners at the read's end: ${held.join(', ')}; ` +
      `before: ${watch.timeline(r.key, r.version ?? ZERO_VERSION)}`
    );
  };

  const cuts: [number, number][] = [];
  const partitionDuring = (from: number, to: number) => cuts.some(([a, b]) => a <= to && b >= from);
  // A failed lost-write or read-your-writes check is the eviction's doing when some node dropped a
  // record at least as new as the write the read missed. That is the approximation: the watch
  // knows every drop but not which replicas answered this read, so it does not prove that the
  // drop is why those replicas answered as they did; without any such drop, the read stays a violation.
  const history = new KvHistoryChecker(REPLICAS, partitionDuring, (_checker, r, missedVersion): boolean => {
    if (!watch.dropAtLeast(r.key, missedVersion)) return false;
    if (!r.version) {
      anomalies.evictionMisses++;
      return true;
    }
    const missed = recorder.byVersion.get(versionToString(missedVersion));
    const kind: InversionKind = r.value === null ? 'staleMiss' : missed?.value === null ? 'deletedValueBack' : 'staleValue';
    const inv = anomalies.evictionInversions;
    inv.count++;
    inv[kind]++;
    if ((examplesOf.get(kind) ?? 0) < EXAMPLES_PER_KIND) {
      examplesOf.set(kind, (examplesOf.get(kind) ?? 0) + 1);
      inv.examples.push(`${kind}: ${describeRead(r, missed, missedVersion)}`);
    }
    // Counted either way; where inversions fail the run, the checker reports the read as well.
    return !extras.inversionsFail;
  }, (from, to) => cluster.crashDuring(from, to));
  const recorder = new PressureHistory(history, extras.completed);
  const workload = new KvWorkload(sim, options.seed, workloadConfig, recorder);
  const keys = Array.from({ length: workloadConfig.keys }, (_, i) => workload.keyName(i));

  const faults = scheduleKvFaults(cluster, options, profile, cuts);
  extras.operations?.(cluster, faultPhaseEndMs);
  sim.at(faultPhaseEndMs, () => {
    workload.stop();
    healEverything(sim);
  }, 'heal');
  workload.start(KV_WORKLOAD_START_MS);

  const checkers = checkersFor(KV_SIM_REPLICATION, { evictionsAllowed: true });
  const world: KvWorld = { cluster, history, keys };
  const result = runChecked({ sim, world, checkers, faultPhaseEndMs, durationMs: options.durationMs });
  const t = cluster.totals();
  const end = endState(cluster, recorder, watch);
  const endViolations =
    end.staleUnexplained === 0
      ? []
      : [{ checker: 'end-state', atMs: sim.now, message: `${end.staleUnexplained} keys end older than an acknowledged write that no store dropped (see endState.examples)` }];

  return {
    violations: [...result.violations, ...history.violations.slice(1).map((v) => ({ ...v, checker: `history/${v.checker}` })), ...endViolations],
    simMs: result.simMs,
    derived: { maxMemory, keys: workloadConfig.keys, ...(profile ? { faultProfile: profile, ...faults } : {}) },
    figures: {
      recoverySeconds: result.recoveryMs === null ? null : result.recoveryMs / 1000,
      workingSetToMemory: workingSetToMemory(cluster, workload),
      ...workload.counts,
      ...history.figures,
      evictions: t.store.size,
      ...anomalies,
      churn: watch.churn,
      endState: end,
      perNode: sim.nodes.map((n, i) => {
        const procs = watch.processes[i] ?? [];
        const sum = (f: (node: ShoalNode) => number) => procs.reduce((s, p) => s + f(p), 0);
        return {
          node: n.address,
          evictions: watch.storeEvictions(i),
          entriesAtEnd: n.process?.store.size ?? 0,
          syncRecordsPulled: sum((p) => p.stats().sync.recordsPulled),
          syncRecordsPushed: sum((p) => p.stats().sync.recordsPushed),
          writesRefused: sum((p) => p.stats().replica.writesRefused),
          forgottenAnswers: sum((p) => p.stats().replica.forgottenAnswers),
          forgottenRefusals: sum((p) => p.stats().replica.forgottenRefusals),
          horizonAnswers: sum((p) => p.stats().replica.horizonAnswers),
          readRepairsDeclined: sum((p) => p.stats().replica.readRepairsDeclined),
          vouchAnswers: sum((p) => p.stats().replica.vouchAnswers),
        };
      }),
      ...(disk === null ? {} : { disk: diskFigures(watch.processes.flat(), cluster) }),
      readRepairs: t.coordinator.readRepairs,
      missesEvictedOverCopy: t.coordinator.missEvictedOverCopy,
      answersOverInexactEviction: t.coordinator.answersOverInexactEviction,
      readsWaitedForOwners: t.coordinator.readsWaitedForOwners,
      hintsStored: t.hints.stored,
      hintsDelivered: t.hints.delivered,
      syncRecordsPulled: t.sync.recordsPulled,
      syncRecordsPushed: t.sync.recordsPushed,
      restarts: sim.nodes.reduce((s, n) => s + n.stats.crashes, 0),
      ...extras.figures?.(),
    },
  };
}

/** Each owner of `key` (by the first live node's ring) and the record it holds, if any. */
function ownersOf(cluster: KvCluster, key: string): { name: string; record: StoredRecord | null }[] {
  const sim = cluster.sim;
  const placement = sim.upNodes()[0]?.process?.placement();
  if (!placement) return [];
  const p = placement.partitionOfKey(new TextEncoder().encode(key));
  return placement.owners(p).map((name) => {
    const bytes = sim.process(sim.indexOf(name)!)?.heldPartitions().get(p)?.peek(key);
    return { name, record: bytes ? decodeRecord(bytes) : null };
  });
}

/**
 * The most any node would hold with an unbounded store (the last record written to every key it
 * owns), over its budget: how far beyond memory the working set is.
 */
function workingSetToMemory(cluster: KvCluster, workload: KvWorkload): number {
  const up = cluster.sim.upNodes();
  if (up.length === 0) return 0;
  const placement = up[0]!.process!.placement();
  const store = up[0]!.process!.store;
  const lastLength = new Map<string, number>();
  for (const op of workload.ops) if (op.kind === 'write') lastLength.set(op.key, HEADER_BYTES + (op.value?.length ?? 0));
  const perNode = new Map<string, number>();
  const encoder = new TextEncoder();
  for (const [key, length] of lastLength) {
    for (const owner of placement.owners(placement.partitionOfKey(encoder.encode(key)))) {
      perNode.set(owner, (perNode.get(owner) ?? 0) + store.entryCost(key, length));
    }
  }
  return Math.round((Math.max(0, ...perNode.values()) / store.maxMemory) * 10) / 10;
}

/**
 * What the replicas hold at the end for every key with an acknowledged strict write: `current`
 * (that write or newer), `evictedEverywhere` (no owner holds anything: a plain cache miss),
 * `stale` / `deletedValueBack` (the newest version held is older than that write, which some
 * node dropped: an older record won back), `staleUnexplained` (older, and no drop explains it:
 * a lost write, reported as a violation).
 */
function endState(cluster: KvCluster, recorder: PressureHistory, watch: EvictionWatch) {
  const out = { keys: 0, current: 0, evictedEverywhere: 0, stale: 0, deletedValueBack: 0, staleUnexplained: 0, examples: [] as string[] };
  for (const [key, w] of recorder.newestStrict) {
    out.keys++;
    let newest: StoredRecord | null = null;
    for (const { record } of ownersOf(cluster, key)) {
      if (record && (!newest || compareVersions(record.version, newest.version) > 0)) newest = record;
    }
    if (!newest) out.evictedEverywhere++;
    else if (compareVersions(newest.version, w.version ?? ZERO_VERSION) >= 0) out.current++;
    else {
      if (!watch.dropAtLeast(key, w.version!)) out.staleUnexplained++;
      else if (w.value === null && !newest.tombstone) out.deletedValueBack++;
      else out.stale++;
      if (out.examples.length < EXAMPLES_PER_KIND) {
        out.examples.push(
          `${key}: ${w.value === null ? 'delete' : 'set'} ${versionToString(w.version!)} acknowledged at ${w.endMs!.toFixed(1)}ms (${w.consistency}, acks ${w.acks}); ` +
            `replicas end with ${newest.tombstone ? 'a tombstone' : 'a value'} at ${versionToString(newest.version)}; ${watch.timeline(key, newest.version)}`,
        );
      }
    }
  }
  return out;
}

export const kvPressureScenario: Scenario = {
  name: 'kv-pressure',
  summary: 'kv on stores several times too small: evictions, sync churn, and read anomalies evictions cause (counted apart)',
  defaults: { nodes: 5, durationMs: 60_000, faults: 'swarm' },
  run: (options, trace) => runKvPressure(options, trace),
};

/** The disk tiers' counters over every node incarnation, and the faults their simulated disks injected. */
function diskFigures(processes: ShoalNode[], cluster: KvCluster): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (name: string, n: number) => (out[name] = (out[name] ?? 0) + n);
  for (const p of processes) {
    const stats = p.disk?.stats();
    if (stats === undefined) continue;
    for (const name of ['puts', 'hits', 'deviceReads', 'corrupt', 'rejectedBusy', 'rejectedBudget', 'evicted', 'reinserted', 'regionsReclaimed', 'writeErrors'] as const) add(name, stats[name]);
  }
  for (const device of cluster.disks.values()) {
    for (const [name, n] of Object.entries(device.counts)) add(`device.${name}`, n);
  }
  return out;
}

export const kvPressureDiskScenario: Scenario = {
  name: 'kv-pressure-disk',
  summary: 'kv-pressure with a disk tier of 8x memory under each store, on simulated disks with write errors, torn writes and rotting bits',
  defaults: { nodes: 5, durationMs: 60_000, faults: 'swarm' },
  run: (options, trace) => runKvPressure(options, trace, { ...PRESSURE, disk: PRESSURE_DISK }),
};

/**
 * `kv-pressure-forgetful`: kv-pressure with each node's eviction shadow cut to 64 keys, so a key
 * evicted is forgotten by the shadow within the run (as a production node's is after 4,096 to
 * 65,536 more evictions) and the filter of forgotten keys (forgotten-keys.ts) answers for it:
 * the same checkers judge whether an older copy comes back (restart-probe F5).
 */
export const FORGETFUL_SHADOW_ENTRIES = 64;

export const kvPressureForgetfulScenario: Scenario = {
  name: 'kv-pressure-forgetful',
  summary: 'kv-pressure with each node\'s eviction shadow cut to 64 keys, so evicted keys are forgotten within the run and its filter of forgotten keys answers for them',
  defaults: { nodes: 5, durationMs: 60_000, faults: 'swarm' },
  run: (options, trace) => runKvPressure(options, trace, { ...PRESSURE, shadowEntries: FORGETFUL_SHADOW_ENTRIES }),
};

/**
 * `kv-disk`: the kv workload (64 keys, most traffic on a few, so keys are overwritten and deleted
 * again and again) on stores that hold about half of a node's share of it, each over a disk tier
 * of 4x its memory (four regions, so they are reclaimed and hot entries reinserted) with the same
 * faults as kv-pressure-disk. Where kv-pressure-disk has many keys
 * each rarely written, this one keeps stale copies on disk all the time: every overwrite of an
 * evicted key must delete or outrank its disk copy, or a read brings an older value back.
 */
const KV_DISK_MAX_MEMORY = 4 * 1024;

export const kvDiskScenario: Scenario = {
  name: 'kv-disk',
  summary: 'kv (few hot keys, many overwrites) on stores too small for half of it, each over a disk tier of 4x memory on simulated disks with write errors, torn writes and rotting bits',
  defaults: { nodes: 5, durationMs: 60_000, faults: 'swarm' },
  run: (options, trace) =>
    runKvPressure(options, trace, { workload: DEFAULT_KV_WORKLOAD, maxMemory: KV_DISK_MAX_MEMORY, disk: { ...PRESSURE_DISK, bytes: 4 * KV_DISK_MAX_MEMORY, regionBytes: 4096 } }),
};
