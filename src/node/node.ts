/**
 * The composition root of one node's core: membership + ring placement + partition actors over the
 * storage backend + coordinator + hinted handoff + partition sync, all on one injected Env. The
 * daemon wraps it with real sockets; the simulator builds it with a simulated Env.
 */
import type { Member, Membership, MembershipEvent } from '../gossip/membership.ts';
import type { Env, Lane, NodeAddress } from '../runtime/env.ts';
import { DEFAULT_PARTITION_COUNT } from '../ring/partition.ts';
import { Store, type StoreStats } from '../store/index.ts';
import { DEFAULT_MAILBOX_CAPACITY } from '../actors/index.ts';
import type { TopologySnapshot } from '../replication/api.ts';
import { replicationConfig, type ReplicationConfig } from '../replication/config.ts';
import type { Placement, ReplicationContext } from '../replication/context.ts';
import { Coordinator } from '../replication/coordinator.ts';
import { HintedHandoff } from '../replication/hinted-handoff.ts';
import { HintStore } from '../replication/hints.ts';
import { HybridLogicalClock, nodeIdOf } from '../replication/hlc.ts';
import { decodeKvMessage, encodeKvMessage, MalformedKvMessageError, type KvMessage } from '../replication/messages.ts';
import { ReplicaHost, type MailboxStats } from '../replication/replica-host.ts';
import { PartitionSync, type HandoffProgress } from '../replication/sync.ts';
import { buildPlacement, holdsData } from './ring-placement.ts';
import { frame, MessageFamily } from './wire.ts';

export interface NodeConfig {
  /** Partition count Q, fixed for the cluster's life. */
  partitions?: number;
  replication?: Partial<ReplicationConfig>;
  /** Memory budget of the node's store in bytes (default DEFAULT_MAX_MEMORY). */
  maxMemory?: number;
  /** Bound of each partition actor's mailbox (default DEFAULT_MAILBOX_CAPACITY from src/actors). */
  mailboxCapacity?: number;
}

/** Default store budget: small enough for many simulated nodes in one process, ample for their key spaces. */
export const DEFAULT_MAX_MEMORY = 64 * 1024 * 1024;
/**
 * How often the store's maintenance runs (bounded active expiry, hot-key windows). Reads never
 * see an expired entry whatever the interval; the tick only reclaims memory.
 */
export const STORE_TICK_INTERVAL_MS = 1_000;

export interface NodeStats {
  coordinator: Coordinator['stats'];
  replica: ReplicaHost['stats'];
  hints: HintStore['stats'] & { held: number; heldBytes: number; peakCount: number; peakBytes: number };
  store: StoreStats['evictions'] & { entries: number; bytes: number; refusedTooLarge: number };
  sync: PartitionSync['stats'];
  mailboxes: MailboxStats;
  handoff: HandoffProgress;
  malformedMessages: number;
  pendingRequests: number;
}

export class ShoalNode {
  readonly kv: Coordinator;
  readonly config: ReplicationConfig;
  readonly name: string;
  readonly partitions: number;
  /** The node's one storage engine, shared by every partition replica. */
  readonly store: Store;
  private placementNow: Placement;
  private readonly hints: HintStore;
  private readonly host: ReplicaHost;
  private readonly sync: PartitionSync;
  private readonly handoff: HintedHandoff;
  private readonly unsubscribe: () => void;
  private readonly nameOfAddress = new Map<NodeAddress, string>();
  private readonly addressOfName = new Map<string, NodeAddress>();
  private readonly alive = new Map<string, boolean>();
  private topologyCache: TopologySnapshot | null = null;
  private storeTimer: number | null = null;
  private malformed = 0;
  private stopped = false;

