/**
 * Invalidation streams (docs/CLIENT.md, "Near cache"): every change a node applies to a partition
 * replica it holds (a write or delete applied, a newer version learnt as evicted, a value the store
 * evicted) takes the next seq of that partition's stream, and subscribed connections hear of it:
 * `{partition, epoch, seq, key, version}`. A near cache drops the key; a seq it did not see (a lost
 * message) or an epoch it did not know (the owner set changed) drops that partition's entries.
 *
 * A subscription is a bitset of partitions plus an optional prefix list, never a set of keys: the
 * node's memory per subscribed connection is a fixed header, one bit per partition, the prefixes,
 * and the changes waiting for the end of the turn (at most `maxPending`, then they are dropped and
 * the next seq the client sees tells it so). Changes are delivered once per turn (a zero timer),
 * and every subscriber gets a heartbeat with the latest seq of each subscribed partition the node
 * holds every `heartbeatMs` (at most a second), so a lost last message is noticed within it.
 *
 * Expiry is a change too, for the partitions a subscriber asked expiries of (`{ expiries: true }`:
 * Redis client-side caching, whose clients do not know a key's TTL): the node's ExpiryWatch
 * (expiry-watch.ts) takes the next seq when a value it holds there passes its expiry on this
 * node's clock, and every subscriber of that partition hears of it, like any change. A near cache
 * does not ask (it keeps each entry's own deadline), so expiries cost nothing while only near
 * caches subscribe.
 *
 * Core code: timers from the Env, so the simulator runs it in virtual time.
 */
import type { InvalidationBatch, InvalidationVersion, PartitionInvalidations } from '../protocol/frames.ts';
import type { TimerId, Timers } from '../runtime/env.ts';

/** Heartbeats go out at least this often (the bound: once a second). */
export const DEFAULT_INVALIDATION_HEARTBEAT_MS = 1000;
/** Changes one subscriber may have waiting for the end of the turn; more are dropped (the client sees a gap). */
export const DEFAULT_MAX_PENDING_INVALIDATIONS = 4096;

export interface InvalidationHubOptions {
  readonly timers: Timers;
  readonly partitions: number;
  readonly heartbeatMs?: number;
  readonly maxPending?: number;
}

export interface SubscribeOptions {
  /**
   * Whether this subscriber needs values that expire to be sent as changes (a client that does not
   * know their expiry: Redis client-side caching). Default false: a near cache keeps each entry's
   * own deadline.
   */
  readonly expiries?: boolean;
}

/** One subscribed connection (or simulated client), as the hub keeps it. */
export interface InvalidationSubscription {
  /** Replaces the subscription: bit p of `partitions` set subscribes partition p; `prefixes` (empty: every key) filter the keys sent. */
  update(partitions: Uint8Array, prefixes: readonly string[]): void;
  /** Stops the stream; nothing more is delivered. */
  close(): void;
  /** Bytes the hub holds for this subscriber right now (header, bitset, prefixes, waiting changes). */
  readonly memoryBytes: number;
  /** Changes dropped because `maxPending` were waiting. */
  readonly dropped: number;
}

/** A partition's stream position on this node. */
interface StreamHead {
  epoch: number;
  seq: number;
}

/** The fixed part of a subscriber's footprint (fields and their boxes), for `memoryBytes`. */
const SUBSCRIBER_HEADER_BYTES = 96;
/** What one waiting change costs beyond its key's characters. */
const PENDING_CHANGE_BYTES = 48;

class Subscriber implements InvalidationSubscription {
  bits: Uint8Array;
  prefixes: readonly string[] = [];
  /** Changes of this turn, per partition, in seq order. */
  pending = new Map<number, PartitionInvalidations>();
  pendingCount = 0;
  pendingKeyChars = 0;
  /** Partitions whose waiting keys were cut for room this turn: sent as a gap. */
  overflowed = new Set<number>();
  dropped = 0;
  closed = false;

  constructor(
    private readonly hub: InvalidationHub,
    readonly deliver: (batch: InvalidationBatch) => void,
    partitions: number,
    readonly expiries: boolean,
  ) {
    this.bits = new Uint8Array(Math.ceil(partitions / 8));
  }

