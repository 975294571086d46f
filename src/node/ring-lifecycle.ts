/**
 * One node's ring lifecycle: from joining (claim seed, first ring) through every ring change, and
 * the versions that keep replication safe across those changes. ShoalNode (node.ts) wires it to
 * gossip, sync and the coordinator; this module decides.
 *
 * Joining: a node with seeds owns nothing until it has heard from its cluster, then waits
 * `joinSettleMs` more so its first ring is built from the full view a seed's push-pull brings,
 * not from the first member it happened to hear of; and not before a peer's full table has come
 * in at all, however long that takes; and only once it knows the claim seed of every member it
 * knows of (see tryInstallFirstRing). A peer answering a sync on the same ring
 * version confirms the ring (`confirm`); until then the node coordinates nothing.
 *
 * Ring changes: the ring is a function of gossip's member table (ring-placement.ts), rebuilt when
 * membership changes and checked every RING_CHECK_INTERVAL_MS (gossip forgets dead members
 * silently). Nodes do not switch rings at the same instant, so each replica request carries the
 * version of the ring it was routed by, and:
 *
 * - Each partition has an ownership epoch, a counter this node bumps exactly when the
 *   partition's owner set changes in its ring. The epochs of the rings this node has left behind
 *   are kept (MAX_PAST_RINGS), so it can tell a request routed by one of them.
 * - `checkRoute`: a replica that has moved past the request's ring, and whose partition epoch
 *   changed since, refuses and answers its own ring's version and owners; one whose partition
 *   owners are unchanged since, or that does not know the version (it is behind, or the version is
 *   older than what it keeps), accepts. The coordinator adopts the answered owners for that
 *   request and retries within its deadline (coordinator.ts).
 * - `previousRings`: readers still on a ring before this node's current one ask that ring's
 *   owners, so a write also meets its consistency level there (a joint quorum). An owner that
 *   refused a request routed by that ring has moved past it and serves no read routed by it: it
 *   counts as if it had acknowledged (`peerMovedPast`). Once every owner the ring had of a
 *   partition whose owners changed has been seen past it (a refusal, a sync answer on this
 *   node's ring, or this node's ring announced in its gossip metadata: `announce`), the joint
 *   quorum over it ends: versions end it, not a time window, and an owner seen down is still
 *   waited for (retireJointRings). Up to MAX_JOINT_RINGS rings at once.
 * - A node back in the ring after an undrain routes by the ring without itself until a peer is
 *   seen on a ring with it (holdBackSelf): its own ring change is the one its peers may not have.
 */
import type { Member, MembershipEvent } from '../gossip/membership.ts';
import type { Env } from '../runtime/env.ts';
import { invariant } from '../runtime/probes.ts';
import { joinInOrder } from '../ring/claim-seed.ts';
import { isClaimSeed } from '../ring/member-order.ts';
import type { Placement } from '../replication/context.ts';
import { RING_META, announcedRing, buildPlacement, emptyPlacement, holdsData, ringInputsKey, ringMemberOf } from './ring-placement.ts';

/** The most peers still joining whose claim-seed choices a joining node replays before its own. */
export const MAX_REPLAYED_JOINERS = 64;
/**
 * How many rings this node left behind it remembers (with their partition epochs, 4 bytes a
 * partition each). A request routed by an older one is accepted as if from an unknown ring; a
 * coordinator 64 ring changes behind is one gossip has lost touch with for long.
 */
export const MAX_PAST_RINGS = 64;

/** What the lifecycle needs from gossip: the member table and this node's own metadata. */
export interface RingMembership {
  self(): Member;
  members(): readonly Member[];
  /** Replaces this node's metadata; the node leaves out what does not fit (own-meta.ts). */
  updateMeta(meta: Readonly<Record<string, string | number>>): void;
  /** Whether a peer's full member table has come in since start (gossip's Lifecycle.heardFullState). */
  heardFullState(): boolean;
}

