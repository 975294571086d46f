/**
 * Builds the node a daemon hosts (`createNode` from src/node: SWIM membership, partition actors,
 * the store, replication) from the daemon's configuration. This is the daemon's only contact with
 * the node's construction; everything else in src/daemon sees the `HostedNode` interface.
 */
import { processSignals } from '../runtime/process-signals.ts';
import { createNode } from '../node/create-node.ts';
import type { LeaveProgress, NodeHotKeys, NodeStats, NodeStatus, RefusedPeer, ShoalNode } from '../node/node.ts';
import type { HotKeyAlert } from '../node/hot-key-alerts.ts';
import type { AccessAnalytics, CatchUpStatus, DrainStatus, RequestStatus } from '../protocol/index.ts';
import { DrainRefusedError } from '../node/drain.ts';
import { drainStatus } from './status.ts';
import type { Consistency, KeyspaceService, KvService } from '../replication/api.ts';
import type { SpillSummary } from '../replication/replica-host.ts';
import { DEFAULT_WARM_HOT_KEYS, requiredReplicas } from '../replication/config.ts';
import type { Env, Transport } from '../runtime/env.ts';
import { META } from '../node/node.ts';
import type { SourceMember } from '../resp/cluster-view.ts';
import type { WsTransport } from '../transport/ws-transport.ts';
import { ConfigError, type DaemonConfig } from './config.ts';
import { hostPort, type SeedList } from './seeds.ts';
import type { AclStore } from '../security/acl.ts';
import { AclSync } from '../security/acl-sync.ts';
import { openDiskTier } from './disk-device.ts';
import { MemoryBudget } from '../node/memory-budget.ts';
import { optionSpec } from './options.ts';
import { parseBytes } from './units.ts';

export interface HostedNode {
  readonly kv: KvService;
  /** The same coordinator plus read-modify-write and scans: what the RESP listener serves. */
  readonly keyspace: KeyspaceService;
  /** Every member gossip knows, with liveness and addresses: what the RESP cluster view reads. */
  clusterMembers(): SourceMember[];
  /** Calls `listener` with the new ring version whenever this node's ring changes; returns an unsubscribe. */
  onTopologyChange(listener: (version: string) => void): () => void;
  /** Whether the node has joined its cluster and serves requests (see ShoalNode.joined). */
  joined(): boolean;
  /** The node's own view of itself and the cluster (ShoalNode.status), for `shoal status`. */
  status(): NodeStatus;
  /** The store's eviction policy by its --eviction-policy name, changeable at run time (RESP CONFIG SET maxmemory-policy). */
  readonly evictionPolicy: { current(): DaemonConfig['evictionPolicy']; set(policy: DaemonConfig['evictionPolicy']): void };
  /** The store's memory budget in bytes (--max-memory), changeable at run time down to --max-memory's minimum (RESP CONFIG SET maxmemory). */
  readonly memoryBudget: MemoryBudget;
  /** Partition replicas held, catching up, and still to be handed off. */
  progress(): { held: number; catchingUp: number; toHandOff: number };
  /** The current (or last) catch-up's progress (see ShoalNode.catchUpProgress). */
  catchUp(): CatchUpStatus;
  /** Graceful leave: hand partitions off, announce `left`, stop, then call `done`. */
  leave(done: () => void): void;
  /** What the leave still waits for: hints per target, partitions to hand off, and the same in words. */
  leaveProgress(): LeaveProgress;
  /** Before a stop for a restart: delivers or passes on the stand-in hints, then calls `done` (ShoalNode.passStandInHintsOn). */
  passStandInHintsOn(done: () => void): void;
  /** Stand-in hints that wait meanwhile. */
  standInHints(): number;
  /** Stops at once; `leave: false` announces nothing (a stop for a restart, --stop-mode restart). */
  stop(options?: { leave?: boolean }): void;
  /** After `stop` for a restart: writes the values still in memory to the disk tier for at most `withinMs` (ShoalNode.spillToDisk). Null without a tier. */
  spillToDisk(withinMs: number): Promise<SpillSummary | null>;
  /** Flushes and closes the disk tier (after `stop`); resolves at once without one. */
  closeDisk(): Promise<void>;
  /** Until the node has joined: what it waits for, in words (ShoalNode.waitingFor, and seed names that do not resolve); null once joined. */
  waitingFor(): string | null;
  /** Whether no other live member holds data (ShoalNode.onlyLiveDataHolder): a leave would drop every value. */
  onlyLiveDataHolder(): boolean;
  /** Whether the node sees no live peer (it founded a cluster and nobody joined yet, or every peer is gone). */
  alone(): boolean;
  /** Peers the node keeps out (another partition count or cluster name, a TLS certificate it refuses when dialing them), and why. */
  refusedPeers(): RefusedPeer[];
  /**
   * Why this node cannot join the cluster its seeds lead to, or null: a seed of another cluster
   * name or a protocol version it does not accept refused it, or the cluster runs another partition count (the cluster refuses the node and
   * the node the cluster). Either way it would sit alone forever. A node started without seeds
   * founds its own cluster and is never the one refused.
   */
  refusal(): string | null;
  /** Quorums in effect and reads that missed, for `shoal status`. */
  requests(): RequestStatus;
  /** Drains or undrains the node (ShoalNode.drain, undrain; src/node/drain.ts): its progress, or why it refused. */
  drain(action: 'drain' | 'undrain'): DrainStatus | { refused: string };
  /** This node's hottest keys and alerts in force (ShoalNode.hotKeys): `shoal hotkeys`, /hotkeys, SHOAL.HOTKEYS. */
  hotKeys(count: number): NodeHotKeys;
  /** Hot-key alerts in force on this node (for the dashboard). */
  activeHotKeyAlerts(): HotKeyAlert[];
  /** Calls `listener` with each hot-key alert and clearing; returns the unsubscribe. */
  onHotKeyAlert(listener: (alert: HotKeyAlert) => void): () => void;
  /** The node's counters (ShoalNode.stats; `hotKeyAlerts` among them). */
  stats(): NodeStats;
  /** The node itself, for the metrics that read its counters (src/daemon/metrics-source.ts). */
  readonly shoal: ShoalNode;
  /** Access analytics of the node's store (ShoalNode.analytics), for `shoal stats` and /stats. */
  analytics(): AccessAnalytics | null;
  /** The node-to-node channel members ask each other on for the admin port's cluster views (src/daemon/member-ask.ts). */
  readonly askChannel: Transport;
}

