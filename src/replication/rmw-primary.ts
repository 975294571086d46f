/**
 * The primary side of read-modify-write (docs/REPLICATION.md, "Read-modify-write"), and the
 * replica side of its fencing.
 *
 * A coordinator (rmw-coordinator.ts) sends the operation (`x`) to the keys' primary, the first live
 * owner of their partition. There the partition's actor runs it serialised (PartitionActor.serialise):
 *
 * 1. A request id the partition remembers is answered with its first result (rmw-requests.ts).
 * 2. Read: from the local replica when this node holds the key fresh under its current claim;
 *    otherwise it claims the partition: `xc` to every live owner with a fencing epoch, each
 *    replica promises it (refusing older epochs from then on) and answers its records and the
 *    request ids it remembers for the keys claimed; a quorum of caught-up promises makes the claim, the newest record
 *    per key is the current one. A claim is needed the first time the node acts as primary for
 *    the partition, after the ring changed the partition's owners (the actor's ring epoch), and
 *    after any replica refused it for a higher epoch (another node claimed).
 * 3. applyRmw (rmw.ts), a fresh HLC version for the writes.
 * 4. Fenced write (`xw`, carrying the epoch, the request id and the result): first to the other
 *    live owners, and only once enough of them applied it for the consistency level, to this
 *    node's own replica; then the answer. A replica that promised a higher epoch refuses, and the
 *    operation fails with a retryable error without this node applying anything, so a deposed
 *    primary leaves no result behind on itself. A result also fails when the deadline passes.
 * 5. Group commit: the operations waiting behind the running one that may join it (same level, new
 *    request ids, keys fresh under the claim, within MAX_BATCH_OPS and MAX_BATCH_BYTES, every
 *    receiving owner at RMW_BATCH_PROTOCOL or later) are applied after it in memory, each on the
 *    result of the one before with its own version, and leave in the same fenced result, which
 *    carries every request id (rmw-batch.ts, joinBatch). A replica applies it whole, as one
 *    multi-key result; the batch is answered in order, or fails as one operation fails.
 *
 * Fencing epochs are comparable cluster-wide: (counter, node) packed in one number, the counter
 * one more than the highest epoch this node has seen for the partition. Replicas keep the epoch
 * they promised in the partition's actor (`fencingEpoch`), carried across handoffs on a node but
 * not across a restart.
 */
import type { ReplicationContext } from './context.ts';
import { requiredReplicas } from './config.ts';
import type { Consistency, KvErrorCode } from './api.ts';
import { compareVersions, versionFromString, versionToString, type HybridLogicalClock, type Version } from './hlc.ts';
import type { KvMessage } from './messages.ts';
import { invariant } from '../runtime/probes.ts';
import type { PartitionActor } from './partition-actor.ts';
import { decodeRecord, storeKeyToKey, versionOfEncoded, type StoredRecord } from './record.ts';
import type { ReplicaHost } from './replica-host.ts';
import type { RememberedRequest } from './rmw-requests.ts';
import { countsAsLookup, type RmwOp, type RmwResult } from './rmw.ts';
import { RmwBatch } from './rmw-batch.ts';
import { decodeRmwOp, decodeRmwResult, encodeRmwResult, MalformedRmwError, type WireRmwResult } from './rmw-wire.ts';
import { firstRequestId } from './request-ids.ts';

/** Fencing epochs: counter * NODE_SPAN + the low bits of the node's HLC id (ties between nodes are then unlikely). */
const NODE_SPAN = 2 ** 21;
/** Keys a primary remembers holding fresh per partition; past it, it forgets them all and reads at a quorum again. */
export const MAX_FRESH_KEYS = 4096;
/** In-doubt request ids a primary carries per partition until a result reaches a quorum (oldest dropped past it). */
export const MAX_UNCONFIRMED = 64;
/** Group commit: operations one fenced result carries at most, and roughly the bytes of records and results. */
export const MAX_BATCH_OPS = 128;
export const MAX_BATCH_BYTES = 1024 * 1024;
/**
 * The first node protocol version (src/gossip/protocol-version.ts) whose every build remembers each
 * request id a fenced result carries in `u`, with its keys and versions (since f1e89d9 and
 * a098f49, both before version 2 existed). A batch names all but one of its request ids there, so
 * a primary batches only when every other owner announces at least this: a node that read `q` alone
 * would remember one id of the batch and apply the others' retries twice.
 */
export const RMW_BATCH_PROTOCOL = 2;

export interface RmwPrimaryStats {
  /** Operations run as primary. */
  ops: number;
  /** Repeats answered with a remembered result. */
  repeats: number;
  /** Claims started, and those that failed (refused for a higher epoch, or too few promises in time). */
  claims: number;
  claimsFailed: number;
  /** Keys the claims named (a claim names its operation's keys and those of the operations waiting behind it: claimedKeys). */
  claimedKeys: number;
  /** Remembered request ids that claim answers carried to this node. */
  claimIdsReceived: number;
  /** Results refused by a replica fenced by a higher epoch (this node was deposed). */
  fenced: number;
  /** Results that did not reach the write quorum: owners silent in time, or refusing it for want of any promise (in doubt). */
  writeTimeouts: number;
  /** Claims and results this node refused as a replica for an older epoch. */
  refusedAsReplica: number;
  /** Operations not started because their client's deadline had passed (answered `timeout`). */
  expired: number;
  /** Fenced results sent for operations (not repeats): one per operation, or one per batch. */
  resultWrites: number;
  /** Fenced results that carried more than one operation (group commit), and the operations they carried. */
  batches: number;
  batchedOps: number;
}

/** What this node, as primary, knows of one partition under its claim. */
interface Claim {
  actor: PartitionActor;
  /** The actor's ring epoch when claimed: an ownership change means claiming again. */
  ringEpoch: number;
  epoch: number;
  /**
   * Keys whose local record is current under this claim (read at a quorum or written since). A key
   * the store evicts leaves it at once (onKeyEvicted): without the record, "not held" no longer
   * means "absent", and nothing else on the node may remember the eviction (the shadow is bounded).
   */
  fresh: Set<string>;
  /**
   * Request ids the claim learned from the replicas, maybe from a minority of them: its results
   * carry them until one reaches a quorum, so a later claim finds them beside the newest record
   * (kv-rmw seed 230336 keyed: an id known only to this node and a replica left behind was lost).
   */
  learned: Set<string>;
}

/** How a fenced result ended: replicated; refused for a higher epoch; timed out (kept by this node too); never sent; refused for memory. */
type WriteOutcome = 'ok' | 'fenced' | 'in-doubt' | 'not-sent' | 'out-of-memory';

/** What a replica did with a fenced result. */
type ResultOutcome = 'applied' | 'fenced' | 'out-of-memory';

/** A final error tells the coordinator not to retry (the outcome of the request is unknown). */
type Reply = (result: RmwResult | null, error?: { code: KvErrorCode; message: string; final?: boolean }) => void;

/** An operation accepted for a partition, until its turn in the actor's serial queue: group commit looks ahead at these. */
interface QueuedRmw {
  message: Extract<KvMessage, { t: 'x' }>;
  keys: string[];
  op: RmwOp;
  level: Consistency;
  reply: Reply;
  /** Taken into an earlier operation's batch, which answers it: its own turn only lets the queue move on. */
  batched: boolean;
}

/** An operation of a fenced result: its request id and result, the keys it wrote, and how to answer it. */
interface Member {
  requestId: string;
  res: WireRmwResult;
  /** All its keys (fresh once the result is replicated) and those it wrote. */
  keys: string[];
  wrote: string[];
  reply: Reply;
}