export interface RingLifecycleOptions {
  env: Env;
  membership: RingMembership;
  partitions: number;
  replicas: number;
  /** Whether this node must hear from a cluster before owning anything (it was given seeds). */
  joinsThroughSeeds: boolean;
  joinSettleMs: number;
  /** Whether membership believes the member is up (alive or suspect). */
  isAlive(name: string): boolean;
  /** Members kept out (another partition count): never in the ring. */
  isRefused(name: string): boolean;
  /** Whether this node is leaving (its ring drops it). */
  isLeaving(): boolean;
  /** Test-only (ReplicationBugs.undrainWithoutPeers): a node back in the ring routes by it at once. */
  reenterAtOnce?: boolean;
  /** Test-only (ReplicationBugs.aloneWithoutConfirmation): a ring change to this node alone serves at once. */
  aloneAtOnce?: boolean;
  /** Test-only (ReplicationBugs.jointEndsEarly): the joint quorum covers the previous ring alone, and ends once its live previous-only owners moved past it. */
  jointEndsEarly?: boolean;
  /** Test-only (ReplicationBugs.ringsUnannounced): the node does not put its ring in its gossip metadata. */
  ringsUnannounced?: boolean;
  /**
   * Called after each ring this node installs (`previous` null for the first). With the first,
   * `withoutSelf` is the ring of the other members alone: the ring the cluster used before this
   * node (re)joined, so its owners are where the data this node now owns is (null when alone).
   */
  onPlacement(previous: Placement | null, next: Placement, withoutSelf: Placement | null): void;
}

/**
 * A ring this node left that readers may still route by (a write's joint quorum covers it):
 * `watched`, its owners of the partitions whose owners the next ring changed (`onlyThere`: those
 * that ring no longer has as owner of some such partition, all the rule before waited for);
 * `movedPast`, those that refused a request routed by it (they count as acknowledged there);
 * `seenPast`, those seen since on this node's current ring (a sync answer: it ends the wait, but
 * counts as no acknowledgement, since a member that never was on the ring accepts its requests).
 */
interface JointRing {
  placement: Placement;
  watched: Set<string>;
  onlyThere: Set<string>;
  movedPast: Set<string>;
  seenPast: Set<string>;
}

/**
 * How many rings a write's joint quorum covers at most (this node's previous rings that a reader
 * may still route by, see retireJointRings). A node behind by more ring changes than this, cut
 * off all along, is not covered.
 */
export const MAX_JOINT_RINGS = 8;

const NO_RINGS: readonly PreviousRing[] = Object.freeze([]);
const NO_NAMES: ReadonlySet<string> = new Set();

/** A request's refusal: the ring the replica has moved to, and the partition's owners in it. */
export interface NewerRing {
  version: string;
  owners: readonly string[];
}

/** A ring before this node's current one, for a write's joint quorum (see the file comment). */
export interface PreviousRing {
  version: string;
  owners: readonly string[];
  /** Previous owners known to have moved past that ring: they count as acknowledged. */
  movedPast: ReadonlySet<string>;
}

export class RingLifecycle {
  private placementNow: Placement;
  private ringKey = '';
  private joinedCluster = false;
  private confirmed = false;
  /**
   * After a ring change left this node alone in its ring: the members of the ring it left, asked
   * until one answers on its ring (see livePeerKnown). Null otherwise.
   */
  private aloneSinceChange: readonly string[] | null = null;
  private joinTimer: number | null = null;
  private joinSettled = false;
  private checkPending = false;
  private stopped = false;
  /** Ownership epoch per partition in the current ring. */
  private epochs: Uint32Array;
  /** Rings this node left behind: version -> the partition epochs it had then (oldest first). */
  private readonly past = new Map<string, Uint32Array>();
  /** Rings this node left that a reader may still route by, newest first (see JointRing, retireJointRings). */
  private jointRings: JointRing[] = [];
  /**
   * While this node is back in its members' data holders (an undrain) but has not yet seen a peer
   * on a ring with it: the versions of the rings with it it has computed (keyed by their inputs),
   * and whether a peer has shown one (see holdBackSelf). Null otherwise.
   */
  private reentry: { versions: Map<string, string>; seen: boolean } | null = null;
  /** Called after every ring check this lifecycle ran (the node takes back undeliverable hints). */
  afterCheck: () => void = () => {};

  constructor(private readonly o: RingLifecycleOptions) {
    this.placementNow = emptyPlacement(o.partitions);
    this.epochs = new Uint32Array(o.partitions);
  }

  get placement(): Placement {
    return this.placementNow;
  }

