/**
 * The composition root of one node's core: SWIM membership (src/gossip) + ring placement +
 * partition actors (src/actors) over the node's one Store (src/store) + coordinator + hinted
 * handoff + partition sync, all on one injected Env. The daemon wraps it with real sockets; the
 * simulator builds it with a simulated Env. `createNode` (create-node.ts) is the entry point.
 *
 * Gossip and replication share the node's transport through a one-byte family prefix (wire.ts).
 *
 * The ring is built from the members that hold data: every member gossip remembers that has not
 * left, is not leaving, and runs the cluster's partition count. So a crash does not move
 * partitions (sloppy quorum, hints and catch-up cover a down member), while a join, a graceful
 * leave, and the final removal of a member dead for good do. A dead member is removed when gossip
 * forgets it: `deadReclaimMs` after it was declared dead (gossip profile; 2 minutes on a LAN).
 *
 * Joining and ring changes are the ring lifecycle's (ring-lifecycle.ts): the first ring, each
 * change, and the ring versions replica requests are routed by. Every partition a node comes to
 * own catches up from the other owners before its reads count (see sync.ts).
 */
import type { InvalidationHub } from '../replication/invalidation.ts';
import type { ClusterRefusal, Member, Membership, MembershipEvent, VersionRefusal } from '../gossip/membership.ts';
import { LogLimiter } from '../runtime/log-limiter.ts';
import { buggify, BUGGIFY_DELAY_MS } from '../runtime/probes.ts';
import { NodeStoryLog } from './story-log.ts';
import { PROBLEM_LOG_INTERVAL_MS } from '../gossip/config.ts';
import { announcedRange, FLUSH_FLOORS_PROTOCOL } from '../gossip/protocol-version.ts';
import { FlushCoordinator } from '../replication/flush.ts';
import type { CatchUpStatus } from '../protocol/frames.ts';
import type { Env, Lane, NodeAddress, Transport } from '../runtime/env.ts';
import { checkPartitionCount, PartitionCountMismatchError, partitionOf } from '../ring/partition.ts';
import type { AccessAnalytics, DiskTier, DiskTierStats, Store, StoreStats } from '../store/index.ts';
import type { KeyspaceService, TopologySnapshot } from '../replication/api.ts';
import type { ReplicationConfig } from '../replication/config.ts';
import type { Placement, ReplicationContext } from '../replication/context.ts';
import { Coordinator, type CoordinatorStats } from '../replication/coordinator.ts';
import { HintedHandoff } from '../replication/hinted-handoff.ts';
import { HintStore, type HintStats } from '../replication/hints.ts';
import { firstRequestId } from '../replication/request-ids.ts';
import { HybridLogicalClock, nodeIdOf, type Version } from '../replication/hlc.ts';
import { ClockCeiling, type ClockCeilingStats } from '../replication/clock-ceiling.ts';
import { keyToStoreKey } from '../replication/record.ts';
import { decodeKvMessage, KvMessageEncoder, MalformedKvMessageError, type KvMessage } from '../replication/messages.ts';
import { ReplicaHost, type MailboxStats, type ReplicaStats, type SpillSummary } from '../replication/replica-host.ts';
import type { ReplicaObserver, RequestObserver } from '../replication/observer.ts';
import { PartitionScanner, ScanResponder } from '../replication/scan.ts';
import { RmwCoordinator, type RmwCoordinatorStats } from '../replication/rmw-coordinator.ts';
import { RmwPrimary, type RmwPrimaryStats } from '../replication/rmw-primary.ts';
import { PartitionSync, type HandoffProgress, type SyncStats } from '../replication/sync.ts';
import { HotKeyAlerts, displayKey, type HotKeyAlert } from './hot-key-alerts.ts';
import { RingLifecycle } from './ring-lifecycle.ts';
import { checkAccounting } from './accounting.ts';
import { DrainRefusedError, NodeDrain, type DrainProgress } from './drain.ts';
import { RING_META, announcedRing } from './ring-placement.ts';
import { SelfHealth, type ProcessSignalSource, type SelfHealthView } from '../health/self-health.ts';
import { decodeVerdicts, encodeVerdicts, memberHealth, VERDICT_META, type MemberHealth } from './peer-verdicts.ts';
import { fitOwnMeta } from './own-meta.ts';
import { VerdictLog } from './verdict-log.ts';
import { MemberLives } from './member-lives.ts';
import { AUTO_DRAIN_RETRY_MS, type AutoDrainOptions, type AutoDrainTarget } from '../health/auto-drain.ts';
import { FailureWatch, type FailureWatchOptions } from './failure-watch.ts';
import { PeerHealth, type PeerHealthCounters, type PeerHealthOptions, type PeerHealthView } from '../health/peer-health.ts';

/** Member metadata keys a node publishes through gossip. */
export const META = {
  /** The partition count Q the member runs; members with another Q are refused. */
  partitions: 'partitions',
  /** host:port clients connect to. */
  clientAddress: 'clientAddress',
  /** host:port of the member's Redis protocol listener (absent: it has none). */
  respAddress: 'respAddress',
  /** Port of the member's HTTP admin listener, on its client address's host (absent: it has none). */
  adminPort: 'adminPort',
  /**
   * Set (1) while the member stops for a restart (passStandInHintsOn): it keeps its place in the
   * ring, but coordinators no longer pick it as a sloppy-quorum stand-in.
   */
  stopping: 'stopping',
  /**
   * When this process started (wall microseconds): it tells a restarted member (a new process, same
   * name and address) from the same process back after being declared dead. Peers forget their
   * health verdict on a member only when this changes (MemberLives).
   */
  started: 'started',
  ...RING_META,
} as const;

/** At most one automatic-drain line (asked, refused) per this interval while the node keeps refusing (drainAutomatically). */
const AUTO_DRAIN_LOG_INTERVAL_MS = 60_000;
/** How often the ring is checked against gossip's member table (gossip forgets dead members silently). */
export const RING_CHECK_INTERVAL_MS = 1_000;
/**
 * How often the store's maintenance runs (bounded active expiry, hot-key windows). Reads never
 * see an expired entry whatever the interval; the tick only reclaims memory.
 */
export const STORE_TICK_INTERVAL_MS = 1_000;
/**
 * This node republishes its health (demoted peers, prediction) at most once per this interval:
 * each republication is a new incarnation gossiped to every member, so however the verdicts or the
 * prediction move, the gossip they cause stays bounded (720 an hour). A first change after a quiet
 * spell goes out at the next store tick. One exception, bounded by restarts rather than by
 * verdicts: a member this node's published view names that comes back as a new process is
 * dropped from the view at the next store tick (one extra publication per restart seen), or its
 * peers would go on showing it degraded for up to this interval after they forgot its verdict.
 */
export const HEALTH_PUBLISH_INTERVAL_MS = 5_000;
/** Self-health trend thresholds: event-loop lag, and the share of requests answered with an error. */
export const SELF_LAG_THRESHOLD_MS = 200;
export const SELF_ERROR_RATE_THRESHOLD = 0.05;
/** How often a leaving node checks whether its handoff is complete (and one stopping for a restart, its stand-in hints). */
export const LEAVE_POLL_INTERVAL_MS = 50;
/**
 * Gossip rounds a stop for a restart gives its `stopping` flag to reach the other members while one
 * is down (so coordinators pick stand-ins): a stand-in write sent before they heard it would be
 * taken after the node passed its stand-in hints on, and lost at the stop. As the rounds a ring
 * must stay unchanged before a Redis redirect (src/resp/cluster-view.ts).
 */
export const STOPPING_SPREAD_ROUNDS = 3;
/**
 * How long a leaving node that has handed everything off keeps coordinating new requests before
 * it refuses them (`not-ready`: the client uses another node): time for clients that follow the
 * topology to move on, four default request deadlines, well inside the daemon's 10 s shutdown timeout.
 */
export const LEAVE_COORDINATION_GRACE_MS = 2_000;
/**
 * A node still joining this long after it started logs what it waits for (then again every
 * PROBLEM_LOG_INTERVAL_MS while it lasts); a healthy join takes a second or two.
 */
