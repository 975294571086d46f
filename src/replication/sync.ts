/**
 * Partition sync: one protocol for three jobs.
 *
 * - Anti-entropy: replicas of a partition compare digests and exchange what differs, so replicas
 *   converge even when a hint or a repair was lost (hints are in memory and die with their node).
 * - Catch-up: a replica that (re)started empty, or that the ring just gave this node, is not
 *   `ready` until it has synced from every source that may hold acknowledged writes.
 * - Ownership handoff: a node that holds data for a partition it no longer owns pushes it to the
 *   new owners, and drops it once every live owner is known to hold all of it.
 *
 * A round: every interval this node picks the next peer (round robin) and sends it the digests of
 * the partitions they share (`sq`). The peer answers with the partitions whose digests match and,
 * within a batch budget, the (key, version) lists of those that differ (`sr`). For each differing
 * partition this node asks for what the peer has newer (`sw` -> `sd`, if it owns the partition) and
 * pushes what it has newer (`sd`, if the peer owns the partition). Everything rides the bulk lane.
 * The budget is the throttle, and since every round starts from the digests, a handoff cut short by
 * a crash or a lost message simply resumes in a later round. A node handing partitions off, or
 * catching up, does not wait for the timer: it runs rounds with every new owner (every source) at
 * once, each as soon as the last was answered (pressOn), one unanswered per peer. A node catching
 * up tells each source, in its answers to that source's rounds, which partitions it pulls from it
 * (`u`), and the source pushes nothing of those (unless it hands them off): a push would only
 * bring again what the pull brings (docs/REPLICATION.md, "Each record once").
 *
 * Large partitions go by bucket (docs/REPLICATION.md, "Anti-entropy of large partitions"). One
 * partition may hold a whole keyspace (Redis Cluster clients put every key of a benchmark under one
 * `{tag}`), and writes in flight keep its digests differing every round: a whole list a round was
 * 3.2 MB and 0.3 s of CPU at 100,000 keys. So a differing partition of more than syncBucketsAbove
 * entries is answered with its SYNC_BUCKETS bucket digests (`bd`) instead, kept as its digest is;
 * the asker asks for the lists of the buckets that differ (`sb`), the answer (`sl`) carries as many
 * as fit in syncBatch entries, and the asker reconciles them as it does a list, over those buckets
 * only. Only an answer that covered every differing bucket can end a catch-up or a handoff (its
 * wants of a partial one say `n`: their answers carry no `last`). Only a request that says the
 * asker compares buckets (`b`, SYNC_BUCKETS_PROTOCOL) is answered so.
 *
 * Under memory pressure two things kept a catch-up from ever finishing (kv-pressure, 3 nodes):
 * digests of a restarted replica never matched its sources', since a source lists the keys it
 * evicted (with their versions) but could not send them; and an answer's budget was always spent
 * on the same first differing partitions, so the partitions after them were never answered. Now
 * sync data (`sd`) also names keys the sender evicted, with their versions (`ek`/`ev`): the
 * wanted ones in a want's answer, and in a push the newer versions the peer lacks. The receiver
 * keeps them as evicted too (PartitionReplica.noteEvicted: the values are gone, the versions are
 * not), so digests converge. And each round lists the partitions still catching up from that peer
 * first, least recently answered first, so every partition is answered within a bounded number of
 * rounds.
 *
 * With a disk tier, a value the store evicted to it is held all the same: its version is in the
 * tier's index (so digests and key lists count it) and sync data reads it from the device and
 * sends it as a record (sendRecords, sendFromDisk); only a value gone from both travels as an
 * evicted version. Pushes are budgeted like answers (syncBatch records per answer), so a restarted
 * node is not sent more in one burst than its store and tier can take (docs/REPLICATION.md,
 * "Values on the disk tier").
 *
 * Per-partition state (the catch-up sources, the handoff coverage) lives in the partition's actor
 * (partition-actor.ts, `syncPhase`); this module drives its transitions. What stays here is the
 * node's: round pacing, which peer is next, the per-peer memory of which partitions an answer last
 * covered (it also covers partitions this node does not hold), and the catch-up account for logs.
 */
import type { CatchUpStatus } from '../protocol/frames.ts';
import { requiredReplicas } from './config.ts';
import type { Placement, ReplicationContext } from './context.ts';
import { compareVersions, versionToString, type Version } from './hlc.ts';
import type { KvMessage, SyncDiff } from './messages.ts';
import { SYNC_BUCKETS, type PartitionReplica } from './partition-replica.ts';
import type { PartitionActor } from './partition-actor.ts';
import type { ReplicaHost } from './replica-host.ts';
import type { RememberedRequest } from './rmw-requests.ts';
import { versionOfEncoded } from './record.ts';
import { flattenFloors, flushedBy, unflattenFloors } from './flush-floors.ts';
import { buggify, cover } from '../runtime/probes.ts';
import { HUNT_ANSWER_BYTES, ValueHunts } from './value-hunts.ts';

export interface SyncStats {
  rounds: number;
  partitionsCompared: number;
  partitionsDiffering: number;
  recordsPushed: number;
  recordsPulled: number;
  partitionsHandedOff: number;
  keysHandedOff: number;
  /** Bytes (key plus encoded record) of the records in sync data messages sent and received: anti-entropy, catch-up and handoff alike. */
  bytesSent: number;
  bytesReceived: number;
  /** Of `bytesSent`, those sent from partitions this node no longer owns (ownership handoff). */
  handoffBytesSent: number;
  /** Hot keys pushed ahead of a peer's catch-up (predictive warming, config.warmHotKeys). */
  keysWarmed: number;
  /** Records of sync data (pushes and answers) read from the disk tier, since the store no longer held them. */
  keysSentFromDisk: number;
  /** Keys asked of other owners because a sync source evicted their newest values (value-hunts.ts), counted once per owner asked. */
  valuesHunted: number;
  /**
   * Keys a replica lacked at or below its forgetting horizon (ForgottenKeys.horizon), so neither
   * wanted by it nor pushed to it: counted on the node that left them out, once per exchange.
   */
  keysLeftForgotten: number;
  /** (key, version) entries this node listed in its answers (`sr` lists and `sl` bucket lists): what anti-entropy costs beyond the digests. */
  entriesListed: number;
  /** Differing partitions answered with bucket digests (`bd`) instead of a whole list, and the differing buckets found by comparing them. */
  partitionsByBucket: number;
  bucketsDiffering: number;
}

/** Observable progress of catch-up and ownership handoff on this node. */
export interface HandoffProgress {
  /** Owned partitions still waiting for data from a source. */
  partitionsCatchingUp: number;
  /** Partitions held but no longer owned, still to be handed off. */
  partitionsToHandOff: number;
  keysToHandOff: number;
  partitionsHandedOff: number;
  keysHandedOff: number;
}

/**
 * Values read from the disk tier at a time for one transfer (sync data for one partition to one
 * peer); the next group is read once this one is sent, so a transfer holds at most this many
 * values read back in memory.
 */
export const SYNC_DISK_READS = 32;

/**
 * Bytes of records (key plus encoded record) one sync answer may set pushing to its peer, over all
 * its partitions (4 MiB), besides syncBatch records: half the bulk lane's send buffer
 * (DEFAULT_MAX_BULK_BUFFERED_BYTES, past which the real transport drops bulk sends), so the one
 * round a handoff keeps unanswered per peer never overflows it. The first record always goes, so a
 * round moves something whatever the values' size.
 */
export const SYNC_PUSH_BYTES = 4 * 1024 * 1024;

/**
 * Bytes of records in one sync data message (`sd`, 1 MiB), besides syncBatch records: 512 values
 * of up to 1 MiB would otherwise make one message of up to 512 MiB, past the largest a node
 * accepts (DEFAULT_MAX_MESSAGE_BYTES, 16 MiB). One record always goes.
 */
export const SYNC_MESSAGE_BYTES = 1024 * 1024;

/**
 * A handoff round that moved less than this share of syncBatch records (a catch-up round: that
 * wanted less) leaves the next round with that peer to the timer instead of chaining it at once
 * (pressOn). Under client writes an
 * answer's list budget goes on partitions the new owner is also being written, so rounds move few
 * records each, and chaining them regardless spent the CPU the writes needed: 5 real nodes on a
 * starved 2-core machine, 60,000 QUORUM writes during a leave, 495 to 938 failed `unavailable`
 * chaining on any record moved, 12 and 133 with this share, 2 and 50 at the old timer pace (no
 * faster handoff in either case: every leave timed out, the partitions' owners starved).
 */
const CHAIN_SHARE = 1 / 4;

/** How often a node catching up logs its progress (info level); it also logs the start and the end. */
export const CATCH_UP_LOG_INTERVAL_MS = 5_000;

/**
 * The first node protocol version (src/gossip/protocol-version.ts) that compares large partitions
 * by bucket (docs/REPLICATION.md, "Anti-entropy of large partitions"). A node running it says so
 * in its `sq` (`b`), and only such a request is answered with bucket digests: a node that predates
 * them ignores the field and answers whole lists, as before, and is never sent `sb` or `sl`.
 */
export const SYNC_BUCKETS_PROTOCOL = 2;