/**
 * The node takes R and W as consistency levels; the daemon's options are counts (as operators
 * think of them). 1 is `one`, N is `all`, a majority of N is `quorum`; other counts are refused.
 */
export function consistencyFor(option: 'read-quorum' | 'write-quorum', count: number, replicas: number): Consistency {
  const majority = Math.floor(replicas / 2) + 1;
  if (count === majority) return 'quorum';
  if (count === 1) return 'one';
  if (count === replicas) return 'all';
  throw new ConfigError(`--${option} ${count} is not supported with --replicas ${replicas}: use 1 (one), ${majority} (a majority) or ${replicas} (all)`);
}

/** `onAclPeerState`: called each time the node has compared its users with a peer's (AclSyncOptions.onPeerState). */
export function createHostedNode(env: Env, config: DaemonConfig, clientAddress: string, transport: WsTransport, seeds: SeedList, acl?: AclStore, onAclPeerState?: () => void): HostedNode {
  let aclSync: AclSync | null = null;
  let askChannel: Transport | null = null;
  const disk = openDiskTier(env, config);
  const node = createNode({
    env,
    config: {
      name: config.name,
      zone: config.zone,
      seeds: seeds.current,
      partitions: config.partitions,
      replicas: config.replicas,
      readQuorum: consistencyFor('read-quorum', config.readQuorum, config.replicas),
      writeQuorum: consistencyFor('write-quorum', config.writeQuorum, config.replicas),
      maxMemory: config.maxMemory,
      evictionPolicy: config.evictionPolicy === 'default' ? 'wtinylfu' : config.evictionPolicy,
      hotKeyAlertRate: config.hotKeyAlertRate,
      peerHealth: { routing: config.healthRouting },
      failurePrediction: { publish: true },
      ...(config.autoDrain ? { autoDrain: {} } : {}),
      processSignals: processSignals(),
      ...(disk === null ? {} : { disk: disk.tier }),
      analytics: { prefixDelimiter: config.statsPrefixDelimiter },
      replication: { requestTimeoutMs: config.replicaTimeoutMs, replicaBytesPerSecond: config.replicaBytesPerSecond, maxKeyBytes: config.limits.maxKeyBytes, maxValueBytes: config.limits.maxValueBytes, slowLogThresholdMs: config.slowLogThresholdMs, warmHotKeys: DEFAULT_WARM_HOT_KEYS },
      gossipProfile: config.gossipProfile,
      clusterName: config.cluster,
      clientAddress,
      // The RESP port is fixed (probed) before the node starts, so peers learn it with the node.
      ...(config.respPort === 0 ? {} : { respAddress: hostPort(config.advertiseHost, config.respPort) }),
      // So is the admin port: any member's dashboard gathers every member's numbers from it (src/admin).
      ...(config.adminPort === 0 ? {} : { adminPort: config.adminPort }),
      askChannel: (channel) => void (askChannel = channel),
      // Users and ACLs reach every member (src/security/acl-sync.ts).
      ...(acl === undefined
        ? {}
        : {
            aclChannel: (channel) => {
              aclSync = new AclSync({
                store: acl,
                transport: channel,
                timers: env.timers,
                peers: () => node.membership.members().filter((m) => (m.state === 'alive' || m.state === 'suspect') && m.address !== env.address).map((m) => m.address),
                ...(onAclPeerState === undefined ? {} : { onPeerState: onAclPeerState }),
              });
            },
          }),
    },
  });
  // A failed dial fails a direct probe at once instead of after the probe timeout.
  transport.onUnreachable((address, reason) => node.membership.reportUnreachable(address, reason));
  return {
    shoal: node,
    kv: node.kv,
    keyspace: node.keyspace,
    clusterMembers: () =>
      node.membership.members().map((m) => ({
        name: m.name,
        zone: m.zone,
        state: m.state,
        peerAddress: m.address,
        respAddress: typeof m.meta[META.respAddress] === 'string' ? (m.meta[META.respAddress] as string) : null,
      })),
    onTopologyChange: (listener) => node.onTopologyChange(listener),
    joined: () => node.joined,
    status: () => node.status(),
    evictionPolicy: {
      current: () => (node.store.policyName === 'wtinylfu' ? 'default' : node.store.policyName),
      set: (policy) => node.store.setPolicy(policy === 'default' ? 'wtinylfu' : policy),
    },
    memoryBudget: new MemoryBudget(node.store, env.timers, parseBytes(optionSpec('max-memory').min!)),
    progress: () => {
      const s = node.status();
      return { held: s.partitionsHeld, catchingUp: s.handoff.partitionsCatchingUp, toHandOff: s.handoff.partitionsToHandOff };
    },
    catchUp: () => node.catchUpProgress(),
    leave: (done) => node.leave(done),
    hotKeys: (count) => node.hotKeys(count),
    activeHotKeyAlerts: () => node.activeHotKeyAlerts(),
    onHotKeyAlert: (listener) => node.onHotKeyAlert(listener),
    stats: () => node.stats(),
    leaveProgress: () => node.leaveProgress(),
    passStandInHintsOn: (done) => node.passStandInHintsOn(done),
    standInHints: () => node.standInHints,
    stop: (options) => {
      aclSync?.stop();
      node.stop(options);
    },
    spillToDisk: (withinMs) => (disk === null ? Promise.resolve(null) : new Promise((resolve) => node.spillToDisk(withinMs, resolve))),
    closeDisk: () => disk?.close() ?? Promise.resolve(),
    waitingFor: () => {
      const waiting = node.waitingFor();
      const unresolved = seeds.problems();
      return waiting === null || unresolved === null ? waiting : `${unresolved}; ${waiting}`;
    },
    onlyLiveDataHolder: () => node.onlyLiveDataHolder,
    alone: () => node.membership.liveMembers() <= 1,
    // Members whose TLS certificate this node refuses when it dials them are refused too: one
    // admitted through its own dial that cannot be reached back would otherwise just show dead.
    // (A seed that is no member is reported by `waiting for`, with the same reason.)
    refusedPeers: () => {
      const refused = node.refusedPeers();
      const named = new Set(refused.map((r) => r.name));
      const nameOf = new Map(node.membership.members().map((m) => [m.address, m.name]));
      for (const { address, reason } of transport.tlsRefusals()) {
        const name = nameOf.get(address);
        if (name !== undefined && !named.has(name)) refused.push({ name, address, reason });
      }
      return refused;
    },
    analytics: () => node.analytics(),
    askChannel: askChannel!,
    drain: (action) => {
      try {
        return drainStatus(action === 'drain' ? node.drain() : node.undrain());
      } catch (error) {
        if (error instanceof DrainRefusedError) return { refused: error.message };
        throw error;
      }
    },
    requests: () => {
      const s = node.status();
      // A partition has min(N, members) replicas; R and W are taken over those (see requiredReplicas).
      const width = Math.max(1, s.ring.replicas);
      const c = s.coordinator;
      return {
        configuredReplicas: node.config.replicas,
        effectiveReadQuorum: requiredReplicas(node.config.defaultReadConsistency, width),
        effectiveWriteQuorum: requiredReplicas(node.config.defaultWriteConsistency, width),
        misses: { absent: c.missAbsent, deleted: c.missDeleted, expired: c.missExpired, evicted: c.missEvicted },
      };
    },
    refusal: () => {
      if (config.seeds.length === 0) return null;
      // Cheap reads only: this runs every half second.
      const seeds = config.seeds.join(', ');
      const foreign = node.clusterRefusal();
      if (foreign !== null) return `cannot join the cluster of ${seeds}: ${foreign.reason}; start this node with --cluster ${foreign.cluster}, or give it --seeds of cluster "${config.cluster}"`;
      const version = node.versionRefusal();
      if (version !== null) return `cannot join the cluster of ${seeds}: ${version.reason}; run a shoal release whose protocol version the cluster accepts`;
      const [first] = node.refusedMembers();
      if (first === undefined || node.placement().members.length > 1) return null;
      // Alone in its ring and refused: this node, not the cluster, runs the odd count.
      return (
        `cannot join the cluster of ${seeds}: it uses ${first.partitions} partitions and this node ${config.partitions} ` +
        `(the partition count is fixed for the life of a cluster); start this node with --partitions ${first.partitions}`
      );
    },
  };
}