  update(partitions: Uint8Array, prefixes: readonly string[]): void {
    const before = this.expiries && !this.closed ? this.bits.slice() : null;
    this.bits.fill(0);
    this.bits.set(partitions.subarray(0, this.bits.length));
    this.prefixes = [...prefixes];
    if (before !== null) this.hub.expiryInterestChanged(before, this.bits);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.clear();
    this.hub.forget(this);
    if (this.expiries) this.hub.expiryInterestChanged(this.bits, new Uint8Array(this.bits.length));
  }

  get memoryBytes(): number {
    let prefixChars = 0;
    for (const p of this.prefixes) prefixChars += p.length;
    return SUBSCRIBER_HEADER_BYTES + this.bits.length + prefixChars + this.pendingCount * PENDING_CHANGE_BYTES + this.pendingKeyChars;
  }

  subscribed(partition: number): boolean {
    return ((this.bits[partition >> 3] ?? 0) & (1 << (partition & 7))) !== 0;
  }

  wants(key: string): boolean {
    if (this.prefixes.length === 0) return true;
    for (const p of this.prefixes) if (key.startsWith(p)) return true;
    return false;
  }
}

export class InvalidationHub {
  /** Counters: changes recorded, keys and batches delivered, heartbeats sent, changes dropped for room. */
  readonly stats = { changes: 0, keysSent: 0, batchesSent: 0, heartbeatsSent: 0, droppedForRoom: 0 };
  private readonly heads = new Map<number, StreamHead>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly heartbeatMs: number;
  private readonly maxPending: number;
  private flushTimer: TimerId | null = null;
  private heartbeatTimer: TimerId | null = null;
  private stopped = false;
  /** Per partition: subscribers that asked for its expiries. */
  private readonly expiryInterest: Uint32Array;
  /** Told when a partition gains its first subscriber asking for expiries (the node's ExpiryWatch). */
  onExpiryInterest: ((partition: number) => void) | null = null;

  constructor(private readonly options: InvalidationHubOptions) {
    this.heartbeatMs = Math.min(options.heartbeatMs ?? DEFAULT_INVALIDATION_HEARTBEAT_MS, DEFAULT_INVALIDATION_HEARTBEAT_MS);
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING_INVALIDATIONS;
    this.expiryInterest = new Uint32Array(options.partitions);
  }

  /** A new stream: `deliver` gets this subscriber's batches and heartbeats (subscribed to nothing until `update`). */
  subscribe(deliver: (batch: InvalidationBatch) => void, options: SubscribeOptions = {}): InvalidationSubscription {
    const subscriber = new Subscriber(this, deliver, this.options.partitions, options.expiries === true);
    if (!this.stopped) this.subscribers.add(subscriber);
    if (this.heartbeatTimer === null && !this.stopped) this.armHeartbeat();
    return subscriber;
  }

  /** Whether a subscriber asked for the expiries of `partition`. */
  wantsExpiries(partition: number): boolean {
    return (this.expiryInterest[partition] ?? 0) > 0;
  }

  /** @internal Subscriber.update and close: an expiry subscriber's partitions went from `before` to `after`. */
  expiryInterestChanged(before: Uint8Array, after: Uint8Array): void {
    const interest = this.expiryInterest;
    for (let byte = 0; byte < before.length; byte++) {
      const was = before[byte]!;
      const now = after[byte]!;
      if (was === now) continue;
      for (let bit = 0; bit < 8; bit++) {
        const p = byte * 8 + bit;
        if (p >= interest.length) break;
        const mask = 1 << bit;
        if ((was & mask) !== 0 && (now & mask) === 0) interest[p]!--;
        else if ((was & mask) === 0 && (now & mask) !== 0 && interest[p]!++ === 0) this.onExpiryInterest?.(p);
      }
    }
  }

  /** How many subscribers there are now. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * The node holds `partition` (again) at `epoch`, its stream at `seq`: an epoch change is sent
   * with the next batch (a near cache then drops the partition's entries).
   */
  setHead(partition: number, epoch: number, seq: number): void {
    const head = this.heads.get(partition);
    if (head && head.epoch === epoch) return;
    this.heads.set(partition, { epoch, seq });
    if (head) this.record(partition, null, null, 0);
  }

