/**
 * SWIM membership with Lifeguard: the Swim class composes the parts, one file per concern as
 * memberlist splits them, and implements the Membership interface on top of them:
 *
 * - member-table.ts    what we know of every member, probe order, random sampling
 * - member-updates.ts  merging news: precedence, refutation, suspicion timers, side effects
 * - probe.ts           the probe loop: ping, ping-req, nack, Lifeguard local health awareness
 * - dissemination.ts   the broadcast queue piggybacked on every message, the gossip tick
 * - push-pull.ts       periodic full-state sync
 * - join.ts            joining through the seeds, and why we are not in yet
 * - foreign.ts         messages from other clusters
 *
 * Here: construction (the order of random draws is part of the replayable behaviour), start, leave
 * and stop, and the receive path that decodes a message and hands each part its piece.
 */
import type { Env, NodeAddress } from '../runtime/env.ts';
import { Awareness } from './awareness.ts';
import { LAN_PROFILE, PROBLEM_LOG_INTERVAL_MS, validateConfig, type GossipConfig } from './config.ts';
import type { Lifecycle, SwimContext } from './context.ts';
import { Dissemination } from './dissemination.ts';
import { GossipConfigError, WireDecodeError } from './errors.ts';
import { MembershipEvents } from './events.ts';
import { ForeignClusters } from './foreign.ts';
import { Join } from './join.ts';
import { LogLimiter } from '../runtime/log-limiter.ts';
import { encodedUpdate, MemberTable } from './member-table.ts';
import { MemberUpdates } from './member-updates.ts';
import type { ClusterRefusal, ForeignPeer, Member, Membership, MembershipEvent, VersionRefusal, VersionRefusedPeer } from './membership.ts';
import { checkedMeta } from './meta.ts';
import { ProbeLoop } from './probe.ts';
import { PushPull } from './push-pull.ts';
import { protocolRange, VersionGate, withProtocolMeta, type ProtocolRange } from './protocol-version.ts';
import { Seeds, type SeedSource } from './seeds.ts';
import { emptySwimStats, type SwimStats } from './stats.ts';
import { MAX_IDENTIFIER_LENGTH, decodeMessage, encodeHeader, encodeMessage, type DecodeLimits, type GossipMessage } from './wire.ts';

export interface SwimOptions {
  /** Stable across restarts (the ring places partitions by name). */
  name: string;
  zone?: string;
  /** Application metadata (client port, protocol version, partition count...), carried faithfully. */
  meta?: Readonly<Record<string, string | number>>;
  /**
   * Addresses to join through; our own address is skipped. Empty (or only us): we found a new
   * cluster. A SeedSource is read again at every use (the daemon re-resolves DNS names into it),
   * and a member given one keeps making join attempts whenever it is alone, even as a founder.
   */
  seeds?: readonly NodeAddress[] | SeedSource;
  /**
   * Metadata keys a restarted member takes back from its previous life: when peers still remember
   * us with such a key that our own metadata lacks, we adopt their value as we refute the old
   * entry. For attributes chosen once per member (the ring's claim seed), so a restart does not
   * change them while the cluster remembers the member.
   */
  stickyMeta?: readonly string[];
  /** The protocol version this member runs and the peer versions it accepts (protocol-version.ts). Default: this build's. */
  protocol?: ProtocolRange;
  config?: GossipConfig;
}

export class SwimMembership implements Membership {
  readonly stats: SwimStats = emptySwimStats();
  readonly clusterName: string;

  private readonly env: Env;
  private readonly config: GossipConfig;
  private readonly name: string;
  private readonly limits: DecodeLimits;
  private readonly life: Lifecycle = { started: false, leaving: false, stopped: false, heardFullState: false };
  private readonly table: MemberTable;
  private readonly events = new MembershipEvents();
  private readonly dissemination: Dissemination;
  private readonly updates: MemberUpdates;
  private readonly probe: ProbeLoop;
  private readonly awareness: Awareness;
  private readonly pushPull: PushPull;
  private readonly join: Join;
  private readonly foreign: ForeignClusters;
  private readonly versions: VersionGate;

