/**
 * SWIM membership with Lifeguard: the probe loop, suspicion, dissemination, push-pull sync and
 * joining, as one synchronous state machine driven by the Env's timers and transport.
 *
 * - Probing: each probe interval, the next member of a shuffled round-robin list gets a ping; no
 *   ack within the probe timeout sends ping-req to `indirectChecks` other members; no ack by the end
 *   of the interval makes the target a suspect.
 * - Suspicion: a suspect has `suspicionBounds` time to refute (Lifeguard: shrinking with
 *   independent confirmations); then it is declared dead. Only a member raises its own incarnation.
 * - Dissemination: every accepted change is queued and piggybacked on pings, acks and gossip
 *   messages to `gossipNodes` random members, each about retransmitMult*log(n+1) times.
 * - Push-pull: full state with one random member every (scaled) interval, with seeds when we know
 *   no live peer, and with one remembered dead member (so the halves of a healed partition find
 *   each other again). Joining is a push-pull with the seeds, retried with backoff forever.
 *
 * Unreachable peers: the transport may call `reportUnreachable(address)` when a connection to a
 * peer fails; an outstanding direct probe of that address then fails at once and indirect probes
 * start without waiting for the timeout. Without the hook, the probe timeout catches the same case.
 *
 * Saying what we wait for: while joining, `joinProblem()` tells why no seed has let us in yet
 * (unreachable, silent, or of another cluster: a seed answers a foreign join with `refuse`), and
 * both sides of a cluster-name mismatch log it, rate-limited. Verdicts about peers are logged.
 */
import { cappedBackoff } from '../protocol/backoff.ts';
import { fnv1aString } from '../protocol/hash.ts';
import type { Env, Lane, NodeAddress, TimerId } from '../runtime/env.ts';
import { Awareness } from './awareness.ts';
import { BroadcastQueue, retransmitLimit } from './broadcast-queue.ts';
import { LAN_PROFILE, scaledPushPullIntervalMs, validateConfig, type GossipConfig } from './config.ts';
import { GossipConfigError, WireDecodeError } from './errors.ts';
import { LogLimiter } from './log-limiter.ts';
import { protocolRange, VersionGate, withProtocolMeta, type ProtocolRange, type VersionRefusedPeer } from './protocol-version.ts';
import type { Member, MemberState, Membership, MembershipEvent } from './membership.ts';
import { decideMerge, mustRefute } from './merge.ts';
import { Suspicion, suspicionBounds } from './suspicion.ts';
import {
  MAX_IDENTIFIER_LENGTH,
  MAX_META_BYTES,
  MAX_META_ENTRIES,
  decodeMessage,
  encodeHeader,
  encodeMessage,
  encodeUpdate,
  listHeaderBytes,
  type DecodeLimits,
  type GossipMessage,
  type MemberUpdate,
  type MessageBody,
} from './wire.ts';

export interface SwimOptions {
  /** Stable across restarts (the ring places partitions by name). */
  name: string;
  zone?: string;
  /** Application metadata (client port, protocol version, partition count...), carried faithfully. */
  meta?: Readonly<Record<string, string | number>>;
  /** Addresses to join through; our own address is skipped. Empty (or only us): we found a new cluster. */
  seeds?: readonly NodeAddress[];
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

/** Counters a node exposes for operators and checkers. */
export interface SwimStats {
  messagesSent: number;
  bytesSent: number;
  messagesReceived: number;
  /** Inbound messages dropped because they failed to decode or validate. */
  malformed: number;
  oversized: number;
  unsupportedVersion: number;
  foreignCluster: number;
  /** Messages dropped because their sender runs a protocol version we do not accept (protocol-version.ts). */
  incompatibleVersion: number;
  /** Pings addressed to another member name (an address reused after a restart). */
  misdirected: number;
  /** New members refused because the table was full. */
  tableFull: number;
  probes: number;
  probesFailed: number;
  indirectProbes: number;
  suspicionsRaised: number;
  refutations: number;
  deathsDeclared: number;
  pushPulls: number;
  /** Bytes of full-state syncs sent (bulk lane), also counted in bytesSent. */
  pushPullBytes: number;
  joinAttempts: number;
  reclaimed: number;
}

interface Entry {
  member: Member;
  /** For a suspect: who accused it (carried when we gossip the suspicion on). */
  accuser: string | null;
  /** Monotonic ms of the last state change. */
  changedMs: number;
  /** The encoded update for push-pull, built lazily and dropped on change. */
  encoded: Uint8Array | null;
}

interface PendingAck {
  target: string;
  onAck(): void;
  onNack(): void;
}

interface ProbeInFlight {
  seq: number;
  target: string;
  address: NodeAddress;
  acked: boolean;
  indirectStarted: boolean;
  expectedNacks: number;
  nacks: number;
  timeoutTimer: TimerId;
}

/** What a seed last told us, for joinProblem(); a seed that never answered (or answered in our cluster) has none. */
type SeedProblem = { kind: 'unreachable'; reason: string } | { kind: 'refused'; name: string; cluster: string } | { kind: 'version'; name: string; reason: string };

/** A peer of another cluster (another cluster name) that sent us gossip: never in the view, shown apart. */
export interface ForeignPeer {
  name: string;
  address: NodeAddress;
  cluster: string;
}

/**
 * A condition that lasts (an unreachable seed, a foreign peer that keeps knocking) is logged again
 * at most this often per seed or peer, so it stays visible without flooding the log.
 */
export const PROBLEM_LOG_INTERVAL_MS = 15_000;
/** Foreign peers remembered for status, at most (they are outside input). */
const MAX_FOREIGN_PEERS = 16;

/** An intermediary sends a nack when the target stayed silent for this fraction of the probe timeout. */
const NACK_AFTER_FRACTION = 0.8;
/** Candidate draws per wanted member when sampling random members from a large table. */
const SAMPLE_TRIES_PER_PICK = 8;

export class SwimMembership implements Membership {
  readonly config: GossipConfig;
  readonly stats: SwimStats = {
    messagesSent: 0,
    bytesSent: 0,
    messagesReceived: 0,
    malformed: 0,
    oversized: 0,
    unsupportedVersion: 0,
    foreignCluster: 0,
    incompatibleVersion: 0,
    misdirected: 0,
    tableFull: 0,
    probes: 0,
    probesFailed: 0,
    indirectProbes: 0,
    suspicionsRaised: 0,
    refutations: 0,
    deathsDeclared: 0,
    pushPulls: 0,
    pushPullBytes: 0,
    joinAttempts: 0,
    reclaimed: 0,
  };
  readonly awareness: Awareness;