/**
 * How the batches a node sends for some keys end: `none` (a push, or a want of part of a list:
 * nothing waits for the end), `last` (a whole want's answer: its last batch is marked `last`, which
 * can end the asker's catch-up from this node), `{ hunt, rest }` (a value hunt's answer,
 * value-hunts.ts: its last batch carries the hunt's number in `h` and the keys it had no room for in
 * `hr`, which ends only that hunt's want).
 */
type AnswerEnd = 'none' | 'last' | { hunt: number; rest: string[] };

/**
 * The fields that mark an answer's final batch as `end` says; a want's (`last`) also lists
 * `notKnown`, the keys wanted that the sender holds nothing of (`nk`, see onWantAnswered).
 */
function finalMark(end: AnswerEnd, notKnown: readonly string[]): { last: boolean; nk?: string[]; h?: number; hr?: string[] } {
  if (typeof end !== 'object') return end === 'last' ? { last: true, nk: [...notKnown] } : { last: false };
  return end.rest.length > 0 ? { last: false, h: end.hunt, hr: end.rest } : { last: false, h: end.hunt };
}

/**
 * What a partition's bucket digests (`bd`) cost of a sync answer's budget, in list entries: 256
 * digests of up to 5 bytes of msgpack are about 1.3 KB, some 40 entries of a short key's list.
 */
const BUCKET_DIGESTS_COST = SYNC_BUCKETS / 8;

/** What one sync answer may still set pushing: records (syncBatch at first) and bytes (SYNC_PUSH_BYTES at first). */
interface PushBudget {
  left: number;
  bytes: number;
}

/** A peer's (key, version) list of a partition, or of some of its buckets. */
type PeerEntries = Map<string, Version>;


export class PartitionSync {
  readonly stats: SyncStats = { rounds: 0, partitionsCompared: 0, partitionsDiffering: 0, recordsPushed: 0, recordsPulled: 0, partitionsHandedOff: 0, keysHandedOff: 0, bytesSent: 0, bytesReceived: 0, handoffBytesSent: 0, keysWarmed: 0, keysSentFromDisk: 0, valuesHunted: 0, keysLeftForgotten: 0, entriesListed: 0, partitionsByBucket: 0, bucketsDiffering: 0 };
  private nextPeer = 0;
  /**
   * Per peer: partition -> the number of the sync answer from that peer that last covered it, so
   * each round lists the least recently answered partitions first (an answer's budget may cover
   * only a few).
   */
  private readonly lastAnswered = new Map<string, Map<number, number>>();
  private answersReceived = 0;
  /** The current hand-off of partitions this node no longer owns (see trackHandOff). */
  private readonly handOff = { active: false, startedMs: 0, loggedMs: 0, partitions: 0, handedOffAtStart: 0, keysAtStart: 0 };
  private readonly catchUp = { active: false, startedMs: 0, endedMs: 0, partitions: 0, keysReceived: 0, bytesReceived: 0, keysEvictedAtSource: 0, loggedMs: 0 };
  /**
   * Records received before this node had a ring: a restarted node answers its peers' sync rounds
   * while it settles into its first ring, and their pushes can bring back all its data before its
   * catch-up starts. They count in the catch-up that ring starts, which would otherwise end on
   * equal digests saying "0 keys received".
   */
  private readonly beforeFirstRing = { keysReceived: 0, bytesReceived: 0 };
  /** Called with the ring version of every peer's sync answer (the node confirms its ring on its own version). */
  onPeerRing: (version: string, peer: string) => void = () => {};
  /** Per peer: partitions it gained from a ring change that this node holds, not yet warmed (see warm). */
  private readonly warmDue = new Map<string, Set<number>>();
  /** Per partition: previous owners that left it and that a catch-up of it may still wait for (forgetDeadDeparted). */
  private readonly departed = new Map<number, Set<string>>();
  /** Values a sync source evicted, asked of the partitions' other owners (value-hunts.ts). */
  private readonly hunts: ValueHunts;
  /** This node's `n` hottest store keys, hottest first (the node's hot-key sketch); for warming. */
  hottestKeys: (n: number) => readonly string[] = () => [];
  private timer: number | null = null;
  /**
   * Per peer: the sync exchanges with it not answered yet (rounds, the bucket lists a round's
   * answer led this node to ask for, and the wants whose answers end `last`), when the last round
   * went, and how many records had moved with it then (movedWith). A node handing partitions off
   * or catching up starts its next round with a peer as soon as that peer has answered everything
   * and the exchange moved records (see pressOn), so a handoff or a catch-up runs one round trip
   * after another with every peer concerned at once, never more than one round unanswered per peer.
   */
  private readonly roundsInFlight = new Map<string, { count: number; sentMs: number; movedAtStart: number }>();
  /**
   * Per peer: records (and evicted versions) this node sent it from partitions it hands off, plus
   * the keys its replicas still catching up asked it for.
   */
  private readonly movedWith = new Map<string, number>();
  /**
   * Per partition still catching up: the source its last whole want went to, and when, until that
   * want's last answer comes (or requestTimeoutMs passes). No source's list of it is wanted
   * from meanwhile (pullInFlight): with every source pressed at once, a restarted replica asked
   * each of them for the same keys and got every key once per source; and a second round's list
   * from the same source (the round timer's, beside the pressed one) asked it for them again.
   * `lost`: a want of it went unanswered past requestTimeoutMs (see pullsFrom). `unanswered`: the
   * keys wanted, with the versions the source listed, until its answer brings them (inheritUnanswered).
   */
  private readonly pulling = new Map<number, { peer: string; sentMs: number; lost: boolean; unanswered: PeerEntries }>();

  constructor(
    private readonly ctx: ReplicationContext,
    private readonly host: ReplicaHost,
  ) {
    this.hunts = new ValueHunts(ctx, host, (keys) => (this.stats.valuesHunted += keys), () => this.trackCatchUp());
    // Records can arrive for a partition this node does not own (a coordinator on an older ring,
    // a late hint, a stale sync answer): hand them to the owners like any partition no longer
    // owned, instead of keeping them unaccounted until the next ring change.
    host.onNewPartition = (partition) => {
      if (!this.ctx.placement().owners(partition).includes(this.ctx.selfName)) this.host.partitions.get(partition)!.startHandoff();
    };
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    if (this.timer !== null) this.ctx.env.timers.cancelTimer(this.timer);
    this.timer = null;
  }

  /**
   * The ring changed (or was first computed, `previous` null): newly owned partitions must catch
   * up from their previous owners (on a restart: from the other owners), partitions no longer
   * owned start handing off, and sources that left the cluster are forgotten.
   */
  /**
   * A new ring: catch up what this node gained, hand off what it lost. For the first ring
   * (`previous` null) the sources of a gained partition are its other owners and its owners in
   * `withoutSelf`, the ring the cluster used before this node (re)joined.
   */
  onPlacement(previous: Placement | null, next: Placement, withoutSelf: Placement | null = null): void {
    const self = this.ctx.selfName;
    const stillMembers = new Set(next.members.map((m) => m.name));
    for (let p = 0; p < next.partitions; p++) {
      const owners = next.owners(p);
      const ownsNow = owners.includes(self);
      const ownedBefore = previous !== null && previous.owners(p).includes(self);
      const existing = this.host.partitions.get(p);
      if (previous !== null && existing && this.ctx.config.warmHotKeys > 0) this.noteWarmDue(p, previous.owners(p), owners);
      if (ownsNow && !ownedBefore) {
        const sources = previous ? previous.owners(p) : [...new Set([...owners, ...(withoutSelf?.owners(p) ?? [])])];
        this.host.hold(p).catchUpFrom(sources.filter((source) => source !== self));
        // Its sources are waited for as before, dead or alive (forgetDeadDeparted is for the gate below only):
        // owners that left a partition can be enough of its previous owners to have acknowledged
        // a QUORUM write among themselves (kv-drain seed 400211: cut off by a split, declared dead).
        this.departed.delete(p);
      } else if (ownsNow) {
        if (existing && !existing.ready) {
          // Still catching up when the ring changed: the view it started from may have been partial
          // (a restarted node hears of its cluster member by member), so the owners of the new ring
          // are sources too; otherwise it could call itself ready without the one that has the data.
          existing.catchUpFrom(owners.filter((source) => source !== self));
        }
        if (previous !== null) this.gateOnDeparted(p, previous.owners(p), owners);
      } else if (!ownsNow && existing) {
        // With no owner left (the last member is leaving) there is nobody to hand the data to.
        if (existing.size === 0 || owners.length === 0) this.dropPartition(p);
        else existing.startHandoff();
      }
    }
    for (const actor of this.host.partitions.values()) {
      for (const source of [...actor.pendingSources]) if (!stillMembers.has(source) && !this.ctx.isAlive(source)) actor.sourceDone(source);
    }
    this.forgetDeadDeparted();
    this.hunts.onRing();
    this.trackCatchUp();
    this.trackHandOff();
    // Work just appeared: start rounds at the catch-up pace instead of waiting out a calm interval.
    if (this.timer !== null && this.progressNeeded()) {
      this.ctx.env.timers.cancelTimer(this.timer);
      this.schedule();
      this.pressOn();
    }
  }