/** A result applied here that may not have reached a quorum: its first result, keys and the versions it wrote. */
interface InDoubt {
  res: WireRmwResult;
  keys: string[];
  versions: string[];
}

interface PendingClaim {
  kind: 'claim';
  partition: number;
  epoch: number;
  keys: string[];
  needed: number;
  asked: Set<string>;
  answered: Set<string>;
  promised: number;
  newest: (StoredRecord | null)[];
  newestBytes: (Uint8Array | null)[];
  /** The newest version a caught-up owner's store evicted, per key (missedNewest). */
  evicted: (Version | null)[];
  /** Each caught-up answer's remembered ids, with the versions it held of the claimed keys. */
  answers: { d: RememberedRequest[]; versions: (Version | null)[] }[];
  /** Per claimed key, the lineage links the caught-up answers sent: record version -> the version it was built on. */
  links: Map<string, string>[];
  timer: number;
  then: (ok: boolean, why: string) => void;
}

interface PendingResult {
  kind: 'result';
  partition: number;
  message: Extract<KvMessage, { t: 'xw' }>;
  /** Remote owners' acks needed before the own replica applies it. */
  remoteNeeded: number;
  remoteAcks: number;
  remotes: Set<string>;
  selfSent: boolean;
  /** A replica refused it for a higher epoch. */
  fenced: boolean;
  /** Replicas refused it for memory, too many for its level. */
  outOfMemory: boolean;
  timer: number;
  then: (ok: boolean, why: string) => void;
}

export class RmwPrimary {
  readonly stats: RmwPrimaryStats = { ops: 0, repeats: 0, claims: 0, claimsFailed: 0, claimedKeys: 0, claimIdsReceived: 0, fenced: 0, writeTimeouts: 0, refusedAsReplica: 0, expired: 0, resultWrites: 0, batches: 0, batchedOps: 0 };
  private readonly claims = new Map<number, Claim>();
  /** The highest fencing epoch seen per partition (in refusals), so the next claim goes above it. */
  private readonly highestSeen = new Map<number, number>();
  /** Replica side: the last claim promised per partition, and by whom (checkOnePrimary). */
  private readonly lastClaim = new Map<number, { epoch: number; claimer: string }>();
  private readonly pending = new Map<number, PendingClaim | PendingResult>();
  /**
   * Per partition, request ids whose result timed out (applied here, maybe not at a quorum): every
   * result sent carries them until one reaches a quorum, so a later primary's claim learns them
   * wherever the effect has spread (see keepInDoubt).
   */
  private readonly unconfirmed = new Map<number, Map<string, InDoubt>>();
  /**
   * Per partition, in-doubt request ids whose result was superseded here before it reached a
   * quorum: whether it took effect is unknown (a newer write may or may not have been built on
   * it), so a repeat is answered with a final error rather than a result or a second application.
   */
  private readonly outcomeUnknown = new Map<number, Set<string>>();
  /** Per partition actor, the operations accepted and not yet started, in serial-queue order. */
  private readonly waiting = new WeakMap<PartitionActor, Set<QueuedRmw>>();
  private nextId: number;
  private stopped = false;

  constructor(
    private readonly ctx: ReplicationContext,
    private readonly hlc: HybridLogicalClock,
    private readonly host: ReplicaHost,
  ) {
    this.nextId = firstRequestId(ctx.env);
    host.onKeyEvicted = (partition, key) => this.claims.get(partition)?.fresh.delete(key);
  }

  /** Handles read-modify-write messages; false for every other type. */
  onMessage(from: string, message: KvMessage): boolean {
    switch (message.t) {
      case 'x':
        this.onRequest(from, message);
        return true;
      case 'xc':
        this.onClaim(from, message);
        return true;
      case 'xw':
        this.onResult(from, message);
        return true;
      case 'xca':
        this.onClaimAnswer(from, message);
        return true;
      case 'xwa':
        this.onResultAnswer(from, message);
        return true;
      default:
        return false;
    }
  }

  /** Fails what is in flight (the node is stopping). */
  stop(): void {
    this.stopped = true;
    for (const [id, p] of this.pending) {
      this.ctx.env.timers.cancelTimer(p.timer);
      this.pending.delete(id);
      p.then(false, 'the node is stopping');
    }
  }

  // ---- primary ------------------------------------------------------------------------------

  private onRequest(from: string, m: Extract<KvMessage, { t: 'x' }>): void {
    if (this.stopped) return;
    const reply: Reply = (result, error) => {
      if (error) this.ctx.send(from, { t: 'xr', id: m.id, err: error.code, msg: error.message, ...(error.final ? { f: true } : {}) });
      else this.ctx.send(from, { t: 'xr', id: m.id, res: encodeRmwResult(result!) });
    };
    let op: RmwOp;
    try {
      op = decodeRmwOp(m.o);
    } catch (error) {
      if (!(error instanceof MalformedRmwError)) throw error;
      return reply(null, { code: 'bad-request', message: error.message });
    }
    const level = m.c as Consistency;
    if (level !== 'one' && level !== 'quorum' && level !== 'all') return reply(null, { code: 'bad-request', message: `unknown consistency ${JSON.stringify(m.c)}` });
    if (m.k.length === 0) return reply(null, { code: 'bad-request', message: 'a read-modify-write needs at least one key' });
    const placement = this.ctx.placement();
    for (const k of m.k) {
      if (placement.partitionOfKey(storeKeyToKey(k)) !== m.p) return reply(null, { code: 'bad-request', message: `key ${JSON.stringify(k)} is not in partition ${m.p}` });
    }
    if (!this.ctx.ringConfirmed() || !placement.owners(m.p).includes(this.ctx.selfName)) {
      return reply(null, { code: 'unavailable', message: `${this.ctx.selfName} does not own partition ${m.p} in its ring; retry on the primary` });
    }
    if (this.pastDeadline(m, reply)) return;
    const { keys, op: distinctOp } = distinctKeys(m.k, op);
    const holder = this.host.hold(m.p);
    let queue = this.waiting.get(holder);
    if (!queue) this.waiting.set(holder, (queue = new Set()));
    const entry: QueuedRmw = { message: m, keys, op: distinctOp, level, reply, batched: false };
    queue.add(entry);
    const accepted = holder.serialise(
      (actor, done) => {
        queue.delete(entry);
        // An earlier operation's fenced result carried it, and answered it.
        if (entry.batched) return done();
        const finish: Reply = (result, error) => {
          reply(result, error);
          done();
        };
        // It may have waited behind other operations of the partition.
        if (this.pastDeadline(m, finish)) return;
        this.run(actor, keys, distinctOp, level, m.q, finish);
      },
      () => {
        queue.delete(entry);
        if (!entry.batched) reply(null, { code: 'unavailable', message: `partition ${m.p} moved away from ${this.ctx.selfName} before the operation ran; retry` });
      },
    );
    if (!accepted) {
      queue.delete(entry);
      reply(null, { code: 'overloaded', message: `too many read-modify-writes wait on partition ${m.p} at ${this.ctx.selfName}; retry later` });
    }
  }