  /**
   * The ring every member would build once this node is out of it (drained): the same members and
   * placement code as a ring change, dead members included (they stay in the ring until gossip
   * forgets them). drain.ts checks it for partitions left without a live quorum.
   */
  placementWithoutSelf(): Placement {
    const self = this.selfName();
    return buildPlacement(this.ringMembers().filter((m) => m.name !== self), this.o.partitions, this.o.replicas);
  }

  /** Whether the node has heard from its cluster (or founded one) and built its first ring. */
  get joined(): boolean {
    return this.joinedCluster;
  }

  /**
   * Joined, and a peer confirmed the ring (or the node is alone in it, and, when a ring change left
   * it alone, no live peer could disagree or one answered on that ring): it coordinates and serves.
   */
  get ringConfirmed(): boolean {
    return this.confirmed && !(this.aloneSinceChange !== null && this.livePeerKnown());
  }

  /**
   * Whether a live member other than this node is known (left and refused ones aside). A ring
   * change that leaves this node alone while one is may come from a stale view: kv-drain seed
   * 400220 (3 nodes): n3, isolated while n1 undrained, came back still holding n1's draining flag,
   * heard first of n2's new drain, and built a ring of itself alone that no peer had; it answered
   * QUORUM reads from its own stale replica while its peers wrote on the ring {n1, n3}. Its peers
   * are asked until one answers on its ring (each sync answer carries the peer's ring), or gossip
   * brings what it missed and the ring changes again.
   */
  private livePeerKnown(): boolean {
    const self = this.selfName();
    return this.o.membership.members().some((m) => m.name !== self && m.state !== 'left' && this.o.isAlive(m.name) && !this.o.isRefused(m.name));
  }

  /** A founder (no seeds) builds its ring at once; a node with seeds waits to hear from its cluster. */
  start(): void {
    if (!this.o.joinsThroughSeeds) this.installFirstRing();
  }

  stop(): void {
    this.stopped = true;
    if (this.joinTimer !== null) this.o.env.timers.cancelTimer(this.joinTimer);
    this.joinTimer = null;
  }

  /** A peer answered on this node's ring version (sync.ts): the ring is confirmed once joined. */
  confirm(): void {
    if (this.joinedCluster) this.confirmed = true;
  }

  /**
   * A peer is on ring `version` (a sync answer): the ring is confirmed when that is this node's,
   * and a node back in the ring takes the ring with itself once a peer is seen on one (see
   * holdBackSelf).
   */
  peerRing(version: string, name?: string): void {
    if (version === this.placementNow.version) {
      this.confirm();
      this.aloneSinceChange = null;
      if (name !== undefined && this.jointRings.some((ring) => ring.watched.has(name) && !ring.seenPast.has(name))) {
        for (const ring of this.jointRings) ring.seenPast.add(name);
        this.retireJointRings();
      }
    }
    this.seenWithSelf(version);
  }

  /** Whether `version` is a ring with this node back in it (holdBackSelf): a peer has heard of its undrain, and it takes its place at its next ring check. */
  private seenWithSelf(version: string): boolean {
    const reentry = this.reentry;
    if (reentry === null || ![...reentry.versions.values()].includes(version)) return false;
    if (!reentry.seen) {
      reentry.seen = true;
      this.requestCheck();
    }
    return true;
  }

  /** Whether the node waits to see a peer's ring (it is back in the ring after an undrain, or alone in it after a change): its sync rounds then ask peers even with nothing to compare. */
  get awaitsPeerRing(): boolean {
    return (this.reentry !== null && !this.reentry.seen) || this.confirmingPeers.length > 0;
  }

  /** Peers outside the ring a sync round asks while the node waits to see one on its ring: those of the ring it left when a change left it alone. */
  get confirmingPeers(): readonly string[] {
    return this.aloneSinceChange !== null && !this.ringConfirmed ? this.aloneSinceChange : [];
  }

  /** The partition's ownership epoch in the current ring (bumped exactly when its owners change). */
  epoch(partition: number): number {
    return this.epochs[partition] ?? 0;
  }

  onMembership(event: MembershipEvent): void {
    if (this.stopped) return;
    // Settled but not joined: checked once the burst is merged, not at its first member (a sync's answer applies members one by one).
    if (this.joinedCluster || this.joinSettled) return this.requestCheck();
    if (event.member.name !== this.selfName() && this.o.isAlive(event.member.name) && this.joinTimer === null) {
      this.joinTimer = this.o.env.timers.setTimer(this.o.joinSettleMs, () => {
        this.joinTimer = null;
        if (this.stopped) return;
        this.joinSettled = true;
        this.chooseClaimSeed();
        this.tryInstallFirstRing();
      });
    }
  }

