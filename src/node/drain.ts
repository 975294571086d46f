/**
 * Reversible drain (`shoal drain NODE`, `shoal undrain NODE`): the node gives up ownership of its
 * partitions while it stays a live member that still coordinates requests, then takes its share
 * back. Elasticsearch's allocation exclusion and Kafka's partition reassignment do the same job.
 *
 * It is the graceful leave's handoff without the leave (node.ts `leave`): the node publishes
 * `draining` in its gossip metadata, so every node builds its ring without it (ring-placement.ts
 * `holdsData`) and computes the same owners; the ring lifecycle bumps the epochs of the partitions
 * that move and keeps the previous ring's joint quorum until the old owners have moved past it;
 * sync hands each partition the node no longer owns to its new owners (they catch up from it
 * before their reads count, and so do the owners that stay when nobody takes its place: a cluster
 * of N data holders or fewer, sync.ts gateOnDeparted) and drops it once every live owner holds all of it. Undraining
 * removes the flag: the ring with the node comes back (its claim seed is unchanged, so it owns the
 * same partitions as before), and each partition it gains catches up from the owners before its
 * reads count, as after a join. The node itself takes that ring only once a peer is seen on it
 * (ring-lifecycle.ts holdBackSelf: its peers may not have heard of the undrain yet, kv-drain seed
 * 400110). A restart forgets a drain (the flag is not sticky metadata).
 *
 * Safety: a drain is refused while no other live member holds data (the last holder has nobody to
 * hand off to and would drop its data), while the node is still joining, while it leaves, and when
 * the ring without it would leave a partition with fewer live (and, for reads, caught-up) owners
 * than a read or a write at the cluster's consistency levels needs (`quorumShortfall`): a dead member stays in the ring until
 * gossip forgets it, so with 3 nodes, N=3, R=W=2 and one dead, the ring without a second node has
 * 2 owners per partition, QUORUM needs both, and every QUORUM request would fail until gossip
 * forgot the dead one (probe-cli s19 finding 1; test/sim/drain-dead-member.test.ts). A member that
 * dies during a drain can still cause that; the drain then stalls and says so at warn (`check`).
 *
 * For code (the automatic drain of a predicted failure): `ShoalNode.drain()`, `undrain()` and
 * `drainProgress()` delegate here; each returns the progress at once, and progress is polled.
 */
import type { Member } from '../gossip/membership.ts';
import type { Consistency } from '../replication/api.ts';
import { requiredReplicas } from '../replication/config.ts';
import type { Placement } from '../replication/context.ts';
import type { Logger } from '../runtime/env.ts';
import { RING_META } from './ring-placement.ts';

export type DrainState = 'serving' | 'draining' | 'drained';

/** What a drain has moved so far (all zero while serving). */
export interface DrainProgress {
  state: DrainState;
  /** Partitions the node owned or held when the drain began: what has to move. */
  partitionsAtStart: number;
  /** Partitions it still owns in its ring or still holds (their handoff has not finished). */
  partitionsLeft: number;
  /** Keys and bytes (key plus record) handed off since the drain began. */
  keysHandedOff: number;
  bytesHandedOff: number;
  /** Since the drain began, or how long it took once drained; 0 while serving. */
  elapsedMs: number;
}

/** A drain or undrain the node cannot do now, and why. */
export class DrainRefusedError extends Error {
  override readonly name = 'DrainRefusedError';
}

/** What the drain needs from its node (ShoalNode implements it). */
export interface DrainHost {
  readonly name: string;
  readonly log: Logger;
  monoMs(): number;
  /** The node's own gossip metadata, and a replacement for it (gossip spreads it). */
  meta(): Readonly<Record<string, string | number>>;
  updateMeta(meta: Readonly<Record<string, string | number>>): void;
  /** Rebuilds the ring now rather than at the next periodic check. */
  requestRingCheck(): void;
  /** Whether the node has joined (its ring is confirmed), and whether it is leaving or stopped. */
  joined(): boolean;
  leaving(): boolean;
  /** Partitions its current ring places on it, or that it still holds. */
  partitionsHere(): number;
  /** Live members other than this one that the ring places data on. */
  otherDataHolders(): number;
  /** Totals of ownership handoff since the node started (sync stats). */
  handoffTotals(): { keys: number; bytes: number };
  /** The ring the members would build without this node (ring-lifecycle.ts), and the ring in use now. */
  ringWithoutSelf(): Placement;
  ring(): Placement;
  /** A member's state as gossip knows it (undefined: not known). */
  memberState(name: string): Member['state'] | undefined;
  /** The consistency levels of reads and writes that do not name one (R and W). */
  readonly consistency: { read: Consistency; write: Consistency };
}

