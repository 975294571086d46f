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
 * Joining: a node with seeds owns nothing until it has heard from the cluster, and then waits
 * `joinSettleMs` more so that its first ring is built from the full view a seed's push-pull
 * brings, not from the first member it happened to hear of. Every partition it then owns catches
 * up from the other owners before its reads count (see sync.ts).
 */
import type { Member, Membership, MembershipEvent } from '../gossip/membership.ts';
import { LogLimiter } from '../gossip/log-limiter.ts';
import { PROBLEM_LOG_INTERVAL_MS, type SwimMembership } from '../gossip/swim.ts';
import type { CatchUpStatus } from '../protocol/frames.ts';
import type { Env, Lane, NodeAddress, Transport } from '../runtime/env.ts';
import { joinInOrder } from '../ring/claim-seed.ts';
import { isClaimSeed } from '../ring/member-order.ts';
import { checkPartitionCount, PartitionCountMismatchError } from '../ring/partition.ts';
import type { Store, StoreStats } from '../store/index.ts';
import type { TopologySnapshot } from '../replication/api.ts';
import type { ReplicationConfig } from '../replication/config.ts';
import type { Placement, ReplicationContext } from '../replication/context.ts';
import { Coordinator, type CoordinatorStats } from '../replication/coordinator.ts';
import { HintedHandoff } from '../replication/hinted-handoff.ts';
import { HintStore, type HintStats } from '../replication/hints.ts';
import { HybridLogicalClock, nodeIdOf } from '../replication/hlc.ts';
import { decodeKvMessage, KvMessageEncoder, MalformedKvMessageError, type KvMessage } from '../replication/messages.ts';
import { ReplicaHost, type MailboxStats, type ReplicaStats } from '../replication/replica-host.ts';
import { PartitionSync, type HandoffProgress, type SyncStats } from '../replication/sync.ts';
import { RING_META, buildPlacement, emptyPlacement, holdsData, ringInputsKey, ringMemberOf } from './ring-placement.ts';

/** Member metadata keys a node publishes through gossip. */
export const META = {
  /** The partition count Q the member runs; members with another Q are refused. */
  partitions: 'partitions',
  /** host:port clients connect to. */
  clientAddress: 'clientAddress',
  ...RING_META,
} as const;

/** The most peers still joining whose claim-seed choices a joining node replays before its own. */
export const MAX_REPLAYED_JOINERS = 64;

/**
 * How long after this node's ring changes its writes also go to the previous ring's owners (a
 * joint quorum, see Coordinator.write): long enough for the change to reach every node through
 * gossip and their one-second ring checks. Not longer: each write to an old owner gives it data to
 * hand off again, so a handoff cannot finish before the window closes (kv-join: handoff 3.6-5.3 s
 * with 3 s, 10.7 s with 10 s, 0.8 s without the joint quorum; seeds 1..80 pass with 3 s).
 */
export const RING_TRANSITION_MS = 3_000;

/** How often the ring is checked against gossip's member table (gossip forgets dead members silently). */
export const RING_CHECK_INTERVAL_MS = 1_000;
/**
 * How often the store's maintenance runs (bounded active expiry, hot-key windows). Reads never
 * see an expired entry whatever the interval; the tick only reclaims memory.
 */
export const STORE_TICK_INTERVAL_MS = 1_000;
/** How often a leaving node checks whether its handoff is complete. */
export const LEAVE_POLL_INTERVAL_MS = 50;
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
  membership: SwimMembership;
  store: Store;
  replication: ReplicationConfig;
  partitions: number;
  mailboxCapacity: number;
  /** Whether this node must hear from a cluster before owning anything (it was given seeds). */
  joinsThroughSeeds: boolean;
  joinSettleMs: number;
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
}