  /**
   * An operation whose client deadline (`dl`) has passed by this node's clock is not started: the
   * client reported it failed, and applied now it would be versioned after writes acknowledged
   * since (a primary that was frozen with it in its socket). Answered with a final `timeout`.
   */
  private pastDeadline(m: Extract<KvMessage, { t: 'x' }>, reply: Reply): boolean {
    if (typeof m.dl !== 'number') return false;
    const lateMs = this.ctx.env.clock.wallMs() - m.dl;
    if (lateMs < 0) return false;
    this.stats.expired++;
    reply(null, { code: 'timeout', message: `the operation's deadline passed ${Math.floor(lateMs)} ms before the primary ${this.ctx.selfName} started it; not applied`, final: true });
    return true;
  }

  /** Step 1 and 2, inside the partition actor's turn. */
  private run(actor: PartitionActor, keys: string[], op: RmwOp, level: Consistency, requestId: string, reply: Reply): void {
    this.stats.ops++;
    const now = this.ctx.env.clock.monoMs();
    let claim = this.claims.get(actor.partition);
    if (claim && (claim.actor !== actor || claim.ringEpoch !== actor.epoch || actor.fencingEpoch > claim.epoch)) {
      this.claims.delete(actor.partition);
      claim = undefined;
    }
    const first = this.remembered(actor, requestId, now);
    if (first !== undefined) {
      this.stats.repeats++;
      if (!this.unconfirmed.get(actor.partition)?.has(requestId)) return this.answerRepeat(actor.partition, requestId, first, reply);
      // In doubt: confirmed under a valid claim (claimed first if need be, below).
      if (claim) return this.confirm(actor, claim, requestId, level, reply);
    }
    if (claim && keys.every((k) => claim.fresh.has(k))) {
      const records = this.readLocal(actor, keys, op);
      // A key the store evicted since is not fresh any more: read it at a quorum again.
      const evicted = keys.filter((k, i) => records[i] === null && this.host.shadow.versionOf(actor.partition, k) !== undefined);
      if (evicted.length === 0) return this.apply(actor, claim, keys, op, level, requestId, records, reply);
      for (const k of evicted) claim.fresh.delete(k);
    }
    const epoch = claim?.epoch ?? this.nextEpoch(actor);
    const current = claim ?? { actor, ringEpoch: actor.epoch, epoch, fresh: new Set<string>(), learned: new Set<string>() };
    const claimed = this.claimedKeys(actor, keys, level);
    this.claim(actor.partition, epoch, claimed, level, (ok, why, remembered, newest, missed) => {
      if (!ok) {
        if (this.claims.get(actor.partition) === current) this.claims.delete(actor.partition);
        return reply(null, { code: 'unavailable', message: `${this.ctx.selfName} could not claim partition ${actor.partition} as primary: ${why}; retry` });
      }
      actor.requests.rememberAll(remembered, this.ctx.env.clock.monoMs());
      if (!this.ctx.config.bugs?.rmwClaimedIdsStayLocal) {
        const read = new Set(claimed);
        for (const [id, , written] of remembered) if (written?.some((k) => read.has(k))) current.learned.add(id);
      }
      // The claim's newest records are in the own replica now (a job queued before this one) unless
      // it refused or evicted them; it may hold newer ones still (sync brought them while the claim
      // waited): readClaimed takes the newer of the two.
      const queued = this.host.run(actor.partition, (now) => {
        if (now !== actor) return reply(null, { code: 'unavailable', message: `partition ${actor.partition} moved while ${this.ctx.selfName} claimed it; retry` });
        const again = this.remembered(actor, requestId, this.ctx.env.clock.monoMs());
        this.claims.set(actor.partition, current);
        // The keys claimed for the operations waiting behind this one were read at a quorum too.
        for (const k of claimed.slice(keys.length)) if (!missed.has(k)) this.markFresh(current, k);
        if (again !== undefined) {
          if (first === undefined) this.stats.repeats++;
          if (this.unconfirmed.get(actor.partition)?.has(requestId)) return this.confirm(actor, current, requestId, level, reply);
          return this.answerRepeat(actor.partition, requestId, again, reply);
        }
        const unread = keys.find((k) => missed.has(k));
        if (unread !== undefined) return reply(null, { code: 'unavailable', message: `an owner of partition ${actor.partition} evicted a newer version of ${JSON.stringify(unread)} than the owners that answered ${this.ctx.selfName}'s claim hold; retry` });
        this.apply(actor, current, keys, op, level, requestId, this.readClaimed(actor, keys, op, newest), reply);
      });
      if (!queued) reply(null, { code: 'overloaded', message: `partition ${actor.partition}'s mailbox at ${this.ctx.selfName} is full; retry later` });
    });
  }

  /**
   * The keys a claim reads: the operation's, then those of the operations waiting behind it that a
   * batch could take (group commit on, the same consistency level, within MAX_BATCH_OPS and roughly
   * MAX_BATCH_BYTES of the records this node holds). Read at a quorum with the claim, they are
   * fresh when the operation runs, and those operations join its fenced result (joinBatch)
   * instead of each claiming in its own turn, one round trip after another: INCRs spread over many
   * keys of one partition cost one claim per operation before.
   */
  private claimedKeys(actor: PartitionActor, keys: string[], level: Consistency): string[] {
    const queue = this.waiting.get(actor);
    if (queue === undefined || queue.size === 0 || !this.remotesTakeBatches(actor.partition)) return keys;
    const claimed = new Set(keys);
    let ops = 1;
    let bytes = 0;
    for (const entry of queue) {
      if (ops >= MAX_BATCH_OPS || entry.level !== level) break;
      const fresh = entry.keys.filter((k) => !claimed.has(k));
      bytes += fresh.reduce((sum, k) => sum + k.length + (actor.replica.peek(k)?.length ?? 0), 0);
      if (bytes > MAX_BATCH_BYTES) break;
      for (const k of fresh) claimed.add(k);
      ops++;
    }
    return [...claimed];
  }

  /**
   * The first result of a request the partition remembers (inside a job), unless this node kept
   * its id as a replica beside a record that later replaced its own without being built on it
   * (kv-rmw seed 400293): that effect is gone, and the request is applied again. An in-doubt id
   * is judged by confirm(). A key missing here is read at a quorum first (the claim), then judged.
   */
  private remembered(actor: PartitionActor, requestId: string, now: number): WireRmwResult | undefined {
    if (this.ctx.config.bugs?.rmwIgnoreRequestIds) return undefined;
    const first = actor.requests.get(requestId, now);
    if (first === undefined || this.unconfirmed.get(actor.partition)?.has(requestId) || this.ctx.config.bugs?.rmwTrustIdsByHolder) return first;
    return actor.requests.heldIn(requestId, (key) => this.localVersion(actor, key)) ? first : undefined;
  }

  /**
   * The version of the own replica's record of `key` (inside a job), or the version its store
   * evicted (an effect evicted here is still the cluster's), null for none.
   */
  private localVersion(actor: PartitionActor, key: string): string | null {
    const bytes = actor.replica.read(key);
    if (bytes !== null) return versionToString(versionOfEncoded(bytes));
    const evicted = this.host.shadow.versionOf(actor.partition, key);
    return evicted === undefined ? null : versionToString(evicted);
  }