  constructor(env: Env, options: SwimOptions) {
    const config = validateConfig({ ...(options.config ?? LAN_PROFILE) });
    if (options.name.length === 0 || options.name.length > MAX_IDENTIFIER_LENGTH) {
      throw new GossipConfigError(`member name must be 1..${MAX_IDENTIFIER_LENGTH} characters`);
    }
    this.env = env;
    this.config = config;
    this.clusterName = config.clusterName;
    this.name = options.name;
    this.limits = { maxMessageBytes: config.maxMessageBytes, maxUpdates: config.maxMembers };
    this.table = new MemberTable(this.name, env.random);
    this.versions = new VersionGate(env, options.protocol ?? protocolRange(), new LogLimiter(PROBLEM_LOG_INTERVAL_MS), config.deadReclaimMs);
    const ctx: SwimContext = { env, config, name: this.name, stats: this.stats, table: this.table, life: this.life, versions: this.versions };
    const awareness = new Awareness(config.awarenessMaxMultiplier, config.lifeguard);
    this.awareness = awareness;
    const seeds = new Seeds(options.seeds ?? [], env.address);
    this.dissemination = new Dissemination(ctx);
    this.updates = new MemberUpdates(ctx, this.dissemination, awareness, this.events, options.stickyMeta ?? [], () => this.join.peerChanged());
    // The probe loop draws its starting sequence number here, before our own entry draws its place
    // in the probe order: the order of random draws is part of a replayable run.
    this.probe = new ProbeLoop(ctx, this.dissemination, awareness, (target, why) => this.updates.suspect(target, why));
    this.pushPull = new PushPull(ctx, this.dissemination, seeds, (u, via) => this.updates.apply(u, via));
    this.join = new Join(ctx, seeds, this.pushPull);
    this.foreign = new ForeignClusters(ctx, this.dissemination, this.join);
    const meta = checkedMeta(withProtocolMeta(options.meta ?? {}, this.versions.ours));
    this.updates.put({ name: this.name, address: env.address, zone: options.zone ?? '', state: 'alive', incarnation: 0, meta }, null);
  }

  start(): void {
    if (this.life.started) return;
    this.life.started = true;
    this.env.transport.onReceive((from, bytes) => this.receive(from, bytes));
    // Each part arms its timer at a random phase, in this order (the order of the random draws).
    this.probe.start();
    this.dissemination.start();
    this.pushPull.start();
    this.join.start();
  }

  // ---- the Membership interface -------------------------------------------------------------

  healthScore(): number {
    return this.awareness.score;
  }

  self(): Member {
    return this.table.get(this.name)!.member;
  }

  members(): readonly Member[] {
    return Array.from(this.table.values(), (e) => e.member);
  }

  member(name: string): Member | undefined {
    return this.table.get(name)?.member;
  }