  private readonly name: string;
  private readonly table = new Map<string, Entry>();
  private readonly probeList: string[] = [];
  private probeIndex = 0;
  private readonly broadcasts = new BroadcastQueue();
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly pending = new Map<number, PendingAck>();
  private currentProbe: ProbeInFlight | null = null;
  private readonly listeners: ((event: MembershipEvent) => void)[] = [];
  /** Short-lived timers (probe finish, nack, pending cleanup), cancelled by stop(). */
  private readonly oneShots = new Set<TimerId>();
  private readonly seeds: readonly NodeAddress[];
  private readonly seedSet: ReadonlySet<NodeAddress>;
  private readonly seedProblems = new Map<NodeAddress, SeedProblem>();
  /** Foreign peers by address, least recently heard first; forgotten after deadReclaimMs. */
  private readonly foreign = new Map<NodeAddress, ForeignPeer & { heardMs: number }>();
  private readonly logLimiter = new LogLimiter(PROBLEM_LOG_INTERVAL_MS);
  private readonly stickyMeta: readonly string[];
  private readonly versions: VersionGate;
  private readonly limits: DecodeLimits;
  private seq: number;
  /** Members in state alive or suspect, ourselves included. */
  private liveCount = 0;
  private tombstones = 0;
  private digest = 0;
  private leaving = false;
  private stopped = false;
  private started = false;
  private joinTimer: TimerId | null = null;
  /** Join attempts since this member last saw others: the exponent of the join backoff. */
  private joinBackoffAttempt = 0;
  private probeTimer: TimerId | null = null;
  private gossipTimer: TimerId | null = null;
  private pushPullTimer: TimerId | null = null;

  constructor(
    private readonly env: Env,
    options: SwimOptions,
  ) {
    this.config = validateConfig({ ...(options.config ?? LAN_PROFILE) });
    if (options.name.length === 0 || options.name.length > MAX_IDENTIFIER_LENGTH) {
      throw new GossipConfigError(`member name must be 1..${MAX_IDENTIFIER_LENGTH} characters`);
    }
    this.name = options.name;
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier, this.config.lifeguard);
    this.seeds = (options.seeds ?? []).filter((s) => s !== env.address);
    this.seedSet = new Set(this.seeds);
    this.stickyMeta = options.stickyMeta ?? [];
    this.limits = { maxMessageBytes: this.config.maxMessageBytes, maxUpdates: this.config.maxMembers };
    // A random starting sequence number: acks meant for a previous life of this address do not match.
    this.seq = env.random.int(2 ** 30);
    this.versions = new VersionGate(env, options.protocol ?? protocolRange(), this.logLimiter, this.config.deadReclaimMs);
    const meta = checkedMeta(withProtocolMeta(options.meta ?? {}, this.versions.ours));
    this.put({ name: this.name, address: env.address, zone: options.zone ?? '', state: 'alive', incarnation: 0, meta }, null);
  }

  /** Starts probing, gossiping and joining through the seeds. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.env.transport.onReceive((from, bytes) => this.receive(from, bytes));
    const c = this.config;
    // Random phases, so a cluster started at once does not probe and sync in lockstep.
    this.probeTimer = this.env.timers.setTimer(this.env.random.int(c.probeIntervalMs), () => this.probeTick());
    this.gossipTimer = this.env.timers.setTimer(this.env.random.int(c.gossipIntervalMs), () => this.gossipTick());
    this.pushPullTimer = this.env.timers.setTimer(this.env.random.int(this.pushPullIntervalMs()), () => this.pushPullTick());
    if (this.seeds.length > 0) this.joinAttempt();
  }

  // ---- the Membership interface -------------------------------------------------------------

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
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Members alive or suspect, ourselves included. */
  liveMembers(): number {
    return this.liveCount;
  }

  /**
   * An order-independent digest of the live view (name, state, incarnation of every alive or
   * suspect member): two members with equal digests and counts see the same live cluster.
   */
  viewDigest(): number {
    return this.digest >>> 0;
  }

