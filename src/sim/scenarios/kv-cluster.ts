/**
 * A simulated kv cluster for the kv scenarios: full Shoal nodes (createNode: SWIM gossip, ring,
 * partition actors, store, replication) on the simulated network, node stats summed across
 * restarts, and the convergence and bounded-resources checks. Nothing is scripted: a crash is
 * noticed by gossip's failure detector, a restart rejoins through the seeds.
 */
import type { GossipConfig } from '../../gossip/config.ts';
import { createNode, type NodeConfig } from '../../node/create-node.ts';
import { SeededRandom } from '../../runtime/seeded-random.ts';
import { aesBlockSealer } from '../../security/block-sealer.ts';
import { DiskTier } from '../../store/index.ts';
import { SimDisk, type DiskFaults } from '../disk.ts';
import type { NodeStats, ShoalNode } from '../../node/node.ts';
import type { ReplicationConfig } from '../../replication/config.ts';
import { decodeRecord, versionOfEncoded } from '../../replication/record.ts';
import { compareVersions, versionToString, type Version } from '../../replication/hlc.ts';
import type { Env } from '../../runtime/env.ts';
import type { NetworkConfig } from '../network.ts';
import { Simulation, nodeAddress, type ProcessInfo } from '../simulation.ts';
import type { Draws } from '../rng.ts';
import type { EventTrace } from '../trace.ts';

/**
 * Gossip timings for the kv scenarios: the 'local' profile (fast probes, short suspicion), with
 * push-pull often enough that the halves of a healed network partition find each other within
 * the liveness phase.
 */
export const KV_SIM_GOSSIP: Partial<GossipConfig> = { pushPullIntervalMs: 5_000 };

export interface KvClusterOptions {
  seed: number;
  nodes: number;
  partitions: number;
  replication: Partial<ReplicationConfig>;
  network: Partial<NetworkConfig>;
  trace: EventTrace;
  /** Nodes started at time 0 (the rest are added by the scenario). Default: all. */
  initialNodes?: number;
  gossip?: Partial<GossipConfig>;
  /** Each node's store budget in bytes (default createNode's, far above the kv key spaces). */
  maxMemory?: number;
  /** Each partition actor's mailbox bound (default createNode's). */
  mailboxCapacity?: number;
  /** Per-node configuration over the cluster's (the rolling scenarios set each node's protocol version). */
  nodeConfig?: (info: ProcessInfo) => Partial<NodeConfig>;
  /**
   * Wraps the building of each node process, for scenarios that observe nodes from outside (the
   * kv-pressure scenario watches each store's evictions). It must not change what the node does.
   */
  instrument?: (env: Env, info: ProcessInfo, build: (env: Env) => ShoalNode) => ShoalNode;
  /** Told of each crash (`crash`), before the node's process and its memory are discarded. */
  onCrash?: (index: number) => void;
  /** How the network and the nodes draw their randomness (default 'shared'). */
  draws?: Draws;
  /** Receives every node's log lines (Simulation's logSink), for tests that check what a node tells its operator. */
  logSink?: (line: string) => void;
  /** A disk tier under each node's store, on a simulated disk that outlives the node's restarts. */
  disk?: { bytes: number; regionBytes: number; faults: DiskFaults };
}

/** Simulated disks answer after 0.05 to 1 ms of virtual time, so reads and writes interleave with everything else. */
const DISK_LATENCY_MS = { min: 0.05, spread: 0.95 };
/** The disk tier's sealer in the simulator: AES-256-GCM as in production, under a fixed key. */
const SIM_DISK_SEALER = aesBlockSealer({ primary: new Uint8Array(32).fill(0x5d), all: [new Uint8Array(32).fill(0x5d)] });

export class KvCluster {
  readonly sim: Simulation<ShoalNode>;
  /** Stats of processes that crashed or stopped, so figures survive restarts. */
  private readonly retired: NodeStats[] = [];
  /** When each crash happened (virtual ms), for the history checker's W=1 writes. */
  private readonly crashTimes: number[] = [];
  /** Nodes that left the cluster for good. */
  private readonly left = new Set<number>();
  /** Nodes leaving or stopping for a restart: up, but about to be down (with an empty store after). */
  private readonly stopping = new Set<number>();
  /** Each node's simulated disk, by index, kept across its restarts. */
  readonly disks = new Map<number, SimDisk>();
  /** Each key's bytes, encoded once: convergence places every key on every check. */
  private readonly keyBytes = new Map<string, Uint8Array>();

