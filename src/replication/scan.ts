/**
 * Iterating the keyspace partition by partition (ScanService in api.ts): SCAN, KEYS, DBSIZE,
 * RANDOMKEY, FLUSHALL and the CLUSTER key-per-slot commands all go through here.
 *
 * Positions are scan hashes, not store offsets. Every key has a 32-bit scan hash computed the same
 * way on every node (`scanHash`), and a page of partition p is "the live keys of p whose scan hash
 * is >= after, in scan-hash order". So a cursor (partition, position) means the same thing on any
 * replica of p, before and after the partition moves to other owners: a key that exists for the
 * whole iteration is returned at least once (it is behind the cursor only once a page listed it).
 * Keys sharing a scan hash always come in the same page (the page is extended past `count` to the
 * last of them), so a position never splits them.
 *
 * Requesting side (`PartitionScanner`): asks holders of p in this order: this node if it owns p,
 * the other live owners in preference order, then the other live members in p's ranking (a node
 * the ring moved p away from still holds it while handing it off), as many at once as the read
 * consistency needs of p's owners (every live owner, for `everyLiveOwner`); their pages are merged (`mergePages`). A holder answers 'ok'
 * when its partition actor is caught up in a confirmed ring and it owns p or is handing p off; a
 * catching-up replica may lack keys, so it refuses, and so does one that does not hold p. A refusal,
 * or silence for a request timeout, sends the request on to the next candidate.
 *
 * Replica side (`ScanResponder`): the page is computed in the partition actor's turn (the actor
 * owns the partition's records). Cost per page: one pass over p's entries in the store (each
 * record header decoded for liveness, each key hashed), then a sort of the keys at or after the
 * position: O(n log n) for a partition of n keys (about 1/1024 of the node's keys), whatever the
 * page size. A full scan with pages of c keys therefore costs O(n^2 / c * log n) per partition;
 * for 1M keys per node (about 1,000 per partition) and COUNT 10, about 100 sorts of 1,000 keys per
 * partition. No per-partition index is kept beside the store (the store may evict or expire on
 * its own, see partition-replica.ts), so nothing can go stale.
 */
import { globMatch, matchesEverything } from '../protocol/glob.ts';
import { DEFAULT_UNIT_HASH_SEED, unitHashString } from '../protocol/hash.ts';
import type { TimerId } from '../runtime/env.ts';
import type { Callback, KvError, ScanOptions, ScanPage, ScanService } from './api.ts';
import { requiredReplicas } from './config.ts';
import type { ReplicationContext } from './context.ts';
import type { KvMessage, ScanStatus } from './messages.ts';
import type { ReplicaHost } from './replica-host.ts';
import { storeKeyToKey } from './record.ts';
import { firstRequestId } from './request-ids.ts';

/** Seed of the scan hash: fixed forever, since cursors handed to clients encode scan-hash positions. */
export const SCAN_HASH_SEED = DEFAULT_UNIT_HASH_SEED;

/** Largest scan-hash position; a page ending there ends the partition. */
export const MAX_SCAN_POSITION = 0xffff_ffff;

/** The scan hash of a store key (latin1, record.ts): the same on every node and in MemoryKv. */
export function scanHash(storeKey: string): number {
  return unitHashString(storeKey, SCAN_HASH_SEED);
}

/** One page of store keys (see `pageOf`). */
export interface StoreKeyPage {
  keys: string[];
  /** Next position, or null when the partition is done. */
  next: number | null;
  /** Keys looked at (before `match`). */
  examined: number;
}

/**
 * The page of the keys `forEachKey` visits whose scan hash is >= `after`: the first `count` in
 * scan-hash order (extended to every key sharing the last hash), those matching `match` kept.
 */