  /** Whether we still wait for a seed to answer. */
  get joining(): boolean {
    return this.joinTimer !== null;
  }

  /** New metadata for ourselves: a new incarnation, gossiped like any state change. */
  updateMeta(meta: Readonly<Record<string, string | number>>): void {
    const me = this.self();
    this.put({ ...me, meta: checkedMeta(withProtocolMeta(meta, this.versions.ours)), incarnation: me.incarnation + 1 }, null);
  }

  /**
   * While we have seeds and see no live peer (joining, or every peer we knew is gone): why no
   * seed has let us in, in words: seeds of another cluster that refused us, seeds the transport
   * could not reach (with its reason), seeds that have not answered. Null when not joining.
   */
  joinProblem(): string | null {
    if (this.seeds.length === 0 || this.liveCount > 1 || this.stopped || this.leaving) return null;
    const refused: string[] = [];
    const unreachable: string[] = [];
    const silent: string[] = [];
    for (const seed of this.seeds) {
      const p = this.seedProblems.get(seed);
      if (p === undefined) silent.push(seed);
      else if (p.kind === 'unreachable') unreachable.push(`${seed} (${p.reason})`);
      else refused.push(p.kind === 'version' ? p.reason : this.refusalText(seed, p));
    }
    const parts = [...refused];
    if (unreachable.length > 0) parts.push(`seeds unreachable: ${unreachable.join(', ')}`);
    if (silent.length > 0) parts.push(`no answer from seeds: ${silent.join(', ')}`);
    return parts.join('; ');
  }

  /**
   * While joining: a seed of another cluster that refused us (a configuration error: cluster names
   * differ), with the reason in words; null otherwise.
   */
  clusterRefusal(): { seed: NodeAddress; name: string; cluster: string; reason: string } | null {
    if (this.joinProblem() === null) return null;
    for (const [seed, p] of this.seedProblems) {
      if (p.kind === 'refused') return { seed, name: p.name, cluster: p.cluster, reason: this.refusalText(seed, p) };
    }
    return null;
  }

  /** While joining: a seed that refused us for our protocol version, with the reason in words; null otherwise. */
  versionRefusal(): { seed: NodeAddress; name: string; reason: string } | null {
    if (this.joinProblem() === null) return null;
    for (const [seed, p] of this.seedProblems) if (p.kind === 'version') return { seed, name: p.name, reason: p.reason };
    return null;
  }

  /** Peers kept out for their protocol version, heard of within deadReclaimMs. */
  versionRefusedPeers(): VersionRefusedPeer[] {
    return this.versions.refusedPeers();
  }

  /** Peers of other clusters heard from within deadReclaimMs (their messages were dropped). */
  foreignPeers(): ForeignPeer[] {
    const cutoff = this.env.clock.monoMs() - this.config.deadReclaimMs;
    for (const [address, p] of this.foreign) if (p.heardMs <= cutoff) this.foreign.delete(address);
    return Array.from(this.foreign.values(), ({ name, address, cluster }) => ({ name, address, cluster }));
  }

  /**
   * Transport hook: a connection to `address` failed (`reason`: why, in a few words), so a direct
   * probe in flight to it has failed; for a seed, the reason is what joinProblem() reports.
   */
  reportUnreachable(address: NodeAddress, reason = 'connection failed'): void {
    if (this.seedSet.has(address)) this.seedProblems.set(address, { kind: 'unreachable', reason });
    const probe = this.currentProbe;
    if (probe && probe.address === address && !probe.acked && !probe.indirectStarted) {
      this.env.timers.cancelTimer(probe.timeoutTimer);
      this.startIndirectProbe(probe);
    }
  }

  /** Graceful leave: we announce `left` to a few members at once and stop probing. */
  leave(): void {
    if (this.leaving || this.stopped) return;
    this.leaving = true;
    const me = this.self();
    this.put({ ...me, state: 'left' }, null);
    const targets = this.sample(this.config.gossipNodes + this.config.indirectChecks, (e) => e.member.state === 'alive' || e.member.state === 'suspect');
    for (const e of targets) this.send(e.member.address, { type: 'gossip' });
  }

  /** Leaves and stops every timer; the sim calls this on a graceful stop. */
  stop(): void {
    if (this.stopped) return;
    if (this.started) this.leave();
    this.stopped = true;
    for (const t of [this.probeTimer, this.gossipTimer, this.pushPullTimer, this.joinTimer]) if (t !== null) this.env.timers.cancelTimer(t);
    for (const s of this.suspicions.values()) s.cancel();
    this.suspicions.clear();
    if (this.currentProbe) this.env.timers.cancelTimer(this.currentProbe.timeoutTimer);
    for (const t of this.oneShots) this.env.timers.cancelTimer(t);
    this.oneShots.clear();
  }

  // ---- probing ------------------------------------------------------------------------------