  /**
   * The keys' current records right after a claim (inside a job): the own replica's, or the claim's
   * newest where that is newer. The replica may not hold what the claim read: it refuses a copy of a
   * version it evicted (PartitionReplica.apply: old news to sync), and other partitions' jobs may
   * have evicted the key since. Where the replica evicted a version newer than any the claim read,
   * the key reads as absent, as a quorum read answers a miss then (the coordinator's `evicted`).
   */
  private readClaimed(actor: PartitionActor, keys: string[], op: RmwOp, newest: (StoredRecord | null)[]): (StoredRecord | null)[] {
    return this.readLocal(actor, keys, op).map((local, i) => {
      const claimed = newest[i] ?? null;
      if (claimed === null || (local !== null && compareVersions(local.version, claimed.version) >= 0)) return local;
      const evicted = local === null ? this.host.shadow.versionOf(actor.partition, keys[i]!) : undefined;
      return evicted !== undefined && compareVersions(evicted, claimed.version) > 0 ? null : claimed;
    });
  }

  /** The keys' records in the own replica (inside a job), read for `op`: a lookup in the store's counters unless countsAsLookup says not. */
  private readLocal(actor: PartitionActor, keys: string[], op: RmwOp): (StoredRecord | null)[] {
    return keys.map((k) => this.readOne(actor, k, op));
  }

  /**
   * Step 3 and 4: apply the operation to the current records and write the result, fenced; with it,
   * the operations waiting behind it that may join it (group commit, joinBatch), each applied on
   * the result of the one before. One fenced result carries them all.
   */
  private apply(actor: PartitionActor, claim: Claim, keys: string[], op: RmwOp, level: Consistency, requestId: string, records: (StoredRecord | null)[], reply: Reply): void {
    const given = new Map(keys.map((k, i) => [k, records[i] ?? null]));
    const batch = new RmwBatch<Reply>(this.ctx.env.clock.wallMs(), this.ctx.config.maxValueBytes, () => this.hlc.now(), (key, read) => (given.has(key) ? given.get(key)! : this.readOne(actor, key, read)));
    batch.add(requestId, keys, op, reply);
    if (batch.writtenKeys.length > 0 && actor.replica.wouldRefuse(batch.writtenKeys, batch.writtenRecords)) {
      // Redis's noeviction: the command is refused whole before anything changes (its OOM error).
      for (const k of keys) this.markFresh(claim, k);
      return reply(null, { code: 'out-of-memory', message: `${this.ctx.selfName}'s store has no room for the result (--eviction-policy noeviction)` });
    }
    this.joinBatch(actor, claim, batch, level);
    const members: Member[] = batch.ops.map((o) => ({ requestId: o.requestId, res: o.res, keys: o.keys, wrote: o.wrote, reply: o.tag }));
    if (batch.writtenKeys.length === 0) {
      for (const member of members) for (const k of member.keys) this.markFresh(claim, k);
      for (const [i, member] of members.entries()) member.reply(batch.ops[i]!.result);
      return;
    }
    const written = batch.writtenRecords;
    this.replicate(claim, batch.writtenKeys, written, batch.bases, level, members);
    // After replicate, which carried the in-doubt ids whose records this batch read.
    const before = batch.liveBefore();
    this.carryDoubts(actor.partition, before.keys, before.records, batch.writtenKeys, written);
  }

  /**
   * Group commit: takes into `batch`, in queue order, the operations waiting behind the running one
   * that may join it, and marks them batched (their own turn then only lets the queue move on). It
   * stops at the first that may not, which keeps its own turn: so the batch is a prefix of the
   * queue and every operation still runs after those before it. An operation may join when every
   * other owner the result goes to understands a batch (RMW_BATCH_PROTOCOL), it asks the batch's
   * consistency level (a stricter one could fail operations that would succeed alone), its
   * deadline has not passed, its request id is new (a repeat or an in-doubt id is judged on its
   * own), each of its keys is the batch's already or fresh under the claim (not evicted), and the
   * batch stays within MAX_BATCH_OPS, MAX_BATCH_BYTES and the store's room.
   */
  private joinBatch(actor: PartitionActor, claim: Claim, batch: RmwBatch<Reply>, level: Consistency): void {
    const queue = this.waiting.get(actor);
    if (queue === undefined || queue.size === 0 || !this.remotesTakeBatches(actor.partition)) return;
    const wallNow = this.ctx.env.clock.wallMs();
    const monoNow = this.ctx.env.clock.monoMs();
    const ids = new Set(batch.ops.map((o) => o.requestId));
    const joined: QueuedRmw[] = [];
    for (const entry of queue) {
      if (batch.ops.length >= MAX_BATCH_OPS) break;
      const { message: m, keys } = entry;
      if (entry.level !== level) break;
      if (typeof m.dl === 'number' && wallNow >= m.dl) break;
      if (ids.has(m.q) || this.knownId(actor, m.q, monoNow)) break;
      const readable = keys.every((k) => batch.touched(k) || (claim.fresh.has(k) && (actor.replica.peek(k) !== null || this.host.shadow.versionOf(actor.partition, k) === undefined)));
      if (!readable) break;
      const saved = batch.save();
      batch.add(m.q, keys, entry.op, entry.reply);
      if (batch.bytes > MAX_BATCH_BYTES || (batch.writtenKeys.length > 0 && actor.replica.wouldRefuse(batch.writtenKeys, batch.writtenRecords))) {
        batch.restore(saved);
        break;
      }
      ids.add(m.q);
      joined.push(entry);
    }
    for (const entry of joined) {
      entry.batched = true;
      queue.delete(entry);
    }
    this.stats.ops += joined.length;
  }

  /** Whether every other live owner runs a protocol version that remembers every request id of a batch. */
  private remotesTakeBatches(partition: number): boolean {
    if (this.ctx.config.bugs?.rmwNoGroupCommit) return false;
    return this.ctx
      .placement()
      .owners(partition)
      .every((o) => o === this.ctx.selfName || !this.ctx.isAlive(o) || (this.ctx.protocolOf?.(o) ?? RMW_BATCH_PROTOCOL) >= RMW_BATCH_PROTOCOL);
  }

  /** A request id this partition knows in any way: a repeat, in doubt, or of unknown outcome (each judged on its own). */
  private knownId(actor: PartitionActor, requestId: string, now: number): boolean {
    return actor.requests.get(requestId, now) !== undefined || this.unconfirmed.get(actor.partition)?.has(requestId) === true || this.outcomeUnknown.get(actor.partition)?.has(requestId) === true;
  }

  /**
   * The record of `key` in the own replica (inside a job), read for `op`. The one read of an
   * operation's key that may count in the store's hits and misses: the claim's answers and the
   * group commit's check are the protocol's own reads (peek), or every key of a new claim or of
   * a joined operation counted twice.
   */
  private readOne(actor: PartitionActor, key: string, op: RmwOp): StoredRecord | null {
    const bytes = countsAsLookup(op) ? actor.replica.read(key) : actor.replica.peek(key);
    return bytes === null ? null : decodeRecord(bytes);
  }

  /** A repeat answered with its first result, unless its outcome is unknown (see outcomeUnknown). */
  private answerRepeat(partition: number, requestId: string, first: WireRmwResult, reply: Reply): void {
    if (!this.outcomeUnknown.get(partition)?.has(requestId)) return reply(decodeRmwResult(first));
    reply(null, { code: 'unavailable', final: true, message: `the outcome of request ${requestId} is unknown: its result was superseded before it reached a quorum` });
  }