export function pageOf(forEachKey: (visit: (storeKey: string) => void) => void, after: number, count: number, match: Uint8Array | string | null): StoreKeyPage {
  const candidates: { hash: number; key: string }[] = [];
  forEachKey((key) => {
    const hash = scanHash(key);
    if (hash >= after) candidates.push({ hash, key });
  });
  // Ties broken by key so every replica pages identically.
  candidates.sort((x, y) => x.hash - y.hash || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  let taken = Math.min(count, candidates.length);
  while (taken > 0 && taken < candidates.length && candidates[taken]!.hash === candidates[taken - 1]!.hash) taken++;
  const filter = match === null || matchesEverything(match) ? null : match;
  const keys: string[] = [];
  for (let i = 0; i < taken; i++) {
    const key = candidates[i]!.key;
    if (filter === null || globMatch(filter, key)) keys.push(key);
  }
  const next = taken < candidates.length ? candidates[taken]!.hash : null;
  return { keys, next, examined: taken };
}

/** Checks a scan request; a message for `bad-request`, or null. */
export function invalidScanRequest(partitions: number, partition: number, after: number, count: number): string | null {
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) return `partition must be an integer from 0 to ${partitions - 1}, got ${partition}`;
  if (!Number.isInteger(after) || after < 0 || after > MAX_SCAN_POSITION) return `scan position must be an integer from 0 to ${MAX_SCAN_POSITION}, got ${after}`;
  if (!Number.isInteger(count) || count < 1) return `count must be a positive integer, got ${count}`;
  return null;
}

// ---- replica side -------------------------------------------------------------------------

/** Answers scan and count requests for the partitions this node holds, in their actors' turns. */
export class ScanResponder {
  constructor(
    private readonly ctx: ReplicationContext,
    private readonly host: ReplicaHost,
  ) {}

  /** Handles `sc` and `cn`; false for other messages. */
  onMessage(from: string, message: KvMessage): boolean {
    if (message.t === 'sc') {
      const { id, p, a, c } = message;
      const match = message.m ?? null;
      this.inActor(
        p,
        (status) => this.ctx.send(from, { t: 'sa', id, s: status, k: [], n: -1, x: 0 }),
        (actor) => {
          const now = this.ctx.env.clock.wallMs();
          const page = pageOf((visit) => actor.replica.forEachLiveKey(now, visit), a, Math.max(1, c), match);
          this.ctx.send(from, { t: 'sa', id, s: 'ok', k: page.keys, n: page.next ?? -1, x: page.examined });
        },
      );
      return true;
    }
    if (message.t === 'cn') {
      const { id, p } = message;
      this.inActor(
        p,
        (status) => this.ctx.send(from, { t: 'ca', id, s: status, n: 0 }),
        (actor) => {
          let n = 0;
          actor.replica.forEachLiveKey(this.ctx.env.clock.wallMs(), () => n++);
          this.ctx.send(from, { t: 'ca', id, s: 'ok', n });
        },
      );
      return true;
    }
    return false;
  }

  /**
   * Runs `serve` in the partition's actor if this node may serve it, or calls `refuse` with why
   * not. Never spawns an actor (a node that does not hold the partition says so).
   */
  private inActor(partition: number, refuse: (status: ScanStatus) => void, serve: (actor: NonNullable<ReturnType<ReplicaHost['partitions']['get']>>) => void): void {
    const actor = this.host.partitions.get(partition);
    if (actor === undefined) return refuse('none');
    const queued = actor.tell(
      (a) => {
        const serves = a.ready && this.ctx.ringConfirmed() && (a.syncPhase === 'handing-off' || this.host.ownsPartition(partition));
        if (serves) serve(a);
        else refuse('catching-up');
      },
      () => refuse('none'),
    );
    if (!queued) {
      this.host.stats.busy++;
      refuse(actor.isStopped ? 'none' : 'busy');
    }
  }
}

// ---- requesting side ----------------------------------------------------------------------

type ScanAnswer = KvMessage & { t: 'sa' | 'ca' };

/** One scan or count request: several holders may be asked, each attempt with its own id. */
interface PendingScan {
  partition: number;
  /** Holders not asked yet, in order. */
  candidates: string[];
  /** 'ok' answers wanted (the read consistency's count of the partition's owners). */
  needed: number;
  answers: ScanAnswer[];
  /** Attempts in flight: id -> holder asked. */
  inFlight: Map<number, { holder: string; timer: TimerId }>;
  /** Why each holder asked so far did not serve, for the error message. */
  refusals: string[];
  finished: boolean;
  request: (id: number) => KvMessage;
  complete: (answers: ScanAnswer[]) => void;
  fail: (error: KvError) => void;
}