  private probeTick(): void {
    if (this.stopped) return;
    const interval = this.awareness.scale(this.config.probeIntervalMs);
    this.probeTimer = this.env.timers.setTimer(interval, () => this.probeTick());
    if (this.tombstones > 0) this.reclaimTombstones();
    if (this.leaving) return;
    const target = this.nextProbeTarget();
    if (!target) return;
    this.stats.probes++;
    const seq = this.nextSeq();
    const probe: ProbeInFlight = {
      seq,
      target: target.member.name,
      address: target.member.address,
      acked: false,
      indirectStarted: false,
      expectedNacks: 0,
      nacks: 0,
      timeoutTimer: 0,
    };
    this.currentProbe = probe;
    this.pending.set(seq, {
      target: probe.target,
      onAck: () => {
        probe.acked = true;
      },
      onNack: () => {
        probe.nacks++;
      },
    });
    // Buddy system: a suspect hears of its suspicion from the prober itself and can refute at once.
    const buddy = this.config.lifeguard && target.member.state === 'suspect' ? this.encoded(target) : null;
    this.send(probe.address, { type: 'ping', seq, target: probe.target }, buddy);
    probe.timeoutTimer = this.env.timers.setTimer(this.awareness.scale(this.config.probeTimeoutMs), () => {
      if (!probe.acked && !this.stopped) this.startIndirectProbe(probe);
    });
    this.later(interval, () => this.finishProbe(probe));
  }

  private startIndirectProbe(probe: ProbeInFlight): void {
    probe.indirectStarted = true;
    const helpers = this.sample(this.config.indirectChecks, (e) => e.member.state === 'alive' && e.member.name !== probe.target);
    const wantNack = this.config.lifeguard;
    for (const h of helpers) {
      this.stats.indirectProbes++;
      this.send(h.member.address, { type: 'ping-req', seq: probe.seq, target: probe.target, targetAddress: probe.address, wantNack });
    }
    probe.expectedNacks = wantNack ? helpers.length : 0;
  }

  private finishProbe(probe: ProbeInFlight): void {
    this.pending.delete(probe.seq);
    if (this.currentProbe === probe) this.currentProbe = null;
    if (this.stopped) return;
    if (probe.acked) {
      this.awareness.apply(-1);
      return;
    }
    this.stats.probesFailed++;
    // Lifeguard: helpers that did not even nack suggest that we, not the target, are the slow one.
    this.awareness.apply(probe.expectedNacks > 0 ? probe.expectedNacks - Math.min(probe.nacks, probe.expectedNacks) : 1);
    const entry = this.table.get(probe.target);
    if (!entry || entry.member.address !== probe.address) return;
    this.handleUpdate({ ...toUpdate(entry), state: 'suspect', accuser: this.name }, this.name);
  }

  private nextProbeTarget(): Entry | undefined {
    for (let scanned = 0; scanned < this.probeList.length; scanned++) {
      if (this.probeIndex >= this.probeList.length) {
        this.shuffleProbeList();
        this.probeIndex = 0;
      }
      const name = this.probeList[this.probeIndex++]!;
      if (name === this.name) continue;
      const e = this.table.get(name);
      if (e && (e.member.state === 'alive' || e.member.state === 'suspect')) return e;
    }
    return undefined;
  }