export const JOIN_WAIT_LOG_AFTER_MS = 5_000;

/** Everything ShoalNode is built from; create-node.ts fills it from a NodeConfig. */
export interface NodeParts {
  env: Env;
  /** Replication's channel of the node's transport (family 'K'). */
  kvTransport: Transport;
  membership: Membership;
  store: Store;
  replication: ReplicationConfig;
  partitions: number;
  mailboxCapacity: number;
  /** Whether this node must hear from a cluster before owning anything (it was given seeds). */
  joinsThroughSeeds: boolean;
  joinSettleMs: number;
  /** One gossip round (the probe interval): how long news takes to spread is counted in these. */
  gossipRoundMs: number;
  /** Hot-key alert threshold, ops/s per key (0: off); see hot-key-alerts.ts. */
  hotKeyAlertRate?: number;
  /** Peer health's options (NodeConfig.peerHealth), `routing` included. */
  peerHealth: PeerHealthOptions;
  /** The process's own signals (NodeConfig.processSignals), or null. */
  processSignals: (ProcessSignalSource & { heapLimitBytes: number }) | null;
  /**
   * Failure prediction and the automatic drain (NodeConfig.failurePrediction, NodeConfig.autoDrain):
   * without a control of its own, the policy drains this node (ShoalNode.drain).
   */
  failureWatch: Omit<FailureWatchOptions, 'autoDrain'> & { autoDrain: { options: AutoDrainOptions; control?: AutoDrainTarget } | null };
  /** The disk tier under the store, if any (NodeConfig.disk). */
  disk?: DiskTier;
}

/** One key of `ShoalNode.hotKeys`: rate is ops/s on this node over the last store tick. */
export interface NodeHotKey {
  key: string;
  rate: number;
  /** The tracker's decayed count (half-life 10 s) and its possible overestimate. */
  count: number;
  error: number;
}

/** This node's hottest keys and hot-key alerts (`shoal hotkeys`, /hotkeys, SHOAL.HOTKEYS). */
export interface NodeHotKeys {
  node: string;
  /** Wall time of the answer. */
  atMs: number;
  /** --hot-key-alert-rate (0: alerts off). */
  alertRate: number;
  keys: NodeHotKey[];
  alerts: HotKeyAlert[];
}

export interface NodeStats {
  coordinator: CoordinatorStats;
  replica: ReplicaStats;
  hints: HintStats & { held: number; heldBytes: number; peakCount: number; peakBytes: number };
  store: StoreStats['evictions'] & { entries: number; bytes: number; refusedTooLarge: number };
  sync: SyncStats;
  mailboxes: MailboxStats;
  handoff: HandoffProgress;
  malformedMessages: number;
  pendingRequests: number;
  /** Read-modify-write: as coordinator, and as primary (and fencing replica). */
  rmw: RmwCoordinatorStats & RmwPrimaryStats;
  /** Hot-key alerts raised since start (--hot-key-alert-rate), and how many are in force. */
  hotKeyAlerts: number;
  hotKeyAlertsActive: number;
  /** The clock ceiling persisted across restarts (src/replication/clock-ceiling.ts); all 0 when the environment keeps none. */
  clockCeiling: ClockCeilingStats;
}

export interface MemberStatus {
  name: string;
  address: NodeAddress;
  zone: string;
  state: Member['state'];
  incarnation: number;
  clientAddress: string | null;
  /** host:port of its Redis protocol listener, or null when it has none. */
  respAddress?: string | null;
  /** Port of its HTTP admin listener (on the client address's host), or null when it has none. */
  adminPort?: number | null;
  leaving: boolean;
  /** Drained or draining (drain.ts): a live member its peers' rings place no data on. */
  draining: boolean;
  /** In the ring (holds data): not left, not leaving, not drained, same partition count. */
  inRing: boolean;
  /**
   * It announces a ring other than this node's (RING_META.ring): one of the two has not caught up
   * with a ring change yet. False when it announces none (an older build).
   */
  onAnotherRing: boolean;
  /** Partition replicas this member owns in this node's ring, and of those, primaries. */
  partitionsOwned: number;
  primaries: number;
}

/** A peer this node keeps out: another partition count, or another cluster name (never in the view). */
export interface RefusedPeer {
  name: string;
  address: NodeAddress;
  reason: string;
}

/** What a graceful leave still waits for (see ShoalNode.leaveProgress). */
export interface LeaveProgress {
  /** Hints still held, per target. */
  hints: Record<string, number>;
  partitionsToHandOff: number;
  keysToHandOff: number;
  /** Partitions this node's ring still places on it (until its ring drops it). */
  partitionsOwned: number;
  /** The same, in words: "12 hints to n2, 3 partitions (40 keys) to hand off", or "nothing". */
  waitingFor: string;
}

/** What `shoal status` shows about one node: its own view of the cluster. */
export interface NodeStatus {
  name: string;
  zone: string;
  /** False until the node has heard from its cluster and built its first ring. */
  joined: boolean;
  /** Until joined: what the node waits for, in words (see ShoalNode.waitingFor); null once joined. */
  waitingFor: string | null;
  leaving: boolean;
  /** This node's drain (drain.ts): serving, draining or drained, and what has moved. */
  drain: DrainProgress;
  ring: { version: string; partitions: number; replicas: number; members: number };
  members: MemberStatus[];
  /** Members refused because they run another partition count (`partitions`: theirs). */
  refusedMembers: { name: string; partitions: number; reason: string }[];
  /** Partitions whose records this node holds (owned, or still being handed off). */
  partitionsHeld: number;
  handoff: HandoffProgress;
  hints: { held: number; heldBytes: number; stored: number; delivered: number; droppedForRoom: number; expired: number };
  store: StoreStats;
  /** The disk tier's counters; null without one. */
  disk: DiskTierStats | null;
  coordinator: CoordinatorStats;
  mailboxes: MailboxStats;
  /** This node's verdicts on its peers, from using them (src/health/peer-health.ts). */
  health: NodeHealthStatus;
}

/** `NodeStatus.health`: the peers as this node's coordinator sees them, and every member as the cluster's views add up. */
export interface NodeHealthStatus {
  routing: boolean;
  peers: PeerHealthView[];
  counters: PeerHealthCounters;
  /** Per live member: degraded or not, and its health score (peer-verdicts.ts; `shoal_node_health_score`). */
  members: MemberHealth[];
  /** This node's own signals and their trends (self-health.ts). */
  self: SelfHealthView;
  /** This node's probability of failing within `horizonSeconds` and its predicted time to failure (failure-watch.ts); null before the first store tick. */
  prediction: { probability: number; secondsToFailure: number | null; horizonSeconds: number } | null;
}