  /**
   * A repeat of a request whose result timed out (inside a job, under a valid claim): its effect
   * is in this node's replica, maybe not at a quorum. If the keys still hold the versions it wrote,
   * writes them again (nothing changes where they are) with the request id, and answers the first
   * result once that reached a quorum; if not, its outcome is unknown.
   */
  private confirm(actor: PartitionActor, claim: Claim, requestId: string, level: Consistency, reply: Reply): void {
    const doubt = this.unconfirmed.get(actor.partition)?.get(requestId);
    if (doubt === undefined) {
      const first = actor.requests.get(requestId, this.ctx.env.clock.monoMs());
      if (first !== undefined) return this.answerRepeat(actor.partition, requestId, first, reply);
      return reply(null, { code: 'unavailable', message: `request ${requestId} is no longer remembered; retry` });
    }
    const held = this.stillHeld(actor, doubt);
    if (held === null) {
      this.abandon(actor.partition, requestId);
      return this.answerRepeat(actor.partition, requestId, doubt.res, reply);
    }
    this.replicate(claim, doubt.keys, held, null, level, [{ requestId, res: doubt.res, keys: doubt.keys, wrote: doubt.keys, reply }]);
  }

  /**
   * An operation built on an in-doubt result (it read the very records that result wrote) keeps
   * its effect: the in-doubt id now stands for the records this operation writes, so it rides
   * along with them (and a repeat confirms them) instead of being abandoned as superseded. Without
   * this a retry reaching the next primary applied it a second time (kv-rmw seed 230056).
   */
  private carryDoubts(partition: number, keys: string[], read: (StoredRecord | null)[], writtenKeys: string[], written: Uint8Array[]): void {
    if (this.ctx.config.bugs?.rmwAbandonBuiltOnDoubts) return;
    for (const doubt of this.unconfirmed.get(partition)?.values() ?? []) {
      for (let i = 0; i < doubt.keys.length; i++) {
        const w = writtenKeys.indexOf(doubt.keys[i]!);
        const r = keys.indexOf(doubt.keys[i]!);
        const record = read[r];
        if (w >= 0 && record && versionToString(record.version) === doubt.versions[i]) doubt.versions[i] = versionToString(versionOfEncoded(written[w]!));
      }
    }
  }

  /** The records an in-doubt result wrote, if the own replica still holds exactly them (inside a job); else null. */
  private stillHeld(actor: PartitionActor, doubt: InDoubt): Uint8Array[] | null {
    const records: Uint8Array[] = [];
    for (let i = 0; i < doubt.keys.length; i++) {
      const bytes = actor.replica.read(doubt.keys[i]!);
      if (bytes === null || versionToString(versionOfEncoded(bytes)) !== doubt.versions[i]) return null;
      records.push(bytes);
    }
    return records;
  }

  private abandon(partition: number, requestId: string): void {
    this.unconfirmed.get(partition)?.delete(requestId);
    let unknown = this.outcomeUnknown.get(partition);
    if (!unknown) this.outcomeUnknown.set(partition, (unknown = new Set()));
    unknown.add(requestId);
    if (unknown.size > MAX_UNCONFIRMED) unknown.delete(unknown.values().next().value!);
  }

  /**
   * Writes the records of `members` (one operation, or a batch in queue order) as one fenced result
   * and answers each. `bases`: the versions of the records the writes build on ('' for none); null
   * when rewriting records already held. The result names the last writing member's request id in
   * `q` and, for a batch, every writing member's in `u` with the keys it wrote and their final
   * versions, beside the in-doubt and learned ids it carries.
   */
  private replicate(claim: Claim, writtenKeys: string[], written: Uint8Array[], bases: string[] | null, level: Consistency, members: Member[]): void {
    const partition = claim.actor.partition;
    const doubts = this.unconfirmed.get(partition);
    const memberIds = new Set(members.map((m) => m.requestId));
    // In-doubt ids ride along while their effect is still what the own replica holds.
    const carried: RememberedRequest[] = [];
    for (const [id, doubt] of doubts ?? []) {
      if (memberIds.has(id)) continue;
      if (this.stillHeld(claim.actor, doubt) === null) this.abandon(partition, id);
      else carried.push([id, doubt.res, doubt.keys, [...doubt.versions]]);
    }
    // Learned ids as this node remembers them: standing for the records this result builds on, which replicas move on.
    const learned = claim.learned.size === 0 ? [] : claim.actor.requests.listFor(new Set(writtenKeys), this.ctx.env.clock.monoMs()).filter(([id]) => claim.learned.has(id) && !memberIds.has(id) && !doubts?.has(id));
    carried.push(...learned);
    const versions = new Map(writtenKeys.map((k, i) => [k, versionToString(versionOfEncoded(written[i]!))]));
    const writers = members.filter((m) => m.wrote.length > 0);
    const own: RememberedRequest[] = members.length === 1 ? [] : writers.map((m) => [m.requestId, m.res, m.wrote, m.wrote.map((k) => versions.get(k)!)]);
    const named = writers[writers.length - 1]!;
    const u = [...carried, ...own];
    const message: Extract<KvMessage, { t: 'xw' }> = { t: 'xw', id: 0, p: partition, e: claim.epoch, k: writtenKeys, r: written, q: named.requestId, res: named.res, ...(u.length > 0 ? { u } : {}), ...(bases !== null ? { b: bases } : {}) };
    this.stats.resultWrites++;
    if (members.length > 1) {
      this.stats.batches++;
      this.stats.batchedOps += members.length;
    }
    const early = members.length > 1 && this.ctx.config.bugs?.rmwBatchAnswersEarly === true;
    // The bug: every operation but the first answered now, before the result reached a quorum.
    if (early) for (const m of members.slice(1)) m.reply(decodeRmwResult(m.res));
    const answered = early ? members.slice(0, 1) : members;
    this.writeResult(message, level, (replicated, why) => {
      if (replicated === 'ok') {
        // Everything carried is now remembered by a quorum.
        for (const [id] of carried) {
          doubts?.delete(id);
          claim.learned.delete(id);
        }
        for (const m of members) doubts?.delete(m.requestId);
        for (const m of members) for (const k of m.keys) this.markFresh(claim, k);
        for (const m of answered) m.reply(decodeRmwResult(m.res));
        return;
      }
      if (replicated === 'out-of-memory') {
        // Owners that took it before the refusal hold a newer record than this node may: read again.
        for (const m of members) for (const k of m.keys) claim.fresh.delete(k);
        for (const m of answered) m.reply(null, { code: 'out-of-memory', message: `the result on partition ${partition} was refused: ${why}` });
        return;
      }
      if (replicated === 'in-doubt') {
        for (const m of writers) this.noteInDoubt(partition, m.requestId, { res: m.res, keys: m.wrote, versions: m.wrote.map((k) => versions.get(k)!) });
      }
      // Refused for a higher epoch: this node was deposed, and claims again next time.
      if (replicated === 'fenced' && this.claims.get(partition) === claim) this.claims.delete(partition);
      for (const m of answered) m.reply(null, { code: 'unavailable', message: `the result on partition ${partition} was not replicated: ${why}; retry` });
    });
  }

  private noteInDoubt(partition: number, requestId: string, doubt: InDoubt): void {
    let doubts = this.unconfirmed.get(partition);
    if (!doubts) this.unconfirmed.set(partition, (doubts = new Map()));
    doubts.set(requestId, doubt);
    if (doubts.size > MAX_UNCONFIRMED) doubts.delete(doubts.keys().next().value!);
  }

  private markFresh(claim: Claim, key: string): void {
    // Evicted between its read or write and now (before onKeyEvicted could drop it): not held,
    // and the shadow still remembers so short a time.
    if (!claim.actor.replica.holds(key) && this.host.shadow.versionOf(claim.actor.partition, key) !== undefined) return;
    if (claim.fresh.size >= MAX_FRESH_KEYS) claim.fresh.clear();
    claim.fresh.add(key);
  }