  private shuffleProbeList(): void {
    const list = this.probeList;
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.env.random.int(i + 1);
      const t = list[i]!;
      list[i] = list[j]!;
      list[j] = t;
    }
  }

  // ---- receiving -----------------------------------------------------------------------------

  private receive(from: NodeAddress, bytes: Uint8Array): void {
    if (this.stopped) return;
    this.stats.messagesReceived++;
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
      this.receiveForeign(from, msg);
      return;
    }
    if (msg.sender === this.name) return;
    if (!this.admitVersion(from, msg)) return;
    // A seed that speaks our cluster's gossip has no problem to report any more.
    if (this.seedSet.has(from)) this.seedProblems.delete(from);
    const body = msg.body;
    if (body.type === 'sync') {
      this.mergeState(msg.updates, msg.sender);
      if (!body.reply) this.sendState(from, true);
      return;
    }
    // Piggybacked news first: a suspect learns of its suspicion before it answers the ping carrying it.
    for (const u of msg.updates) this.handleUpdate(u, msg.sender);
    switch (body.type) {
      case 'ping':
        if (body.target !== this.name) {
          this.stats.misdirected++;
          return;
        }
        this.send(from, { type: 'ack', seq: body.seq, target: this.name });
        return;
      case 'ack':
        this.pendingFor(body.seq, body.target)?.onAck();
        return;
      case 'nack':
        this.pendingFor(body.seq, body.target)?.onNack();
        return;
      case 'ping-req':
        this.probeForOther(from, body.seq, body.target, body.targetAddress, body.wantNack);
        return;
      case 'gossip':
      case 'refuse': // handled by receiveForeign and admitVersion
        return;
    }
  }

  /**
   * Protocol versions (protocol-version.ts): a message from a peer whose version we do not accept
   * never touches the view, and its join gets `refuse` carrying our own update (our version and
   * range); a `refuse` within our cluster is a seed refusing our version: why we cannot join.
   */
  private admitVersion(from: NodeAddress, msg: GossipMessage): boolean {
    if (msg.body.type === 'refuse') {
      if (this.seedSet.has(from)) this.seedProblems.set(from, { kind: 'version', name: msg.sender, reason: this.versions.refusedBy(from, msg.sender, msg.updates) });
      return false;
    }
    if (this.versions.admits(msg.sender, from, msg.updates.find((u) => u.name === msg.sender)?.meta)) return true;
    this.stats.incompatibleVersion++;
    if (msg.body.type === 'sync' && !msg.body.reply && !this.leaving) {
      this.transmit(from, encodeMessage(encodeHeader(this.config.clusterName, this.name, { type: 'refuse' }), [this.encoded(this.table.get(this.name)!)]), 'control');
    }
    return false;
  }

  /**
   * A message from another cluster never touches the view. Its sender is remembered for status and
   * logged (rate-limited); a join or push-pull gets `refuse`, so the other side can say why it is
   * not let in; and a `refuse` from one of our seeds is why we cannot join.
   */
  private receiveForeign(from: NodeAddress, msg: GossipMessage): void {
    const now = this.env.clock.monoMs();
    const ours = this.config.clusterName;
    if (msg.body.type === 'refuse') {
      if (!this.seedSet.has(from)) return;
      const problem: SeedProblem = { kind: 'refused', name: msg.sender, cluster: msg.cluster };
      this.seedProblems.set(from, problem);
      if (this.logLimiter.allow(`refused-by ${from}`, now)) {
        this.env.log.error({ seed: from, seedName: msg.sender, seedCluster: msg.cluster, cluster: ours }, `cannot join: ${this.refusalText(from, problem)}`);
      }
      return;
    }
    this.foreign.delete(from);
    this.foreign.set(from, { name: msg.sender, address: from, cluster: msg.cluster, heardMs: now });
    if (this.foreign.size > MAX_FOREIGN_PEERS) this.foreign.delete(this.foreign.keys().next().value!);
    if (this.logLimiter.allow(`foreign ${from}`, now)) {
      this.env.log.warn(
        { peer: msg.sender, address: from, peerCluster: msg.cluster, cluster: ours },
        `refusing node ${msg.sender} at ${from}: it belongs to cluster "${msg.cluster}", this node to cluster "${ours}" (cluster names must match)`,
      );
    }
    if (msg.body.type === 'sync' && !msg.body.reply && !this.leaving) {
      this.transmit(from, encodeMessage(encodeHeader(ours, this.name, { type: 'refuse' }), []), 'control');
    }
  }

  private refusalText(seed: NodeAddress, p: { name: string; cluster: string }): string {
    return `seed ${seed} (node ${p.name}) belongs to cluster "${p.cluster}", this node to cluster "${this.config.clusterName}" (cluster names must match)`;
  }

  private pendingFor(seq: number, target: string): PendingAck | undefined {
    const p = this.pending.get(seq);
    return p && p.target === target ? p : undefined;
  }

  /** We are asked to probe `target` for `requester`: relay its ack, or nack if it stays silent. */
  private probeForOther(requester: NodeAddress, theirSeq: number, target: string, targetAddress: NodeAddress, wantNack: boolean): void {
    if (this.leaving) return;
    const seq = this.nextSeq();
    let answered = false;
    this.pending.set(seq, {
      target,
      onAck: () => {
        if (answered) return;
        answered = true;
        this.send(requester, { type: 'ack', seq: theirSeq, target });
      },
      onNack: () => {},
    });
    this.send(targetAddress, { type: 'ping', seq, target });
    if (wantNack) {
      this.later(this.config.probeTimeoutMs * NACK_AFTER_FRACTION, () => {
        if (answered || this.stopped) return;
        answered = true;
        this.send(requester, { type: 'nack', seq: theirSeq, target });
      });
    }
    this.later(this.config.probeIntervalMs, () => this.pending.delete(seq));
  }

  /** A short-lived timer that `stop()` cancels with the rest, so a stopped member leaves none armed. */
  private later(delayMs: number, fn: () => void): void {
    const id = this.env.timers.setTimer(delayMs, () => {
      this.oneShots.delete(id);
      fn();
    });
    this.oneShots.add(id);
  }

  // ---- merging news --------------------------------------------------------------------------

  /** Applies one update from gossip (or one we raise ourselves, with `via` our own name). */
  private handleUpdate(u: MemberUpdate, via: string): void {
    if (u.name === this.name) {
      this.handleNewsAboutSelf(u);
      return;
    }
    if (!this.versions.admits(u.name, u.address, u.meta)) return;
    const current = this.table.get(u.name);
    const decision = decideMerge(current?.member, u);
    if (decision === 'ignore') return;
    const accuser = u.state === 'suspect' ? (u.accuser ?? via) : null;
    if (decision === 'confirm') {
      const s = this.suspicions.get(u.name);
      // New confirmations are re-gossiped, so others hear of independent accusers too.
      if (s && accuser !== null && s.confirm(accuser)) this.queueBroadcast(u.name, encodeUpdate({ ...u, accuser }));
      return;
    }
    if (!current && this.table.size >= this.config.maxMembers) {
      this.stats.tableFull++;
      return;
    }
    if (encodedMetaTooBig(u.meta)) {
      this.stats.malformed++;
      return;
    }
    this.put({ name: u.name, address: u.address, zone: u.zone, state: u.state, incarnation: u.incarnation, meta: u.meta }, accuser);
  }

  private handleNewsAboutSelf(u: MemberUpdate): void {
    if (this.leaving) return;
    const me = this.self();
    // An `alive` claim at our own incarnation that does not match us is an echo of a previous life
    // (a restart with new metadata, say): refute it, or peers would keep the old metadata forever.
    const staleEcho = u.state === 'alive' && u.incarnation === me.incarnation && !sameIdentity(me, u);
    if (!mustRefute(me.incarnation, u) && !staleEcho) return;
    this.stats.refutations++;
    // Being suspected is a hint that we are the slow one (Lifeguard); a restart's echo is not.
    if (u.state !== 'alive') this.awareness.apply(1);
    const meta = withStickyMeta(me.meta, u.meta, this.stickyMeta);
    this.put({ ...me, meta, state: 'alive', incarnation: Math.max(me.incarnation, u.incarnation) + 1 }, null);
  }

  /**
   * Merges a peer's full state. A remote verdict of death becomes a suspicion here: the member
   * (if alive) gets to refute it, which is how the halves of a healed partition revive each other.
   */
  private mergeState(states: readonly MemberUpdate[], sender: string): void {
    for (const u of states) {
      this.handleUpdate(u.state === 'dead' ? { ...u, state: 'suspect', accuser: sender } : u, sender);
    }
  }

  // ---- the member table ----------------------------------------------------------------------

  /** Records a member's new state: counts, digest, suspicion timer, dissemination and events. */
  private put(member: Member, accuser: string | null): void {
    const previous = this.table.get(member.name);
    const frozen: Member = Object.freeze({ ...member, meta: Object.freeze({ ...member.meta }) });
    const entry: Entry = { member: frozen, accuser, changedMs: this.env.clock.monoMs(), encoded: null };
    this.table.set(member.name, entry);
    if (previous) {
      this.unaccount(previous.member);
    } else {
      this.insertIntoProbeList(member.name);
    }
    this.account(frozen);

    if (member.state === 'suspect' && member.name !== this.name) this.startSuspicion(entry, previous?.member);
    else this.cancelSuspicion(member.name);
    this.queueBroadcast(member.name, this.encoded(entry));
    if (member.name !== this.name) this.logTransition(previous?.member, frozen, accuser);
    this.emit(previous?.member, frozen);
    if (member.name !== this.name && this.liveCount <= 1 && !this.leaving && this.started && this.seeds.length > 0 && this.joinTimer === null) {
      // Every peer we knew is gone: look for the cluster through the seeds again.
      this.joinAttempt();
    }
  }

  /** Every verdict about a peer, at info level: joined, suspected, declared dead, alive again, left. */
  private logTransition(previous: Member | undefined, m: Member, accuser: string | null): void {
    const was = previous?.state;
    if (was === m.state) return;
    const fields = { peer: m.name, address: m.address, incarnation: m.incarnation };
    switch (m.state) {
      case 'alive':
        if (was === 'suspect' || was === 'dead') this.env.log.info({ ...fields, was }, `peer ${m.name} is alive again (was ${was})`);
        else this.env.log.info(fields, `peer ${m.name} joined`);
        return;
      case 'suspect':
        this.env.log.info({ ...fields, accuser }, `peer ${m.name} is suspected${accuser === this.name ? ': it did not answer our probe' : ` by ${accuser ?? 'a peer'}`}`);
        return;
      case 'dead':
        this.env.log.info(fields, `peer ${m.name} declared dead`);
        return;
      case 'left':
        this.env.log.info(fields, `peer ${m.name} left`);
        return;
    }
  }

  private startSuspicion(entry: Entry, previous: Member | undefined): void {
    const name = entry.member.name;
    const existing = this.suspicions.get(name);
    if (existing && existing.incarnation === entry.member.incarnation) return;
    existing?.cancel();
    if (entry.accuser === this.name || previous?.state === 'alive') this.stats.suspicionsRaised++;
    const incarnation = entry.member.incarnation;
    const suspicion = new Suspicion(
      this.env.timers,
      () => this.env.clock.monoMs(),
      incarnation,
      entry.accuser ?? this.name,
      suspicionBounds(this.config, this.liveCount),
      () => this.suspicionExpired(name, incarnation),
    );
    this.suspicions.set(name, suspicion);
  }

  private cancelSuspicion(name: string): void {
    const s = this.suspicions.get(name);
    if (!s) return;
    s.cancel();
    this.suspicions.delete(name);
  }

  private suspicionExpired(name: string, incarnation: number): void {
    if (this.stopped) return;
    this.suspicions.delete(name);
    const e = this.table.get(name);
    if (!e || e.member.state !== 'suspect' || e.member.incarnation !== incarnation) return;
    this.stats.deathsDeclared++;
    this.put({ ...e.member, state: 'dead' }, null);
  }

  private account(m: Member): void {
    if (m.state === 'alive' || m.state === 'suspect') {
      this.liveCount++;
      this.digest ^= memberHash(m);
    } else {
      this.tombstones++;
    }
  }

  private unaccount(m: Member): void {
    if (m.state === 'alive' || m.state === 'suspect') {
      this.liveCount--;
      this.digest ^= memberHash(m);
    } else {
      this.tombstones--;
    }
  }

  private insertIntoProbeList(name: string): void {
    // A random position, so a newcomer is probed within one pass rather than after everyone else.
    const list = this.probeList;
    list.push(name);
    const j = this.env.random.int(list.length);
    list[list.length - 1] = list[j]!;
    list[j] = name;
  }

  /** Forgets dead and left members after deadReclaimMs; until then their tombstones block stale news. */
  private reclaimTombstones(): void {
    const cutoff = this.env.clock.monoMs() - this.config.deadReclaimMs;
    let removed = false;
    for (const [name, e] of this.table) {
      if ((e.member.state === 'dead' || e.member.state === 'left') && e.changedMs <= cutoff && name !== this.name) {
        this.unaccount(e.member);
        this.table.delete(name);
        this.stats.reclaimed++;
        removed = true;
      }
    }
    if (removed) {
      const kept = this.probeList.filter((n) => this.table.has(n));
      this.probeList.length = 0;
      this.probeList.push(...kept);
      this.probeIndex = Math.min(this.probeIndex, kept.length);
    }
  }

  private emit(previous: Member | undefined, m: Member): void {
    if (this.listeners.length === 0) return;
    const event = eventFor(previous, m);
    if (!event) return;
    for (const l of [...this.listeners]) l(event);
  }

  // ---- dissemination -------------------------------------------------------------------------

  private queueBroadcast(name: string, bytes: Uint8Array): void {
    this.broadcasts.queue(name, bytes);
  }

  private gossipTick(): void {
    if (this.stopped) return;
    this.gossipTimer = this.env.timers.setTimer(this.config.gossipIntervalMs, () => this.gossipTick());
    if (this.broadcasts.size === 0) return;
    const now = this.env.clock.monoMs();
    const targets = this.sample(this.config.gossipNodes, (e) => {
      const s = e.member.state;
      return s === 'alive' || s === 'suspect' || (s === 'dead' && now - e.changedMs < this.config.gossipToTheDeadMs);
    });
    for (const t of targets) {
      if (this.broadcasts.size === 0) break;
      this.send(t.member.address, { type: 'gossip' });
    }
  }

  /** Sends a control message with as many piggybacked updates as fit the datagram budget. */
  private send(to: NodeAddress, body: MessageBody, first: Uint8Array | null = null): void {
    const header = encodeHeader(this.config.clusterName, this.name, body);
    let budget = this.config.maxPacketBytes - header.length - listHeaderBytes(64);
    const updates: Uint8Array[] = [];
    const limit = retransmitLimit(this.config.retransmitMult, this.liveCount);
    if (first && first.length <= budget) {
      updates.push(first);
      budget -= first.length;
      if (body.type === 'ping') this.broadcasts.countTransmit(body.target, limit);
    }
    const skip = first && body.type === 'ping' ? body.target : undefined;
    for (const u of this.broadcasts.take(budget, limit, skip)) updates.push(u);
    this.transmit(to, encodeMessage(header, updates), 'control');
  }

  private transmit(to: NodeAddress, bytes: Uint8Array, lane: Lane): void {
    this.stats.messagesSent++;
    this.stats.bytesSent += bytes.length;
    this.env.transport.send(to, bytes, lane);
  }

  private encoded(entry: Entry): Uint8Array {
    entry.encoded ??= encodeUpdate(toUpdate(entry));
    return entry.encoded;
  }

  // ---- push-pull and joining -----------------------------------------------------------------

  private pushPullIntervalMs(): number {
    return scaledPushPullIntervalMs(this.config, this.liveCount);
  }

  private pushPullTick(): void {
    if (this.stopped) return;
    this.pushPullTimer = this.env.timers.setTimer(this.pushPullIntervalMs(), () => this.pushPullTick());
    if (this.leaving) return;
    const [peer] = this.sample(1, (e) => e.member.state === 'alive');
    if (peer) this.sendState(peer.member.address, false);
    // One remembered dead member per round: if it is alive on the far side of a healed partition, the two sides merge.
    const [dead] = this.sample(1, (e) => e.member.state === 'dead');
    if (dead) this.sendState(dead.member.address, false);
    // And one seed we do not see alive: once a partition outlasts deadReclaimMs, both sides have
    // forgotten each other's tombstones and only the seeds are left to bridge them (as serf's reconnect).
    const lostSeed = this.sampleLostSeed();
    if (lostSeed !== undefined) this.sendState(lostSeed, false);
  }

  private sampleLostSeed(): NodeAddress | undefined {
    if (this.seeds.length === 0) return undefined;
    const seen = new Set<NodeAddress>();
    for (const e of this.table.values()) if (e.member.state === 'alive' || e.member.state === 'suspect') seen.add(e.member.address);
    const lost = this.seeds.filter((seed) => !seen.has(seed));
    return lost.length === 0 ? undefined : lost[this.env.random.int(lost.length)];
  }

  private sendState(to: NodeAddress, reply: boolean): void {
    this.stats.pushPulls++;
    const header = encodeHeader(this.config.clusterName, this.name, { type: 'sync', reply });
    const states = Array.from(this.table.values(), (e) => this.encoded(e));
    const bytes = encodeMessage(header, states);
    this.stats.pushPullBytes += bytes.length;
    this.transmit(to, bytes, 'bulk');
  }

  private joinAttempt(): void {
    this.joinTimer = null;
    if (this.stopped || this.leaving) return;
    if (this.liveCount > 1) {
      this.joinBackoffAttempt = 0;
      return;
    }
    this.stats.joinAttempts++;
    // Every seed, as memberlist's Join does: each seed that answers learns us and bridges what it knows.
    // (One seed per attempt was tried: members started together then formed one island per seed.)
    for (const seed of this.seeds) this.sendState(seed, false);
    const base = cappedBackoff(this.joinBackoffAttempt++, { initialDelayMs: this.config.joinRetryInitialMs, maxDelayMs: this.config.joinRetryMaxMs, factor: 2 });
    // Jittered around the base (0.5-1.5x, mean 1x), as this loop always was, not only below it as
    // the client's and the transport's are.
    const jittered = base * (0.5 + this.env.random.next());
    this.joinTimer = this.env.timers.setTimer(jittered, () => this.joinAttempt());
  }

  // ---- helpers -------------------------------------------------------------------------------

  private nextSeq(): number {
    this.seq = (this.seq + 1) % Number.MAX_SAFE_INTEGER;
    return this.seq;
  }

  /** Up to `k` distinct random members other than ourselves that pass `accept`. */
  private sample(k: number, accept: (e: Entry) => boolean): Entry[] {
    const out: Entry[] = [];
    const list = this.probeList;
    const n = list.length;
    if (k <= 0 || n <= 1) return out;
    const ok = (name: string): Entry | undefined => {
      if (name === this.name) return undefined;
      const e = this.table.get(name);
      return e && accept(e) ? e : undefined;
    };
    if (n <= 4 * k + 16) {
      // Small table: an exact partial shuffle of the eligible members.
      const eligible: Entry[] = [];
      for (const name of list) {
        const e = ok(name);
        if (e) eligible.push(e);
      }
      for (let i = 0; i < eligible.length && out.length < k; i++) {
        const j = i + this.env.random.int(eligible.length - i);
        const t = eligible[i]!;
        eligible[i] = eligible[j]!;
        eligible[j] = t;
        out.push(eligible[i]!);
      }
      return out;
    }
    for (let tries = 0; tries < k * SAMPLE_TRIES_PER_PICK && out.length < k; tries++) {
      const e = ok(list[this.env.random.int(n)]!);
      if (e && !out.includes(e)) out.push(e);
    }
    return out;
  }
}

