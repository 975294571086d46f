/**
 * Expiries as invalidations, for the subscribers that need them (invalidation.ts, `expiries`):
 * Redis client-side caching. A Redis client caches the value a tracked GET answered without its
 * TTL, so when the key expires the server must tell it (Redis does, when it expires the key
 * lazily on access or in its active expire cycle); otherwise the client serves the value forever.
 * An SDK near cache needs none of this (it keeps each entry's own deadline), and asks for nothing.
 *
 * What expires is observed where the value is held, on that node's clock: each node watches the
 * records of the partitions it holds, and its invalidation streams serve only those partitions, so
 * no message between nodes is needed. The coordinator that answered a read judged the value live
 * on the same clock, so the expiry it is told of comes after the value it answered.
 *
 * No per-key state: the store already keeps every record's deadline (a value's expiry plus the
 * tombstone grace, partition-replica.ts `storeDeadline`). Per partition the watch keeps only the
 * earliest expiry still to come (`next`) and how far it has swept (`swept`); a sweep of a partition
 * walks the store's deadlines for (swept, now] (a compare per entry, the records decoded only for
 * the matches), invalidates every value that expired in that window through the partition's
 * actor, and learns the partition's next deadline from the same walk. Applied writes with an
 * expiry bring `next` forward. Sweeps run at most every EXPIRY_SWEEP_INTERVAL_MS (Redis's active
 * expiry runs 10 times a second), and no more often than SWEEP_ENTRIES_PER_SECOND pays for the
 * entries they walk, on the Env's timers, and only for partitions a subscriber asked
 * expiries of (`wantsExpiries`); a partition gaining its first such subscriber starts at "now"
 * (what expired before could not have been read live by it).
 *
 * Core code: time and timers from the Env, so the simulator runs it.
 */
import type { Store } from '../store/index.ts';
import type { Clock, TimerId, Timers } from '../runtime/env.ts';
import type { Version } from './hlc.ts';
import type { PartitionActor } from './partition-actor.ts';
import { decodeRecord } from './record.ts';

/** Sweeps run at most this often: an expired value is invalidated within about this long. */
export const EXPIRY_SWEEP_INTERVAL_MS = 100;

/**
 * Entries the sweeps may walk a second, on average: a round starts only once the last one's walks
 * are paid for at this rate. A walk costs about 24 ns an entry (1M entries in 1,024 partitions,
 * all walked: 23.5 ms), so this is about 5% of a core; without it a node holding 1M keys whose
 * partitions all had an expiry due every 100 ms spent about a quarter of one. Past it, expired
 * values are announced later, not lost (Redis caps its active expiry at 25% of its time).
 */
export const SWEEP_ENTRIES_PER_SECOND = 2_000_000;

export interface ExpiryWatchOptions {
  readonly timers: Timers;
  readonly clock: Clock;
  readonly partitions: number;
  /** The node's store, where every held record's deadline is. */
  readonly store: Store;
  /** What the store adds to a value's expiry to get its deadline (the tombstone grace). */
  readonly graceMs: number;
  /** Whether a subscriber asked for the expiries of `partition` (InvalidationHub.wantsExpiries). */
  wants(partition: number): boolean;
  /** The partition's actor, if this node holds it. */
  actor(partition: number): PartitionActor | undefined;
  /** The sweeps' budget (default SWEEP_ENTRIES_PER_SECOND). */
  readonly entriesPerSecond?: number;
}

export class ExpiryWatch {
  /** Values found expired and invalidated; sweeps of one partition run; entries they walked; rounds the budget delayed. */
  readonly stats = { expired: 0, sweeps: 0, walked: 0, deferred: 0 };
  /** Per partition: the earliest expiry known still to be swept (Infinity: none known). */
  private readonly next: Float64Array;
  /** Per partition: expiries at or before this were swept. */
  private readonly swept: Float64Array;
  private timer: TimerId | null = null;
  private timerAt = Infinity;
  private lastSweepAt = -Infinity;
  /** Entries walked by the round that started at lastSweepAt (its partitions' jobs add them as they run). */
  private walked = 0;
  private stopped = false;