export class ShoalNode {
  readonly kv: Coordinator;
  /** The invalidation streams of the partitions this node holds (near caches subscribe to them). */
  get invalidations(): InvalidationHub {
    return this.host.invalidations;
  }
  /** Iterates the keyspace partition by partition (replication/scan.ts). */
  readonly scanner: PartitionScanner;
  /** Read-modify-write on the keys' primary (RmwService; rmw-coordinator.ts, rmw-primary.ts). */
  readonly rmw: RmwCoordinator;
  private readonly rmwPrimary: RmwPrimary;
  private keyspaceView: KeyspaceService | null = null;
  readonly config: ReplicationConfig;
  readonly name: string;
  readonly partitions: number;
  readonly membership: Membership;
  /** The node's one storage engine, shared by every partition replica. */
  readonly store: Store;
  readonly disk: DiskTier | null;
  /** Keeps a ceiling above the clock persisted (env.clockCeiling), or null when the environment has no store for it. */
  readonly clockCeiling: ClockCeiling | null;
  private readonly env: Env;
  private readonly kvTransport: Transport;
  /** The ring: joining, changes, versions (ring-lifecycle.ts). */
  private readonly ring: RingLifecycle;
  /** `shoal drain`: ownership given away while the node stays a member (drain.ts). */
  private readonly drainer: NodeDrain;
  private readonly startedMs: number;
  private readonly joinLog = new LogLimiter(PROBLEM_LOG_INTERVAL_MS);
  /** Automatic drains refused and asked again (drainAutomatically): said once a minute. */
  private readonly autoDrainLog = new LogLimiter(AUTO_DRAIN_LOG_INTERVAL_MS);
  /** Ring changes, hint backlog and eviction pressure for operators (story-log.ts). */
  private readonly storyLog: NodeStoryLog;
  private readonly hints: HintStore;
  private readonly hotAlerts: HotKeyAlerts;
  /** What the coordinator learns of each peer from its answers; ranks reads (src/health). */
  readonly peerHealth: PeerHealth;
  private readonly verdictLog: VerdictLog;
  /** Which process of each member this node last heard of: a restart forgets its verdict. */
  private readonly lives: MemberLives;
  /** When publishHealth last changed this node's metadata (see HEALTH_PUBLISH_INTERVAL_MS). */
  private healthPublishedMs = Number.NEGATIVE_INFINITY;
  /** A restarted member's forgotten verdict is still in the published view: the next publishHealth goes out whatever the interval. */
  private republishForRestart = false;
  private readonly selfHealth: SelfHealth;
  readonly failureWatch: FailureWatch;
  private readonly host: ReplicaHost;
  private readonly sync: PartitionSync;
  private readonly handoff: HintedHandoff;
  /** FLUSHALL by flush floor, and the floor hints for members that were down (replication/flush.ts). */
  readonly flusher: FlushCoordinator;
  private readonly scanResponder: ScanResponder;
  private readonly unsubscribe: () => void;
  private readonly nameOfAddress = new Map<NodeAddress, string>();
  private readonly addressOfName = new Map<string, NodeAddress>();
  private readonly alive = new Map<string, boolean>();
  /** Members refused because they run another partition count: theirs, by name. */
  private readonly refused = new Map<string, number>();
  /** Callers of leave() waiting for it to finish. */
  private readonly leaveWaiters: (() => void)[] = [];
  private topologyCache: TopologySnapshot | null = null;
  private readonly topologyListeners = new Set<(version: string) => void>();
  private readonly timers = { store: null as number | null, ring: null as number | null, leave: null as number | null, restart: null as number | null };
  private malformed = 0;
  /** Messages to this node's own replicas, delivered together on the next timer tick (see send). */
  private localQueue: KvMessage[] = [];
  private localDeliveryArmed = false;
  /** Encodes a message sent to several owners once (see KvMessageEncoder). */
  private readonly encoder = new KvMessageEncoder();
  private leaving = false;
  /** Stopping for a restart (passStandInHintsOn): its own replica is no home for a hint then. */
  private stoppingForRestart = false;
  /** A leaving node refuses new requests once its grace after handing off is over (refuseRequestsOnceLeft). */
  private refusingRequests = false;
  private stopped = false;
  private declaredDegraded = false;

  constructor(private readonly parts: NodeParts) {
    const { env, membership, replication } = parts;
    this.env = env;
    this.membership = membership;
    this.kvTransport = parts.kvTransport;
    this.config = replication;
    this.partitions = parts.partitions;
    this.store = parts.store;
    this.name = membership.self().name;
    this.hotAlerts = new HotKeyAlerts({ node: this.name, threshold: parts.hotKeyAlertRate ?? 0, log: env.log });
    this.ring = new RingLifecycle({
      env,
      membership: { self: () => membership.self(), members: () => membership.members(), updateMeta: (meta) => this.publishMeta(meta), heardFullState: () => membership.heardFullState },
      partitions: this.partitions,
      replicas: replication.replicas,
      joinsThroughSeeds: parts.joinsThroughSeeds,
      joinSettleMs: parts.joinSettleMs,
      isAlive: (name) => this.alive.get(name) === true,
      isRefused: (name) => this.refused.has(name),
      isLeaving: () => this.leaving,
      reenterAtOnce: replication.bugs?.undrainWithoutPeers === true,
      aloneAtOnce: replication.bugs?.aloneWithoutConfirmation === true,
      jointEndsEarly: replication.bugs?.jointEndsEarly === true,
      ringsUnannounced: replication.bugs?.ringsUnannounced === true,
      onPlacement: (previous, next, withoutSelf) => this.onPlacement(previous, next, withoutSelf),
    });
    this.ring.afterCheck = () => this.rehomeDepartedHints();
    this.drainer = new NodeDrain({
      name: this.name,
      log: env.log,
      monoMs: () => env.clock.monoMs(),
      meta: () => membership.self().meta,
      updateMeta: (meta) => this.publishMeta(meta),
      requestRingCheck: () => this.ring.requestCheck(),
      joined: () => this.ring.ringConfirmed,
      leaving: () => this.leaving || this.stopped,
      partitionsHere: () => this.partitionsHere(),
      otherDataHolders: () => this.ring.placement.members.filter((m) => m.name !== this.name && this.alive.get(m.name) === true).length,
      handoffTotals: () => ({ keys: this.sync.stats.keysHandedOff, bytes: this.sync.stats.handoffBytesSent }),
      ringWithoutSelf: () => this.ring.placementWithoutSelf(),
      ring: () => this.ring.placement,
      memberState: (name) => this.membership.member(name)?.state,
      consistency: { read: replication.defaultReadConsistency, write: replication.defaultWriteConsistency },
    });
    this.startedMs = env.clock.monoMs();
    this.storyLog = new NodeStoryLog(env.log, this.name, () => env.clock.monoMs(), env.timers);

    const ctx: ReplicationContext = {
      env,
      config: this.config,
      selfName: this.name,
      placement: () => this.ring.placement,
      isAlive: (name) => name === this.name || this.alive.get(name) === true,
      mayStandIn: (name) => (name === this.name ? !this.stoppingForRestart : this.alive.get(name) === true && !this.membership.member(name)?.meta[META.stopping]),
      ringConfirmed: () => this.ring.ringConfirmed,
      awaitsPeerRing: () => this.ring.awaitsPeerRing,
      confirmingPeers: () => this.ring.confirmingPeers,
      ringWitnesses: () => this.ring.ringWitnesses(),
      checkRoute: (version, p) => this.ring.checkRoute(version, p),
      previousRings: (p) => this.ring.previousRings(p),
      peerMovedPast: (name, version) => this.ring.peerMovedPast(name, version),
      knowsFloors: (name) => {
        if (name === this.name) return true;
        const member = this.membership.member(name);
        return member !== undefined && (announcedRange(member.meta)?.version ?? 0) >= FLUSH_FLOORS_PROTOCOL;
      },
      protocolOf: (name) => {
        const member = this.membership.member(name);
        return member === undefined ? 0 : (announcedRange(member.meta)?.version ?? 0);
      },
      send: (to, message, lane) => this.send(to, message, lane),
    };
    const hlc = new HybridLogicalClock(env.clock, nodeIdOf(this.name), env);
    // Before anything can stamp a version: the clock starts above every version an earlier process of this node stamped.
    // bugs.clockCeilingIgnored: no ceiling at all, loaded or saved, so a simulated run takes the course it took before there was one.
    this.clockCeiling = env.clockCeiling === undefined || this.config.bugs?.clockCeilingIgnored ? null : new ClockCeiling(env.clockCeiling, env, hlc);
    this.hints = new HintStore(this.config.maxHints, this.config.maxHintBytes, this.config.hintWindowMs, firstRequestId(env));
    this.disk = parts.disk ?? null;
    this.host = new ReplicaHost(ctx, this.store, this.hints, hlc, parts.mailboxCapacity, this.disk);
    this.host.epochOf = (p) => this.ring.epoch(p);
    this.sync = new PartitionSync(ctx, this.host);
    this.sync.onPeerRing = (version, peer) => this.ring.peerRing(version, peer);
    // Ranked by guaranteed count (count - error): a Space-Saving newcomer inherits its victim's count.
    this.sync.hottestKeys = (n) =>
      this.store
        .hotKeys()
        .sort((a, b) => b.count - b.error - (a.count - a.error))
        .slice(0, n)
        .map((h) => h.key);
    this.handoff = new HintedHandoff(ctx, this.hints);
    this.flusher = new FlushCoordinator(ctx, hlc);
    this.kv = new Coordinator(ctx, hlc, this.hints, () => this.topology(), (listener) => this.onTopologyChange(listener));
    this.peerHealth = new PeerHealth(() => env.clock.monoMs(), parts.peerHealth);
    this.verdictLog = new VerdictLog(env.log, () => env.clock.monoMs());
    this.lives = new MemberLives(this.name, META.started);
    this.peerHealth.onVerdict = (name, verdict, previous) => this.verdictLog.changed(name, verdict, previous);
    this.kv.health = this.peerHealth;
    const signals = parts.processSignals;
    this.selfHealth = new SelfHealth({ heapBytes: signals?.heapLimitBytes ?? null, eventLoopLagMs: SELF_LAG_THRESHOLD_MS, errorRate: SELF_ERROR_RATE_THRESHOLD }, signals);
    const autoDrain = parts.failureWatch.autoDrain;
    this.failureWatch = new FailureWatch({
      ...parts.failureWatch,
      autoDrain: autoDrain && { options: autoDrain.options, control: autoDrain.control ?? { drain: (reason) => this.drainAutomatically(reason) } },
    });
    this.scanner = new PartitionScanner(ctx);
    this.scanResponder = new ScanResponder(ctx, this.host);
    this.rmw = new RmwCoordinator(ctx);
    this.rmwPrimary = new RmwPrimary(ctx, hlc, this.host);

    this.kvTransport.onReceive((from, bytes) => this.receive(from, bytes));
    this.unsubscribe = membership.subscribe((event) => this.onMembership(event));
    for (const m of membership.members()) this.learn(m);
    membership.start();
    this.ring.start();
    this.scheduleStoreTick();
    this.scheduleRingCheck();
    this.sync.start();
    this.handoff.start();
  }