  /** Owners of p in the new ring that were not before get its hot keys at their first exchange with this node. */
  private noteWarmDue(p: number, before: readonly string[], after: readonly string[]): void {
    for (const owner of after) {
      if (owner === this.ctx.selfName || before.includes(owner)) continue;
      let due = this.warmDue.get(owner);
      if (due === undefined) this.warmDue.set(owner, (due = new Set()));
      due.add(p);
    }
  }

  /**
   * A partition this node owns in both rings: when the change shrank its owner set (a drain or a
   * leave in a cluster of N data holders or fewer), the owners that left it and are alive become
   * sources, so this replica's reads count only once each has synced with it. A read routed by the
   * new ring asks only the owners left, and counts R of fewer owners than the write that a departed
   * owner acknowledged counted W of: R + W > N no longer makes them meet (an ALL read after a write
   * at ONE). Where the owner set keeps its size, the owners that replace the departed ones catch
   * up from every previous owner, and that is enough (docs/REPLICATION.md, "Ring changes").
   */
  private gateOnDeparted(p: number, before: readonly string[], after: readonly string[]): void {
    if (after.length >= before.length || this.ctx.config.bugs?.readyBeforeHandoff) return;
    const actor = this.host.hold(p);
    // A source already (a replica still catching up): waited for as before, dead or alive.
    const departed = before.filter((name) => !after.includes(name) && name !== this.ctx.selfName && this.ctx.isAlive(name) && !actor.pendingSources.has(name));
    if (departed.length === 0) return;
    actor.catchUpFrom(departed);
    const noted = this.departed.get(p);
    if (noted === undefined) this.departed.set(p, new Set(departed));
    else for (const name of departed) noted.add(name);
  }

  /**
   * A catch-up waits for an owner that left the partition only while it is alive, as a write's
   * joint quorum waits only for live previous-only owners (ring-lifecycle.ts): a departed owner
   * that dies (or is cut off and declared dead) before its handoff would otherwise hold the reads
   * of the owners left until gossip forgets it. What only it held is then not read until it comes
   * back and hands it off (the gap the joint quorum leaves too). Owners still in the partition's
   * owner set are waited for as before: a restarted replica must not outvote them.
   */
  private forgetDeadDeparted(): void {
    if (this.departed.size === 0) return;
    const placement = this.ctx.placement();
    for (const [p, names] of this.departed) {
      const actor = this.host.partitions.get(p);
      const owners = placement.owners(p);
      for (const name of names) {
        if (actor === undefined || !actor.pendingSources.has(name) || owners.includes(name)) names.delete(name);
        else if (!this.ctx.isAlive(name)) this.sourceDone(p, name);
      }
      if (names.size === 0) this.departed.delete(p);
    }
  }

  /** A member left for good: stop waiting for it as a source. */
  forgetSource(name: string): void {
    this.warmDue.delete(name);
    for (const actor of this.host.partitions.values()) actor.sourceDone(name);
    this.lastAnswered.delete(name);
    this.roundsInFlight.delete(name);
    this.movedWith.delete(name);
    for (const [p, { peer }] of this.pulling) if (peer === name) this.pulling.delete(p);
    this.hunts.forget(name);
    this.trackCatchUp();
  }

  /** `source` has given partition p all it has; the end of a catch-up is logged as it happens. */
  private sourceDone(p: number, source: string): void {
    if (this.host.partitions.get(p)?.sourceDone(source)) this.trackCatchUp();
  }

  progress(): HandoffProgress {
    let partitionsCatchingUp = 0;
    let partitionsToHandOff = 0;
    let keysToHandOff = 0;
    for (const actor of this.host.partitions.values()) {
      const phase = actor.syncPhase;
      if (phase === 'handing-off') {
        partitionsToHandOff++;
        keysToHandOff += actor.size;
      } else if (phase === 'catching-up') {
        partitionsCatchingUp++;
      }
    }
    return { partitionsCatchingUp, partitionsToHandOff, keysToHandOff, partitionsHandedOff: this.stats.partitionsHandedOff, keysHandedOff: this.stats.keysHandedOff };
  }

  /** The current catch-up (or the last one, once it finished), for logs and `shoal status`. */
  catchUpProgress(): CatchUpStatus {
    const c = this.catchUp;
    const partitionsLeft = this.progress().partitionsCatchingUp;
    const elapsedMs = c.active ? this.ctx.env.clock.monoMs() - c.startedMs : c.endedMs - c.startedMs;
    return { partitionsLeft, partitions: Math.max(c.partitions, partitionsLeft), keysReceived: c.keysReceived, bytesReceived: c.bytesReceived, keysEvictedAtSource: c.keysEvictedAtSource, elapsedMs };
  }

  onMessage(from: string, message: KvMessage): boolean {
    switch (message.t) {
      case 'sq':
        // Floors first: a returning node learns of a flush before anything is compared or sent.
        if (message.f !== undefined) this.host.raiseFloors(unflattenFloors(message.f));
        this.answerDigests(from, message.d, message.b === SYNC_BUCKETS && this.speaksBuckets());
        return true;
      case 'sr':
        // The peer's clock before its ring version: the first answer on this node's ring lets a restarted node coordinate.
        if (message.hc !== undefined) this.host.foldPeerClock(message.hc);
        if (message.f !== undefined) this.host.raiseFloors(unflattenFloors(message.f));
        this.onSyncAnswer(from, message.eq, message.df, message.bd ?? [], new Set(message.u), new Map(unflattenFloors(message.fh ?? [])), this.sameRing(message.v, from));
        return true;
      case 'sb':
        this.answerBuckets(from, message.p, message.b);
        return true;
      case 'sl':
        this.onBucketLists(from, message, this.sameRing(message.v, from));
        return true;
      case 'sw':
        this.answerWant(from, message.p, message.k, message.h !== undefined ? { hunt: message.h, rest: [] } : message.n === true ? 'none' : 'last');
        return true;
      case 'sd': {
        const { p, k, r, last, ek = [], ev = [], q = [] } = message;
        const sameRing = this.sameRing(message.v, from);
        this.host.run(p, (actor) => {
          const catchingUp = !actor.ready;
          const received = catchingUp ? this.catchUp : this.ctx.placement().members.length === 0 ? this.beforeFirstRing : null;
          // Keys whose record here is now the sender's (with its version): the read-modify-write results in it came along.
          const holds = new Map<string, string>();
          for (let i = 0; i < k.length; i++) {
            this.stats.bytesReceived += k[i]!.length + r[i]!.length;
            if (this.host.apply(actor, k[i]!, r[i]!, true, true) === 'applied') {
              this.stats.recordsPulled++;
              cover(this.ctx.env, 'sync-repaired');
            }
            if (sameRecord(actor.replica.peek(k[i]!), r[i]!)) holds.set(k[i]!, versionToString(versionOfEncoded(r[i]!)));
            if (received !== null) {
              received.keysReceived++;
              received.bytesReceived += k[i]!.length + r[i]!.length;
            }
          }
          // A request id only where its result is held: one whose result lost to a newer write here
          // would answer a repeat with an effect this replica does not have; and, when the sender
          // says, only if that record is the one holding its effect (rmw-requests.ts).
          const now = this.ctx.env.clock.monoMs();
          const heldHere = ([, , keys, versions]: RememberedRequest): boolean =>
            keys !== undefined && keys.length > 0 && keys.every((key, j) => holds.has(key) && (versions === undefined || versions[j] === holds.get(key)));
          actor.requests.rememberAll(q.filter(heldHere), now);
          const learnt: string[] = [];
          for (let i = 0; i < ek.length && 3 * i + 2 < ev.length; i++) {
            const version = { wallMs: ev[3 * i]!, logical: ev[3 * i + 1]!, node: ev[3 * i + 2]! };
            if (!actor.noteEvicted(ek[i]!, version)) continue;
            learnt.push(ek[i]!);
            if (catchingUp) this.catchUp.keysEvictedAtSource++;
          }
          if (learnt.length > 0) this.hunts.start(p, from, learnt);
          if (message.h !== undefined) this.hunts.answered(p, from, message.h, message.hr ?? []);
          const pull = this.pulling.get(p);
          let answeredInFull = true;
          if (pull?.peer === from) {
            for (const key of k) pull.unanswered.delete(key);
            for (const key of ek) pull.unanswered.delete(key);
            if (last) answeredInFull = this.onWantAnswered(actor, pull.unanswered, message);
          }
          if (last && sameRing && answeredInFull) this.sourceDone(p, from);
          if (last && this.pulling.get(p)?.peer === from) this.pulling.delete(p);
          if (last) this.exchangeDone(from);
        }, () => {
          if (last) this.exchangeDone(from);
        });
        return true;
      }
      default:
        return false;
    }
  }

  // ---- rounds -----------------------------------------------------------------------------

  private schedule(): void {
    const busy = this.progressNeeded();
    const interval = busy ? this.ctx.config.catchUpSyncIntervalMs : this.ctx.config.syncIntervalMs;
    // Jitter keeps nodes from syncing in lockstep.
    this.timer = this.ctx.env.timers.setTimer(interval * (0.75 + this.ctx.env.random.next() / 2), () => {
      this.round();
      this.schedule();
    });
  }