export interface MemberStatus {
  name: string;
  address: NodeAddress;
  zone: string;
  state: Member['state'];
  incarnation: number;
  clientAddress: string | null;
  leaving: boolean;
  /** In the ring (holds data): not left, not leaving, same partition count. */
  inRing: boolean;
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
  ring: { version: string; partitions: number; replicas: number; members: number };
  members: MemberStatus[];
  /** Members refused because they run another partition count (`partitions`: theirs). */
  refusedMembers: { name: string; partitions: number; reason: string }[];
  /** Partitions whose records this node holds (owned, or still being handed off). */
  partitionsHeld: number;
  handoff: HandoffProgress;
  hints: { held: number; heldBytes: number; stored: number; delivered: number; droppedForRoom: number; expired: number };
  store: StoreStats;
  coordinator: CoordinatorStats;
  mailboxes: MailboxStats;
}

export class ShoalNode {
  readonly kv: Coordinator;
  readonly config: ReplicationConfig;
  readonly name: string;
  readonly partitions: number;
  readonly membership: Membership;
  /** The node's one storage engine, shared by every partition replica. */
  readonly store: Store;
  private readonly env: Env;
  private readonly swim: SwimMembership;
  private readonly kvTransport: Transport;
  private placementNow: Placement;
  private previousPlacement: { placement: Placement; replacedAtMs: number } | null = null;
  private ringKey = '';
  private joinedCluster = false;
  private confirmed = false;
  private joinTimer: number | null = null;
  /** The join settle time has passed since this node first heard from its cluster. */
  private joinSettled = false;
  private ringCheckPending = false;
  private readonly startedMs: number;
  private readonly joinLog = new LogLimiter(PROBLEM_LOG_INTERVAL_MS);
  private readonly hints: HintStore;
  private readonly host: ReplicaHost;
  private readonly sync: PartitionSync;
  private readonly handoff: HintedHandoff;
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
  private readonly timers = { store: null as number | null, ring: null as number | null, leave: null as number | null };
  private malformed = 0;
  /** Messages to this node's own replicas, delivered together on the next timer tick (see send). */
  private localQueue: KvMessage[] = [];
  private localDeliveryArmed = false;
  /** Encodes a message sent to several owners once (see KvMessageEncoder). */
  private readonly encoder = new KvMessageEncoder();
  private leaving = false;
  private stopped = false;

  constructor(private readonly parts: NodeParts) {
    const { env, membership, replication } = parts;
    this.env = env;
    this.swim = membership;
    this.membership = membership;
    this.kvTransport = parts.kvTransport;
    this.config = replication;
    this.partitions = parts.partitions;
    this.store = parts.store;
    this.name = membership.self().name;
    this.placementNow = emptyPlacement(this.partitions);
    this.startedMs = env.clock.monoMs();

    const ctx: ReplicationContext = {
      env,
      config: this.config,
      selfName: this.name,
      placement: () => this.placementNow,
      isAlive: (name) => name === this.name || this.alive.get(name) === true,
      ringConfirmed: () => this.confirmed,
      previousOwners: (p) => this.previousOwners(p),
      send: (to, message, lane) => this.send(to, message, lane),
    };
    const hlc = new HybridLogicalClock(env.clock, nodeIdOf(this.name));
    this.hints = new HintStore(this.config.maxHints, this.config.maxHintBytes, this.config.hintWindowMs);
    this.host = new ReplicaHost(ctx, this.store, this.hints, hlc, parts.mailboxCapacity);
    this.sync = new PartitionSync(ctx, this.host);
    this.sync.onSameRing = () => {
      if (this.joinedCluster) this.confirmed = true;
    };
    this.handoff = new HintedHandoff(ctx, this.hints);
    this.kv = new Coordinator(ctx, hlc, this.hints, () => this.topology(), (listener) => this.onTopologyChange(listener));

    this.kvTransport.onReceive((from, bytes) => this.receive(from, bytes));
    this.unsubscribe = membership.subscribe((event) => this.onMembership(event));
    for (const m of membership.members()) this.learn(m);
    membership.start();
    if (!parts.joinsThroughSeeds) this.installFirstRing();
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
    return this.confirmed;
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
    const speaksForCluster = this.joinedCluster && (this.placementNow.members.length > 1 || !this.parts.joinsThroughSeeds);
    if (speaksForCluster) return new PartitionCountMismatchError(name, this.partitions, theirs).message;
    return `node "${name}" is configured with ${theirs} partitions and this node with ${this.partitions}; the partition count is fixed for the life of a cluster and the same on every member`;
  }