  /**
   * True once the node has heard from its cluster (or founded one), built its ring, and a peer has
   * confirmed that ring (see ReplicationContext.ringConfirmed): it coordinates and serves from then on.
   */
  get joined(): boolean {
    return this.ring.ringConfirmed;
  }

  /** Members refused because they run another partition count (`partitions`: theirs), and why. */
  refusedMembers(): { name: string; partitions: number; reason: string }[] {
    return [...this.refused].map(([name, partitions]) => ({ name, partitions, reason: this.partitionRefusal(name, partitions) }));
  }

  /**
   * Why a member with another partition count is refused, worded from where this node stands: a
   * node in a ring with others, or the founder, speaks for its cluster (the member must change);
   * one still joining (a newcomer, or nodes booting together) cannot tell which side is wrong, so
   * it says only what differs.
   */
  private partitionRefusal(name: string, theirs: number): string {
    const speaksForCluster = this.ring.joined && (this.ring.placement.members.length > 1 || !this.parts.joinsThroughSeeds);
    if (speaksForCluster) return new PartitionCountMismatchError(name, this.partitions, theirs).message;
    return `node "${name}" is configured with ${theirs} partitions and this node with ${this.partitions}; the partition count is fixed for the life of a cluster and the same on every member`;
  }

  /**
   * Until the node has joined: what it waits for, in words. Its seeds (unreachable, silent, or of
   * another cluster), members choosing their place in the ring, or a peer confirming its ring.
   * Null once joined.
   */
  waitingFor(): string | null {
    if (this.ring.ringConfirmed || this.stopped) return null;
    return this.membership.joinProblem() ?? this.ring.waitingFor();
  }

  /**
   * Peers this node keeps out, and why: members running another partition count, and nodes of
   * another cluster name or a protocol version it does not accept that sent it gossip lately
   * (those are never members).
   */
  refusedPeers(): RefusedPeer[] {
    const peers: RefusedPeer[] = this.refusedMembers().map(({ name, reason }) => ({ name, address: this.addressOfName.get(name) ?? '', reason }));
    const ours = this.membership.clusterName;
    for (const p of this.membership.foreignPeers()) {
      peers.push({ name: p.name, address: p.address, reason: `it belongs to cluster "${p.cluster}", this node to cluster "${ours}" (cluster names must match)` });
    }
    peers.push(...this.membership.versionRefusedPeers());
    return peers;
  }

  /** While joining: the seed that refused this node's protocol version, or null (see Membership.versionRefusal). */
  versionRefusal(): VersionRefusal | null {
    return this.membership.versionRefusal();
  }

  /** While joining: the seed of another cluster that refused this node, or null (see Membership.clusterRefusal). */
  clusterRefusal(): ClusterRefusal | null {
    return this.membership.clusterRefusal();
  }

  placement(): Placement {
    return this.ring.placement;
  }

  handoffProgress(): HandoffProgress {
    return this.sync.progress();
  }

  /** The current (or last) catch-up: partitions left, keys and bytes received, keys evicted at their source. */
  catchUpProgress(): CatchUpStatus {
    return this.sync.catchUpProgress();
  }

  /** True when joined (and, undrained, back in its ring), every owned partition has caught up and nothing waits to be handed off or hinted. */
  settled(): boolean {
    const p = this.sync.progress();
    return this.ring.ringConfirmed && !this.ring.awaitsPeerRing && p.partitionsCatchingUp === 0 && p.partitionsToHandOff === 0 && this.hints.count === 0;
  }

  /** Whether this node still has replicas that do not count towards reads (not joined, or catching up). */
  catchingUp(): boolean {
    return !this.ring.ringConfirmed || this.sync.progress().partitionsCatchingUp > 0;
  }

  /**
   * Everything the RESP front end (and the SDK's read-modify-writes) need from this node: the
   * coordinator's reads and writes, read-modify-write on the keys' primary, and the scanner's
   * keyspace iteration.
   */
  get keyspace(): KeyspaceService {
    if (this.keyspaceView === null) {
      const { kv, scanner, rmw, flusher } = this;
      this.keyspaceView = {
        get: (key, options, done) => kv.get(key, options, done),
        set: (key, value, options, done) => kv.set(key, value, options, done),
        delete: (key, options, done) => kv.delete(key, options, done),
        topology: () => kv.topology(),
        rmw: (keys, op, options, done) => rmw.rmw(keys, op, options, done),
        scanPartition: (partition, after, options, done) => scanner.scanPartition(partition, after, options, done),
        countPartition: (partition, done) => scanner.countPartition(partition, done),
        canFlush: () => flusher.canFlush(),
        flushAll: (done) => flusher.flushAll(done),
      };
    }
    return this.keyspaceView;
  }

  /** The partition's flush floor (replication/flush-floors.ts), if a flush reached this node. */
  flushFloor(partition: number): Version | undefined {
    return this.host.floors.of(partition);
  }

  /** Read-only access to held partitions, for checkers and diagnostics (reads do not touch the cache policy). */
  heldPartitions(): ReadonlyMap<number, { peek(key: string): Uint8Array | null; readonly ready: boolean; readonly size: number }> {
    return this.host.partitions;
  }

  /**
   * How often this node's store has seen `key` used, as its eviction policy counts it
   * (Store.accessFrequency, OBJECT FREQ), without counting a use; null when the node holds no
   * replica of the key's partition (it has seen none of its uses), or its policy counts no frequency.
   */
  keyFrequency(key: Uint8Array): number | null {
    if (!this.host.partitions.has(partitionOf(key, this.topology().partitions))) return null;
    return this.store.accessFrequency(keyToStoreKey(key));
  }

  /** Installs (or with null, removes) the observers that time requests and replica jobs (the daemon's metrics). */
  observe(requests: RequestObserver | null, replica: ReplicaObserver | null): void {
    this.kv.observer = requests;
    this.rmw.observer = requests;
    this.host.observer = replica;
  }