  private progressNeeded(): boolean {
    // An undrained node waiting to see a peer's ring asks at the catch-up pace: its share waits on it.
    if (this.ctx.awaitsPeerRing?.()) return true;
    for (const actor of this.host.partitions.values()) if (actor.syncPhase !== 'ready') return true;
    return false;
  }

  private round(): void {
    // Records that arrived for a partition after every owner left the ring (a late hint or write
    // to the last members, all leaving) have nobody to go to: holding them would hold a leave forever.
    for (const [p, actor] of this.host.partitions) if (actor.syncPhase === 'handing-off' && this.ctx.placement().owners(p).length === 0) this.dropPartition(p);
    this.forgetDeadDeparted();
    this.hunts.tick();
    this.trackCatchUp();
    this.trackHandOff();
    const peers = this.peers();
    if (peers.length === 0) return;
    this.roundWith(peers[this.nextPeer++ % peers.length]!);
    this.pressOn();
  }

  /**
   * Ownership handoff and catch-up at the pace of round trips, not of the round timer: with
   * partitions to hand off, every live peer that owns some of them, and with replicas catching up,
   * every live source they still wait on, gets a round at each tick, and its next round as soon
   * as it has answered the one before (exchangeDone) if that one moved a good share of a batch
   * (CHAIN_SHARE: records handed to it, or keys wanted from it), rather than one peer per
   * catchUpSyncIntervalMs. Before, a leaving node pushed at most about syncBatch records per
   * interval (probe-chaos, 5 real nodes: 3,700 keys/s idle, so a node of 26,000 keys outlasted the
   * default 10 s --shutdown-timeout), and a restarted node pulled at most the syncBatch entries
   * one answer lists per interval (60,000 keys: 11.6 s in the simulator, missing from its reads
   * all that time; test/sim/restart-catch-up-pace.test.ts). Flow control: one round unanswered
   * per peer, and a round is answered once its digests' answer, the bucket lists it asked for and
   * the wants it sent (answered `last`) have all come back; each answer pushes at most syncBatch
   * records and SYNC_PUSH_BYTES, lists at most syncBatch entries (so wants ask for about as many),
   * and the next round's digests go after those pushes (the partitions' jobs run in order), so the
   * peer answers it with them applied. A round that moved little or nothing (the peer not yet on
   * this node's ring, answers spent on partitions under client writes, the rest waiting on the
   * disk tier, partitions found equal) leaves the next to the timer, so neither spins nor crowds
   * out client requests; one unanswered for requestTimeoutMs (a lost message, a stalled peer) no
   * longer holds the next.
   */
  private pressOn(): void {
    const now = this.ctx.env.clock.monoMs();
    for (const peer of this.pressedPeers()) if (!this.roundUnanswered(peer, now)) this.roundWith(peer);
  }

  /** This node asked `peer` for bucket lists, or for keys, in answer to its round: the round goes on until they come. */
  private exchangeAsked(peer: string): void {
    const inFlight = this.roundsInFlight.get(peer);
    if (inFlight !== undefined) inFlight.count++;
  }

  /**
   * `peer` answered an exchange (a round's digests, bucket lists, or a want), and the jobs that
   * answer started have run: with nothing else unanswered and at least CHAIN_SHARE of syncBatch
   * records moved with it since the round began, the next round with it goes now.
   */
  private exchangeDone(peer: string): void {
    const inFlight = this.roundsInFlight.get(peer);
    if (inFlight === undefined) return;
    inFlight.count = Math.max(0, inFlight.count - 1);
    if (inFlight.count > 0 || this.timer === null) return; // timer null: stopped, a late answer starts nothing
    const moved = (this.movedWith.get(peer) ?? 0) - inFlight.movedAtStart;
    if (moved >= this.ctx.config.syncBatch * CHAIN_SHARE && this.pressedPeers().has(peer)) this.roundWith(peer);
  }

  /** `count` records moved with `peer` (handed off to it, or wanted from it by a replica catching up). */
  private noteMoved(peer: string, count: number): void {
    this.movedWith.set(peer, (this.movedWith.get(peer) ?? 0) + count);
  }

  /**
   * Peers whose rounds go at the pace of round trips (pressOn): live owners, in this node's ring,
   * of the partitions it hands off, and live sources of its replicas catching up.
   */
  private pressedPeers(): Set<string> {
    const peers = new Set<string>();
    const placement = this.ctx.placement();
    const bugs = this.ctx.config.bugs;
    for (const [p, actor] of this.host.partitions) {
      const phase = actor.syncPhase;
      if (phase === 'handing-off' && !bugs?.handOffAtTimerPace) {
        for (const owner of placement.owners(p)) if (owner !== this.ctx.selfName && this.ctx.isAlive(owner)) peers.add(owner);
      } else if (phase === 'catching-up' && !bugs?.catchUpAtTimerPace) {
        for (const source of actor.pendingSources) if (this.ctx.isAlive(source)) peers.add(source);
      }
    }
    return peers;
  }

  /** One round with `peer`: the digests of the partitions this node shares with it (see the file comment). */
  private roundWith(peer: string): void {
    const placement = this.ctx.placement();
    const self = this.ctx.selfName;
    // Partitions this node holds that `peer` owns or must sync from, and those both own that this node lacks.
    const held: number[] = [];
    const lacking: number[] = [];
    // While the disk tier is read back after a restart, this node's digests and lists count
    // nothing of it: a round now would take every value the tier holds again from the other
    // owners, and each record taken deletes the tier's copy (a warm restart costing a cold one's
    // transfer: test/sim/restart-disk-recovery.test.ts). So its partitions wait, not ready, and
    // its answers say it pulls (pullsFrom), so peers push nothing to it either.
    const readingDiskBack = this.host.readingDiskBack;
    for (let p = 0; p < placement.partitions && !readingDiskBack; p++) {
      const peerOwns = placement.owners(p).includes(peer);
      const mine = this.host.partitions.get(p);
      if (mine) {
        if (peerOwns || mine.pendingSources.has(peer)) held.push(p);
      } else if (peerOwns && placement.owners(p).includes(self)) {
        lacking.push(p);
      }
    }
    // Nothing shared: still ask while the ring is unconfirmed, or the node waits to see a peer's
    // ring (ReplicationContext.awaitsPeerRing, ringWitnesses), since the answer carries the peer's ring version.
    if (held.length === 0 && lacking.length === 0 && this.ctx.ringConfirmed() && !this.ctx.awaitsPeerRing?.() && !this.ctx.ringWitnesses?.().has(peer)) return;
    // The peer answers in list order within its budget: partitions still catching up from it
    // first (lacking ones too), then the least recently answered, so none waits forever behind
    // partitions that keep differing.
    const answered = this.lastAnswered.get(peer);
    // Partitions pulled from another source at the moment go last: their lists would be listed for nothing.
    const now = this.ctx.env.clock.monoMs();
    const urgent = (p: number) => {
      const mine = this.host.partitions.get(p);
      if (this.pullingElsewhere(p, peer, now)) return 2;
      return !mine || mine.pendingSources.has(peer) ? 0 : 1;
    };
    const order = [...lacking, ...held].sort((a, b) => urgent(a) - urgent(b) || (answered?.get(a) ?? 0) - (answered?.get(b) ?? 0) || a - b);
    const digestOf = new Map<number, number>(lacking.map((p) => [p, 0]));
    this.host.runEach(held, (actor) => digestOf.set(actor.partition, actor.replica.digest), () => {
      const digests: number[] = [];
      // A partition whose actor was too busy to compute its digest waits for a later round.
      for (const p of order) if (digestOf.has(p)) digests.push(p, digestOf.get(p)!);
      this.stats.rounds++;
      const ask: KvMessage = this.speaksBuckets() ? { t: 'sq', d: digests, b: SYNC_BUCKETS } : { t: 'sq', d: digests };
      this.ctx.send(peer, withFloors(ask, this.host.floors.flat(order)), 'bulk');
    });
    const inFlight = this.roundsInFlight.get(peer);
    if (inFlight !== undefined && this.roundUnanswered(peer, now)) Object.assign(inFlight, { count: inFlight.count + 1, sentMs: now });
    else this.roundsInFlight.set(peer, { count: 1, sentMs: now, movedAtStart: this.movedWith.get(peer) ?? 0 });
  }

  /** Whether partition p's catch-up waits on a whole want sent to a source other than `peer`, not timed out. */
  private pullingElsewhere(p: number, peer: string, now: number): boolean {
    const pull = this.pullInFlight(p, now);
    return pull !== null && pull.peer !== peer;
  }

  /** The source of partition p's whole want in flight (not timed out), if one is. */
  private pullInFlight(p: number, now: number): { peer: string } | null {
    const pull = this.pulling.get(p);
    return pull !== undefined && now - pull.sentMs < this.ctx.config.requestTimeoutMs ? pull : null;
  }