  /** The periodic check: gossip forgets members silently, so no event announces every change. */
  check(): void {
    if (this.stopped) return;
    if (this.joinedCluster) {
      this.checkRing();
      this.afterCheck();
    } else if (this.joinSettled) {
      this.tryInstallFirstRing();
    }
  }

  /** Coalesces the membership events of one burst (a push-pull merges many) into one ring check (or first-ring try). */
  requestCheck(): void {
    if (this.checkPending || !(this.joinedCluster || this.joinSettled)) return;
    this.checkPending = true;
    this.o.env.timers.setTimer(0, () => {
      this.checkPending = false;
      this.check();
    });
  }

  /** Until joined, what the ring waits for, in words; null once the first ring is built and confirmed. */
  waitingFor(): string | null {
    if (this.ringConfirmed) return null;
    if (!this.joinedCluster) {
      if (!this.joinSettled) return 'the member list of the cluster (heard from it; settling)';
      if (this.waitsForFullState()) return "the member list of the cluster (heard of some members; waiting for a peer's full table)";
      const unplaceable = this.unplaceableMembers();
      if (unplaceable.length > 0) return `members to choose their place in the ring: ${unplaceable.slice(0, 5).join(', ')}${unplaceable.length > 5 ? ', ...' : ''}`;
    }
    return "a peer to confirm this node's ring";
  }

  // ---- versions ---------------------------------------------------------------------------

  /**
   * The replica's check of a request for `partition` routed by ring `version`: null to accept,
   * else the newer ring to refuse with. Refuses only a ring this node has left behind and whose
   * owners of the partition changed since; an unknown version is accepted (this node is behind
   * the coordinator, or the ring is older than MAX_PAST_RINGS): its ring check catches up through
   * gossip, and what it took for a partition it does not own is handed off as after any change.
   * So is a ring with this node back in it after an undrain (holdBackSelf), even the one it left
   * when it drained: the coordinator has heard of the undrain, and this node takes that ring next.
   */
  checkRoute(version: string | undefined, partition: number): NewerRing | null {
    if (version === undefined || version === this.placementNow.version) return null;
    // Routed by a ring with this node back in it (perhaps the one it left when it drained): this
    // node is behind its own undrain, and takes that ring at its next check.
    if (this.seenWithSelf(version)) return null;
    const epochs = this.past.get(version);
    if (epochs === undefined) {
      this.requestCheck();
      return null;
    }
    if (epochs[partition] === this.epochs[partition]) return null;
    return { version: this.placementNow.version, owners: this.placementNow.owners(partition) };
  }

  /**
   * The rings this node left that readers may still route by, newest first, with the partition's
   * owners in each (a write's joint quorum); empty when none.
   */
  previousRings(partition: number): readonly PreviousRing[] {
    if (this.jointRings.length === 0) return NO_RINGS;
    return this.jointRings.map((ring) => ({ version: ring.placement.version, owners: ring.placement.owners(partition), movedPast: ring.movedPast }));
  }

  /** The members the joint quorum still waits to see past a ring (retireJointRings): sync rounds ask them. */
  ringWitnesses(): ReadonlySet<string> {
    if (this.jointRings.length === 0 || this.o.jointEndsEarly) return NO_NAMES;
    const members = new Map(this.o.membership.members().map((m) => [m.name, m]));
    const names = new Set<string>();
    for (const ring of this.jointRings) for (const name of ring.watched) if (this.mayServe(ring, name, members)) names.add(name);
    return names;
  }

  /**
   * A peer refused a request routed by `version`: it has moved past that ring. When that is a ring
   * a joint quorum still covers, the peer counts as acknowledged there in every later write, and
   * the ring may retire (retireJointRings). A refusal of the current ring means this node is
   * behind: check the ring now (gossip usually already knows).
   */
  peerMovedPast(name: string, version: string): void {
    if (version === this.placementNow.version) this.requestCheck();
    const ring = this.jointRings.find((r) => r.placement.version === version);
    if (ring === undefined) return;
    ring.movedPast.add(name);
    this.retireJointRings();
  }