  constructor(private readonly options: ExpiryWatchOptions) {
    this.next = new Float64Array(options.partitions).fill(Infinity);
    this.swept = new Float64Array(options.partitions);
  }

  /** A partition gained its first subscriber asking for expiries: watch it from now on. */
  interested(partition: number): void {
    const now = this.options.clock.wallMs();
    this.swept[partition] = now;
    // A sweep of the empty window (now, now] finds the partition's next expiry in the store.
    this.next[partition] = now;
    this.arm(now);
  }

  /** A value of `partition` was applied expiring at `expiresAtMs`. */
  noteExpiry(partition: number, expiresAtMs: number): void {
    if (expiresAtMs >= this.next[partition]! || !this.options.wants(partition)) return;
    this.next[partition] = expiresAtMs;
    this.arm(expiresAtMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.options.timers.cancelTimer(this.timer);
    this.timer = null;
  }

  /** Makes sure a sweep runs at `atMs` (wall time) or earlier, but not sooner than the interval allows. */
  private arm(atMs: number): void {
    if (this.stopped) return;
    const when = Math.max(atMs, this.lastSweepAt + EXPIRY_SWEEP_INTERVAL_MS);
    if (this.timer !== null) {
      if (this.timerAt <= when) return;
      this.options.timers.cancelTimer(this.timer);
    }
    this.timerAt = when;
    this.timer = this.options.timers.setTimer(Math.max(0, when - this.options.clock.wallMs()), () => this.sweep());
  }

  private sweep(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.options.clock.wallMs();
    // The budget: the last round's walks are paid for before the next round starts.
    const paidAt = this.lastSweepAt + (this.walked * 1000) / (this.options.entriesPerSecond ?? SWEEP_ENTRIES_PER_SECOND);
    if (now < paidAt) return this.arm(paidAt);
    this.stats.deferred += paidAt > this.lastSweepAt + EXPIRY_SWEEP_INTERVAL_MS ? 1 : 0;
    this.walked = 0;
    this.lastSweepAt = now;
    let earliest = Infinity;
    for (let p = 0; p < this.next.length; p++) {
      const due = this.next[p]!;
      if (due > now) {
        if (due < earliest) earliest = due;
        continue;
      }
      const actor = this.options.actor(p);
      if (actor === undefined || !this.options.wants(p)) {
        // Forgotten until written again while wanted, or wanted again (interested).
        this.next[p] = Infinity;
        continue;
      }
      // Before the job is queued: it may run at once, and learn the partition's next expiry.
      const from = this.swept[p]!;
      this.swept[p] = now;
      this.next[p] = Infinity;
      if (!actor.tell((a) => this.sweepPartition(a, from, now))) {
        // A full mailbox: the same window next time.
        this.swept[p] = Math.min(this.swept[p]!, from);
        this.next[p] = Math.min(this.next[p]!, now);
        earliest = Math.min(earliest, now);
      }
    }
    if (earliest !== Infinity) this.arm(earliest);
  }

  /** In the partition's actor: invalidates every value that expired in (from, to], and learns the next expiry. */
  private sweepPartition(actor: PartitionActor, from: number, to: number): void {
    const { graceMs, store } = this.options;
    this.stats.sweeps++;
    const expired: [string, Version][] = [];
    const { next: nextDeadline, walked } = store.forEachDeadlineInPartition(actor.partition, from + graceMs, to + graceMs, (key, bytes) => {
      const record = decodeRecord(bytes);
      // Tombstones have deadlines too (their version time plus the grace): they expire nothing.
      if (!record.tombstone && record.expiresAtMs > from && record.expiresAtMs <= to) expired.push([key, record.version]);
    });
    this.walked += walked;
    this.stats.walked += walked;
    for (const [key, version] of expired) actor.expired(key, version);
    this.stats.expired += expired.length;
    if (nextDeadline !== Infinity) this.noteExpiry(actor.partition, nextDeadline - graceMs);
  }
}