  /**
   * The merged groups are built with Object.assign, not with spreads followed by more fields: on
   * Node 20 a `{ ...a, b }` or `{ ...a, ...b }` makes a new hidden class on every call (2-35 µs),
   * and the simulator's checkers read every node's stats every 250 virtual ms.
   */
  stats(): NodeStats {
    const storeStats = this.store.stats();
    const hints = this.hints;
    return {
      coordinator: { ...this.kv.stats },
      replica: { ...this.host.stats },
      hints: Object.assign({}, hints.stats, { held: hints.count, heldBytes: hints.bytes, peakCount: hints.peakCount, peakBytes: hints.peakBytes }),
      store: Object.assign({}, storeStats.evictions, { entries: storeStats.entries, bytes: storeStats.bytes, refusedTooLarge: storeStats.refusedTooLarge }),
      sync: { ...this.sync.stats },
      mailboxes: this.host.mailboxStats(),
      handoff: this.sync.progress(),
      malformedMessages: this.malformed,
      pendingRequests: this.kv.pendingCount,
      rmw: Object.assign({}, this.rmw.stats, this.rmwPrimary.stats),
      hotKeyAlerts: this.hotAlerts.fired,
      hotKeyAlertsActive: this.hotAlerts.active().length,
      clockCeiling: this.clockCeiling === null ? { saves: 0, saveFailures: 0, overruns: 0 } : { ...this.clockCeiling.stats },
    };
  }

  /**
   * The `count` keys with the highest rates on this node (the store's Space-Saving tracker,
   * sampled; rates over the last store tick), and the hot-key alerts in force.
   */
  hotKeys(count = 10): NodeHotKeys {
    const keys = this.store
      .hotKeys()
      .filter((h) => h.rate > 0)
      .sort((a, b) => b.rate - a.rate || b.count - a.count)
      .slice(0, Math.max(0, count))
      .map((h) => ({ key: displayKey(h.key), rate: Math.round(h.rate * 10) / 10, count: Math.round(h.count), error: Math.round(h.error) }));
    return { node: this.name, atMs: this.env.clock.wallMs(), alertRate: this.hotAlerts.threshold, keys, alerts: this.hotAlerts.active() };
  }

  /** Hot-key alerts in force (for the dashboard). */
  activeHotKeyAlerts(): HotKeyAlert[] {
    return this.hotAlerts.active();
  }

  /** Calls `listener` with each hot-key alert and clearing (`cleared: true`); returns the unsubscribe. */
  onHotKeyAlert(listener: (alert: HotKeyAlert) => void): () => void {
    return this.hotAlerts.subscribe(listener);
  }

  /**
   * Access analytics of this node's store since it started (`shoal stats`, the /stats route, the
   * dashboard): hit ratio over time, size and TTL histograms, top prefixes, removal reasons; null
   * when the store runs without them. Merge several nodes' with mergeAnalytics (src/store).
   */
  analytics(): AccessAnalytics | null {
    return this.store.analyticsSnapshot();
  }

  status(): NodeStatus {
    const placement = this.ring.placement;
    const owned = new Map<string, { all: number; primaries: number }>();
    for (let p = 0; p < placement.partitions; p++) {
      placement.owners(p).forEach((name, i) => {
        let c = owned.get(name);
        if (!c) owned.set(name, (c = { all: 0, primaries: 0 }));
        c.all++;
        if (i === 0) c.primaries++;
      });
    }
    const inRing = new Set(placement.members.map((m) => m.name));
    const ownRing = announcedRing(placement.version);
    const self = this.membership.self();
    return {
      name: this.name,
      zone: self.zone,
      joined: this.ring.ringConfirmed,
      waitingFor: this.waitingFor(),
      leaving: this.leaving,
      drain: this.drainer.progress(),
      ring: { version: placement.version, partitions: placement.partitions, replicas: placement.width, members: placement.members.length },
      members: this.membership.members().map((m) => ({
        name: m.name,
        address: m.address,
        zone: m.zone,
        state: m.state,
        incarnation: m.incarnation,
        clientAddress: typeof m.meta[META.clientAddress] === 'string' ? (m.meta[META.clientAddress] as string) : null,
        respAddress: typeof m.meta[META.respAddress] === 'string' ? (m.meta[META.respAddress] as string) : null,
        adminPort: typeof m.meta[META.adminPort] === 'number' ? (m.meta[META.adminPort] as number) : null,
        leaving: Boolean(m.meta[META.leaving]),
        draining: Boolean(m.meta[META.draining]),
        inRing: inRing.has(m.name),
        onAnotherRing: typeof m.meta[RING_META.ring] === 'string' && m.meta[RING_META.ring] !== ownRing,
        partitionsOwned: owned.get(m.name)?.all ?? 0,
        primaries: owned.get(m.name)?.primaries ?? 0,
      })),
      refusedMembers: this.refusedMembers(),
      partitionsHeld: this.host.partitions.size,
      handoff: this.sync.progress(),
      hints: {
        held: this.hints.count,
        heldBytes: this.hints.bytes,
        stored: this.hints.stats.stored,
        delivered: this.hints.stats.delivered,
        droppedForRoom: this.hints.stats.droppedForRoom,
        expired: this.hints.stats.expired,
      },
      store: this.store.stats(),
      disk: this.disk?.stats() ?? null,
      coordinator: { ...this.kv.stats },
      mailboxes: this.host.mailboxStats(),
      health: { routing: this.parts.peerHealth.routing, peers: this.peerHealth.view(), counters: { ...this.peerHealth.counters }, members: memberHealth(this.membership.members()), self: this.selfHealth.view(), prediction: this.predictionStatus() },
    };
  }

  /**
   * Calls `listener` with the new ring version each time this node's ring changes (the server
   * pushes `ring-changed` to its clients from it, instead of polling). Returns an unsubscribe.
   */
  onTopologyChange(listener: (version: string) => void): () => void {
    this.topologyListeners.add(listener);
    return () => this.topologyListeners.delete(listener);
  }

  topology(): TopologySnapshot {
    const placement = this.ring.placement;
    const byName = new Map(this.membership.members().map((m) => [m.name, m]));
    // A member that restarted with another client port keeps its name (and so the ring version):
    // the addresses are checked on every call. No advertised client address means none (''),
    // which clients skip; the peer address would only send them to the node-to-node port.
    const nodes = placement.members.map((m) => {
      const meta = byName.get(m.name)?.meta;
      const node: TopologySnapshot['nodes'][number] = { name: m.name, zone: m.zone, clientAddress: String(meta?.[META.clientAddress] ?? '') };
      if (typeof meta?.[META.respAddress] === 'string') node.respAddress = meta[META.respAddress] as string;
      return node;
    });
    const cached = this.topologyCache;
    const sameRing = cached?.version === placement.version;
    const sameAddresses = (n: TopologySnapshot['nodes'][number], i: number): boolean => n.clientAddress === nodes[i]!.clientAddress && n.respAddress === nodes[i]!.respAddress;
    if (cached && sameRing && cached.nodes.every(sameAddresses)) return cached;
    let owners = cached && sameRing ? cached.owners : null;
    if (owners === null) {
      owners = [];
      for (let p = 0; p < placement.partitions; p++) owners.push([...placement.owners(p)]);
    }
    this.topologyCache = { version: placement.version, partitions: placement.partitions, replicas: placement.width, nodes, owners };
    return this.topologyCache;
  }