export interface ScannerStats {
  pages: number;
  counts: number;
  /** Holders that refused (not holding, catching up, busy) or stayed silent, before others served. */
  refusals: number;
  /** Requests no holder served. */
  failures: number;
}

/**
 * The page of several holders' answers to the same request: the union of their keys below the
 * smallest next position any of them reported. Below it every holder listed every key it has, so
 * a key held by any of them is in the page; keys past it come again in the next page.
 */
export function mergePages(answers: readonly { k: string[]; n: number; x: number }[]): { keys: string[]; next: number | null; examined: number } {
  let bound = Number.POSITIVE_INFINITY;
  let examined = 0;
  for (const a of answers) {
    if (a.n >= 0 && a.n < bound) bound = a.n;
    examined = Math.max(examined, a.x);
  }
  const merged = new Map<string, number>();
  for (const a of answers) {
    for (const key of a.k) {
      if (merged.has(key)) continue;
      const hash = scanHash(key);
      if (hash < bound) merged.set(key, hash);
    }
  }
  const keys = [...merged].sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map(([key]) => key);
  return { keys, next: bound === Number.POSITIVE_INFINITY ? null : bound, examined };
}

/**
 * ScanService over the cluster (see the file comment). A page is asked of as many holders as the
 * read consistency needs of the partition's owners (`defaultReadConsistency`: one, a quorum or
 * all), and their pages are merged (`mergePages`): so with quorum reads and quorum writes a key
 * whose write was acknowledged is in the page even if the first holder asked has not received it
 * yet. A holder that refuses or stays silent is replaced by the next candidate.
 */
export class PartitionScanner implements ScanService {
  readonly stats: ScannerStats = { pages: 0, counts: 0, refusals: 0, failures: 0 };
  private readonly pending = new Map<number, PendingScan>();
  private nextId: number;
  private stopped = false;

  constructor(private readonly ctx: ReplicationContext) {
    this.nextId = firstRequestId(ctx.env);
  }

  scanPartition(partition: number, after: number, options: ScanOptions, done: Callback<ScanPage>): void {
    const invalid = invalidScanRequest(this.ctx.placement().partitions, partition, after, options.count);
    if (invalid !== null) return done({ code: 'bad-request', message: invalid });
    // Lent bytes (api.ts): the request keeps its own copy.
    const match = options.match === undefined || matchesEverything(options.match) ? undefined : options.match.slice();
    const count = options.count;
    this.start(
      partition,
      (id) => (match === undefined ? { t: 'sc', id, p: partition, a: after, c: count } : { t: 'sc', id, p: partition, a: after, c: count, m: match }),
      (answers) => {
        this.stats.pages++;
        const page = mergePages(answers.filter((a) => a.t === 'sa'));
        done(null, { keys: page.keys.map(storeKeyToKey), next: page.next, examined: page.examined });
      },
      (error) => done(error),
      options.everyLiveOwner === true,
    );
  }

  /** The largest count among the holders asked (each counts what it holds). */
  countPartition(partition: number, done: Callback<number>): void {
    const invalid = invalidScanRequest(this.ctx.placement().partitions, partition, 0, 1);
    if (invalid !== null) return done({ code: 'bad-request', message: invalid });
    this.start(
      partition,
      (id) => ({ t: 'cn', id, p: partition }),
      (answers) => {
        this.stats.counts++;
        done(null, Math.max(0, ...answers.map((a) => a.n)));
      },
      (error) => done(error),
    );
  }

  /** Handles `sa` and `ca`; false for other messages. */
  onReply(from: string, message: KvMessage): boolean {
    if (message.t !== 'sa' && message.t !== 'ca') return false;
    const pending = this.pending.get(message.id);
    const attempt = pending?.inFlight.get(message.id);
    // A late answer from a holder given up on (or of a finished request) is ignored.
    if (pending === undefined || attempt === undefined || attempt.holder !== from) return true;
    this.endAttempt(message.id, pending);
    if (message.s === 'ok') {
      pending.answers.push(message);
      if (pending.answers.length >= pending.needed) this.settle(pending, null);
      else if (pending.inFlight.size === 0) this.askNext(pending);
    } else {
      this.refused(pending, `${from} (${message.s === 'none' ? 'does not hold it' : message.s === 'busy' ? 'busy' : 'catching up'})`);
    }
    return true;
  }

