/**
 * `createNode({ env, config })`: one Shoal node from its configuration and an Env (real sockets in
 * the daemon, simulated in src/sim). Every field has a documented default; see docs/NODE.md.
 */
import { DEFAULT_PEER_HEALTH, type PeerHealthOptions } from '../health/peer-health.ts';
import type { ProcessSignalSource } from '../health/self-health.ts';
import { DEFAULT_AUTO_DRAIN, type AutoDrainOptions, type AutoDrainTarget } from '../health/auto-drain.ts';
import type { FailureModel } from '../health/failure-predictor.ts';
import { FAILURE_MODEL } from '../health/failure-model.ts';
import { DEFAULT_MAILBOX_CAPACITY } from '../actors/index.ts';
import { PROFILES, type GossipBugs, type GossipConfig, type ProfileName } from '../gossip/config.ts';
import type { SeedSource } from '../gossip/seeds.ts';
import { protocolRange } from '../gossip/protocol-version.ts';
import { SwimMembership } from '../gossip/swim.ts';
import type { Consistency } from '../replication/api.ts';
import { replicationConfig, type ReplicationBugs, type ReplicationConfig } from '../replication/config.ts';
import { assertValidPartitionCount, DEFAULT_PARTITION_COUNT } from '../ring/partition.ts';
import { wallUsOf, type Env, type NodeAddress, type Transport } from '../runtime/env.ts';
import { Store } from '../store/index.ts';
import type { AnalyticsOptions, DiskTier, PolicyName } from '../store/index.ts';
import { META, ShoalNode } from './node.ts';
import { checkRoomForFlags } from './own-meta.ts';
import { MessageFamily, TransportMux } from './wire.ts';

/** Default store budget: small enough for many simulated nodes in one process, ample for their key spaces. */
export const DEFAULT_MAX_MEMORY = 64 * 1024 * 1024;
/** Default gossip timing profile (src/gossip/config.ts). */
export const DEFAULT_GOSSIP_PROFILE: ProfileName = 'lan';
/**
 * After first hearing from its cluster, a joining node waits this long before building its first
 * ring, so the ring comes from the full view a seed's push-pull answer brings (one round trip).
 */
export const DEFAULT_JOIN_SETTLE_MS = 250;

export interface NodeConfig {
  /** Member name, stable across restarts (the ring places partitions by name). Default: the Env's address. */
  name?: string;
  /** Failure domain; replicas go to distinct zones where there are at least N. Default ''. */
  zone?: string;
  /**
   * Addresses to join through (our own is skipped), or a source read again at each join attempt
   * (the daemon's re-resolved DNS names). None at construction: this node founds a cluster.
   */
  seeds?: readonly NodeAddress[] | SeedSource;
  /** Partition count Q, fixed for the cluster's life; members with another Q are refused. Default 1024. */
  partitions?: number;
  /** Replicas per key, N. Default 3. */
  replicas?: number;
  /** Consistency of reads and writes that do not name one. Default 'quorum'. */
  readQuorum?: Consistency;
  writeQuorum?: Consistency;
  /** Store memory budget in bytes. Default DEFAULT_MAX_MEMORY. */
  maxMemory?: number;
  /**
   * A disk tier under the store (docs/STORE.md, "Disk tier"), not yet recovered: the node reads it
   * back in the background. The caller owns it: flush happens on the node's store tick, and the
   * caller closes it after the node stopped.
   */
  disk?: DiskTier;
  /** Store eviction policy (--eviction-policy). Default 'wtinylfu'. */
  evictionPolicy?: PolicyName;
  /** Access analytics of the store (`shoal stats`: prefix delimiter...), or false for none. */
  analytics?: AnalyticsOptions | false;
  /** Bound of each partition actor's mailbox. Default DEFAULT_MAILBOX_CAPACITY. */
  mailboxCapacity?: number;
  /** Gossip timing profile: 'lan' (default), 'wan' or 'local'. */
  gossipProfile?: ProfileName;
  /** Single gossip fields over the profile (e.g. timings tuned for the simulator). */
  gossip?: Partial<GossipConfig>;
  /** Gossip refuses messages from other cluster names. Default: the profile's ('shoal'). */
  clusterName?: string;
  /** host:port clients should connect to, advertised to clients through the topology. */
  clientAddress?: string;
  /** host:port of this node's Redis protocol listener, advertised through gossip (CLUSTER SLOTS, MOVED). */
  respAddress?: string;
  /** Port of this node's HTTP admin listener (src/admin), advertised through gossip so any member's dashboard reaches it. */
  adminPort?: number;
  /** Every other replication knob (hint window, timeouts, sync pacing...). */
  replication?: Partial<ReplicationConfig>;
  /**
   * Node protocol version this node announces; it accepts peers one version either side (see
   * src/gossip/protocol-version.ts). Default: this build's PROTOCOL_VERSION. The simulator sets it
   * per node to run mixed clusters.
   */
  protocolVersion?: number;
  /** See DEFAULT_JOIN_SETTLE_MS. */
  joinSettleMs?: number;
  /** Hot-key alert threshold in ops/s per key on this node (src/node/hot-key-alerts.ts); 0 (default) is off. */
  hotKeyAlertRate?: number;
  /**
   * Peer health over DEFAULT_PEER_HEALTH (src/health/peer-health.ts). `routing` (reads leave
   * demoted replicas out of their first round, and the node gossips its verdicts: peer-verdicts.ts)
   * defaults to false here: verdicts are kept and shown, but every live owner is asked and nothing
   * is published, so the simulator's seeds keep their runs; the daemon's
   * --health-routing turns it on.
   */
  peerHealth?: Partial<PeerHealthOptions>;
  /** This node's own signals (src/health/self-health.ts): the process's, and the heap's limit. Default none (the simulator). */
  processSignals?: ProcessSignalSource & { heapLimitBytes: number };
  /**
   * Failure prediction (src/health/failure-predictor.ts): the model (default the trained
   * FAILURE_MODEL) and whether this node gossips its prediction in its member metadata (default
   * false here, so the simulator's seeds keep their runs; the daemon publishes).
   */
  failurePrediction?: { model?: FailureModel; publish?: boolean };
  /**
   * The automatic drain policy (src/health/auto-drain.ts): when it asks (default
   * DEFAULT_AUTO_DRAIN) and what it calls (default: the node drains itself, ShoalNode.drain; a
   * control of its own only records, as the predictor's corpus runs do). Absent: no automatic drain.
   */
  autoDrain?: { options?: AutoDrainOptions; control?: AutoDrainTarget };
  /** Called with the node's channel for users and ACLs (MessageFamily.acl); the node itself does not read it. */
  aclChannel?: (transport: Transport) => void;
  /** Called with the node's channel for members' questions (MessageFamily.ask); the node itself does not read it. */
  askChannel?: (transport: Transport) => void;
}