  constructor(readonly options: KvClusterOptions) {
    const initial = options.initialNodes ?? options.nodes;
    // Every initial node is a seed: a restarted node rejoins through whichever is up.
    const seeds = Array.from({ length: initial }, (_, i) => nodeAddress(i));
    this.sim = new Simulation<ShoalNode>({
      seed: options.seed,
      nodes: initial,
      trace: options.trace,
      network: options.network,
      ...(options.draws === undefined ? {} : { draws: options.draws }),
      ...(options.logSink === undefined ? {} : { logSink: options.logSink }),
      factory: (env, info) => {
        const build = (e: Env) =>
          createNode({
            env: e,
            config: {
              seeds,
              partitions: options.partitions,
              replication: options.replication,
              gossipProfile: 'local',
              gossip: { ...KV_SIM_GOSSIP, ...options.gossip },
              ...(options.maxMemory === undefined ? {} : { maxMemory: options.maxMemory }),
              ...(options.mailboxCapacity === undefined ? {} : { mailboxCapacity: options.mailboxCapacity }),
              ...(options.disk === undefined ? {} : { disk: this.diskTier(e, info.index, options.disk) }),
              ...options.nodeConfig?.(info),
            },
          });
        return options.instrument ? options.instrument(env, info, build) : build(env);
      },
    });
  }

  /** A disk tier for a node starting (again) on its own simulated disk, answering through the node's timers. */
  private diskTier(env: Env, index: number, spec: NonNullable<KvClusterOptions['disk']>): DiskTier {
    let device = this.disks.get(index);
    if (device === undefined) {
      device = new SimDisk(spec.bytes, SeededRandom.mulberry32(this.options.seed * 131 + index), spec.faults);
      this.disks.set(index, device);
    }
    const latency = SeededRandom.mulberry32(this.options.seed * 137 + index);
    device.attach((fn) => env.timers.setTimer(DISK_LATENCY_MS.min + latency.next() * DISK_LATENCY_MS.spread, fn));
    return new DiskTier({ device, sealer: SIM_DISK_SEALER, clock: env.clock, regionBytes: spec.regionBytes, versionOf: versionOfEncoded });
  }

  /** Adds and starts a node; it joins through the seeds. */
  addNode(): number {
    const index = this.sim.nodes.length;
    this.sim.addNode({ start: true });
    return index;
  }

  /** Graceful leave (ShoalNode.leave: announce, hand off, leave gossip, stop); calls `done` once it stopped. */
  leave(index: number, done: () => void): void {
    const node = this.sim.process(index)!;
    this.stopping.add(index);
    node.leave(() => {
      const stop = (): void => {
        this.stopping.delete(index);
        this.retired.push(node.stats());
        this.left.add(index);
        this.sim.stop(index);
        done();
      };
      // As the daemon does after a leave: the tier is flushed and closed, so the partition drops of
      // the handoff reach the device and a start after it finds the tier empty. (Stopping without
      // the close cut them short, as a crash would, and the next start recovered every value the
      // leave had dropped: a rolling restart in the simulator kept data a real one loses.)
      if (node.disk === null) stop();
      else node.disk.close(stop);
    });
  }

  /**
   * A stop for a restart, as the daemon does it with --stop-mode restart: stand-in hints passed
   * on, the node stopped without leaving, the values still in memory spilled to its disk tier
   * (given up to `spillMs` of virtual time), the tier closed. Calls `done` once the node is down.
   */
  stopForRestart(index: number, done: () => void, spillMs = 10_000): void {
    const node = this.sim.process(index)!;
    this.stopping.add(index);
    node.passStandInHintsOn(() => {
      node.stop({ leave: false });
      node.spillToDisk(spillMs, () => {
        const stop = (): void => {
          this.stopping.delete(index);
          this.retired.push(node.stats());
          this.sim.stop(index);
          done();
        };
        if (node.disk === null) stop();
        else node.disk.close(stop);
      });
    });
  }

  crash(index: number): void {
    const node = this.sim.process(index);
    if (node) this.retired.push(node.stats());
    this.crashTimes.push(this.sim.now);
    this.options.onCrash?.(index);
    this.sim.crash(index);
    // The process died with its writes in flight: the disk keeps whatever part of them landed.
    this.disks.get(index)?.crash();
  }

  /** Whether a node crashed at any time in (fromMs, toMs). */
  crashDuring(fromMs: number, toMs: number): boolean {
    return this.crashTimes.some((t) => t > fromMs && t < toMs);
  }

  /** Starts a crashed or stopped node again, with its name and address (after a leave, it rejoins). */
  restart(index: number): void {
    this.left.delete(index);
    if (!this.sim.nodes[index]!.up) this.sim.start(index);
  }

  /** Sum of every process's stats, retired ones included. */
  totals(): NodeStats {
    const all = [...this.retired, ...this.sim.upNodes().map((n) => n.process!.stats())];
    const total = zeroLike(all[0]!);
    for (const s of all) sumInto(total, s);
    return total as unknown as NodeStats;
  }

  /** Whether any live node is still catching up (not joined yet, or a replica not yet ready). */
  anyCatchingUp(except = -1): boolean {
    return this.sim.upNodes().some((n) => n.index !== except && n.process!.catchingUp());
  }

  /** Whether a node is leaving or stopping for a restart (the fault schedule then counts it as down). */
  anyStopping(): boolean {
    return this.stopping.size > 0;
  }