  /**
   * Whether this node's replica pulls its data from `peer` by this node's own rounds: it is
   * catching up from that peer, which is alive, so it is pressed (pressOn) until the replica has
   * all the peer holds. Told to the peer in sync answers (`u`), so the peer's own rounds push
   * nothing of it: with the catch-up bound by CPU (real processes: seconds), those pushes raced
   * the pulls and brought each record twice (+5-30% records and bytes received, the extra applied
   * as stale). The pull covers all a push would (the peer's list holds its evicted versions too,
   * and a want's answer sends them). Not once a want of the partition went unanswered (its answer
   * lost, or dropped by a full bulk lane: a want is bounded by keys, not bytes), until one is
   * answered: the pushes, bounded by bytes too, then bring what the pulls do not. Not at the old
   * timer pace (bugs.catchUpAtTimerPace), where the pushes were a real part of the catch-up and
   * the tests replaying it expect them. And while the disk tier is read back after a restart
   * (roundWith): this node's rounds then wait for it, and they will pull what a push would bring.
   */
  private pullsFrom(actor: PartitionActor, peer: string): boolean {
    if (this.host.readingDiskBack) return true;
    if (actor.ready || !actor.pendingSources.has(peer) || !this.ctx.isAlive(peer) || this.ctx.config.bugs?.catchUpAtTimerPace) return false;
    return this.pulling.get(actor.partition)?.lost !== true;
  }

  /** Whether an exchange with `peer` is still awaited; one unanswered past the replica timeout is taken as lost and no longer counts. */
  private roundUnanswered(peer: string, now: number): boolean {
    const inFlight = this.roundsInFlight.get(peer);
    return inFlight !== undefined && inFlight.count > 0 && now - inFlight.sentMs < this.ctx.config.requestTimeoutMs;
  }

  /**
   * Starts, logs (at most every CATCH_UP_LOG_INTERVAL_MS) and ends the account of a catch-up: a
   * node waiting on its sources says so, instead of sitting silently out of the read quorum.
   */
  private trackCatchUp(): void {
    const c = this.catchUp;
    const left = this.progress().partitionsCatchingUp;
    if (!c.active && left === 0) return;
    const now = this.ctx.env.clock.monoMs();
    const log = this.ctx.env.log;
    if (!c.active) {
      const early = this.beforeFirstRing;
      Object.assign(c, { active: true, startedMs: now, endedMs: now, partitions: left, keysReceived: early.keysReceived, bytesReceived: early.bytesReceived, keysEvictedAtSource: 0, loggedMs: now });
      Object.assign(early, { keysReceived: 0, bytesReceived: 0 });
      const waitingOn = this.waitingOn();
      log.info({ event: 'catch-up-start', partitions: left, waitingOn }, `catching up ${left} partitions from ${describeSources(waitingOn)}; their reads do not count until then`);
      return;
    }
    c.partitions = Math.max(c.partitions, left);
    const p = this.catchUpProgress();
    const figures = { partitionsLeft: left, partitions: c.partitions, keysReceived: c.keysReceived, bytesReceived: c.bytesReceived, keysEvictedAtSource: c.keysEvictedAtSource, elapsedMs: p.elapsedMs };
    const received = `${c.keysReceived} key${c.keysReceived === 1 ? '' : 's'} (${c.bytesReceived} bytes) received, ${c.keysEvictedAtSource} evicted at their source (versions kept, values gone)`;
    if (left === 0) {
      c.active = false;
      c.endedMs = now;
      log.info({ event: 'catch-up-end', ...figures }, `caught up ${c.partitions} partitions in ${formatSeconds(p.elapsedMs)}: ${received}`);
    } else if (now - c.loggedMs >= CATCH_UP_LOG_INTERVAL_MS) {
      c.loggedMs = now;
      const waitingOn = this.waitingOn();
      const readingDiskBack = this.host.readingDiskBack;
      const waitingFor = readingDiskBack ? 'the disk tier to be read back first' : describeSources(waitingOn);
      log.info({ event: 'catch-up-progress', ...figures, waitingOn, readingDiskBack }, `catching up: ${left} of ${c.partitions} partitions left after ${formatSeconds(p.elapsedMs)}, ${received}; waiting on ${waitingFor}`);
    }
  }

  /**
   * Starts, logs (at most every CATCH_UP_LOG_INTERVAL_MS) and ends the account of a hand-off: the
   * partitions this node holds but no longer owns, kept until their new owners have them.
   */
  private trackHandOff(): void {
    const h = this.handOff;
    const p = this.progress();
    const left = p.partitionsToHandOff;
    if (!h.active && left === 0) return;
    const now = this.ctx.env.clock.monoMs();
    const log = this.ctx.env.log;
    if (!h.active) {
      Object.assign(h, { active: true, startedMs: now, loggedMs: now, partitions: left, handedOffAtStart: p.partitionsHandedOff, keysAtStart: p.keysHandedOff });
      log.info({ event: 'handoff-start', partitions: left, keys: p.keysToHandOff }, `handing off ${left} partitions (${p.keysToHandOff} keys) this node no longer owns to their new owners`);
      return;
    }
    h.partitions = Math.max(h.partitions, left + (p.partitionsHandedOff - h.handedOffAtStart));
    const figures = { partitionsLeft: left, partitions: h.partitions, partitionsHandedOff: p.partitionsHandedOff - h.handedOffAtStart, keysHandedOff: p.keysHandedOff - h.keysAtStart, keysLeft: p.keysToHandOff, elapsedMs: now - h.startedMs };
    if (left === 0) {
      h.active = false;
      log.info({ event: 'handoff-end', ...figures }, `handed off ${figures.partitionsHandedOff} partitions (${figures.keysHandedOff} keys) in ${formatSeconds(figures.elapsedMs)}`);
    } else if (now - h.loggedMs >= CATCH_UP_LOG_INTERVAL_MS) {
      h.loggedMs = now;
      log.info({ event: 'handoff-progress', ...figures }, `handing off: ${left} of ${h.partitions} partitions left after ${formatSeconds(figures.elapsedMs)}, ${figures.keysHandedOff} keys handed off`);
    }
  }

  /** Sources still waited on, with how many partitions wait on each and whether it is up. */
  private waitingOn(): { source: string; partitions: number; alive: boolean }[] {
    const counts = new Map<string, number>();
    for (const actor of this.host.partitions.values()) {
      for (const s of new Set([...actor.pendingSources, ...actor.pendingHunts])) counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([source, partitions]) => ({ source, partitions, alive: this.ctx.isAlive(source) }));
  }

  /** Whether a peer's ring version is ours (the node hears of it: the first such answer confirms its ring). */
  private sameRing(version: string, peer: string): boolean {
    this.onPeerRing(version, peer);
    return version === this.ctx.placement().version;
  }

  /** Live members plus live sources outside the ring (a node leaving gracefully), self excluded. */
  private peers(): string[] {
    const names = new Set(this.ctx.placement().members.map((m) => m.name));
    for (const actor of this.host.partitions.values()) for (const s of actor.pendingSources) names.add(s);
    for (const name of this.ctx.confirmingPeers?.() ?? []) names.add(name);
    for (const name of this.ctx.ringWitnesses?.() ?? []) names.add(name);
    names.delete(this.ctx.selfName);
    return [...names].filter((n) => this.ctx.isAlive(n));
  }

  /**
   * Whether this node compares large partitions by bucket: it runs protocol SYNC_BUCKETS_PROTOCOL
   * or later (the simulator runs older versions with the same code, for mixed clusters).
   */
  private speaksBuckets(): boolean {
    return (this.ctx.protocolOf?.(this.ctx.selfName) ?? SYNC_BUCKETS_PROTOCOL) >= SYNC_BUCKETS_PROTOCOL;
  }

  /**
   * Answers a peer's digests: equal partitions, and for each differing one, within the budget,
   * its (key, version) list, or with `byBucket` (the peer compares buckets) and more than
   * syncBucketsAbove entries, its bucket digests. A peer holding nothing of it (digest 0) gets
   * the list: every bucket would differ.
   */
  private answerDigests(from: string, digests: number[], byBucket: boolean): void {
    const eq: number[] = [];
    const df: SyncDiff[] = [];
    const bd: number[][] = [];
    const pulled: number[] = [];
    const horizons: [number, Version][] = [];
    let budget = this.ctx.config.syncBatch;
    const theirDigest = new Map<number, number>();
    const held: number[] = [];
    const asked: number[] = [];
    for (let i = 0; i + 1 < digests.length; i += 2) {
      const p = digests[i]!;
      asked.push(p);
      this.stats.partitionsCompared++;
      if (this.host.partitions.has(p)) {
        theirDigest.set(p, digests[i + 1]!);
        held.push(p);
      } else if (digests[i + 1] === 0) {
        eq.push(p);
      } else {
        this.stats.partitionsDiffering++;
        df.push([p, [], []]);
        // Not held yet (no ring yet after a restart): pushed now, it would come over the tier's copies.
        if (this.host.readingDiskBack) pulled.push(p);
      }
    }
    if (this.ctx.config.warmHotKeys > 0) this.warm(from, held.filter((p) => theirDigest.get(p) === 0 || this.warmDue.get(from)?.has(p)));
    this.host.runEach(
      held,
      (actor) => {
        const p = actor.partition;
        const replica = actor.replica;
        const theirs = theirDigest.get(p);
        // The horizon goes with equal partitions too: a peer catching p up inherits it all the same.
        const horizon = actor.announcedHorizon;
        if (horizon !== undefined) horizons.push([p, horizon]);
        if (replica.digest === theirs) return void eq.push(p);
        this.stats.partitionsDiffering++;
        const answered = df.length + bd.length > 0;
        if (byBucket && theirs !== 0 && replica.size > this.ctx.config.syncBucketsAbove) {
          if (BUCKET_DIGESTS_COST > budget && answered) return; // over this round's budget: a later round
          budget -= BUCKET_DIGESTS_COST;
          this.stats.partitionsByBucket++;
          bd.push([p, ...replica.bucketDigests()]);
          if (this.pullsFrom(actor, from)) pulled.push(p);
          return;
        }
        // Evicted versions are listed as known, so the peer neither pushes them back nor waits on them.
        const entries = replica.knownEntries();
        if (entries.length > budget && answered) return; // over this round's budget: a later round
        budget -= entries.length;
        this.stats.entriesListed += entries.length;
        const { keys, versions } = flatten(entries);
        df.push([p, keys, versions]);
        if (this.pullsFrom(actor, from)) pulled.push(p);
      },
      () => {
        const answer: KvMessage = { t: 'sr', eq, df, v: this.ctx.placement().version, hc: this.host.clockReading() };
        if (bd.length > 0) answer.bd = bd;
        if (pulled.length > 0) answer.u = pulled;
        if (horizons.length > 0) answer.fh = flattenFloors(horizons);
        this.ctx.send(from, withFloors(answer, this.host.floors.flat(asked)), 'bulk');
      },
    );
  }