  /**
   * Drops each ring no reader can route by any more: every owner it had of a partition whose owners
   * changed after it (`watched`, shared owners included: one still on that ring answers its reads
   * as caught up, and where the change grew the owner set, R of its fewer owners need not meet W of
   * the new ones: kv-drain seed 700090 with 3 nodes) has refused a request routed by it, or answered
   * a sync on this node's current ring or announced that ring in gossip, or is out of the member
   * table or left. An owner seen down is
   * still waited for: cut off by a network partition it may still serve that ring's reads, and
   * writes acknowledged by a minority on the other side once its joint quorum ended were lost
   * (kv-drain seed 810002 with 5 nodes). It is forgotten after deadReclaimMs, which ends the wait.
   */
  private retireJointRings(): void {
    if (this.jointRings.length === 0) return;
    const self = this.selfName();
    if (this.o.jointEndsEarly) {
      // The rule before (test-only): live previous-only owners alone are waited for.
      this.jointRings = this.jointRings.filter((ring) => [...ring.onlyThere].some((name) => !ring.movedPast.has(name) && name !== self && this.o.isAlive(name)));
      return;
    }
    const members = new Map(this.o.membership.members().map((m) => [m.name, m]));
    this.jointRings = this.jointRings.filter((ring) => [...ring.watched].some((name) => this.mayServe(ring, name, members)));
  }

  /** Whether `name`, an owner `ring` had of a moved partition, may still serve reads routed by it (see retireJointRings). */
  private mayServe(ring: JointRing, name: string, members: ReadonlyMap<string, Member>): boolean {
    if (name === this.selfName() || ring.movedPast.has(name) || ring.seenPast.has(name)) return false;
    const member = members.get(name);
    // Gone from the member table (forgotten after deadReclaimMs) or left gracefully: it serves nothing.
    if (member === undefined || member.state === 'left') return false;
    // It announced this node's current ring (gossip metadata, dead or alive since): it had moved
    // past the older ones, as a sync answer on this ring would show.
    return member.meta[RING_META.ring] !== announcedRing(this.placementNow.version);
  }

  // ---- joining ----------------------------------------------------------------------------

  private selfName(): string {
    return this.o.membership.self().name;
  }

  /**
   * Members whose data the ring places: remembered, not left, leaving or drained, same partition
   * count. When every such member is drained, the drained ones stay: drain.ts refuses to drain the
   * last holder, but two drains started at once on the last two each pass that check, and an
   * empty ring would drop their data.
   */
  private ringMembers(): Member[] {
    const self = this.selfName();
    const candidates = this.o.membership.members().filter((m) => !this.o.isRefused(m.name) && (m.name !== self || !this.o.isLeaving()));
    const members = candidates.filter(holdsData);
    return members.length > 0 ? members : candidates.filter((m) => m.meta[RING_META.draining] && holdsData({ ...m, meta: { ...m.meta, [RING_META.draining]: 0 } }));
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
    if (this.joinedCluster || this.waitsForFullState() || this.unplaceableMembers().length > 0 || this.knowsOnlyDrainedPeers()) return;
    this.installFirstRing();
  }

  /**
   * Whether a joining node knows members only from gossip's piggyback: a node restarted after a
   * crash hears of a peer whose state changed (its health metadata, say) before any answer to its
   * syncs, and a ring of itself and that peer claims every partition (restart-probe F7: 2 of 5
   * members for 3 s, test/sim/restart-first-ring.test.ts).
   */
  private waitsForFullState(): boolean {
    return this.o.joinsThroughSeeds && !this.o.membership.heardFullState();
  }

  /**
   * Whether the ring would hold this node alone while it knows of a drained member: the members
   * holding data exist (a drain never empties a ring) but gossip has not brought them yet, and a
   * ring of itself alone would confirm itself and serve reads from an empty store (kv-drain seed
   * 38: a node restarted during an isolation heard first of a member that had just drained).
   */
  private knowsOnlyDrainedPeers(): boolean {
    const self = this.selfName();
    return this.ringMembers().every((m) => m.name === self) && this.o.membership.members().some((m) => m.name !== self && m.state !== 'left' && m.meta[RING_META.draining]);
  }