  /**
   * Graceful leave: announce `leaving` (every ring drops this node, so its partitions stream to
   * their new owners), wait until nothing is left to hand off and no hint is left to deliver,
   * and no request it coordinates is still pending, then leave the gossip cluster, stop, and call
   * `done`. Requests keep being coordinated meanwhile. A daemon bounds the wait with its own shutdown timeout and calls `stop()`.
   *
   * Hints do not hold a leave for long: those for a member that left the cluster are always taken
   * back (rehomeHints), those for a member that is down are taken back at each poll, and ordinary
   * hints still undelivered once the partitions are handed off are dropped, as a crash would drop
   * them (the owners that acknowledged those writes hold them). Waiting for them could last
   * forever (a restarted member stopped with the rest leaves first, having nothing to wait for)
   * or longer than any shutdown timeout (delivery is throttled; a restart leaves thousands). A
   * stand-in's hints may be a copy its write's quorum counted: those are delivered, or passed on
   * to other owners, before the node stops.
   */
  leave(done: () => void): void {
    if (this.stopped) return done();
    this.leaveWaiters.push(done);
    if (this.leaving) return;
    // A leave cannot be refused as a drain is, but it can say what it costs: once, at its start or
    // as soon as gossip finds a member down while it runs (a crash a moment before is not known yet).
    const before = this.ring.placement;
    let warned = !this.ring.ringConfirmed;
    const warnOfShortfall = () => {
      if (warned) return;
      const short = this.drainer.leaveShortfall(before);
      if (short === null) return;
      warned = true;
      this.env.log.warn({ event: 'leave-quorum-shortfall', partitions: short.partitions, notLive: short.notLive }, short.message);
    };
    warnOfShortfall();
    this.leaving = true;
    this.publishMeta({ ...this.membership.self().meta, [META.leaving]: 1 });
    this.ring.requestCheck();
    // Every caller of leave() hears when it finished, not just the first.
    const finished = () => {
      for (const waiter of this.leaveWaiters.splice(0)) waiter();
    };
    let handedOffAtMs: number | null = null;
    const poll = () => {
      this.timers.leave = null;
      if (this.stopped) return finished();
      warnOfShortfall();
      this.rehomeDepartedHints();
      this.rehomeHintsForDownTargets('it is down while this node leaves');
      const p = this.sync.progress();
      const handedOff = p.partitionsToHandOff === 0 && !this.ownsAnything();
      if (handedOff) for (const target of this.hints.targets()) this.rehomeHints(target, 'this node has handed its partitions off and leaves', true);
      if (handedOff) this.refuseRequestsOnceLeft((handedOffAtMs ??= this.env.clock.monoMs()));
      // Requests this node coordinates finish before it stops: stop() would fail them, and clients
      // still routed here (their topology not yet updated) would see errors (rolling-restart seeds 1-3).
      // Clients that keep sending here regardless are refused after a grace, so the last ones end.
      if (!this.ring.joined || (handedOff && this.hints.count === 0 && this.kv.pendingCount === 0)) {
        this.stop();
        return finished();
      }
      this.timers.leave = this.env.timers.setTimer(LEAVE_POLL_INTERVAL_MS, poll);
    };
    this.timers.leave = this.env.timers.setTimer(LEAVE_POLL_INTERVAL_MS, poll);
  }

  /**
   * Before a stop that keeps this node's place in the ring (`--stop-mode restart`), which loses
   * every hint it holds. A hint kept as a sloppy-quorum stand-in may be one of the copies its
   * write's quorum counted, so, as in a leave, those go first: delivered to their owner, or passed
   * on to the partition's other live owners while their owner is down. Ordinary hints are
   * delivered meanwhile if they can be, and lost with the stop otherwise (the owners that
   * acknowledged those writes hold them). Calls `done` once no stand-in hint is left, or the node
   * stopped; the daemon bounds the wait with its shutdown timeout. Before, such a write could be
   * left on one owner only until anti-entropy copied it (test/sim/restart-stand-in-hints.test.ts).
   * The node also publishes `stopping`, so coordinators stop picking it as a stand-in, and while an
   * owner is down (when they pick stand-ins) `done` waits STOPPING_SPREAD_ROUNDS for them to hear.
   */
  passStandInHintsOn(done: () => void): void {
    this.stoppingForRestart = true;
    // Peers stop choosing this node as a stand-in once gossip brings them the flag, so the hints it
    // must pass on stop growing; a restarted process announces its own metadata, without the flag.
    this.publishMeta({ ...this.membership.self().meta, [META.stopping]: 1 });
    const flagSpreadAtMs = this.env.clock.monoMs() + STOPPING_SPREAD_ROUNDS * this.parts.gossipRoundMs;
    const poll = () => {
      this.timers.restart = null;
      if (this.stopped) return done();
      this.rehomeHintsForDownTargets('it is down while this node stops for a restart');
      // With every owner in the ring up no coordinator looks for a stand-in, so the flag need not have
      // spread. A member this node only suspects counts as down: a coordinator may have declared it
      // dead already and pick stand-ins (restart-stand-in-hints: D saw B suspect, A saw it dead and
      // took D as a stand-in the moment D's pass, done at once, had ended).
      const standInsPossible = this.ring.placement.members.some((m) => m.name !== this.name && this.membership.member(m.name)?.state !== 'alive');
      if (this.hints.standInCount === 0 && (!standInsPossible || this.env.clock.monoMs() >= flagSpreadAtMs)) return done();
      this.timers.restart = this.env.timers.setTimer(LEAVE_POLL_INTERVAL_MS, poll);
    };
    poll();
  }

  /**
   * After `stop()` for a restart: writes the values still in memory to the disk tier, so the node
   * started again has them (ReplicaHost.spillToDisk), for at most `withinMs`. The caller closes
   * the tier afterwards.
   */
  spillToDisk(withinMs: number, done: (summary: SpillSummary) => void): void {
    this.host.spillToDisk(withinMs, done);
  }

  /** Stand-in hints a stop for a restart still waits to deliver or pass on (passStandInHintsOn). */
  get standInHints(): number {
    return this.hints.standInCount;
  }

  /**
   * Past LEAVE_COORDINATION_GRACE_MS after this leaving node handed everything off, it refuses new
   * requests, so those it coordinates run out within a deadline: waiting for a moment with none
   * pending never ends under a steady load with some slow requests (kv-join seed 400005, BUGGIFY).
   */
  private refuseRequestsOnceLeft(handedOffAtMs: number): void {
    if (this.refusingRequests || this.config.bugs?.leaveWaitsForIdle) return;
    if (this.env.clock.monoMs() - handedOffAtMs < LEAVE_COORDINATION_GRACE_MS) return;
    this.refusingRequests = true;
    this.kv.refuseNewRequests('this node has handed its partitions off and is leaving the cluster');
    this.env.log.info(
      { event: 'leave-refusing-requests', pendingRequests: this.kv.pendingCount, graceMs: LEAVE_COORDINATION_GRACE_MS },
      `leaving: refusing new requests (${this.kv.pendingCount} in flight to finish) ${LEAVE_COORDINATION_GRACE_MS} ms after handing everything off`,
    );
  }

  /**
   * Drains this node: it gives every partition to the nodes that take them over while it stays a
   * live member that coordinates requests (drain.ts). Returns at once with the progress; poll
   * `drainProgress()` until its state is 'drained'. Idempotent. Throws DrainRefusedError when the
   * node must not drain now (it is the last live member holding data, it is joining or leaving, or
   * the ring without it would leave a partition without a live read or write quorum: drain.ts
   * quorumShortfall).
   */
  drain(): DrainProgress {
    return this.drainer.drain();
  }

  /**
   * The automatic drain policy's request (NodeConfig.autoDrain): said at warn with its reason; a
   * refusal (the last member holding data, a peer down, joining, leaving) is logged, never thrown
   * into the store tick that made the prediction. The policy asks again every AUTO_DRAIN_RETRY_MS
   * while refused: both lines are said at most once a minute then.
   */
  private drainAutomatically(reason: string): boolean {
    const now = this.env.clock.monoMs();
    const say = this.autoDrainLog.allow('auto-drain', now);
    if (say) this.env.log.warn({ event: 'auto-drain', reason }, `draining this node automatically: ${reason}`);
    try {
      this.drain();
      return true;
    } catch (error) {
      if (!(error instanceof DrainRefusedError)) throw error;
      if (say) this.env.log.warn({ event: 'auto-drain-refused', reason: error.message }, `automatic drain refused: ${error.message}; asking again every ${AUTO_DRAIN_RETRY_MS / 1000} s while the prediction holds`);
      return false;
    }
  }

  /** Ends a drain: the node takes its share of partitions back (catching each up before its reads count). Idempotent. */
  undrain(): DrainProgress {
    return this.drainer.undrain();
  }

  drainProgress(): DrainProgress {
    return this.drainer.progress();
  }