  private nextEpoch(actor: PartitionActor): number {
    const base = Math.max(actor.fencingEpoch, this.highestSeen.get(actor.partition) ?? 0);
    return (Math.floor(base / NODE_SPAN) + 1) * NODE_SPAN + (this.hlc.nodeId % NODE_SPAN);
  }

  private noteEpoch(partition: number, epoch: number): void {
    if (epoch > (this.highestSeen.get(partition) ?? 0)) this.highestSeen.set(partition, epoch);
  }

  // ---- the claim ----------------------------------------------------------------------------

  private claim(
    partition: number,
    epoch: number,
    keys: string[],
    level: Consistency,
    then: (ok: boolean, why: string, remembered: RememberedRequest[], newest: (StoredRecord | null)[], missed: ReadonlySet<string>) => void,
  ): void {
    this.stats.claims++;
    this.stats.claimedKeys += keys.length;
    const owners = this.ctx.placement().owners(partition);
    const live = owners.filter((o) => this.ctx.isAlive(o));
    const id = this.nextId++;
    const pending: PendingClaim = {
      kind: 'claim',
      partition,
      epoch,
      keys,
      needed: requiredReplicas(level, owners.length),
      asked: new Set(live),
      answered: new Set(),
      promised: 0,
      newest: keys.map(() => null),
      newestBytes: keys.map(() => null),
      evicted: keys.map(() => null),
      answers: [],
      links: keys.map(() => new Map()),
      timer: 0,
      then: (ok, why) => {
        if (!ok) this.stats.claimsFailed++;
        // The newest record of each key goes to this node's own replica too, as a job queued now:
        // ahead of the next serialised operation, which may read the key locally.
        if (ok && pending.newestBytes.some((b) => b !== null)) {
          const queued = this.host.run(partition, (actor) => {
            for (let i = 0; i < keys.length; i++) {
              const bytes = pending.newestBytes[i];
              if (bytes) this.host.apply(actor, keys[i]!, bytes, true, true);
            }
          });
          if (!queued) return then(false, `partition ${partition}'s mailbox is full`, [], [], new Set());
        }
        then(ok, why, ok ? this.trustedIds(pending) : [], pending.newest, ok ? this.missedNewest(pending) : new Set());
      },
    };
    pending.timer = this.ctx.env.timers.setTimer(this.ctx.config.requestTimeoutMs, () => {
      if (!this.pending.delete(id)) return;
      if (pending.promised >= pending.needed) pending.then(true, '');
      else pending.then(false, `only ${pending.promised} of the ${pending.needed} owners needed promised in time`);
    });
    this.pending.set(id, pending);
    if (live.length < pending.needed) {
      this.ctx.env.timers.setTimer(0, () => this.settle(id, pending, false, `only ${live.length} of the ${pending.needed} owners needed are up`));
      return;
    }
    const request: KvMessage = { t: 'xc', id, p: partition, e: epoch, k: keys };
    for (const owner of live) this.ctx.send(owner, request);
  }

  private onClaimAnswer(from: string, m: Extract<KvMessage, { t: 'xca' }>): void {
    const pending = this.pending.get(m.id);
    if (!pending || pending.kind !== 'claim' || !pending.asked.has(from) || pending.answered.has(from)) return;
    pending.answered.add(from);
    this.stats.claimIdsReceived += m.d.length;
    if (!m.ok) {
      this.noteEpoch(pending.partition, m.e);
      return this.settle(m.id, pending, false, `${from} promised a higher epoch (another node claimed the partition)`);
    }
    if (m.ready) {
      // Only a caught-up replica's ids: a catching-up one's records do not count either, and an id
      // whose result is not among the records read would answer a repeat with a lost effect.
      const versions: (Version | null)[] = [];
      pending.answers.push({ d: m.d, versions });
      for (let i = 0; i < pending.keys.length; i++) {
        const bytes = m.r[i] ?? null;
        versions.push(bytes === null ? null : versionOfEncoded(bytes));
        if (bytes === null) continue;
        const record = decodeRecord(bytes);
        this.hlc.observe(record.version);
        const newest = pending.newest[i];
        if (!newest || compareVersions(record.version, newest.version) > 0) {
          pending.newest[i] = record;
          pending.newestBytes[i] = bytes;
        }
      }
      if (m.lk !== undefined && m.lv?.length === m.lk.length && m.lb?.length === m.lk.length) {
        for (const [j, i] of m.lk.entries()) pending.links[i]?.set(m.lv[j]!, m.lb[j]!);
      }
      for (const [j, i] of (m.xk ?? []).entries()) {
        const text = m.xv?.[j];
        if (text === undefined || !(i >= 0 && i < pending.keys.length)) continue;
        const version = versionFromString(text);
        const known = pending.evicted[i];
        if (version !== null && (!known || compareVersions(version, known) > 0)) pending.evicted[i] = version;
      }
      pending.promised++;
    }
    if (pending.answered.size < pending.asked.size) return;
    if (pending.promised >= pending.needed) this.settle(m.id, pending, true, '');
    else this.settle(m.id, pending, false, `only ${pending.promised} of the ${pending.needed} owners needed are caught up`);
  }

  /**
   * The claimed keys whose newest record the claim may have missed: an owner evicted a newer version
   * than any record read, and not every owner of the partition answered caught up. The newest
   * record is then on an owner that did not answer (its result reached the evicting owner and that
   * one), or on one still catching up, whose records a claim does not read but which applies
   * results once it promised (test/sim/rmw-claim-catching-up.test.ts); an operation on the older
   * record would undo an acknowledged update (kv-rmw-pressure seed 31: two INCRs answered the same
   * value). When every owner answered caught up, the newer version is gone from every memory, as
   * a cache may lose it, and the operation goes on.
   */
  private missedNewest(pending: PendingClaim): Set<string> {
    const missed = new Set<string>();
    const heard = this.ctx.config.bugs?.rmwCatchingUpCountsAsAnswered ? pending.answered.size : pending.promised;
    if (heard >= this.ctx.placement().owners(pending.partition).length) return missed;
    for (const [i, key] of pending.keys.entries()) {
      const evicted = pending.evicted[i];
      const newest = pending.newest[i];
      if (evicted && (!newest || compareVersions(evicted, newest.version) > 0)) missed.add(key);
    }
    return missed;
  }

  /**
   * The ids a claim learns: from each caught-up answer, those whose record of each claimed key
   * (the one they wrote, or a later one built on it: rmw-requests.ts) is the newest version read,
   * or one the newest was built on, result on result (`builtOn`). An id whose record lost to a
   * newer one not built on it (a result superseded before it reached a quorum) could answer a
   * repeat with an effect that is gone; one whose result was built on stays known through the
   * replicas that applied the newer record, or through those that hold it at an older record
   * while another holds the newer without the id (it missed the result carrying it: kv-rmw-hot
   * seed 1350627). An id learnt so stands for the newest records from then on.
   */
  private trustedIds(pending: PendingClaim): RememberedRequest[] {
    const out: RememberedRequest[] = [];
    const byHolder = this.ctx.config.bugs?.rmwTrustIdsByHolder === true;
    for (const answer of pending.answers) {
      for (const entry of answer.d) {
        const keys = entry[2] ?? [];
        const versions = byHolder ? undefined : entry[3];
        if (versions !== undefined) {
          const moved = keys.map((key, j) => {
            const i = pending.keys.indexOf(key);
            if (i < 0) return versions[j]!;
            const newest = pending.newest[i] ? versionToString(pending.newest[i]!.version) : null;
            // The id's own record, or one built on it, is the newest read: its effect is there. That
            // the answering replica holds the newest is not enough: it may have kept the id of a
            // record a later result overwrote without reading it (kv-rmw seed 400293).
            return newest !== null && this.builtOn(pending.links[i]!, newest, versions[j]!) ? newest : null;
          });
          if (moved.every((v) => v !== null)) out.push([entry[0], entry[1], keys, moved as string[]]);
          continue;
        }
        // A peer that does not send versions: the id's replica holds the newest record.
        const current = keys.every((key) => {
          const i = pending.keys.indexOf(key);
          if (i < 0) return true;
          const newest = pending.newest[i]?.version ?? null;
          const held = answer.versions[i] ?? null;
          return held === null ? newest === null : newest !== null && compareVersions(held, newest) === 0;
        });
        if (current) out.push(entry);
      }
    }
    return out;
  }