  /** Members the first ring waits for: known, not left, leaving or refused, and without a claim seed. */
  private unplaceableMembers(): string[] {
    const self = this.selfName();
    const names: string[] = [];
    for (const m of this.o.membership.members()) {
      if (m.name === self || m.state === 'left' || m.meta[RING_META.leaving] || this.o.isRefused(m.name)) continue;
      if (!isClaimSeed(m.meta[RING_META.claimSeed])) names.push(m.name);
    }
    return names;
  }

  private installFirstRing(): void {
    this.chooseClaimSeed();
    const members = this.ringMembers();
    this.ringKey = ringInputsKey(members);
    this.joinedCluster = true;
    // Alone in the ring (a founder, or the only member left): nobody can disagree with it. (Peers
    // still choosing their claim seeds would hold the first ring back: see tryInstallFirstRing.)
    if (members.length === 1) this.confirmed = true;
    // The first ring has no predecessor worth a joint quorum: it was built before the node joined.
    // Its catch-up still needs the owners the cluster used without this node (with N = 1 they are
    // nobody else in the new ring: the node would call itself caught up while they hand off).
    const others = members.filter((m) => m.name !== this.selfName());
    const withoutSelf = others.length > 0 ? buildPlacement(others, this.o.partitions, this.o.replicas) : null;
    this.install(buildPlacement(members, this.o.partitions, this.o.replicas), null, withoutSelf);
  }

  /** Live peers of this cluster (same Q) that have not chosen their claim seed yet (a drained one has). */
  private joiningPeers(): Member[] {
    const self = this.selfName();
    return this.o.membership
      .members()
      .filter((m) => m.name !== self && this.o.isAlive(m.name) && !this.o.isRefused(m.name) && !holdsData(m) && !m.meta[RING_META.leaving] && !m.meta[RING_META.draining]);
  }

  /**
   * A node enters the ring only once it has a claim seed (src/ring/claim-seed.ts): the one it had
   * in a previous life if the cluster still remembers it (gossip's sticky metadata brings it
   * back), else the best one against the ring it is joining. Until then peers see it as joining.
   */
  private chooseClaimSeed(): void {
    const me = this.o.membership.self();
    if (isClaimSeed(me.meta[RING_META.claimSeed])) return;
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
    const joined = joinInOrder([...before, { name: me.name, zone: me.zone }], this.o.partitions, this.o.replicas, this.ringMembers().map(ringMemberOf));
    this.o.membership.updateMeta({ ...me.meta, [RING_META.claimSeed]: joined[joined.length - 1]!.claimSeed! });
  }

  // ---- ring changes -----------------------------------------------------------------------

  private checkRing(): void {
    const members = this.holdBackSelf(this.ringMembers());
    const key = ringInputsKey(members);
    if (key === this.ringKey) {
      this.retireJointRings(); // a watched owner may have been forgotten since
      return;
    }
    this.ringKey = key;
    const previous = this.placementNow;
    const next = buildPlacement(members, this.o.partitions, this.o.replicas);
    if (next.version === previous.version) return;
    this.install(next, previous);
  }

  /**
   * The ring members without this node while it is back among its members' data holders (its
   * undrain: drain.ts) but no peer has yet been seen on a ring with it: until then its peers may all
   * still route by the ring without it, and a ring with itself would count its own replica towards
   * writes that none of their readers asks (kv-drain seed 400110: undrained during an isolation and
   * declared dead, the node went on to a ring nobody else had when another node drained, and
   * acknowledged QUORUM writes with its own ack and one other owner's; readers on the others' ring
   * asked the other two). Held back, it routes by its peers' ring as a coordinator behind them
   * would (an owner that has moved on refuses, and the request adopts its ring), and its replica,
   * owning nothing in its own ring, never answers a read as caught up. A peer is seen on a ring
   * with it through a request routed by one or a sync answer (its sync rounds ask for them while
   * it waits); the ring with it is then installed, with the one it leaves as the joint quorum.
   */
  private holdBackSelf(members: Member[]): Member[] {
    const self = this.selfName();
    const others = members.filter((m) => m.name !== self);
    // Back among the holders by its own flag (not the all-drained fallback of ringMembers), with peers holding data beside it.
    const reentering = holdsData(this.o.membership.self()) && others.length < members.length && others.length > 0 && !this.placementNow.members.some((m) => m.name === self);
    if (!reentering || this.o.reenterAtOnce || this.reentry?.seen) {
      this.reentry = null;
      return members;
    }
    const reentry = (this.reentry ??= { versions: new Map(), seen: false });
    const key = ringInputsKey(members);
    if (!reentry.versions.has(key)) {
      reentry.versions.set(key, buildPlacement(members, this.o.partitions, this.o.replicas).version);
      if (reentry.versions.size > MAX_PAST_RINGS) reentry.versions.delete(reentry.versions.keys().next().value!);
    }
    return others;
  }