  /** Partitions the current ring places on this node, or that it still holds (handing them off). */
  private partitionsHere(): number {
    const placement = this.ring.placement;
    let here = 0;
    for (let p = 0; p < placement.partitions; p++) if (this.host.partitions.has(p) || placement.owners(p).includes(this.name)) here++;
    return here;
  }

  /** What a graceful leave (or a settling node) still waits for: hints per target, partitions to hand off. */
  leaveProgress(): LeaveProgress {
    const p = this.sync.progress();
    const hints = Object.fromEntries(this.hints.countsByTarget());
    let partitionsOwned = 0;
    const placement = this.ring.placement;
    for (let q = 0; q < placement.partitions; q++) if (placement.owners(q).includes(this.name)) partitionsOwned++;
    const parts = Object.entries(hints).map(([target, n]) => `${n} hint${n === 1 ? '' : 's'} to ${target}`);
    if (p.partitionsToHandOff > 0) parts.push(`${p.partitionsToHandOff} partition${p.partitionsToHandOff === 1 ? '' : 's'} (${p.keysToHandOff} key${p.keysToHandOff === 1 ? '' : 's'}) to hand off`);
    if (partitionsOwned > 0) parts.push(`the ring to stop placing ${partitionsOwned} partition${partitionsOwned === 1 ? '' : 's'} on this node`);
    return { hints, partitionsToHandOff: p.partitionsToHandOff, keysToHandOff: p.keysToHandOff, partitionsOwned, waitingFor: parts.length === 0 ? 'nothing' : parts.join(', ') };
  }