  /**
   * Answers `sb`: the (key, version) lists of partition p's buckets, in the order asked, as many
   * whole buckets as fit in syncBatch entries (at least one); the asker asks for the rest in later
   * rounds. One pass over the partition's keys (PartitionReplica.keysInBuckets), then the versions
   * of those listed.
   */
  private answerBuckets(from: string, p: number, asked: number[]): void {
    const send = (covered: number[], entries: [string, Version][], pulled = false, horizon?: Version): void => {
      this.stats.entriesListed += entries.length;
      const { keys, versions } = flatten(entries);
      const lists: Extract<KvMessage, { t: 'sl' }> = { t: 'sl', p, b: covered, k: keys, x: versions, v: this.ctx.placement().version, c: covered.length === asked.length };
      if (pulled) lists.u = true;
      if (horizon !== undefined) lists.fh = horizon;
      this.ctx.send(from, lists, 'bulk');
    };
    const buckets = asked.filter((b) => Number.isInteger(b) && b >= 0 && b < SYNC_BUCKETS);
    // Not held (released since its digests went): nothing in any bucket, as an `sr` says with an empty list.
    if (!this.host.partitions.has(p)) return send(buckets, []);
    this.host.run(p, (actor) => {
      const marked = new Uint8Array(SYNC_BUCKETS);
      for (const b of buckets) marked[b] = 1;
      const byBucket = actor.replica.keysInBuckets(marked);
      const covered: number[] = [];
      const keys: string[] = [];
      for (const b of buckets) {
        const inBucket = byBucket.get(b) ?? [];
        if (covered.length > 0 && keys.length + inBucket.length > this.ctx.config.syncBatch) break;
        covered.push(b);
        for (const key of inBucket) keys.push(key);
      }
      // Versions of the listed keys only.
      const entries: [string, Version][] = [];
      for (const key of keys) {
        const version = actor.replica.knownVersionOf(key);
        if (version !== undefined) entries.push([key, version]);
      }
      send(covered, entries, this.pullsFrom(actor, from), actor.announcedHorizon);
    });
  }

  /**
   * Predictive warming (config.warmHotKeys): `peer` just became an owner of `partitions` (warmDue)
   * or holds nothing of them (a restarted node), so before the throttled catch-up moves whole
   * partitions, it gets the hottest keys this node holds in them, ranked by this node's hot-key
   * sketch: the reads it serves first are the ones it then has. Sent at the peer's first sync
   * exchange, so it already runs the ring that gives it the partitions; pushed like anti-entropy
   * data (never `last`), so nothing about the catch-up's end changes.
   */
  private warm(peer: string, partitions: readonly number[]): void {
    const count = this.ctx.config.warmHotKeys;
    if (partitions.length === 0) return;
    const wanted = new Set(partitions);
    const due = this.warmDue.get(peer);
    if (due !== undefined) {
      for (const p of partitions) due.delete(p);
      if (due.size === 0) this.warmDue.delete(peer);
    }
    const byPartition = new Map<number, string[]>();
    const placement = this.ctx.placement();
    for (const key of this.hottestKeys(count)) {
      const p = placement.partitionOfKey(Uint8Array.from(key, (c) => c.charCodeAt(0)));
      if (!wanted.has(p)) continue;
      const keys = byPartition.get(p);
      if (keys === undefined) byPartition.set(p, [key]);
      else keys.push(key);
    }
    for (const [p, keys] of byPartition) {
      this.host.run(p, (actor) => {
        this.stats.keysWarmed += keys.length;
        this.sendRecords(actor, peer, keys, 'none');
      });
    }
  }

  /**
   * `sameRing`: the peer answered on our ring version, so its answer may complete a catch-up or a
   * handoff. `horizons`: the peer's forgetting horizons of the differing partitions (`fh`).
   */
  private onSyncAnswer(from: string, eq: number[], df: SyncDiff[], bd: number[][], pulled: ReadonlySet<number>, horizons: ReadonlyMap<number, Version>, sameRing: boolean): void {
    const placement = this.ctx.placement();
    let answered = this.lastAnswered.get(from);
    if (!answered) this.lastAnswered.set(from, (answered = new Map()));
    const answer = ++this.answersReceived;
    for (const p of eq) answered.set(p, answer);
    for (const [p] of df) answered.set(p, answer);
    for (const [p] of bd) answered.set(p!, answer);
    // Before markSynced, which may make the replica ready: equal digests list nothing, but this
    // replica holds only what the peer holds, which lacks what the peer forgot.
    for (const p of eq) {
      const actor = this.host.partitions.get(p);
      if (actor) this.inheritFrom(actor, horizons.get(p));
    }
    if (sameRing) for (const p of eq) this.markSynced(p, from, placement);
    const due = this.warmDue.get(from);
    if (due !== undefined) this.warm(from, [...df.map(([p]) => p), ...bd.map(([p]) => p!)].filter((p) => due.has(p)));
    // Records pushed for this answer, over all its partitions: at most syncBatch, like the answer's
    // own key lists; the rest goes in later rounds (each starts from the digests again). Before,
    // every differing partition was pushed whole at once: a restarted node got its peers' whole
    // data in one burst, its store evicted it faster than its disk tier could take it (the tier
    // refuses past two regions of unwritten bytes), and what the tier refused was kept as a
    // version alone (F6).
    const pushBudget: PushBudget = { left: this.ctx.config.syncBatch, bytes: SYNC_PUSH_BYTES };
    for (const [p, keys, versions] of df) {
      if (!this.mayReconcile(p)) continue;
      this.host.run(p, (actor) => this.reconcile(actor, from, unflatten(keys, versions), null, true, sameRing, pulled.has(p), horizons.get(p), pushBudget));
    }
    for (const digests of bd) {
      const p = digests[0]!;
      const theirs = digests.slice(1);
      if (!this.mayReconcile(p) || theirs.length !== SYNC_BUCKETS) continue;
      this.host.run(p, (actor) => {
        const mine = actor.replica.bucketDigests();
        const differing: number[] = [];
        for (let b = 0; b < SYNC_BUCKETS; b++) if (mine[b] !== theirs[b]) differing.push(b);
        // Equal buckets but for a write since the digests: the next round compares again.
        if (differing.length === 0) return;
        this.stats.bucketsDiffering += differing.length;
        // Asked from a point that moves every answer, so an answer's budget is not always spent
        // on the same first buckets while those keep differing (a partition under steady writes).
        const start = answer % differing.length;
        this.exchangeAsked(from);
        this.ctx.send(from, { t: 'sb', p, b: [...differing.slice(start), ...differing.slice(0, start)] }, 'bulk');
      });
    }
    // A peer this node hands partitions off to or catches up from: done after this answer's jobs
    // (each partition runs its jobs in order), so its pushes and wants count. Held partitions only:
    // a job on one makes it held.
    if (!this.pressedPeers().has(from)) return this.exchangeDone(from);
    const reconciled = [...df.map(([p]) => p), ...bd.map(([p]) => p!)].filter((p) => this.host.partitions.has(p));
    this.host.runEach(reconciled, () => {}, () => this.exchangeDone(from));
  }

  /**
   * A catch-up takes what the peer holds: at or below the peer's forgetting horizon (`fh`) that may
   * lack what it forgot (or be older), so a replica this node owns and is catching up cannot vouch
   * for "nothing newer" there either: it inherits the horizon (ForgottenKeys.inherit), whether the
   * peer's list of the partition differed or its digest was equal to this replica's.
   */
  private inheritFrom(actor: PartitionActor, peerHorizon: Version | undefined): void {
    if (peerHorizon === undefined || actor.ready || !this.ctx.placement().owners(actor.partition).includes(this.ctx.selfName)) return;
    actor.replica.inheritHorizon(peerHorizon);
  }