function toUpdate(e: Entry): MemberUpdate {
  const m = e.member;
  return { name: m.name, address: m.address, zone: m.zone, incarnation: m.incarnation, state: m.state, meta: m.meta, accuser: m.state === 'suspect' ? e.accuser : null };
}

function eventFor(previous: Member | undefined, m: Member): MembershipEvent | null {
  const was: MemberState | undefined = previous?.state;
  switch (m.state) {
    case 'alive':
      if (was === undefined || was === 'left') return { type: 'joined', member: m };
      if (was === 'suspect' || was === 'dead') return { type: 'alive', member: m };
      return previous!.address !== m.address || previous!.zone !== m.zone || !sameMeta(previous!.meta, m.meta) ? { type: 'updated', member: m } : null;
    case 'suspect':
      return was === 'suspect' ? null : { type: 'suspect', member: m };
    case 'dead':
      return was === 'dead' ? null : { type: 'dead', member: m };
    case 'left':
      return was === 'left' ? null : { type: 'left', member: m };
  }
}

function sameMeta(a: Readonly<Record<string, string | number>>, b: Readonly<Record<string, string | number>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

/** `own` plus every sticky key that `remembered` has and `own` lacks (the same object when none is missing). */
function withStickyMeta(
  own: Readonly<Record<string, string | number>>,
  remembered: Readonly<Record<string, string | number>>,
  sticky: readonly string[],
): Readonly<Record<string, string | number>> {
  const missing = sticky.filter((key) => !(key in own) && key in remembered);
  if (missing.length === 0) return own;
  const merged = { ...own, ...Object.fromEntries(missing.map((key) => [key, remembered[key]!])) };
  // A peer's copy that would not fit is not worth failing a refutation over.
  return Object.keys(merged).length > MAX_META_ENTRIES || encodedMetaTooBig(merged) ? own : merged;
}

function checkedMeta(meta: Readonly<Record<string, string | number>>): Readonly<Record<string, string | number>> {
  const entries = Object.entries(meta);
  if (entries.length > MAX_META_ENTRIES) throw new GossipConfigError(`member metadata has ${entries.length} entries; at most ${MAX_META_ENTRIES} fit`);
  if (encodedMetaTooBig(meta)) throw new GossipConfigError(`member metadata encodes to more than ${MAX_META_BYTES} bytes; keep it small, it rides on every probe`);
  return meta;
}

function encodedMetaTooBig(meta: Readonly<Record<string, string | number>>): boolean {
  let bytes = 0;
  for (const [k, v] of Object.entries(meta)) bytes += k.length + (typeof v === 'string' ? v.length : 9) + 2;
  return bytes > MAX_META_BYTES;
}

/** Member fingerprint XORed into the view digest (any bit pattern will do: the digest is used as an int32). */
function memberHash(m: Member): number {
  return fnv1aString(`${m.name}\u0000${m.state}\u0000${m.incarnation}`);
}

/** Whether an update describes a member exactly as it is (address, zone and metadata). */
function sameIdentity(member: Member, u: MemberUpdate): boolean {
  if (member.address !== u.address || member.zone !== u.zone) return false;
  const a = Object.keys(member.meta);
  const b = Object.keys(u.meta);
  return a.length === b.length && a.every((k) => member.meta[k] === u.meta[k]);
}