  /**
   * Whether the record `newest` is `version` or was built on it through fenced results, each on
   * the one before (`links`: record -> base, as the claim's answers know them).
   */
  private builtOn(links: ReadonlyMap<string, string>, newest: string, version: string): boolean {
    if (this.ctx.config.bugs?.rmwIgnoreLineage) return newest === version;
    let at: string | undefined = newest;
    for (let steps = 0; at !== undefined && steps <= links.size; steps++) {
      if (at === version) return true;
      at = links.get(at);
    }
    return false;
  }

  private settle(id: number, pending: PendingClaim | PendingResult, ok: boolean, why: string): void {
    if (!this.pending.delete(id)) return;
    this.ctx.env.timers.cancelTimer(pending.timer);
    pending.then(ok, why);
  }

  // ---- the fenced result ----------------------------------------------------------------------

  private writeResult(template: Extract<KvMessage, { t: 'xw' }>, level: Consistency, then: (outcome: WriteOutcome, why: string) => void): void {
    const owners = this.ctx.placement().owners(template.p);
    const needed = requiredReplicas(level, owners.length);
    const self = this.ctx.selfName;
    const remotes = owners.filter((o) => o !== self && this.ctx.isAlive(o));
    const id = this.nextId++;
    const message = { ...template, id };
    const timeoutMs = this.ctx.config.requestTimeoutMs;
    const pending: PendingResult = {
      kind: 'result',
      partition: template.p,
      message,
      remoteNeeded: needed - 1,
      remoteAcks: 0,
      remotes: new Set(remotes),
      selfSent: false,
      fenced: false,
      outOfMemory: false,
      timer: 0,
      then: (ok, why) => {
        if (ok) return then('ok', why);
        if (pending.outOfMemory) return then('out-of-memory', why);
        if (pending.fenced) {
          this.stats.fenced++;
          return then('fenced', why);
        }
        this.stats.writeTimeouts++;
        then(this.keepInDoubt(pending) ? 'in-doubt' : 'fenced', why);
      },
    };
    pending.timer = this.ctx.env.timers.setTimer(timeoutMs, () => {
      if (this.pending.delete(id)) pending.then(false, `only ${pending.remoteAcks + (pending.selfSent ? 1 : 0)} of the ${needed} replicas needed applied it in time`);
    });
    // Once more, half-way, to the owners that have not answered: a lost message should not fail the operation.
    this.ctx.env.timers.setTimer(Math.floor(timeoutMs / 2), () => {
      if (this.pending.get(id) !== pending) return;
      for (const owner of pending.remotes) this.ctx.send(owner, message);
    });
    this.pending.set(id, pending);
    if (remotes.length < pending.remoteNeeded) {
      this.ctx.env.timers.setTimer(0, () => {
        if (!this.pending.delete(id)) return;
        this.ctx.env.timers.cancelTimer(pending.timer);
        // Nothing was sent: nothing can have been applied.
        then('not-sent', `only ${remotes.length + 1} of the ${needed} owners needed are up`);
      });
      return;
    }
    for (const owner of remotes) this.ctx.send(owner, message);
    if (pending.remoteNeeded <= 0) this.sendToSelf(pending);
  }

  /**
   * A result that timed out may have been applied by owners whose acks were lost, and spread from
   * them by anti-entropy without its request id. So the primary applies it to its own replica
   * too (when it had not yet), remembering the request id: a retry is then answered with the
   * first result, and later operations build on it rather than on the state before it. False when
   * that is impossible (mailbox full, or the own replica promised a higher epoch): claim again.
   */
  private keepInDoubt(pending: PendingResult): boolean {
    if (pending.selfSent) return true;
    // The job runs before the next serialised operation (same mailbox); if the own replica refuses
    // it there, that operation finds the actor's fencing epoch above the claim's and claims again.
    return this.host.run(pending.partition, (actor) => {
      this.applyResult(actor, pending.message);
    });
  }

  /**
   * The own replica applies the result as a job queued now, not through a message: it then runs
   * before the next serialised operation of the partition, which reads the key locally.
   */
  private sendToSelf(pending: PendingResult): void {
    const message = pending.message;
    pending.selfSent = this.host.run(message.p, (actor) => {
      const outcome = this.applyResult(actor, message);
      this.onResultAnswer(this.ctx.selfName, this.answerTo(message, outcome, actor));
    });
    if (!pending.selfSent) this.settle(message.id, pending, false, `partition ${message.p}'s mailbox is full`);
  }

  private onResultAnswer(from: string, m: Extract<KvMessage, { t: 'xwa' }>): void {
    const pending = this.pending.get(m.id);
    if (!pending || pending.kind !== 'result') return;
    if (m.o) {
      if (from !== this.ctx.selfName && !pending.remotes.delete(from)) return;
      if (from !== this.ctx.selfName && pending.remoteAcks + pending.remotes.size >= pending.remoteNeeded) return;
      pending.outOfMemory = true;
      return this.settle(m.id, pending, false, `${from}'s store has no room for it (--eviction-policy noeviction)`);
    }
    if (!m.ok && m.e === 0 && from !== this.ctx.selfName && !this.ctx.config.bugs?.rmwUnpromisedRefusalFences) return this.onUnpromisedRefusal(from, pending);
    if (!m.ok) {
      this.noteEpoch(pending.partition, m.e);
      pending.fenced = true;
      return this.settle(m.id, pending, false, `${from} promised a higher epoch (this node was deposed as primary)`);
    }
    if (from === this.ctx.selfName) return this.settle(m.id, pending, true, '');
    if (!pending.remotes.delete(from)) return;
    pending.remoteAcks++;
    if (!pending.selfSent && pending.remoteAcks >= pending.remoteNeeded) this.sendToSelf(pending);
  }

  /**
   * A replica that has promised nothing (it restarted, or this node's claim never reached it)
   * refused the result: it did not apply it, as if it had stayed silent, and that says nothing of
   * the other owners, which may have. So the result is in doubt, not fenced, when too few are left
   * to reach the quorum. Taken for a deposition, as it was, its id was never kept in doubt: an
   * owner that applied it and then evicted it left a newer version evicted everywhere, and the
   * retry counted from nothing over the acknowledged record the refusing owner still held
   * (kv-rmw-pressure seed 1290020: two INCRs answered 1). The claim is dropped all the same, so
   * the next operation claims again and that replica promises.
   */
  private onUnpromisedRefusal(from: string, pending: PendingResult): void {
    if (!pending.remotes.delete(from)) return;
    if (this.claims.get(pending.partition)?.epoch === pending.message.e) this.claims.delete(pending.partition);
    if (pending.remoteAcks + pending.remotes.size >= pending.remoteNeeded) return;
    this.settle(pending.message.id, pending, false, `${from} had promised no claim, and too few other owners are left to apply it`);
  }