  /**
   * A whole want's last answer came; `unanswered` holds the keys the source had listed that no
   * answer brought (neither record nor evicted version). Returns whether the source answered the
   * want in full, so the catch-up from it may end.
   *
   * A key the source says it holds nothing of (`nk`) it no longer knows, having forgotten it past
   * its shadow since its list (or let it expire, or released the partition). Its horizon is then at
   * least that key's version, but the horizon came with the list, before: inherited as it would
   * have been with a later list, or this replica could be ready without the version it wanted and
   * vouch for "nothing newer" there.
   *
   * Any other key unanswered was in a batch lost on the way or dropped by this node's full mailbox,
   * or the source was too busy to read the partition (`bz`): it still holds the key. Inherited as
   * forgotten, the horizon made sync leave the key out for good, and this replica never had it (sim
   * kv-overload seed 1220005: a busy source's empty answer). The catch-up goes on instead: the next
   * round lists the partition again and wants what is still missing.
   *
   * A source from before `nk` says nothing of its keys: every key unanswered counts as forgotten.
   */
  private onWantAnswered(actor: PartitionActor, unanswered: PeerEntries, answer: { nk?: string[]; bz?: boolean }): boolean {
    if (answer.bz === true) return false;
    const forgotten = answer.nk === undefined ? null : new Set(answer.nk);
    let newest: Version | undefined;
    let inFull = true;
    for (const [key, v] of unanswered) {
      if (forgotten !== null && !forgotten.has(key)) inFull = false;
      else if (newest === undefined || compareVersions(v, newest) > 0) newest = v;
    }
    this.inheritFrom(actor, newest);
    return inFull;
  }

  /** Whether this node has anything to do with a peer's list of partition p: it owns p or holds it. */
  private mayReconcile(p: number): boolean {
    return this.ctx.placement().owners(p).includes(this.ctx.selfName) || this.host.partitions.has(p);
  }

  /** A peer's bucket lists (`sl`): reconciled as an `sr` list is, but only over the buckets they cover. */
  private onBucketLists(from: string, message: Extract<KvMessage, { t: 'sl' }>, sameRing: boolean): void {
    const { p, b, k, x, c } = message;
    if (!this.mayReconcile(p)) return this.exchangeDone(from);
    const reconciled = (actor: PartitionActor): void => {
      this.reconcile(actor, from, unflatten(k, x), new Set(b), c, sameRing, message.u === true, message.fh, { left: this.ctx.config.syncBatch, bytes: SYNC_PUSH_BYTES });
      this.exchangeDone(from);
    };
    this.host.run(p, reconciled, () => this.exchangeDone(from));
  }

  /**
   * One differing partition against a peer's (key, version) list of it, or of its `buckets`
   * only: wants what the peer has newer (if this node owns p), pushes what it has newer (if the
   * peer owns p) within `pushBudget`. `complete`: the list covers everything that differed, so
   * wanting nothing means this node has all the peer has (its catch-up from the peer is done),
   * and pushing everything means the peer has all this node has (a handoff to it is).
   * `peerPulls`: the peer said it pulls p from this node (`u`, pullsFrom): nothing is pushed then,
   * unless this node hands p off, where only pushes let it drop the partition (markSynced).
   */
  private reconcile(actor: PartitionActor, from: string, theirs: PeerEntries, buckets: ReadonlySet<number> | null, complete: boolean, sameRing: boolean, peerPulls: boolean, peerHorizon: Version | undefined, pushBudget: PushBudget): void {
    const p = actor.partition;
    const placement = this.ctx.placement();
    const owns = placement.owners(p).includes(this.ctx.selfName);
    const peerOwns = placement.owners(p).includes(from);
    const replica = actor.replica;
    const want: string[] = [];
    const floor = this.host.floors.of(p);
    const now = this.ctx.env.clock.monoMs();
    // A whole want of this replica is in flight (to another source, or to `from` itself, asked by an
    // earlier round's list): what it lacks comes with that answer, and is wanted from `from` after
    // it, if still lacking (not done with `from` meanwhile).
    const pulled = owns && !actor.ready && this.pullInFlight(p, now) !== null;
    // A key lacked at or below a side's forgetting horizon may be one that side evicted and forgot:
    // a copy would only evict another value there (see ForgottenKeys.horizon). A read that finds it
    // absent there repairs it, as a cache fills on demand.
    this.inheritFrom(actor, peerHorizon);
    const ownHorizon = actor.forgettingHorizon;
    const leftForgotten = (horizon: Version | undefined, v: Version): boolean => horizon !== undefined && compareVersions(v, horizon) <= 0;
    let left = 0;
    if (owns && !pulled) {
      for (const [key, v] of theirs) {
        const mine = replica.knownVersionOf(key);
        // A version this replica's floor flushed is not wanted: it would be refused on arrival.
        if (mine && compareVersions(mine, v) >= 0) continue;
        if (flushedBy(floor, v)) continue;
        if (!mine && leftForgotten(ownHorizon, v)) left++;
        else want.push(key);
      }
    }
    const push: string[] = [];
    const pushEvicted: string[] = [];
    if (peerOwns && !(peerPulls && owns)) {
      const { held, evicted } = ownEntries(replica, buckets);
      // A node handing p off sends all it has, whatever the peer forgot: p is to be the peer's, not its.
      const horizon = owns ? peerHorizon : undefined;
      const newerHere = (key: string, mine: Version): boolean => {
        const v = theirs.get(key);
        if (v) return compareVersions(v, mine) < 0;
        if (!leftForgotten(horizon, mine)) return true;
        left++;
        return false;
      };
      for (const [key, mine] of held) if (newerHere(key, mine)) push.push(key);
      // Newer versions this replica evicted: the peer keeps them as evicted (see the file comment).
      for (const [key, mine] of evicted) if (newerHere(key, mine)) pushEvicted.push(key);
    }
    this.stats.keysLeftForgotten += left;
    const pushing = [...push, ...pushEvicted];
    const pushed: string[] = [];
    for (const key of pushing) {
      if (pushBudget.left <= 0) break;
      // Evicted versions (and values on the disk tier, read in groups of SYNC_DISK_READS) count their key only.
      const bytes = key.length + replica.recordBytes(key);
      if (bytes > pushBudget.bytes && pushBudget.bytes < SYNC_PUSH_BYTES) break;
      pushed.push(key);
      // Evicted versions cost no device read and little bytes, but they are entries of a data message all the same.
      pushBudget.left--;
      pushBudget.bytes -= bytes;
    }
    // Values on the disk tier go as records (sendRecords), so they count as pushed like the store's.
    const pushedFromDisk = pushed.length > 0 ? this.sendRecords(actor, from, pushed, 'none') : 0;
    // A want from part of the differing buckets: its answer must not say `last` (see `sw`), so the
    // round does not wait for it; a whole one's ends the round's exchange (exchangeDone).
    if (want.length > 0) {
      if (!actor.ready) this.noteMoved(from, want.length);
      if (complete) this.exchangeAsked(from);
      if (complete && !actor.ready && !this.ctx.config.bugs?.catchUpAtTimerPace) {
        // An entry still here is a want whose last answer never came (with one in flight, nothing is wanted).
        const before = this.pulling.get(p);
        this.pulling.set(p, { peer: from, sentMs: now, lost: before !== undefined, unanswered: new Map(want.map((key) => [key, theirs.get(key)!])) });
      }
      this.ctx.send(from, complete ? { t: 'sw', p, k: want } : { t: 'sw', p, k: want, n: true }, 'bulk');
    } else if (sameRing && complete && !pulled) this.sourceDone(p, from);
    const allPushed = pushed.length === pushing.length;
    if (sameRing && complete && !owns && peerOwns && push.length === 0 && pushedFromDisk === 0 && allPushed) this.markSynced(p, from, this.ctx.placement());
  }

  /** Answers a want: the records asked for, the last batch marked as `end` says (see `sw`). */
  private answerWant(from: string, p: number, keys: string[], end: AnswerEnd): void {
    const held = this.host.partitions.has(p);
    if (held && this.host.run(p, (actor) => this.sendRecords(actor, from, keys, end))) return;
    // Nothing held, or too busy to read it (`bz`: the asker asks again): an empty final answer, so
    // the asker stops waiting on us.
    if (end === 'none') return;
    const answer: KvMessage = { t: 'sd', p, k: [], r: [], ...finalMark(end, held ? [] : keys), v: this.ctx.placement().version };
    this.ctx.send(from, held ? { ...answer, bz: true } : answer, 'bulk');
  }