/** Partitions of a ring where a read or a write at the cluster's consistency levels cannot reach its quorum. */
export interface QuorumShortfall {
  /** Partitions short of a quorum, of all the ring's partitions. */
  partitions: number;
  ofPartitions: number;
  /** Owners of the first such partition, and how many answers a read and a write need of them (requiredReplicas). */
  replicas: number;
  readNeeds: number;
  writeNeeds: number;
  /** The members not alive (dead, suspect, or unknown) that make them short, by name. */
  notLive: { name: string; state: string }[];
}

/**
 * Which partitions of `next` cannot serve a read or a write at `consistency` with the members
 * gossip sees alive (a suspect counts as not alive: it may be the next one declared dead). The
 * quorum is the coordinator's: requiredReplicas of the partition's owner count (with fewer members
 * than N, fewer replicas, and R and W taken over those). A write needs that many live owners. A
 * read needs that many live owners that are caught up: an owner `next` adds (it did not own the
 * partition in `current`) catches up from every owner of `current` (sync.ts onPlacement), and
 * while one of those is dead but still in the ring it never finishes, so its reads never count.
 * Without `current`, every owner counts as caught up. Null when every partition has its quorums.
 */
export function quorumShortfall(
  next: Placement,
  current: Placement | null,
  stateOf: (name: string) => Member['state'] | undefined,
  consistency: { read: Consistency; write: Consistency },
): QuorumShortfall | null {
  let short: QuorumShortfall | null = null;
  const notLive = new Map<string, string>();
  const live = (name: string): boolean => stateOf(name) === 'alive';
  for (let p = 0; p < next.partitions; p++) {
    const owners = next.owners(p);
    if (owners.length === 0) continue; // an empty ring: the last-holder refusal covers it
    const readNeeds = requiredReplicas(consistency.read, owners.length);
    const writeNeeds = requiredReplicas(consistency.write, owners.length);
    const before = current?.owners(p) ?? owners;
    const blocking = new Set<string>();
    let liveOwners = 0;
    let caughtUp = 0;
    for (const owner of owners) {
      if (!live(owner)) {
        blocking.add(owner);
        continue;
      }
      liveOwners++;
      const deadSources = before.includes(owner) ? [] : before.filter((source) => source !== owner && !live(source));
      if (deadSources.length === 0) caughtUp++;
      for (const source of deadSources) blocking.add(source);
    }
    if (liveOwners >= writeNeeds && caughtUp >= readNeeds) continue;
    short ??= { partitions: 0, ofPartitions: next.partitions, replicas: owners.length, readNeeds, writeNeeds, notLive: [] };
    short.partitions++;
    for (const name of blocking) notLive.set(name, stateOf(name) ?? 'unknown');
  }
  if (short === null) return null;
  short.notLive = [...notLive].map(([name, state]) => ({ name, state })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return short;
}

/** `n3 (dead)` or `n3 (dead) and n4 (suspect)`. */
function describeMembers(members: readonly { name: string; state: string }[]): string {
  const named = members.map((m) => `${m.name} (${m.state})`);
  return named.length <= 1 ? (named[0] ?? 'nobody') : `${named.slice(0, -1).join(', ')} and ${named[named.length - 1]}`;
}

/** A shortfall in words: `32 of 32 partitions would have too few live, caught-up replicas for a quorum (QUORUM reads and writes need 2 of their 2 replicas) because n3 (dead) is still in the ring`. */
function describeShortfall(s: QuorumShortfall, consistency: { read: Consistency; write: Consistency }, have: 'have' | 'would have'): string {
  const needs = consistency.read === consistency.write && s.readNeeds === s.writeNeeds
    ? `${consistency.read.toUpperCase()} reads and writes need ${s.readNeeds} of their ${s.replicas} replicas`
    : `${consistency.read.toUpperCase()} reads need ${s.readNeeds} and ${consistency.write.toUpperCase()} writes ${s.writeNeeds} of their ${s.replicas} replicas`;
  return `${s.partitions} of ${s.ofPartitions} partitions ${have} too few live, caught-up replicas for a quorum (${needs}) because ${describeMembers(s.notLive)} ${s.notLive.length === 1 ? 'is' : 'are'} still in the ring`;
}

export class NodeDrain {
  private draining = false;
  private start = { atMs: 0, partitions: 0, keys: 0, bytes: 0 };
  /** When the drain was first seen complete (elapsed stops there); null while it moves. */
  private drainedAtMs: number | null = null;
  /** Whether this drain's completion was logged (`check`). */
  private loggedDrained = false;
  /** The members a stalled drain was last logged waiting for (`check`); '' while none. */
  private loggedStall = '';

  constructor(private readonly host: DrainHost) {}

  get active(): boolean {
    return this.draining;
  }

  /** Partitions the ring without this node leaves short of a live, caught-up quorum, moving from `from` (the drain's refusal; a leave's warning). */
  private shortfallWithoutSelf(from: Placement = this.host.ring()): QuorumShortfall | null {
    const h = this.host;
    return quorumShortfall(h.ringWithoutSelf(), from, (name) => h.memberState(name), h.consistency);
  }

  /**
   * The leave's warning in words, or null when every partition keeps its quorums without this node.
   * `before`: the ring the leave started from (once leaving, the ring in use is already without it).
   */
  leaveShortfall(before: Placement): { message: string; partitions: number; notLive: string[] } | null {
    const short = this.shortfallWithoutSelf(before);
    if (short === null) return null;
    const them = short.notLive.length === 1 ? short.notLive[0]!.name : 'them';
    return {
      message:
        `leaving although, without this node, ${describeShortfall(short, this.host.consistency, 'would have')}: requests on them fail, and their handoff waits, ` +
        `until ${them} ${short.notLive.length === 1 ? 'is' : 'are'} back or the cluster removes ${them} (deadReclaimMs); \`shoal drain\` refuses this change`,
      partitions: short.partitions,
      notLive: short.notLive.map((m) => m.name),
    };
  }

  /** Starts giving the node's partitions away (idempotent); throws DrainRefusedError when it must not. */
  drain(): DrainProgress {
    if (this.draining) return this.progress();
    const h = this.host;
    if (h.leaving()) throw new DrainRefusedError(`${h.name} is leaving the cluster; a drain would change nothing`);
    if (!h.joined()) throw new DrainRefusedError(`${h.name} has not joined its cluster yet; it owns nothing to drain`);
    if (h.otherDataHolders() === 0) throw new DrainRefusedError(`${h.name} is the only live member holding data; with nobody to hand its partitions to, a drain would drop them`);
    const short = this.shortfallWithoutSelf();
    if (short !== null) {
      const them = short.notLive.length === 1 ? short.notLive[0]!.name : 'them';
      throw new DrainRefusedError(
        `${h.name} cannot drain now: without it, ${describeShortfall(short, h.consistency, 'would have')}, and those requests would fail. ` +
          `Bring ${them} back, or wait until the cluster removes ${them} (gossip forgets a dead member after its deadReclaimMs) or sees ${them} alive again, or drain ${h.name} later`,
      );
    }
    const totals = h.handoffTotals();
    this.start = { atMs: h.monoMs(), partitions: h.partitionsHere(), keys: totals.keys, bytes: totals.bytes };
    this.drainedAtMs = null;
    this.loggedDrained = false;
    this.loggedStall = '';
    this.draining = true;
    h.updateMeta({ ...h.meta(), [RING_META.draining]: 1 });
    h.requestRingCheck();
    h.log.info({ event: 'drain', partitions: this.start.partitions }, `draining: handing ${this.start.partitions} partitions off to the other members; this node keeps coordinating requests`);
    return this.progress();
  }

  /** Takes the node's share of partitions back (idempotent); throws DrainRefusedError while it leaves. */
  undrain(): DrainProgress {
    const h = this.host;
    if (h.leaving()) throw new DrainRefusedError(`${h.name} is leaving the cluster; it cannot take partitions back`);
    if (!this.draining) return this.progress();
    this.draining = false;
    const meta = { ...h.meta() };
    delete meta[RING_META.draining];
    h.updateMeta(meta);
    h.requestRingCheck();
    h.log.info({ event: 'undrain' }, "undrained: taking this node's share of partitions back (each catches up before its reads count)");
    return this.progress();
  }

  /**
   * Logs the drain's completion once (the node calls it every ring check), and, while it moves, a
   * member that died since it began and left partitions of its ring without a live quorum: the
   * handoff of those partitions cannot finish (it needs a quorum of their owners) and QUORUM
   * requests on them fail until the member is back or gossip forgets it. An undrain does not help
   * while the member stays in the ring: the partitions the node takes back catch up from every
   * owner of the ring it leaves, the dead one included, before its reads count.
   */
  check(): void {
    if (!this.draining) return;
    if (!this.loggedDrained || this.loggedStall !== '') this.checkStall();
    if (this.loggedDrained) return;
    const p = this.progress();
    if (p.state !== 'drained') return;
    this.loggedDrained = true;
    this.host.log.info({ event: 'drained', ...p }, `drained: ${p.partitionsAtStart} partitions handed off (${p.keysHandedOff} keys, ${p.bytesHandedOff} bytes sent) in ${(p.elapsedMs / 1000).toFixed(1)} s`);
  }

  private checkStall(): void {
    const h = this.host;
    const ring = h.ring();
    // Until the ring without this node is installed, the drain has not taken anything away yet.
    if (ring.members.some((m) => m.name === h.name)) return;
    // The ring it left is gone: only the owners' liveness is judged here (a new owner stuck on a dead source is not seen).
    const short = quorumShortfall(ring, null, (name) => h.memberState(name), h.consistency);
    const key = short === null ? '' : short.notLive.map((m) => `${m.name}:${m.state}`).join(',');
    // Once drained, only the end of a stall logged earlier is news.
    if (key === this.loggedStall || (short !== null && this.loggedDrained)) return;
    this.loggedStall = key;
    if (short === null) {
      h.log.info({ event: 'drain-resumed' }, 'draining: every partition of the ring without this node has a live quorum again');
      return;
    }
    h.log.warn(
      { event: 'drain-stalled', members: short.notLive.map((m) => m.name), partitions: short.partitions },
      `draining stalls: ${describeShortfall(short, h.consistency, 'have')}; their handoff cannot finish and requests on them fail until ${short.notLive.length === 1 ? 'it is' : 'they are'} back or the cluster removes ${short.notLive.length === 1 ? 'it' : 'them'} (an undrain does not help while ${short.notLive.length === 1 ? 'it stays' : 'they stay'} in the ring)`,
    );
  }

  progress(): DrainProgress {
    if (!this.draining) return { state: 'serving', partitionsAtStart: 0, partitionsLeft: 0, keysHandedOff: 0, bytesHandedOff: 0, elapsedMs: 0 };
    const h = this.host;
    const now = h.monoMs();
    const left = h.partitionsHere();
    // A late record for a partition the node no longer owns is held until handed off: drained again once it is.
    if (left > 0) this.drainedAtMs = null;
    else this.drainedAtMs ??= now;
    const totals = h.handoffTotals();
    return {
      state: left === 0 ? 'drained' : 'draining',
      partitionsAtStart: this.start.partitions,
      partitionsLeft: left,
      keysHandedOff: totals.keys - this.start.keys,
      bytesHandedOff: totals.bytes - this.start.bytes,
      elapsedMs: (this.drainedAtMs ?? now) - this.start.atMs,
    };
  }
}