  /**
   * Until the node has joined: what it waits for, in words. Its seeds (unreachable, silent, or of
   * another cluster), members choosing their place in the ring, or a peer confirming its ring.
   * Null once joined.
   */
  waitingFor(): string | null {
    if (this.confirmed || this.stopped) return null;
    const seeds = this.swim.joinProblem();
    if (seeds !== null) return seeds;
    if (!this.joinedCluster) {
      if (!this.joinSettled) return 'the member list of the cluster (heard from it; settling)';
      const unplaceable = this.unplaceableMembers();
      if (unplaceable.length > 0) return `members to choose their place in the ring: ${unplaceable.slice(0, 5).join(', ')}${unplaceable.length > 5 ? ', ...' : ''}`;
    }
    return 'a peer to confirm this node\'s ring';
  }

  /**
   * Peers this node keeps out, and why: members running another partition count, and nodes of
   * another cluster name that sent it gossip lately (those are never members).
   */
  refusedPeers(): RefusedPeer[] {
    const peers: RefusedPeer[] = this.refusedMembers().map(({ name, reason }) => ({ name, address: this.addressOfName.get(name) ?? '', reason }));
    const ours = this.swim.config.clusterName;
    for (const p of this.swim.foreignPeers()) {
      peers.push({ name: p.name, address: p.address, reason: `it belongs to cluster "${p.cluster}", this node to cluster "${ours}" (cluster names must match)` });
    }
    return peers;
  }

  /** While joining: the seed of another cluster that refused this node, or null (see SwimMembership.clusterRefusal). */
  clusterRefusal(): ReturnType<SwimMembership['clusterRefusal']> {
    return this.swim.clusterRefusal();
  }

  placement(): Placement {
    return this.placementNow;
  }

  handoffProgress(): HandoffProgress {
    return this.sync.progress();
  }

  /** The current (or last) catch-up: partitions left, keys and bytes received, keys evicted at their source. */
  catchUpProgress(): CatchUpStatus {
    return this.sync.catchUpProgress();
  }

  /** True when joined, every owned partition has caught up and nothing waits to be handed off or hinted. */
  settled(): boolean {
    const p = this.sync.progress();
    return this.confirmed && p.partitionsCatchingUp === 0 && p.partitionsToHandOff === 0 && this.hints.count === 0;
  }

  /** Whether this node still has replicas that do not count towards reads (not joined, or catching up). */
  catchingUp(): boolean {
    return !this.confirmed || this.sync.progress().partitionsCatchingUp > 0;
  }

  /** Read-only access to held partitions, for checkers and diagnostics (reads do not touch the cache policy). */
  heldPartitions(): ReadonlyMap<number, { peek(key: string): Uint8Array | null; readonly ready: boolean; readonly size: number }> {
    return this.host.partitions;
  }

  stats(): NodeStats {
    const storeStats = this.store.stats();
    return {
      coordinator: { ...this.kv.stats },
      replica: { ...this.host.stats },
      hints: { ...this.hints.stats, held: this.hints.count, heldBytes: this.hints.bytes, peakCount: this.hints.peakCount, peakBytes: this.hints.peakBytes },
      store: { ...storeStats.evictions, entries: storeStats.entries, bytes: storeStats.bytes, refusedTooLarge: storeStats.refusedTooLarge },
      sync: { ...this.sync.stats },
      mailboxes: this.host.mailboxStats(),
      handoff: this.sync.progress(),
      malformedMessages: this.malformed,
      pendingRequests: this.kv.pendingCount,
    };
  }