  /**
   * Stops at once: pending requests fail, gossip announces the leave (unless `leave: false`, a stop
   * for a restart: the cluster takes the node as down and keeps its place), timers stop. Idempotent.
   */
  stop(options: { leave?: boolean } = {}): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe();
    this.kv.stop();
    this.scanner.stop();
    this.rmw.stop();
    this.rmwPrimary.stop();
    this.ring.stop();
    for (const t of [this.timers.store, this.timers.ring, this.timers.leave, this.timers.restart]) if (t !== null) this.env.timers.cancelTimer(t);
    this.storyLog.stop();
    this.host.stop();
    this.sync.stop();
    this.handoff.stop();
    this.flusher.stop();
    this.membership.stop(options);
  }

  // ---- membership and the ring ------------------------------------------------------------

  /**
   * Takes back the hints for `target` (only the ordinary ones with `ordinaryOnly`), which it will
   * not receive from this node: it left the cluster (or is leaving, or gossip forgot it), or this
   * node leaves. A stand-in's hint may be one of the copies its write's quorum counted, so its
   * write goes on to the partition's other live owners; an ordinary hint is dropped, as a crash
   * would drop it: the owners that acknowledged the write hold it, and anti-entropy brings it to
   * the others.
   */
  private rehomeHints(target: string, why: string, ordinaryOnly = false): void {
    const taken = this.hints.take(target, ordinaryOnly);
    if (taken.length === 0) return;
    const now = this.env.clock.monoMs();
    let readdressed = 0;
    for (const hint of taken) {
      if (!hint.fallback) continue;
      const owners = this.ring.placement.owners(hint.partition).filter((o) => o !== target && (o === this.name ? !this.leaving && !this.stoppingForRestart : this.alive.get(o) === true));
      for (const owner of owners) this.hints.add(owner, hint.partition, hint.key, hint.record, now, true);
      if (owners.length > 0) readdressed++;
    }
    const abandoned = taken.length - readdressed;
    this.hints.stats.readdressed += readdressed;
    this.hints.stats.abandoned += abandoned;
    this.env.log.info(
      { target, hints: taken.length, readdressed, abandoned },
      `took back ${taken.length} hints for ${target} (${why}): ${readdressed} passed on to the partitions' other owners, ${abandoned} dropped (the owners that acknowledged those writes hold them)`,
    );
  }

  /** A stopping node cannot wait for a target that is down: its hints are taken back (rehomeHints) at each poll of the stop. */
  private rehomeHintsForDownTargets(why: string): void {
    for (const target of this.hints.targets()) if (this.alive.get(target) !== true) this.rehomeHints(target, why);
  }

  /** Hints for members no longer in the ring (left, leaving, forgotten by gossip, refused) can never be delivered. */
  private rehomeDepartedHints(): void {
    if (this.hints.count === 0 || !this.ring.joined) return;
    const inRing = new Set(this.ring.placement.members.map((m) => m.name));
    for (const target of this.hints.targets()) if (!inRing.has(target)) this.rehomeHints(target, `it is no longer in the ring: ${this.departure(target)}`);
  }

  /** Why a member is out of the ring, as gossip knows it (for the hint line: a crashed member did not leave). */
  private departure(name: string): string {
    const member = this.membership.members().find((m) => m.name === name);
    if (member === undefined) return 'gossip forgot it: it was dead or gone longer than the reclaim time';
    if (member.state === 'left') return 'it left the cluster';
    if (member.state === 'dead') return 'it was declared dead and removed from the ring';
    if (member.meta[META.leaving]) return 'it is leaving the cluster';
    if (member.meta[META.draining]) return 'it is drained';
    return `it is ${member.state} but out of the ring`;
  }

  /**
   * Whether this node holds data that no other live member does: it is in the ring and every
   * other member of the ring is down. A leave would then drop every value (nobody takes them),
   * so the daemon stops without leaving instead (docs/OPERATIONS.md, "Stopping").
   */
  get onlyLiveDataHolder(): boolean {
    const members = this.ring.placement.members;
    return this.ring.joined && members.some((m) => m.name === this.name) && !members.some((m) => m.name !== this.name && this.alive.get(m.name) === true);
  }

  private ownsAnything(): boolean {
    const placement = this.ring.placement;
    for (let p = 0; p < placement.partitions; p++) if (placement.owners(p).includes(this.name)) return true;
    return false;
  }

  private learn(m: Member): void {
    // A member back on a new address (a restart on another port) no longer answers at the old one.
    const previous = this.addressOfName.get(m.name);
    if (previous !== undefined && previous !== m.address && this.nameOfAddress.get(previous) === m.name) this.nameOfAddress.delete(previous);
    this.nameOfAddress.set(m.address, m.name);
    this.addressOfName.set(m.name, m.address);
    this.alive.set(m.name, m.state === 'alive' || m.state === 'suspect');
    if (m.name === this.name || !(META.partitions in m.meta)) return;
    try {
      checkPartitionCount(m.name, this.partitions, Number(m.meta[META.partitions]));
      // Restarted with the right partition count under the same name: welcome it back.
      if (this.refused.delete(m.name)) this.env.log.info({ member: m.name }, 'member now runs this cluster\'s partition count; no longer refused');
    } catch (error) {
      if (!(error instanceof PartitionCountMismatchError)) throw error;
      if (this.refused.has(m.name)) return;
      this.refused.set(m.name, error.actual);
      this.env.log.error({ member: m.name, expected: this.partitions, actual: error.actual }, this.partitionRefusal(m.name, error.actual));
    }
  }

  private onMembership(event: MembershipEvent): void {
    if (this.stopped) return;
    this.learn(event.member);
    if (event.type === 'left') {
      this.sync.forgetSource(event.member.name);
      this.peerHealth.forget(event.member.name);
      this.verdictLog.forget(event.member.name);
      this.lives.forget(event.member.name);
    } else if (this.lives.newProcess(event.member)) {
      // The verdict judged a process that is gone: the new one is judged from its own answers. Kept,
      // a restarted node's peers went on calling it silent for 44 s (restart-probe F6). Not at a
      // death: the same process declared dead and back keeps its verdict, or a member losing most
      // of its messages escapes the automatic drain (05e4ffe, reverted).
      this.verdictLog.newProcess(event.member.name, this.peerHealth.verdictOf(event.member.name));
      this.peerHealth.forget(event.member.name);
      if (decodeVerdicts(this.membership.self().meta[VERDICT_META.view]).has(event.member.name)) this.republishForRestart = true;
    }
    this.ring.onMembership(event);
  }

  /** Each ring the lifecycle installs: sync starts catch-ups and handoffs, servers tell their clients. */
  private onPlacement(previous: Placement | null, next: Placement, withoutSelf: Placement | null): void {
    this.storyLog.ringChanged(previous, next);
    for (const listener of [...this.topologyListeners]) listener(next.version);
    this.host.applyEpochs();
    this.sync.onPlacement(previous, next, withoutSelf);
  }

  /**
   * Drops what the node keeps per member once gossip has forgotten the member (it forgets
   * silently, `deadReclaimMs` after a death or a leave), so churn does not grow these maps forever.
   */
  private forgetDeparted(): void {
    const remembered = new Set(this.membership.members().map((m) => m.name));
    for (const [name, address] of this.addressOfName) {
      if (remembered.has(name)) continue;
      this.addressOfName.delete(name);
      this.alive.delete(name);
      this.refused.delete(name);
      if (this.nameOfAddress.get(address) === name) this.nameOfAddress.delete(address);
    }
  }

  private scheduleRingCheck(): void {
    this.timers.ring = this.env.timers.setTimer(RING_CHECK_INTERVAL_MS, () => {
      this.forgetDeparted();
      this.ring.check(); // gossip forgets members silently: no event announces every change
      this.drainer.check();
      this.logIfStillJoining();
      this.storyLog.checkHints(this.hints.count, this.hints.bytes, this.config.maxHints, this.config.maxHintBytes);
      this.scheduleRingCheck();
    });
  }

  /** A join that takes long says what it waits for, rate-limited, so a stuck node is never silent. */
  private logIfStillJoining(): void {
    const now = this.env.clock.monoMs();
    if (this.ring.ringConfirmed || now - this.startedMs < JOIN_WAIT_LOG_AFTER_MS || !this.joinLog.allow('joining', now)) return;
    const waitingFor = this.waitingFor();
    if (waitingFor !== null) this.env.log.warn({ waitingFor, seconds: Math.round((now - this.startedMs) / 1000) }, `still joining; waiting for: ${waitingFor}`);
  }

  /**
   * Puts this node's demoted peers (and whether it declared itself degraded) and its failure
   * prediction in its member metadata when they changed: gossip spreads them (peer-verdicts.ts,
   * failure-watch.ts). At most once per HEALTH_PUBLISH_INTERVAL_MS, and once more for each restarted
   * member the published view named; verdicts only with health routing on.
   */
  private publishHealth(): void {
    if (this.leaving) return;
    const now = this.env.clock.monoMs();
    if (now - this.healthPublishedMs < HEALTH_PUBLISH_INTERVAL_MS && !this.republishForRestart) return;
    this.republishForRestart = false;
    const meta = this.membership.self().meta;
    const next = this.failureWatch.withPrediction(meta);
    // Off with routing: a node that only keeps verdicts changes nothing its peers see.
    if (this.parts.peerHealth.routing) {
      const view = encodeVerdicts(this.peerHealth.view());
      delete next[VERDICT_META.view];
      delete next[VERDICT_META.degraded];
      if (view !== '') next[VERDICT_META.view] = view;
      if (this.declaredDegraded) next[VERDICT_META.degraded] = 1;
    }
    const fitted = fitOwnMeta(next);
    const keys = Object.keys(fitted);
    if (keys.length === Object.keys(meta).length && keys.every((k) => meta[k] === fitted[k])) return;
    this.healthPublishedMs = now;
    this.publishMeta(fitted);
  }

  /** Every change to this node's own metadata goes through here: what is optional gives way when it is full (own-meta.ts). */
  private publishMeta(meta: Readonly<Record<string, string | number>>): void {
    this.membership.updateMeta(fitOwnMeta(meta));
  }

  /** Feeds this tick's signals to the failure prediction (and through it the automatic drain). */
  private predictFailure(): void {
    const health = memberHealth(this.membership.members());
    const reports = health.find((m) => m.name === this.name)?.reportedBy.length ?? 0;
    this.failureWatch.update(this.env.clock.monoMs(), {
      self: this.selfHealth.view(),
      heapLimitBytes: this.parts.processSignals?.heapLimitBytes ?? null,
      lagThresholdMs: SELF_LAG_THRESHOLD_MS,
      // memberHealth lists the live members: the others are the observers.
      peerReportShare: reports / Math.max(1, health.length - 1),
    });
  }

  private predictionStatus(): NodeHealthStatus['prediction'] {
    const p = this.failureWatch.prediction;
    return p && { probability: p.probability, secondsToFailure: p.secondsToFailure, horizonSeconds: this.failureWatch.horizonSeconds };
  }

  /** This node says it is degraded (or no longer is): peers see it once publishHealth next republishes (within HEALTH_PUBLISH_INTERVAL_MS and a store tick). */
  declareDegraded(degraded: boolean): void {
    this.declaredDegraded = degraded;
  }

  private scheduleStoreTick(): void {
    this.timers.store = this.env.timers.setTimer(STORE_TICK_INTERVAL_MS, () => {
      this.store.tick();
      checkAccounting(this.env, this.store, this.hints);
      // What the disk tier buffered goes to the device at least once a tick.
      this.disk?.flush();
      if (this.hotAlerts.threshold > 0) this.hotAlerts.check(this.store.hotKeys(), this.env.clock.wallMs());
      this.storyLog.checkEviction(this.store.stats());
      const kv = this.kv.stats;
      this.selfHealth.record(this.env.clock.monoMs(), { requests: kv.reads + kv.writes, errors: kv.unavailable + kv.overloaded, hintBacklog: this.hints.count });
      this.predictFailure();
      this.publishHealth();
      this.verdictLog.flush();
      this.scheduleStoreTick();
    });
  }

  // ---- transport --------------------------------------------------------------------------

  private send(to: string, message: KvMessage, lane?: Lane): void {
    if (this.stopped) return;
    if (to === this.name) {
      // Local replica: the same code path, one timer tick later, so callbacks never re-enter.
      // Every local message of one turn shares that tick: one timer per batch, not per message.
      this.localQueue.push(message);
      if (!this.localDeliveryArmed) {
        this.localDeliveryArmed = true;
        this.env.timers.setTimer(0, () => this.deliverLocal());
      }
      return;
    }
    const address = this.addressOfName.get(to);
    if (address === undefined || this.refused.has(to)) return;
    if (buggify(this.env, 'send-delayed')) return void this.env.timers.setTimer(BUGGIFY_DELAY_MS, () => this.send(to, message, lane));
    this.kvTransport.send(address, this.encoder.encode(message), lane);
  }

  /**
   * Delivers the local messages queued before this tick. Messages they cause (a replica's ack to
   * this node's own coordinator) wait for the next tick, exactly as if each hop had its own timer,
   * so a chain of local messages can never keep one tick busy forever.
   */
  private deliverLocal(): void {
    const batch = this.localQueue;
    this.localQueue = [];
    this.localDeliveryArmed = false;
    for (const message of batch) this.dispatch(this.name, message);
  }

  private receive(from: NodeAddress, bytes: Uint8Array): void {
    if (this.stopped) return;
    const name = this.nameOfAddress.get(from);
    if (name === undefined || this.refused.has(name)) return;
    let message: KvMessage;
    try {
      message = decodeKvMessage(bytes);
    } catch (error) {
      if (!(error instanceof MalformedKvMessageError)) throw error;
      this.malformed++;
      return;
    }
    this.dispatch(name, message);
  }

  private dispatch(from: string, message: KvMessage): void {
    if (this.stopped) return;
    if (this.host.onMessage(from, message)) return;
    if (this.rmwPrimary.onMessage(from, message)) return;
    if (this.rmw.onReply(from, message)) return;
    if (this.sync.onMessage(from, message)) return;
    if (this.flusher.onMessage(from, message)) return;
    if (this.scanResponder.onMessage(from, message) || this.scanner.onReply(from, message)) return;
    if (message.t === 'ha') this.handoff.onAck(message.id);
    else this.kv.onReply(from, message);
  }
}