  /** Fails every pending request (the node stops). */
  stop(): void {
    this.stopped = true;
    for (const pending of new Set(this.pending.values())) this.settle(pending, { code: 'unavailable', message: 'the node is stopping' });
  }

  get pendingCount(): number {
    return new Set(this.pending.values()).size;
  }

  private start(partition: number, request: PendingScan['request'], complete: PendingScan['complete'], fail: PendingScan['fail'], everyLiveOwner = false): void {
    if (this.stopped) return fail({ code: 'unavailable', message: 'the node is stopping' });
    if (!this.ctx.ringConfirmed()) return fail({ code: 'not-ready', message: 'this node is still joining its cluster; use another node' });
    const owners = this.ctx.placement().owners(partition);
    const quorum = Math.max(1, requiredReplicas(this.ctx.config.defaultReadConsistency, owners.length));
    const needed = everyLiveOwner ? Math.max(quorum, owners.filter((o) => o === this.ctx.selfName || this.ctx.isAlive(o)).length) : quorum;
    const pending: PendingScan = { partition, candidates: this.holders(partition), needed, answers: [], inFlight: new Map(), refusals: [], finished: false, request, complete, fail };
    for (let i = 0; i < needed; i++) this.askNext(pending);
  }

  /** This node if it owns the partition, the other live owners, then the other live members by ranking. */
  private holders(partition: number): string[] {
    const placement = this.ctx.placement();
    const owners = placement.owners(partition);
    const self = this.ctx.selfName;
    const alive = (name: string) => this.ctx.isAlive(name);
    const out = owners.includes(self) ? [self] : [];
    for (const owner of owners) if (owner !== self && alive(owner)) out.push(owner);
    for (const member of placement.ranking(partition)) if (!out.includes(member) && alive(member)) out.push(member);
    return out;
  }

  /**
   * Asks the next candidate, if answers are still missing beyond those in flight; with no candidate
   * left and none in flight, the request fails.
   */
  private askNext(pending: PendingScan): void {
    if (pending.finished || pending.answers.length + pending.inFlight.size >= pending.needed) return;
    const holder = pending.candidates.shift();
    if (holder === undefined) {
      if (pending.inFlight.size > 0) return;
      this.stats.failures++;
      const busy = pending.refusals.length > 0 && pending.refusals.every((r) => r.endsWith('(busy)'));
      const asked = pending.refusals.length === 0 ? 'no live member to ask' : pending.refusals.join(', ');
      const served = pending.answers.length;
      return this.settle(pending, {
        code: busy ? 'overloaded' : 'unavailable',
        message: `${served} of the ${pending.needed} caught-up replicas of partition ${pending.partition} needed served the request: ${asked}`,
      });
    }
    const id = this.nextId++;
    const timer = this.ctx.env.timers.setTimer(this.ctx.config.requestTimeoutMs, () => {
      if (pending.inFlight.get(id)?.holder !== holder) return;
      pending.inFlight.delete(id);
      this.pending.delete(id);
      this.refused(pending, `${holder} (silent)`);
    });
    pending.inFlight.set(id, { holder, timer });
    this.pending.set(id, pending);
    this.ctx.send(holder, pending.request(id));
  }

  private refused(pending: PendingScan, why: string): void {
    this.stats.refusals++;
    pending.refusals.push(why);
    this.askNext(pending);
  }

  private endAttempt(id: number, pending: PendingScan): void {
    const attempt = pending.inFlight.get(id);
    if (attempt !== undefined) this.ctx.env.timers.cancelTimer(attempt.timer);
    pending.inFlight.delete(id);
    this.pending.delete(id);
  }

  /** Finishes the request once: with its answers (error null) or the error. */
  private settle(pending: PendingScan, error: KvError | null): void {
    if (pending.finished) return;
    pending.finished = true;
    for (const id of [...pending.inFlight.keys()]) this.endAttempt(id, pending);
    if (error === null) pending.complete(pending.answers);
    else pending.fail(error);
  }
}