  /** The node stopped holding `partition`: heartbeats no longer name it. */
  dropHead(partition: number): void {
    this.heads.delete(partition);
  }

  /** A change applied to `partition` took `seq`: `key` now has `version` (null: an epoch change only). */
  changed(partition: number, seq: number, key: string, version: InvalidationVersion): void {
    const head = this.heads.get(partition);
    if (!head) return;
    head.seq = seq;
    this.stats.changes++;
    this.record(partition, key, version, 1);
  }

  /** Stops the timers and every stream (the node stops). */
  stop(): void {
    this.stopped = true;
    if (this.flushTimer !== null) this.options.timers.cancelTimer(this.flushTimer);
    if (this.heartbeatTimer !== null) this.options.timers.cancelTimer(this.heartbeatTimer);
    this.flushTimer = this.heartbeatTimer = null;
    for (const s of [...this.subscribers]) s.close();
  }

  /** @internal Subscriber.close. */
  forget(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
  }

  private record(partition: number, key: string | null, version: InvalidationVersion | null, count: number): void {
    const head = this.heads.get(partition)!;
    let any = false;
    for (const s of this.subscribers) {
      if (!s.subscribed(partition)) continue;
      let entry = s.pending.get(partition);
      if (entry === undefined || entry.epoch !== head.epoch) {
        if (entry !== undefined) this.flushOne(s);
        entry = { partition, epoch: head.epoch, seq: head.seq, count: 0, keys: [] };
        s.pending.set(partition, entry);
      }
      entry.seq = head.seq;
      entry.count += count;
      if (key !== null && version !== null && s.wants(key)) {
        if (s.overflowed.has(partition)) s.dropped++;
        else if (s.pendingCount >= this.maxPending) {
          // No room: the partition's waiting keys go too, and it is sent as a gap (count 0), so the
          // client drops the partition's entries instead of trusting an incomplete list.
          s.dropped += entry.keys.length + 1;
          this.stats.droppedForRoom += entry.keys.length + 1;
          s.pendingCount -= entry.keys.length;
          entry.keys = [];
          s.overflowed.add(partition);
        } else {
          entry.keys.push({ key, version });
          s.pendingCount++;
          s.pendingKeyChars += key.length;
        }
      }
      any = true;
    }
    if (any && this.flushTimer === null) this.flushTimer = this.options.timers.setTimer(0, () => this.flush());
  }

  /** Sends what `subscriber` has waiting (an entry cut for room goes out as a gap: count 0). */
  private flushOne(subscriber: Subscriber): void {
    if (subscriber.pending.size === 0) return;
    const partitions: PartitionInvalidations[] = [];
    for (const entry of subscriber.pending.values()) {
      if (subscriber.overflowed.has(entry.partition)) entry.count = 0;
      partitions.push(entry);
      this.stats.keysSent += entry.keys.length;
    }
    subscriber.pending = new Map();
    subscriber.overflowed.clear();
    subscriber.pendingCount = 0;
    subscriber.pendingKeyChars = 0;
    this.stats.batchesSent++;
    subscriber.deliver({ heartbeat: false, partitions });
  }

  private flush(): void {
    this.flushTimer = null;
    for (const s of [...this.subscribers]) this.flushOne(s);
  }

  private armHeartbeat(): void {
    this.heartbeatTimer = this.options.timers.setTimer(this.heartbeatMs, () => {
      this.heartbeatTimer = null;
      if (this.stopped || this.subscribers.size === 0) return;
      for (const s of [...this.subscribers]) {
        // Whatever waits goes first, so the heartbeat's seqs never run ahead of the changes sent.
        this.flushOne(s);
        const partitions: PartitionInvalidations[] = [];
        for (const [p, head] of this.heads) if (s.subscribed(p)) partitions.push({ partition: p, epoch: head.epoch, seq: head.seq, count: 0, keys: [] });
        this.stats.heartbeatsSent++;
        s.deliver({ heartbeat: true, partitions });
      }
      this.armHeartbeat();
    });
  }
}