  /**
   * Puts the ring this node now routes by in its gossip metadata. A peer keeping a joint quorum over
   * a ring this node had sees it past that ring within a gossip round (mayServe), not only once it
   * answers a sync: a node that died a second after a ring change, before any sync answer reached
   * a peer, held that peer's QUORUM writes until gossip forgot it (deadReclaimMs, 60 s on the local
   * profile: test/sim/ring-change-death.test.ts).
   */
  private announce(ring: Placement): void {
    if (this.o.ringsUnannounced) return;
    const me = this.o.membership.self();
    const tag = announcedRing(ring.version);
    if (me.meta[RING_META.ring] === tag) return;
    // The node drops the announcement when its metadata is full (own-meta.ts): peers then see this
    // node past a ring through sync answers alone, as before announcements.
    this.o.membership.updateMeta({ ...me.meta, [RING_META.ring]: tag });
  }

  /** Makes `next` the current ring: bumps the epochs of partitions whose owners changed, remembers the ring left behind. */
  private install(next: Placement, previous: Placement | null, withoutSelf: Placement | null = null): void {
    const epochs = this.epochs.slice();
    const onlyThere = new Set<string>();
    const watched = new Set<string>();
    if (previous !== null) {
      for (let p = 0; p < next.partitions; p++) {
        const before = previous.owners(p);
        const after = next.owners(p);
        if (sameOwners(before, after)) continue;
        epochs[p]!++;
        for (const name of before) {
          watched.add(name);
          if (!after.includes(name)) onlyThere.add(name);
        }
      }
      this.past.delete(previous.version);
      this.past.set(previous.version, this.epochs);
      if (this.past.size > MAX_PAST_RINGS) this.past.delete(this.past.keys().next().value!);
      this.jointRings.unshift({ placement: previous, watched, onlyThere, movedPast: new Set(), seenPast: new Set() });
      // The oldest beyond the bound is no longer covered: a node that many ring changes behind is one gossip has long lost touch with.
      const bound = this.o.jointEndsEarly ? 1 : MAX_JOINT_RINGS;
      if (this.jointRings.length > bound) this.jointRings.length = bound;
    }
    // A ring can come back (a member leaves and returns with its claim seed): it is current, not past.
    this.past.delete(next.version);
    checkEpochsAdvance(this.o.env, previous, next, this.epochs, epochs);
    this.epochs = epochs;
    this.placementNow = next;
    this.announce(next);
    const alone = previous !== null && !this.o.aloneAtOnce && next.members.length === 1 && next.members[0]!.name === this.selfName();
    this.aloneSinceChange = alone ? previous.members.map((m) => m.name).filter((name) => name !== this.selfName()) : null;
    this.retireJointRings();
    this.o.onPlacement(previous, next, withoutSelf);
  }
}

/**
 * The ring's assertion (src/runtime/probes.ts): a partition's ownership epoch never goes back, and
 * moves on whenever its owners change, so no two owner sets ever share an epoch on this node.
 */
export function checkEpochsAdvance(env: Pick<Env, 'probes' | 'log'>, previous: Placement | null, next: Placement, before: Uint32Array, after: Uint32Array): void {
  for (let p = 0; p < after.length; p++) {
    const moved = previous !== null && !sameOwners(previous.owners(p), next.owners(p));
    const ok = after[p]! >= before[p]! && (!moved || after[p]! > before[p]!);
    invariant(env, ok, 'ring-epochs-monotone', () => `partition ${p}: epoch ${before[p]} -> ${after[p]} on ring ${next.version}${moved ? ' though its owners changed' : ''}`);
  }
}

/** Whether two preference lists name the same owners (order aside: the primary moving is no ownership change). */
function sameOwners(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name) => b.includes(name));
}