  status(): NodeStatus {
    const placement = this.placementNow;
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
    const self = this.swim.self();
    return {
      name: this.name,
      zone: self.zone,
      joined: this.confirmed,
      waitingFor: this.waitingFor(),
      leaving: this.leaving,
      ring: { version: placement.version, partitions: placement.partitions, replicas: placement.width, members: placement.members.length },
      members: this.membership.members().map((m) => ({
        name: m.name,
        address: m.address,
        zone: m.zone,
        state: m.state,
        incarnation: m.incarnation,
        clientAddress: typeof m.meta[META.clientAddress] === 'string' ? (m.meta[META.clientAddress] as string) : null,
        leaving: Boolean(m.meta[META.leaving]),
        inRing: inRing.has(m.name),
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
      coordinator: { ...this.kv.stats },
      mailboxes: this.host.mailboxStats(),
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
    const placement = this.placementNow;
    const byName = new Map(this.membership.members().map((m) => [m.name, m]));
    // A member that restarted with another client port keeps its name (and so the ring version):
    // the addresses are checked on every call. No advertised client address means none (''),
    // which clients skip; the peer address would only send them to the node-to-node port.
    const nodes = placement.members.map((m) => ({ name: m.name, zone: m.zone, clientAddress: String(byName.get(m.name)?.meta[META.clientAddress] ?? '') }));
    const cached = this.topologyCache;
    const sameRing = cached?.version === placement.version;
    if (cached && sameRing && cached.nodes.every((n, i) => n.clientAddress === nodes[i]!.clientAddress)) return cached;
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
   * then leave the gossip cluster, stop, and call `done`. Requests keep being coordinated
   * meanwhile. A daemon bounds the wait with its own shutdown timeout and calls `stop()`.
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
    this.leaving = true;
    this.swim.updateMeta({ ...this.swim.self().meta, [META.leaving]: 1 });
    this.requestRingCheck();
    // Every caller of leave() hears when it finished, not just the first.
    const finished = () => {
      for (const waiter of this.leaveWaiters.splice(0)) waiter();
    };
    const poll = () => {
      this.timers.leave = null;
      if (this.stopped) return finished();
      this.rehomeDepartedHints();
      for (const target of this.hints.targets()) if (this.alive.get(target) !== true) this.rehomeHints(target, 'it is down while this node leaves');
      const p = this.sync.progress();
      const handedOff = p.partitionsToHandOff === 0 && !this.ownsAnything();
      if (handedOff) for (const target of this.hints.targets()) this.rehomeHints(target, 'this node has handed its partitions off and leaves', true);
      if (!this.joinedCluster || (handedOff && this.hints.count === 0)) {
        this.stop();
        return finished();
      }
      this.timers.leave = this.env.timers.setTimer(LEAVE_POLL_INTERVAL_MS, poll);
    };
    this.timers.leave = this.env.timers.setTimer(LEAVE_POLL_INTERVAL_MS, poll);
  }

  /** What a graceful leave (or a settling node) still waits for: hints per target, partitions to hand off. */
  leaveProgress(): LeaveProgress {
    const p = this.sync.progress();
    const hints = Object.fromEntries(this.hints.countsByTarget());
    let partitionsOwned = 0;
    for (let q = 0; q < this.placementNow.partitions; q++) if (this.placementNow.owners(q).includes(this.name)) partitionsOwned++;
    const parts = Object.entries(hints).map(([target, n]) => `${n} hint${n === 1 ? '' : 's'} to ${target}`);
    if (p.partitionsToHandOff > 0) parts.push(`${p.partitionsToHandOff} partition${p.partitionsToHandOff === 1 ? '' : 's'} (${p.keysToHandOff} keys) to hand off`);
    if (partitionsOwned > 0) parts.push(`the ring to stop placing ${partitionsOwned} partition${partitionsOwned === 1 ? '' : 's'} on this node`);
    return { hints, partitionsToHandOff: p.partitionsToHandOff, keysToHandOff: p.keysToHandOff, partitionsOwned, waitingFor: parts.length === 0 ? 'nothing' : parts.join(', ') };
  }

  /** Stops at once: pending requests fail, gossip announces the leave, timers stop. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe();
    this.kv.stop();
    for (const t of [this.timers.store, this.timers.ring, this.timers.leave, this.joinTimer]) if (t !== null) this.env.timers.cancelTimer(t);
    this.host.stop();
    this.sync.stop();
    this.handoff.stop();
    this.swim.stop();
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
      const owners = this.placementNow.owners(hint.partition).filter((o) => o !== target && (o === this.name ? !this.leaving : this.alive.get(o) === true));
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

  /** Hints for members no longer in the ring (left, leaving, forgotten by gossip, refused) can never be delivered. */
  private rehomeDepartedHints(): void {
    if (this.hints.count === 0 || !this.joinedCluster) return;
    const inRing = new Set(this.placementNow.members.map((m) => m.name));
    for (const target of this.hints.targets()) if (!inRing.has(target)) this.rehomeHints(target, 'it is no longer in the ring: it left or is leaving the cluster');
  }

  private ownsAnything(): boolean {
    for (let p = 0; p < this.placementNow.partitions; p++) if (this.placementNow.owners(p).includes(this.name)) return true;
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
    if (event.type === 'left') this.sync.forgetSource(event.member.name);
    if (!this.joinedCluster) {
      if (this.joinSettled) {
        this.tryInstallFirstRing();
      } else if (event.member.name !== this.name && this.alive.get(event.member.name) && this.joinTimer === null) {
        this.joinTimer = this.env.timers.setTimer(this.parts.joinSettleMs, () => {
          this.joinTimer = null;
          if (this.stopped) return;
          this.joinSettled = true;
          this.chooseClaimSeed();
          this.tryInstallFirstRing();
        });
      }
      return;
    }
    this.requestRingCheck();
  }

  /** Members whose data the ring places: remembered, not left or leaving, same partition count. */
  private ringMembers(): Member[] {
    return this.membership.members().filter((m) => holdsData(m) && !this.refused.has(m.name) && (m.name !== this.name || !this.leaving));
  }

  /**
   * A joining node builds its first ring only once it knows the claim seed of every member it
   * knows of (left, leaving and refused ones aside): a member it cannot place may hold data, and
   * a ring without it would name the wrong owners and let this node's replicas count themselves
   * caught up (kv seed 400: a node isolated during its boot built a ring of itself alone). Peers
   * booting with it publish their seeds within a gossip round; a member remembered without one
   * (it crashed while joining) holds the wait until gossip forgets it.
   */
  private tryInstallFirstRing(): void {
    if (this.joinedCluster || this.unplaceableMembers().length > 0) return;
    this.installFirstRing();
  }

  /** Members the first ring waits for: known, not left, leaving or refused, and without a claim seed. */
  private unplaceableMembers(): string[] {
    const names: string[] = [];
    for (const m of this.membership.members()) {
      if (m.name === this.name || m.state === 'left' || m.meta[META.leaving] || this.refused.has(m.name)) continue;
      if (!isClaimSeed(m.meta[META.claimSeed])) names.push(m.name);
    }
    return names;
  }

  private installFirstRing(): void {
    this.chooseClaimSeed();
    const members = this.ringMembers();
    this.ringKey = ringInputsKey(members);
    this.setPlacement(buildPlacement(members, this.partitions, this.config.replicas));
    this.joinedCluster = true;
    // Alone in the ring (a founder, or the only member left): nobody can disagree with it. (Peers
    // still choosing their claim seeds would hold the first ring back: see tryInstallFirstRing.)
    if (members.length === 1) this.confirmed = true;
    this.sync.onPlacement(null, this.placementNow);
  }

  /** Live peers of this cluster (same Q) that have not chosen their claim seed yet. */
  private joiningPeers(): Member[] {
    return this.membership
      .members()
      .filter((m) => m.name !== this.name && this.alive.get(m.name) === true && !this.refused.has(m.name) && !holdsData(m) && !m.meta[META.leaving]);
  }

  /**
   * A node enters the ring only once it has a claim seed (src/ring/claim-seed.ts): the one it had
   * in a previous life if the cluster still remembers it (gossip's sticky metadata brings it
   * back), else the best one against the ring it is joining. Until then peers see it as joining.
   */
  private chooseClaimSeed(): void {
    const me = this.swim.self();
    if (isClaimSeed(me.meta[META.claimSeed])) return;
    // Peers joining at the same moment (a cluster booting) choose as if they had joined one by
    // one in name order: each takes the choices of those before it into account, as a real
    // sequence of joins would, instead of all choosing against the same ring.
    // At most the MAX_REPLAYED_JOINERS nearest before it, so a huge boot stays cheap (each choice
    // costs ~40 ms at 64 nodes, ~0.3 s at 1000).
    const before = this.joiningPeers()
      .filter((m) => m.name < me.name)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .slice(-MAX_REPLAYED_JOINERS)
      .map((m) => ({ name: m.name, zone: m.zone }));
    const joined = joinInOrder([...before, { name: me.name, zone: me.zone }], this.partitions, this.config.replicas, this.ringMembers().map(ringMemberOf));
    this.swim.updateMeta({ ...me.meta, [META.claimSeed]: joined[joined.length - 1]!.claimSeed! });
  }

  /** The partition's owners in the ring before the current one, while the change is recent. */
  private previousOwners(partition: number): readonly string[] | null {
    const previous = this.previousPlacement;
    if (previous === null || this.env.clock.monoMs() - previous.replacedAtMs > RING_TRANSITION_MS) return null;
    return previous.placement.owners(partition);
  }

  private setPlacement(next: Placement): void {
    // The first ring has no predecessor worth writing to: it was built before the node joined.
    if (this.joinedCluster) this.previousPlacement = { placement: this.placementNow, replacedAtMs: this.env.clock.monoMs() };
    this.placementNow = next;
    for (const listener of [...this.topologyListeners]) listener(next.version);
  }

  /** Coalesces the membership events of one burst (a push-pull merges many) into one ring check. */
  private requestRingCheck(): void {
    if (this.ringCheckPending || !this.joinedCluster) return;
    this.ringCheckPending = true;
    this.env.timers.setTimer(0, () => {
      this.ringCheckPending = false;
      if (this.stopped) return;
      this.checkRing();
      this.rehomeDepartedHints();
    });
  }

  private checkRing(): void {
    const members = this.ringMembers();
    const key = ringInputsKey(members);
    if (key === this.ringKey) return;
    this.ringKey = key;
    const previous = this.placementNow;
    const next = buildPlacement(members, this.partitions, this.config.replicas);
    if (next.version === previous.version) return;
    this.setPlacement(next);
    this.sync.onPlacement(previous, next);
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
      if (this.joinedCluster) {
        this.checkRing();
        this.rehomeDepartedHints();
      } else if (this.joinSettled) this.tryInstallFirstRing(); // gossip forgets members silently
      this.logIfStillJoining();
      this.scheduleRingCheck();
    });
  }

  /** A join that takes long says what it waits for, rate-limited, so a stuck node is never silent. */
  private logIfStillJoining(): void {
    const now = this.env.clock.monoMs();
    if (this.confirmed || now - this.startedMs < JOIN_WAIT_LOG_AFTER_MS || !this.joinLog.allow('joining', now)) return;
    const waitingFor = this.waitingFor();
    if (waitingFor !== null) this.env.log.warn({ waitingFor, seconds: Math.round((now - this.startedMs) / 1000) }, `still joining; waiting for: ${waitingFor}`);
  }

  private scheduleStoreTick(): void {
    this.timers.store = this.env.timers.setTimer(STORE_TICK_INTERVAL_MS, () => {
      this.store.tick();
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
    if (this.sync.onMessage(from, message)) return;
    if (message.t === 'ha') this.handoff.onAck(message.id);
    else this.kv.onReply(from, message);
  }
}