  // ---- replica side -------------------------------------------------------------------------

  private onClaim(from: string, m: Extract<KvMessage, { t: 'xc' }>): void {
    const { id, p, e, k } = m;
    // Unanswered when busy: the claim counts the replica as silent.
    this.host.run(p, (actor) => {
      if (!actor.promise(e) && !this.ctx.config.bugs?.rmwNoFencing) {
        this.stats.refusedAsReplica++;
        this.ctx.send(from, { t: 'xca', id, ok: false, e: actor.fencingEpoch, ready: false, r: [], d: [] });
        return;
      }
      this.checkOnePrimary(p, e, from);
      const ready = actor.ready && this.ctx.ringConfirmed() && this.host.ownsPartition(p);
      // Not a client's read (peek): the primary counts the operation's own read of each key (readOne).
      const records = k.map((key) => actor.replica.peek(key));
      // Keys not held that this store evicted: the claimer must not take an older copy for the newest.
      const xk: number[] = [];
      const xv: string[] = [];
      for (const [i, key] of k.entries()) {
        const evicted = records[i] === null ? this.host.shadow.versionOf(p, key) : undefined;
        if (evicted === undefined) continue;
        xk.push(i);
        xv.push(versionToString(evicted));
      }
      // The ids of the keys claimed only: a repeat on another key claims that key first and learns
      // its ids then (run(), `again`). Every id of the partition made each claim's cost grow with
      // the INCRs it had seen (up to 16,384 ids per answer, each re-remembered by the primary).
      const d = actor.requests.listFor(new Set(k), this.ctx.env.clock.monoMs());
      // The lineage of the records held here: the claimer may learn from it that the newest record
      // was built on the one an id stands for at another owner (trustedIds).
      const lk: number[] = [];
      const lv: string[] = [];
      const lb: string[] = [];
      for (const [i, key] of k.entries()) {
        const held = records[i];
        if (!held) continue;
        for (const [version, base] of actor.requests.lineageOf(key, versionToString(versionOfEncoded(held)))) {
          lk.push(i);
          lv.push(version);
          lb.push(base);
        }
      }
      const answer: Extract<KvMessage, { t: 'xca' }> = { t: 'xca', id, ok: true, e, ready, r: records, d };
      if (xk.length > 0) Object.assign(answer, { xk, xv });
      if (lk.length > 0) Object.assign(answer, { lk, lv, lb });
      this.ctx.send(from, answer);
    });
  }

  /** The assertion of src/runtime/probes.ts: an epoch promised here is one primary's alone. */
  private checkOnePrimary(partition: number, epoch: number, claimer: string): void {
    const last = this.lastClaim.get(partition);
    invariant(this.ctx.env, last === undefined || last.epoch !== epoch || last.claimer === claimer, 'one-primary-per-epoch', () => `partition ${partition}: epoch ${epoch} claimed by ${last!.claimer} and by ${claimer}`);
    this.lastClaim.set(partition, { epoch, claimer });
  }

  private onResult(from: string, m: Extract<KvMessage, { t: 'xw' }>): void {
    // Unanswered when busy: the primary counts the replica as silent.
    this.host.run(m.p, (actor) => this.ctx.send(from, this.answerTo(m, this.applyResult(actor, m), actor)));
  }

  private answerTo(m: Extract<KvMessage, { t: 'xw' }>, outcome: ResultOutcome, actor: PartitionActor): Extract<KvMessage, { t: 'xwa' }> {
    if (outcome === 'applied') return { t: 'xwa', id: m.id, ok: true, e: m.e };
    if (outcome === 'out-of-memory') return { t: 'xwa', id: m.id, ok: false, e: m.e, o: true };
    return { t: 'xwa', id: m.id, ok: false, e: actor.fencingEpoch };
  }

  /**
   * Whether a fenced result built on `base` may have read the record this replica holds of `key`:
   * it did if the base is that record, and is taken to if the base is newer (this replica missed
   * results in between). A base older than it, or none, means the result wrote over it unread
   * (kv-rmw seed 400293): the ids standing for it do not move on. Unknown base: taken as read.
   */
  private readOrLagged(actor: PartitionActor, key: string, base: string | undefined): boolean {
    const held = actor.replica.peek(key);
    if (base === undefined || held === null) return true;
    const baseVersion = base === '' ? null : versionFromString(base);
    return baseVersion !== null && compareVersions(baseVersion, versionOfEncoded(held)) >= 0;
  }

  /**
   * Applies a fenced result (inside the actor's turn) unless the replica promised a higher epoch,
   * or its store would refuse it for memory (then nothing of it is applied or remembered).
   */
  private applyResult(actor: PartitionActor, m: Extract<KvMessage, { t: 'xw' }>): ResultOutcome {
    // A replica that never promised (it restarted, or never held the partition) may have
    // forgotten a higher claim: it takes results only after a claim reached it.
    if (!this.ctx.config.bugs?.rmwNoFencing && (actor.fencingEpoch === 0 || !actor.promise(m.e))) {
      this.stats.refusedAsReplica++;
      return 'fenced';
    }
    if (actor.replica.wouldRefuse(m.k, m.r)) return 'out-of-memory';
    for (let i = 0; i < m.k.length; i++) this.host.apply(actor, m.k[i]!, m.r[i]!, this.readOrLagged(actor, m.k[i]!, m.b?.[i]));
    const now = this.ctx.env.clock.monoMs();
    actor.requests.rememberAll(m.u ?? [], now);
    const versions = m.r.map((r) => versionToString(versionOfEncoded(r)));
    // The ids standing for the records this result built on stand for its records now (whether
    // or not this replica held those: the primary read them).
    for (let i = 0; i < m.k.length; i++) {
      const base = m.b?.[i];
      if (base) actor.requests.advance(m.k[i]!, base, versions[i]!);
    }
    actor.requests.remember(m.q, m.res, now, m.k, versions);
    // A result applied late, after one built on it: its id stands for the record held (kv-rmw seed 230828).
    for (let i = 0; i < m.k.length; i++) {
      const bytes = actor.replica.peek(m.k[i]!);
      const held = bytes === null ? null : versionToString(versionOfEncoded(bytes));
      const base = m.b?.[i];
      // Applied in time or late, the result's record was built on its base: a link of the key's lineage.
      if (base) actor.requests.noteBuilt(m.k[i]!, base, versions[i]!);
      if (held !== null && held !== versions[i] && !this.ctx.config.bugs?.rmwLateIdsStayBehind) actor.requests.catchUp(m.k[i]!, versions[i]!, held);
    }
    return 'applied';
  }
}

/**
 * Each key once, as applyRmw wants (rmw.ts): DEL counts a key given twice once, RENAME of a key
 * to itself passes the one key, MSETNX keeps a repeated key's last value.
 */
export function distinctKeys(keys: string[], op: RmwOp): { keys: string[]; op: RmwOp } {
  if (new Set(keys).size === keys.length) return { keys, op };
  if (op.op === 'msetnx') {
    const last = new Map<string, Uint8Array>();
    keys.forEach((k, i) => last.set(k, op.values[i]!));
    return { keys: [...last.keys()], op: { op: 'msetnx', values: [...last.values()] } };
  }
  return { keys: [...new Set(keys)], op };
}