/** The gossip layer's test-only switches, which the simulator sets among the replication bugs. */
function gossipBugs(bugs: ReplicationBugs | undefined): { bugs?: GossipBugs } {
  const gossip: GossipBugs = {};
  if (bugs?.ignoreStaleAccusations) gossip.ignoreStaleAccusations = true;
  if (bugs?.silentToAccused) gossip.silentToAccused = true;
  return Object.keys(gossip).length > 0 ? { bugs: gossip } : {};
}

export function createNode({ env, config = {} }: { env: Env; config?: NodeConfig }): ShoalNode {
  const partitions = config.partitions ?? DEFAULT_PARTITION_COUNT;
  assertValidPartitionCount(partitions);
  const replication = replicationConfig({
    ...config.replication,
    ...(config.replicas === undefined ? {} : { replicas: config.replicas }),
    ...(config.readQuorum === undefined ? {} : { defaultReadConsistency: config.readQuorum }),
    ...(config.writeQuorum === undefined ? {} : { defaultWriteConsistency: config.writeQuorum }),
  });
  const mux = new TransportMux(env.transport);
  config.aclChannel?.(mux.channel(MessageFamily.acl));
  config.askChannel?.(mux.channel(MessageFamily.ask));
  const gossip: GossipConfig = {
    ...PROFILES[config.gossipProfile ?? DEFAULT_GOSSIP_PROFILE],
    ...config.gossip,
    ...(config.clusterName === undefined ? {} : { clusterName: config.clusterName }),
    ...gossipBugs(replication.bugs),
  };
  const seeds = config.seeds ?? [];
  const seedsNow = (typeof seeds === 'function' ? seeds() : seeds).filter((s) => s !== env.address);
  const meta: Record<string, string | number> = { [META.partitions]: partitions, [META.started]: Math.floor(wallUsOf(env.clock)) };
  if (config.clientAddress !== undefined) meta[META.clientAddress] = config.clientAddress;
  if (config.respAddress !== undefined) meta[META.respAddress] = config.respAddress;
  if (config.adminPort !== undefined) meta[META.adminPort] = config.adminPort;
  checkRoomForFlags(meta, [META.claimSeed, META.leaving, META.draining, META.stopping]);
  const membership = new SwimMembership(
    { ...env, transport: mux.channel(MessageFamily.gossip) },
    { name: config.name ?? env.address, zone: config.zone ?? '', meta, seeds, stickyMeta: [META.claimSeed], config: gossip, protocol: protocolRange(config.protocolVersion) },
  );
  return new ShoalNode({
    env,
    kvTransport: mux.channel(MessageFamily.kv),
    membership,
    store: new Store({ maxMemory: config.maxMemory ?? DEFAULT_MAX_MEMORY, policy: config.evictionPolicy ?? 'wtinylfu', clock: env.clock, random: env.random, ...(config.analytics === undefined ? {} : { analytics: config.analytics }) }),
    replication,
    partitions,
    mailboxCapacity: config.mailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY,
    joinsThroughSeeds: seedsNow.length > 0,
    joinSettleMs: config.joinSettleMs ?? DEFAULT_JOIN_SETTLE_MS,
    gossipRoundMs: gossip.probeIntervalMs,
    hotKeyAlertRate: config.hotKeyAlertRate ?? 0,
    peerHealth: { ...DEFAULT_PEER_HEALTH, routing: false, ...config.peerHealth },
    processSignals: config.processSignals ?? null,
    failureWatch: { model: config.failurePrediction?.model ?? FAILURE_MODEL, publish: config.failurePrediction?.publish ?? false, autoDrain: config.autoDrain ? { ...config.autoDrain, options: config.autoDrain.options ?? DEFAULT_AUTO_DRAIN } : null },
    ...(config.disk === undefined ? {} : { disk: config.disk }),
  });
}