  constructor(
    private readonly env: Env,
    private readonly membership: Membership,
    options: NodeConfig = {},
  ) {
    this.config = replicationConfig(options.replication);
    this.partitions = options.partitions ?? DEFAULT_PARTITION_COUNT;
    this.name = membership.self().name;
    for (const m of membership.members()) this.learn(m);
    this.placementNow = buildPlacement(membership.members(), this.partitions, this.config.replicas);

    const ctx: ReplicationContext = {
      env,
      config: this.config,
      selfName: this.name,
      placement: () => this.placementNow,
      isAlive: (name) => name === this.name || this.alive.get(name) === true,
      send: (to, message, lane) => this.send(to, message, lane),
    };
    const hlc = new HybridLogicalClock(env.clock, nodeIdOf(this.name));
    this.hints = new HintStore(this.config.maxHints, this.config.maxHintBytes, this.config.hintWindowMs);
    this.store = new Store({ maxMemory: options.maxMemory ?? DEFAULT_MAX_MEMORY, clock: env.clock, random: env.random });
    this.host = new ReplicaHost(ctx, this.store, this.hints, hlc, options.mailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY);
    this.sync = new PartitionSync(ctx, this.host);
    this.handoff = new HintedHandoff(ctx, this.hints);
    this.kv = new Coordinator(ctx, hlc, this.hints, () => this.topology());

    env.transport.onReceive((from, bytes) => this.receive(from, bytes));
    this.unsubscribe = membership.subscribe((event) => this.onMembership(event));
    this.sync.onPlacement(null, this.placementNow);
    this.scheduleStoreTick();
    this.sync.start();
    this.handoff.start();
  }

  placement(): Placement {
    return this.placementNow;
  }

  handoffProgress(): HandoffProgress {
    return this.sync.progress();
  }

  /** True when every owned partition has caught up and nothing waits to be handed off or hinted. */
  settled(): boolean {
    const p = this.sync.progress();
    return p.partitionsCatchingUp === 0 && p.partitionsToHandOff === 0 && this.hints.count === 0;
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

  topology(): TopologySnapshot {
    if (this.topologyCache?.version === this.placementNow.version) return this.topologyCache;
    const placement = this.placementNow;
    const byName = new Map(this.membership.members().map((m) => [m.name, m]));
    const owners: string[][] = [];
    for (let p = 0; p < placement.partitions; p++) owners.push([...placement.owners(p)]);
    this.topologyCache = {
      version: placement.version,
      partitions: placement.partitions,
      replicas: placement.width,
      nodes: placement.members.map((m) => ({
        name: m.name,
        zone: m.zone,
        clientAddress: String(byName.get(m.name)?.meta['clientAddress'] ?? byName.get(m.name)?.address ?? ''),
      })),
      owners,
    };
    return this.topologyCache;
  }

  /** Graceful stop: pending requests fail, timers stop. (A leave hands off first; see the kv-join scenario.) */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe();
    this.kv.stop();
    if (this.storeTimer !== null) this.env.timers.cancelTimer(this.storeTimer);
    this.storeTimer = null;
    this.host.stop();
    this.sync.stop();
    this.handoff.stop();
  }

  private scheduleStoreTick(): void {
    this.storeTimer = this.env.timers.setTimer(STORE_TICK_INTERVAL_MS, () => {
      this.store.tick();
      this.scheduleStoreTick();
    });
  }

  // ---- membership -------------------------------------------------------------------------

  private learn(m: Member): void {
    this.nameOfAddress.set(m.address, m.name);
    this.addressOfName.set(m.name, m.address);
    this.alive.set(m.name, m.state === 'alive' || m.state === 'suspect');
  }

  private onMembership(event: MembershipEvent): void {
    if (this.stopped) return;
    const wasInRing = this.placementNow.members.some((m) => m.name === event.member.name);
    this.learn(event.member);
    if (event.type === 'left') this.sync.forgetSource(event.member.name);
    if (wasInRing !== holdsData(event.member) || event.type === 'joined') {
      const previous = this.placementNow;
      const next = buildPlacement(this.membership.members(), this.partitions, this.config.replicas);
      if (next.version === previous.version) return;
      this.placementNow = next;
      this.sync.onPlacement(previous, next);
    }
  }

  // ---- transport --------------------------------------------------------------------------

  private send(to: string, message: KvMessage, lane?: Lane): void {
    if (this.stopped) return;
    if (to === this.name) {
      // Local replica: the same code path, one timer tick later, so callbacks never re-enter.
      this.env.timers.setTimer(0, () => this.dispatch(this.name, message));
      return;
    }
    const address = this.addressOfName.get(to);
    if (address === undefined) return;
    this.env.transport.send(address, frame(MessageFamily.kv, encodeKvMessage(message)), lane);
  }

  private receive(from: NodeAddress, bytes: Uint8Array): void {
    if (this.stopped || bytes[0] !== MessageFamily.kv) return; // gossip is wired in when src/gossip lands
    const name = this.nameOfAddress.get(from);
    if (name === undefined) return;
    let message: KvMessage;
    try {
      message = decodeKvMessage(bytes.subarray(1));
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