  subscribe(listener: (event: MembershipEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  liveMembers(): number {
    return this.table.liveCount;
  }

  viewDigest(): number {
    return this.table.viewDigest;
  }

  get joining(): boolean {
    return this.join.joining;
  }

  get heardFullState(): boolean {
    return this.life.heardFullState;
  }

  updateMeta(meta: Readonly<Record<string, string | number>>): void {
    const me = this.self();
    this.updates.put({ ...me, meta: checkedMeta(withProtocolMeta(meta, this.versions.ours)), incarnation: me.incarnation + 1 }, null);
  }

  joinProblem(): string | null {
    return this.join.problem();
  }

  clusterRefusal(): ClusterRefusal | null {
    return this.join.clusterRefusal();
  }

  versionRefusal(): VersionRefusal | null {
    return this.join.versionRefusal();
  }

  versionRefusedPeers(): VersionRefusedPeer[] {
    return this.versions.refusedPeers();
  }

  foreignPeers(): ForeignPeer[] {
    return this.foreign.list();
  }

  reportUnreachable(address: NodeAddress, reason = 'connection failed'): void {
    this.join.unreachable(address, reason);
    this.probe.unreachable(address);
  }

  /** Graceful leave: we announce `left` to a few members at once and stop probing. */
  leave(): void {
    if (this.life.leaving || this.life.stopped) return;
    this.life.leaving = true;
    this.updates.put({ ...this.self(), state: 'left' }, null);
    const targets = this.table.sample(this.config.gossipNodes + this.config.indirectChecks, (e) => e.member.state === 'alive' || e.member.state === 'suspect');
    for (const e of targets) this.dissemination.send(e.member.address, { type: 'gossip' });
  }

  /** Leaves (unless told not to: a stop for a restart) and stops every timer; the sim calls this on a graceful stop. */
  stop(options: { leave?: boolean } = {}): void {
    if (this.life.stopped) return;
    if (this.life.started && options.leave !== false) this.leave();
    this.life.stopped = true;
    this.probe.stop();
    this.dissemination.stop();
    this.pushPull.stop();
    this.join.stop();
    this.updates.stop();
  }

  // ---- receiving -----------------------------------------------------------------------------

  private receive(from: NodeAddress, bytes: Uint8Array): void {
    if (this.life.stopped) return;
    this.stats.messagesReceived++;
    this.stats.bytesReceived += bytes.length;
    let msg: GossipMessage;
    try {
      msg = decodeMessage(bytes, this.limits);
    } catch (e) {
      if (!(e instanceof WireDecodeError)) throw e;
      if (e.reason === 'oversized') this.stats.oversized++;
      else if (e.reason === 'version') this.stats.unsupportedVersion++;
      else this.stats.malformed++;
      return;
    }
    if (msg.cluster !== this.config.clusterName) {
      this.stats.foreignCluster++;
      this.foreign.receive(from, msg);
      return;
    }
    if (msg.sender === this.name) return;
    if (!this.admitVersion(from, msg)) return;
    this.join.heardFrom(from);
    const body = msg.body;
    if (body.type === 'sync') {
      this.pushPull.merge(msg.updates, msg.sender);
      this.life.heardFullState = true;
      if (!body.reply) this.pushPull.sendState(from, true);
      return;
    }
    // Piggybacked news first: a suspect learns of its suspicion before it answers the ping carrying it.
    const corrections: Uint8Array[] = [];
    for (const u of msg.updates) {
      const stale = this.updates.apply(u, msg.sender);
      if (stale && !this.config.bugs?.ignoreStaleAccusations) corrections.push(encodedUpdate(this.table.get(u.name)!));
    }
    const accusation = this.accusationOfSender(msg.sender);
    if (accusation) corrections.push(accusation);
    if (corrections.length > 0) this.dissemination.correct(from, corrections);
    switch (body.type) {
      case 'ping':
        this.probe.answerPing(from, body.seq, body.target);
        return;
      case 'ack':
        this.probe.ackReceived(body.seq, body.target);
        return;
      case 'nack':
        this.probe.nackReceived(body.seq, body.target);
        return;
      case 'ping-req':
        this.probe.probeForOther(from, body.seq, body.target, body.targetAddress, body.wantNack);
        return;
      case 'gossip':
      case 'refuse': // handled by ForeignClusters and admitVersion
        return;
    }
  }

  /**
   * A member we hold as suspect or dead is talking to us, so it is up and does not know: the
   * accusation's retransmits may all have been spent while it could not hear (a network split), and
   * the buddy system reaches it only when we next probe it, which Lifeguard stretches up to 8 probe
   * intervals on a node that just came out of a split. Telling the sender lets it refute at once
   * instead of at the suspicion timer or the next push-pull (kv-sdk seed 147: a healed split left
   * n1 suspecting n2 and n2 holding n1 dead, each unknown to the accused, for 4 s).
   */
  private accusationOfSender(sender: string): Uint8Array | null {
    if (this.config.bugs?.silentToAccused) return null;
    const entry = this.table.get(sender);
    if (!entry || (entry.member.state !== 'suspect' && entry.member.state !== 'dead')) return null;
    return encodedUpdate(entry);
  }

  /**
   * Protocol versions (protocol-version.ts): a message from a peer whose version we do not accept
   * never touches the view, and its join gets `refuse` carrying our own update (our version and
   * range); a `refuse` within our cluster is a seed refusing our version: why we cannot join.
   */
  private admitVersion(from: NodeAddress, msg: GossipMessage): boolean {
    if (msg.body.type === 'refuse') {
      this.join.versionRefusedBy(from, msg.sender, this.versions.refusedBy(from, msg.sender, msg.updates));
      return false;
    }
    if (this.versions.admits(msg.sender, from, msg.updates.find((u) => u.name === msg.sender)?.meta)) return true;
    this.stats.incompatibleVersion++;
    if (msg.body.type === 'sync' && !msg.body.reply && !this.life.leaving) {
      const self = encodedUpdate(this.table.get(this.name)!);
      this.dissemination.transmit(from, encodeMessage(encodeHeader(this.config.clusterName, this.name, { type: 'refuse' }), [self]), 'control');
    }
    return false;
  }
}