  /**
   * Liveness: every node up, seeing every other as alive, on the same ring, and settled (caught
   * up, nothing to hand off, no hints); and every owner of each key holds the same version.
   * `missingAllowed`: an owner holding nothing for a key is not a disagreement (its store may have
   * evicted the key, which is legitimate for a cache); owners that do hold it must agree.
   */
  convergence(keys: readonly string[], { missingAllowed = false }: { missingAllowed?: boolean } = {}): string | null {
    const up = this.sim.upNodes();
    const members = this.sim.nodes.filter((n) => !this.left.has(n.index));
    if (up.length !== members.length) return `${members.length - up.length} nodes are down`;
    const ring = up[0]!.process!.placement().version;
    for (const n of up) {
      const node = n.process!;
      if (node.placement().version !== ring) return `${n.address} is on ring ${node.placement().version}, ${up[0]!.address} on ${ring}`;
      const view = new Map(node.membership.members().map((m) => [m.name, m.state]));
      for (const other of up) {
        const state = view.get(other.address);
        if (state !== 'alive') return `${n.address} sees ${other.address} as ${state ?? 'unknown'}`;
      }
    }
    for (const n of up) {
      const node = n.process!;
      if (!node.settled()) {
        const p = node.handoffProgress();
        return `${n.address} not settled: ${p.partitionsCatchingUp} catching up, ${p.partitionsToHandOff} to hand off, ${node.stats().hints.held} hints`;
      }
    }
    const placement = up[0]!.process!.placement();
    // Once settled, a node holds only partitions it owns: anything else was handed off or dropped.
    for (const n of up) {
      for (const p of n.process!.heldPartitions().keys()) {
        if (!placement.owners(p).includes(n.address)) return `${n.address} still holds partition ${p}, which it does not own`;
      }
    }
    for (const key of keys) {
      const p = placement.partitionOfKey(this.bytesOf(key));
      let first: Version | null | undefined; // undefined: no owner looked at yet; null: the first holds nothing
      for (const owner of placement.owners(p)) {
        const node = this.sim.process(this.sim.indexOf(owner)!)!;
        const bytes = node.heldPartitions().get(p)?.peek(key) ?? null;
        if (!bytes && missingAllowed) continue;
        const v = bytes ? decodeRecord(bytes).version : null;
        if (first === undefined) first = v;
        else if (!sameVersion(v, first)) return `replicas of ${key} disagree (${owner} has ${shownVersion(v)}, another owner ${shownVersion(first)})`;
      }
    }
    return null;
  }

  private bytesOf(key: string): Uint8Array {
    let bytes = this.keyBytes.get(key);
    if (bytes === undefined) this.keyBytes.set(key, (bytes = new TextEncoder().encode(key)));
    return bytes;
  }

  /**
   * Invariant: no store evicted for lack of memory. The kv key spaces are far below the nodes'
   * budgets, so an eviction would be a bug; and a miss after an eviction is legitimate for a cache,
   * which the lost-write checker could not tell from a lost write. Keeping evictions at zero keeps
   * that checker meaningful.
   */
  noEvictions(): string | null {
    for (const n of this.sim.upNodes()) {
      const s = n.process!.stats().store;
      if (s.size > 0) return `${n.address} evicted ${s.size} entries for lack of memory (${s.bytes} bytes held); the lost-write check assumes none`;
    }
    return null;
  }

  /** Invariant: hint stores, pending-request tables and partition mailboxes within their bounds. */
  boundedResources(limits: { maxHints: number; maxHintBytes: number; maxPendingRequests: number }): string | null {
    for (const n of this.sim.upNodes()) {
      const s = n.process!.stats();
      if (s.hints.peakCount > limits.maxHints) return `${n.address} held ${s.hints.peakCount} hints (limit ${limits.maxHints})`;
      if (s.hints.peakBytes > limits.maxHintBytes) return `${n.address} held ${s.hints.peakBytes} hint bytes (limit ${limits.maxHintBytes})`;
      if (s.coordinator.peakPending > limits.maxPendingRequests) return `${n.address} had ${s.coordinator.peakPending} requests pending (limit ${limits.maxPendingRequests})`;
      if (s.mailboxes.peakDepth > s.mailboxes.capacity) return `${n.address} had a partition mailbox ${s.mailboxes.peakDepth} deep (limit ${s.mailboxes.capacity})`;
    }
    return null;
  }
}

/** A version as convergence reports it: versionToString's text, or `none` when nothing is held. */
function shownVersion(v: Version | null): string {
  return v === null ? 'none' : versionToString(v);
}

/** Whether two owners hold the same version (null: nothing held). */
function sameVersion(a: Version | null, b: Version | null): boolean {
  if (a === null || b === null) return a === b;
  return compareVersions(a, b) === 0;
}

type Numeric = { [k: string]: number | Numeric };

function zeroLike(x: object): Numeric {
  const out: Numeric = {};
  for (const [k, v] of Object.entries(x)) out[k] = typeof v === 'number' ? 0 : zeroLike(v as object);
  return out;
}

/** Adds `b` into `a` field by field; `peak*` fields take the maximum instead. */
function sumInto(a: Numeric, b: object): Numeric {
  for (const [k, v] of Object.entries(b)) {
    if (typeof v === 'number') a[k] = k.startsWith('peak') ? Math.max(a[k] as number, v) : (a[k] as number) + v;
    else sumInto(a[k] as Numeric, v as object);
  }
  return a;
}