  /**
   * Sends the records for `keys` of a partition in batches, and for the keys its store evicted the
   * versions (`ek`/`ev`); `answer` marks the last batch of a want's answer. A key whose newest
   * value is on the disk tier is read from there and sent as a record (sendFromDisk), never as a
   * version alone: before, a value held only on disk travelled as "evicted", and a graceful leave
   * (which drops the leaver's tier) followed by the catch-up of its next start left it nowhere
   * after a rolling restart (F6). Returns how many keys go from disk.
   */
  private sendRecords(actor: PartitionActor, to: string, keys: string[], end: AnswerEnd): number {
    const { replica } = actor;
    const found: string[] = [];
    const records: Uint8Array[] = [];
    const evictedKeys: string[] = [];
    const evictedVersions: number[] = [];
    const onDisk: string[] = [];
    const notKnown: string[] = [];
    // A value hunt's answer carries at most HUNT_ANSWER_BYTES of records (and one group of disk
    // reads), the first always; the keys past that go back in `hr`, for the asker to ask next.
    const rest: string[] = [];
    let bytes = 0;
    for (const key of keys) {
      const record = replica.peek(key);
      if (record) {
        if (typeof end === 'object' && found.length > 0 && bytes + key.length + record.length > HUNT_ANSWER_BYTES) {
          rest.push(key);
          continue;
        }
        bytes += key.length + record.length;
        found.push(key);
        records.push(record);
        continue;
      }
      if (replica.newestOnDisk(key)) {
        if (typeof end === 'object' && onDisk.length >= SYNC_DISK_READS) rest.push(key);
        else onDisk.push(key);
        continue;
      }
      const evicted = replica.knownVersionOf(key);
      if (evicted) {
        evictedKeys.push(key);
        evictedVersions.push(evicted.wallMs, evicted.logical, evicted.node);
      } else {
        notKnown.push(key);
      }
    }
    const ending: AnswerEnd = typeof end === 'object' ? { hunt: end.hunt, rest } : end;
    // An answer's last batch goes once the disk's values have gone, so the asker's catch-up ends after them.
    if (!this.sendBatches(actor, to, found, records, evictedKeys, evictedVersions, ending, onDisk.length === 0, notKnown)) return 0;
    if (onDisk.length > 0) this.sendFromDisk(actor, to, onDisk, 0, ending, notKnown);
    return onDisk.length;
  }

  /**
   * Reads `keys` from `from` on from the disk tier, SYNC_DISK_READS at a time, and sends each
   * group once its reads finished, from the partition's turn; then the next group. So a partition
   * with much on disk holds at most one group of values in memory per transfer, and device reads
   * pace the transfer like the bulk lane does. A key that no longer reads back (deleted, replaced,
   * reclaimed, damaged meanwhile) goes as its evicted version if one is known. A partition released
   * meanwhile sends nothing more: a later round starts again from the digests.
   */
  private sendFromDisk(actor: PartitionActor, to: string, keys: string[], from: number, end: AnswerEnd, notKnown: string[]): void {
    const p = actor.partition;
    const group = keys.slice(from, from + Math.min(SYNC_DISK_READS, this.ctx.config.syncBatch));
    const read: (Uint8Array | null)[] = new Array<Uint8Array | null>(group.length).fill(null);
    let outstanding = group.length;
    const finished = (): void => {
      if (--outstanding > 0) return;
      this.host.partitions.get(p)?.tell((again) => {
        const found: string[] = [];
        const records: Uint8Array[] = [];
        const evictedKeys: string[] = [];
        const evictedVersions: number[] = [];
        group.forEach((key, i) => {
          const record = read[i]!;
          if (record !== null) {
            found.push(key);
            records.push(record);
            return;
          }
          const evicted = again.replica.knownVersionOf(key);
          if (evicted) {
            evictedKeys.push(key);
            evictedVersions.push(evicted.wallMs, evicted.logical, evicted.node);
          } else {
            notKnown.push(key);
          }
        });
        const more = from + group.length < keys.length;
        this.stats.keysSentFromDisk += found.length;
        if (this.sendBatches(again, to, found, records, evictedKeys, evictedVersions, end, !more, notKnown) && more) this.sendFromDisk(again, to, keys, from + group.length, end, notKnown);
      });
    };
    group.forEach((key, i) => {
      const reading = actor.replica.readFromDisk(key, (record) => {
        read[i] = record;
        finished();
      }, false);
      if (!reading) finished();
    });
  }

  /**
   * Sends records and evicted versions in `sd` batches of at most syncBatch each; with `final`, the
   * last one is marked as `end` says (and sent even if empty, unless `end` is `none`), with a
   * want's `notKnown` keys. False when BUGGIFY cut it short (`sync-stops-halfway`: the rest, and
   * the last batch, never go).
   */
  private sendBatches(actor: PartitionActor, to: string, found: string[], records: Uint8Array[], evictedKeys: string[], evictedVersions: number[], end: AnswerEnd, final: boolean, notKnown: readonly string[]): boolean {
    const p = actor.partition;
    const batch = this.ctx.config.syncBatch;
    let bytes = 0;
    for (let i = 0; i < found.length; i++) bytes += found[i]!.length + records[i]!.length;
    if (end === 'none') this.stats.recordsPushed += found.length;
    this.stats.bytesSent += bytes;
    if (actor.syncPhase === 'handing-off') {
      this.stats.handoffBytesSent += bytes;
      this.noteMoved(to, found.length + evictedKeys.length);
    }
    const count = Math.max(found.length, evictedKeys.length);
    const mark = end !== 'none' && final;
    for (let i = 0, stop: number; i < count || (i === 0 && mark); i = stop) {
      stop = Math.min(i + batch, count);
      // At most SYNC_MESSAGE_BYTES of records a message, one record at least.
      for (let j = i, size = 0; j < Math.min(stop, found.length); j++) {
        size += found[j]!.length + records[j]!.length;
        if (size > SYNC_MESSAGE_BYTES && j > i) {
          stop = j;
          break;
        }
      }
      const last = stop >= count;
      const message: KvMessage = { t: 'sd', p, k: found.slice(i, stop), r: records.slice(i, stop), ...(mark && last ? finalMark(end, notKnown) : { last: false }), v: this.ctx.placement().version };
      if (i < evictedKeys.length) Object.assign(message, { ek: evictedKeys.slice(i, stop), ev: evictedVersions.slice(3 * i, 3 * stop) });
      // Read-modify-write request ids travel with the records they may be in (rmw-primary.ts): a
      // result applied by an owner whose ack was lost must not look new to the next primary.
      if (found.length > i && actor.requests.size > 0) {
        const q = actor.requests.listFor(new Set(message.k), this.ctx.env.clock.monoMs());
        if (q.length > 0) Object.assign(message, { q });
      }
      if (buggify(this.ctx.env, 'sync-stops-halfway')) return false;
      this.ctx.send(to, message, 'bulk');
      if (count === 0) break;
    }
    return true;
  }

  /** `peer` holds everything this node has for p (equal digests, or nothing left to push). */
  private markSynced(p: number, peer: string, placement: Placement): void {
    const actor = this.host.partitions.get(p);
    if (!actor) return;
    this.sourceDone(p, peer);
    const covered = actor.coveredBy(peer);
    if (!covered) return;
    const owners = placement.owners(p);
    const needed = requiredReplicas('quorum', owners.length);
    let coveredOwners = 0;
    for (const owner of owners) {
      if (covered.has(owner)) coveredOwners++;
      else if (this.ctx.isAlive(owner)) return; // a live owner still lacks something
    }
    if (coveredOwners >= needed) {
      this.stats.partitionsHandedOff++;
      cover(this.ctx.env, 'handoff-finished');
      this.stats.keysHandedOff += actor.size;
      this.dropPartition(p);
      this.trackHandOff();
    }
  }

  private dropPartition(p: number): void {
    this.host.release(p);
  }
}

function describeSources(sources: { source: string; partitions: number; alive: boolean }[]): string {
  if (sources.length === 0) return 'no source';
  return sources.map((s) => `${s.source} (${s.partitions}${s.alive ? '' : ', down'})`).join(', ');
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** This replica's held and evicted (key, version) pairs, all of them or those in `buckets`. */
function ownEntries(replica: PartitionReplica, buckets: ReadonlySet<number> | null): { held: [string, Version][]; evicted: [string, Version][] } {
  return buckets === null ? { held: replica.entries(), evicted: replica.evictedEntries() } : replica.knownEntriesIn(buckets);
}

/** (key, version) pairs as a list's keys and flat versions (SyncDiff). */
function flatten(entries: readonly [string, Version][]): { keys: string[]; versions: number[] } {
  const keys: string[] = [];
  const versions: number[] = [];
  for (const [key, v] of entries) {
    keys.push(key);
    versions.push(v.wallMs, v.logical, v.node);
  }
  return { keys, versions };
}

/** A list's keys and flat versions as a map (a key listed twice: the last). */
function unflatten(keys: readonly string[], versions: readonly number[]): PeerEntries {
  const theirs: PeerEntries = new Map();
  for (let i = 0; i < keys.length && 3 * i + 2 < versions.length; i++) {
    theirs.set(keys[i]!, { wallMs: versions[3 * i]!, logical: versions[3 * i + 1]!, node: versions[3 * i + 2]! });
  }
  return theirs;
}

/** `message` with the flush floors `f` when there are any (most clusters never flush: no field at all). */
function withFloors<M extends KvMessage & { t: 'sq' | 'sr' }>(message: M, floors: number[]): M {
  return floors.length === 0 ? message : { ...message, f: floors };
}

/** Whether a held record (null: none) has the version of the encoded record `bytes`. */
function sameRecord(held: Uint8Array | null, bytes: Uint8Array): boolean {
  return held !== null && compareVersions(versionOfEncoded(held), versionOfEncoded(bytes)) === 0;
}
